// The failover schedule: the exact (broker, delay) sequences stompest's StompFailoverTransport
// yields for explicit options (expected values derived by hand from its algorithm, delays in ms
// instead of seconds), and stompede's own default for the first connect.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { FailoverSchedule, parseFailoverUri, type FailoverAttempt } from '@stompede/core';

/** The whole sequence until the schedule gives up (bounded, to catch a schedule that never does). */
function drain(schedule: FailoverSchedule, max = 1000): [string, number][] {
  const out: [string, number][] = [];
  for (let step = schedule.next(); step !== undefined; step = schedule.next()) {
    out.push([step.broker.host, step.delay]);
    assert.ok(out.length <= max, 'the schedule gave up');
  }
  return out;
}

/** A random source that replays `values` and counts its calls. */
function replay(values: number[]): { random: () => number; calls: () => number } {
  let i = 0;
  return {
    random: () => {
      const v = values[i % values.length]!;
      i++;
      return v;
    },
    calls: () => i,
  };
}

/** mulberry32: a small seeded PRNG for bounds tests. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('failover schedule: stompest sequences [failover: stompest semantics]', () => {
  it('backs off exponentially, caps at maxReconnectDelay, then maxReconnectAttempts=0 after connected', () => {
    // stompest: startup attempts 0..3 (limit 3); delays 0, 7, min(14, 8), min(28, 8) ms.
    const schedule = new FailoverSchedule(
      'failover:(tcp://remote1:61615,tcp://localhost:61616)?randomize=false,startupMaxReconnectAttempts=3,initialReconnectDelay=7,maxReconnectDelay=8,maxReconnectAttempts=0',
    );
    assert.deepEqual(drain(schedule), [
      ['remote1', 0],
      ['localhost', 7],
      ['remote1', 8],
      ['localhost', 8],
    ]);
    assert.equal(schedule.next(), undefined, 'stays given up');
    schedule.connected();
    // A new sequence under maxReconnectAttempts=0: one immediate try, then give up.
    assert.deepEqual(drain(schedule), [['remote1', 0]]);
  });

  it('uses backOffMultiplier and switches to maxReconnectAttempts once connected', () => {
    const schedule = new FailoverSchedule(
      'failover:tcp://remote1:61615,tcp://localhost:61616,tcp://remote2:61617?randomize=false,startupMaxReconnectAttempts=3,initialReconnectDelay=7,backOffMultiplier=3.0,maxReconnectAttempts=1',
    );
    assert.deepEqual(drain(schedule), [
      ['remote1', 0],
      ['localhost', 7],
      ['remote2', 21],
      ['remote1', 63],
    ]);
    schedule.connected();
    assert.deepEqual(drain(schedule), [
      ['remote1', 0],
      ['localhost', 7],
    ]);
  });

  it('keeps a constant delay without exponential backoff', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://remote1:61615,tcp://localhost:61616)?randomize=false,startupMaxReconnectAttempts=2,initialReconnectDelay=3,useExponentialBackOff=false',
    );
    assert.deepEqual(drain(schedule), [
      ['remote1', 0],
      ['localhost', 3],
      ['remote1', 3],
    ]);
  });

  it('multiplies by a fractional factor until the cap (& separated options)', () => {
    // d: 100, 150, 225, 337.5, 506.25, 759.375, 1139.0625 → capped at 1000.
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false&initialReconnectDelay=100&backOffMultiplier=1.5&maxReconnectDelay=1000&startupMaxReconnectAttempts=8',
    );
    assert.deepEqual(drain(schedule), [
      ['a', 0],
      ['b', 100],
      ['c', 150],
      ['a', 225],
      ['b', 337.5],
      ['c', 506.25],
      ['a', 759.375],
      ['b', 1000],
      ['c', 1000],
    ]);
  });

  it('with the default delays: 10 ms doubling up to 30 s; -1 retries forever', () => {
    const schedule = new FailoverSchedule(
      'tcp://a:1?randomize=false&startupMaxReconnectAttempts=-1',
    );
    const delays: number[] = [];
    for (let i = 0; i < 2000; i++) delays.push(schedule.next()!.delay);
    assert.deepEqual(
      delays.slice(0, 16),
      [0, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 30000, 30000, 30000],
    );
    assert.equal(delays[1999], 30000);
  });

  it('numbers the attempts and flags the startup sequence', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2)?randomize=false&maxReconnectAttempts=1',
    );
    const steps: FailoverAttempt[] = [...schedule];
    assert.deepEqual(
      steps.map((s) => [s.broker.host, s.attempt, s.startup]),
      [
        ['a', 0, true],
        ['b', 1, true],
      ],
    );
    assert.equal(schedule.startup, true);
    schedule.connected(steps[1]!.broker);
    assert.equal(schedule.startup, false);
    assert.equal(schedule.connectedTo?.host, 'b');
    assert.deepEqual(
      [...schedule].map((s) => [s.broker.host, s.attempt, s.startup, s.delay]),
      [
        ['a', 0, false, 0],
        ['b', 1, false, 10],
      ],
    );
  });
});

describe('failover schedule: the broker just lost goes last [failover: ActiveMQ semantics]', () => {
  it('tries the other brokers first in the pass after a loss, then walks the list as before', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false&initialReconnectDelay=10',
    );
    const first = schedule.next()!;
    schedule.connected(first.broker);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => {
        const step = schedule.next()!;
        return [step.broker.host, step.delay];
      }),
      [
        ['b', 0],
        ['c', 10],
        ['a', 20],
        ['a', 40],
        ['b', 80],
      ],
    );
  });

  it('moves the lost broker behind the local ones with priorityBackup, and after a shuffle', () => {
    const local = new FailoverSchedule(
      'failover:(tcp://remote:1,tcp://localhost:2,tcp://127.0.0.1:3)?randomize=false&priorityBackup=true',
    );
    local.connected(local.brokers[1]);
    assert.deepEqual(
      [0, 1, 2].map(() => local.next()!.broker.host),
      ['127.0.0.1', 'remote', 'localhost'],
    );
    const shuffled = new FailoverSchedule('failover:(tcp://a:1,tcp://b:2,tcp://c:3)', {
      random: () => 0,
    });
    shuffled.connected(shuffled.brokers[2]);
    const pass = [0, 1, 2].map(() => shuffled.next()!.broker.host);
    assert.equal(pass[2], 'c');
    assert.deepEqual([...pass].sort(), ['a', 'b', 'c']);
  });
});

describe('failover schedule: first connect [failover: ActiveMQ semantics]', () => {
  it('by default tries every broker once on the first connect (stompest tries one)', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false',
    );
    assert.deepEqual(drain(schedule), [
      ['a', 0],
      ['b', 10],
      ['c', 20],
    ]);
  });

  it('by default covers every broker even when randomized', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const schedule = new FailoverSchedule(
        'failover:(tcp://a:1,tcp://b:2,tcp://c:3,tcp://d:4,tcp://e:5)',
        { random: seeded(seed) },
      );
      const hosts = drain(schedule).map(([host]) => host);
      assert.deepEqual([...hosts].sort(), ['a', 'b', 'c', 'd', 'e'], `seed ${seed}`);
    }
  });

  it('with startupMaxReconnectAttempts=0 set explicitly, tries one broker, as stompest does', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false&startupMaxReconnectAttempts=0',
    );
    assert.deepEqual(drain(schedule), [['a', 0]]);
  });

  it('after connected(), reconnects forever by default (maxReconnectAttempts=-1)', () => {
    const schedule = new FailoverSchedule('failover:(tcp://a:1,tcp://b:2)?randomize=false');
    drain(schedule);
    schedule.connected();
    for (let i = 0; i < 500; i++) assert.notEqual(schedule.next(), undefined);
  });
});

describe('failover schedule: randomize [failover: ActiveMQ semantics]', () => {
  it('shuffles every pass from the written order with the injected random source', () => {
    // Fisher–Yates from the last position: pass 1 uses 0.9 (j=2, no swap) and 0.1 (j=0: swap
    // a,b) → b,a,c; pass 2 uses 0.5 (j=1: swap b,c) and 0.6 (j=1, no swap) → a,c,b.
    const source = replay([0.9, 0.1, 0.5, 0.6]);
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?startupMaxReconnectAttempts=5&initialReconnectDelay=1&useExponentialBackOff=false',
      { random: source.random },
    );
    assert.deepEqual(drain(schedule), [
      ['b', 0],
      ['a', 1],
      ['c', 1],
      ['a', 1],
      ['c', 1],
      ['b', 1],
    ]);
    assert.equal(source.calls(), 4, 'two calls per pass of three, none for delays without jitter');
  });

  it('reshuffles at the start of the sequence after connected()', () => {
    const source = replay([0.9, 0.1, 0.5, 0.6]);
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?startupMaxReconnectAttempts=0&maxReconnectAttempts=0',
      { random: source.random },
    );
    assert.deepEqual(drain(schedule), [['b', 0]]);
    schedule.connected();
    assert.deepEqual(drain(schedule), [['a', 0]]);
  });

  it('does not call the random source when randomize=false and there is no jitter', () => {
    const source = replay([0.5]);
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2)?randomize=false&startupMaxReconnectAttempts=10',
      { random: source.random },
    );
    drain(schedule);
    assert.equal(source.calls(), 0);
  });
});

describe('failover schedule: priorityBackup [failover: ActiveMQ semantics]', () => {
  it('puts local brokers first, keeping the written order otherwise', () => {
    const schedule = new FailoverSchedule(
      'failover:tcp://remote1:61616,tcp://localhost:61616,tcp://127.0.0.1:61615,tcp://remote2:61616?startupMaxReconnectAttempts=3,priorityBackup=true,randomize=false',
    );
    assert.deepEqual(drain(schedule), [
      ['localhost', 0],
      ['127.0.0.1', 10],
      ['remote1', 20],
      ['remote2', 40],
    ]);
  });

  it('puts local brokers first in every pass of a randomized list', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const schedule = new FailoverSchedule(
        'failover:(tcp://remote1:1,tcp://LOCALHOST:2,tcp://[::1]:3,tcp://remote2:4)?priorityBackup=true&startupMaxReconnectAttempts=11',
        { random: seeded(seed) },
      );
      const hosts = drain(schedule).map(([host]) => host);
      assert.equal(hosts.length, 12);
      for (let pass = 0; pass < 3; pass++) {
        const slice = hosts.slice(pass * 4, pass * 4 + 4);
        assert.deepEqual([...slice.slice(0, 2)].sort(), ['::1', 'LOCALHOST'], `seed ${seed}`);
        assert.deepEqual([...slice.slice(2)].sort(), ['remote1', 'remote2'], `seed ${seed}`);
      }
    }
  });

  it('takes the local host names from the caller', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://localhost:1,tcp://b:2,tcp://primary.example:3)?priorityBackup=true&randomize=false',
      { localHosts: ['Primary.Example'] },
    );
    assert.deepEqual(
      drain(schedule).map(([host]) => host),
      ['primary.example', 'localhost', 'b'],
    );
  });
});

describe('failover schedule: reconnectDelayJitter [failover: ActiveMQ semantics]', () => {
  it('adds random() * jitter to the delay, before the cap, never to the first try', () => {
    const schedule = new FailoverSchedule(
      'tcp://a:1?useExponentialBackOff=false&startupMaxReconnectAttempts=-1&reconnectDelayJitter=4',
      { random: replay([0.5, 0, 0.75]).random },
    );
    assert.deepEqual(
      [0, 1, 2, 3].map(() => schedule.next()!.delay),
      [0, 12, 10, 13],
    );
    const capped = new FailoverSchedule(
      'tcp://a:1?maxReconnectDelay=12&startupMaxReconnectAttempts=-1&reconnectDelayJitter=4',
      { random: () => 0.75 },
    );
    assert.deepEqual(
      [0, 1, 2].map(() => capped.next()!.delay),
      [0, 12, 12],
    );
  });

  it('stays within [delay, delay + jitter)', () => {
    const schedule = new FailoverSchedule(
      'tcp://a:1?useExponentialBackOff=false&startupMaxReconnectAttempts=-1&reconnectDelayJitter=4',
      { random: seeded(7) },
    );
    assert.equal(schedule.next()!.delay, 0);
    let spread = 0;
    for (let i = 0; i < 1000; i++) {
      const { delay } = schedule.next()!;
      assert.ok(delay >= 10 && delay < 14, `delay ${delay}`);
      spread = Math.max(spread, Math.abs(delay - 12));
    }
    assert.ok(spread > 1.5, 'the jitter actually varies');
  });
});

describe('failover schedule: limits and reset [failover: ActiveMQ semantics]', () => {
  it('maxReconnectAttempts limits every sequence after a connection', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2)?randomize=false&maxReconnectAttempts=2&startupMaxReconnectAttempts=0',
    );
    assert.deepEqual(drain(schedule), [['a', 0]]);
    schedule.connected();
    assert.deepEqual(drain(schedule), [
      ['a', 0],
      ['b', 10],
      ['a', 20],
    ]);
    schedule.connected();
    assert.equal(drain(schedule).length, 3);
  });

  it('connected() mid-sequence resets the backoff and starts a fresh pass', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false&startupMaxReconnectAttempts=-1',
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => {
        const step = schedule.next()!;
        return [step.broker.host, step.delay];
      }),
      [
        ['a', 0],
        ['b', 10],
        ['c', 20],
        ['a', 40],
        ['b', 80],
      ],
    );
    schedule.connected();
    assert.deepEqual(
      [0, 1, 2].map(() => {
        const step = schedule.next()!;
        return [step.broker.host, step.delay, step.attempt];
      }),
      [
        ['a', 0, 0],
        ['b', 10, 1],
        ['c', 20, 2],
      ],
    );
  });

  it('restart() begins a new sequence after giving up, under the startup limit until connected', () => {
    const schedule = new FailoverSchedule(
      'failover:(tcp://a:1,tcp://b:2)?randomize=false&maxReconnectAttempts=0',
    );
    assert.deepEqual(drain(schedule), [
      ['a', 0],
      ['b', 10],
    ]);
    assert.equal(schedule.next(), undefined);
    schedule.restart();
    assert.equal(drain(schedule).length, 2);
    schedule.connected();
    drain(schedule);
    schedule.restart();
    assert.deepEqual(drain(schedule), [['a', 0]]);
  });

  it('accepts a parsed URI as well as a string', () => {
    const parsed = parseFailoverUri('failover:(tcp://a:1,tcp://b:2)?randomize=false');
    const schedule = new FailoverSchedule(parsed);
    assert.equal(schedule.brokers, parsed.brokers);
    assert.equal(schedule.options, parsed.options);
    assert.deepEqual(drain(schedule), [
      ['a', 0],
      ['b', 10],
    ]);
  });
});
