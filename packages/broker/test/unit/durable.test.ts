// Durable messages: restart, acknowledgment, durable subscriptions, priority, expiry and paging,
// over in-memory streams with a real data directory (damage: journal-damage.test.ts).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Broker, Message } from '@stompede/broker';
import { TestClock, connected } from '../helper.js';
import {
  type LogLine,
  ackAll,
  drain,
  open,
  range,
  sendAll,
  take,
  tempDirs,
} from '../durable-helper.js';

const newDir = tempDirs('stompede-durable-');

describe('durable queues across restarts', () => {
  test("[Durability] stomp.py's persistent:True is persistent too", async () => {
    // stomp.py writes Python booleans as True/False; RabbitMQ accepts them, and so do we.
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/py', ['kept'], { persistent: 'True' });
    await sendAll(p, '/queue/py', ['lost'], { persistent: 'False' });
    await a.broker.close();
    const b = open(dir);
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/py'), ['kept']);
    await b.broker.close();
  });

  test('[Durability] receipted persistent messages come back after a restart, in order, redelivered', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/a', range(300));
    await a.broker.close();

    const b = open(dir);
    const q = await connected(b.broker);
    const got = await take(q, '/queue/a', 300);
    assert.deepEqual(
      got.map((f) => f.text),
      range(300),
    );
    for (const f of got) {
      assert.equal(f.header('redelivered'), 'true');
      assert.equal(f.header('persistent'), 'true');
    }
    // Message ids are stable for the store: acking works with the recovered ids.
    await ackAll(q, got);
    await b.broker.close();

    const c = open(dir);
    const r = await connected(c.broker);
    assert.deepEqual(await drain(r, '/queue/a'), []);
    await c.broker.close();
  });

  test('[Recovery] a clean restart goes through the checkpoint; verifyOnStart reads every record instead; same messages either way', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/c', range(20, 'low'), { persistent: 'true', priority: '1' });
    await sendAll(p, '/queue/c', range(20, 'high'), { persistent: 'true', priority: '8' });
    const first = await take(p, '/queue/c', 5);
    await ackAll(p, first);
    await a.broker.close();
    const expected = [...range(20, 'high').slice(5), ...range(20, 'low')];
    const from = (logs: readonly LogLine[]): unknown =>
      logs.find((l) => l.msg.startsWith('journal recovered'))?.from;

    const b = open(dir);
    assert.equal(from(b.logs), 'checkpoint');
    const q = await connected(b.broker);
    const got = await take(q, '/queue/c', expected.length);
    assert.deepEqual(
      got.map((f) => f.text),
      expected,
    );
    for (const f of got) assert.equal(f.header('redelivered'), 'true');
    await b.broker.close();

    const c = open(dir, { persistence: { verifyOnStart: true } });
    assert.equal(from(c.logs), 'scan');
    const r = await connected(c.broker);
    const again = await take(r, '/queue/c', expected.length);
    assert.deepEqual(
      again.map((f) => f.text),
      expected,
    );
    for (const f of again) assert.equal(f.header('redelivered'), 'true');
    await c.broker.close();
  });

  test('[Durability] acknowledged messages never come back; unacknowledged ones do', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/b', range(20));
    const got = await take(p, '/queue/b', 20);
    await ackAll(
      p,
      got.filter((_, i) => i % 2 === 0),
    );
    await a.broker.close();

    const b = open(dir);
    const q = await connected(b.broker);
    assert.deepEqual(
      await drain(q, '/queue/b'),
      range(20).filter((_, i) => i % 2 === 1),
    );
    await b.broker.close();
  });

  test('[Durability] non-persistent messages stay in memory; persistAll stores every message', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/c', ['transient'], {});
    await sendAll(p, '/queue/c', ['kept']);
    await a.broker.close();
    const b = open(dir, { persistence: { persistAll: true } });
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/c'), ['kept']);
    await sendAll(q, '/queue/c2', ['no header'], {});
    await b.broker.close();
    const c = open(dir);
    const r = await connected(c.broker);
    assert.deepEqual(await drain(r, '/queue/c2'), ['no header']);
    await c.broker.close();
  });

  test('[Durability] a durable subscription and its backlog survive a restart', async () => {
    const dir = newDir();
    const a = open(dir);
    const sub = await connected(a.broker, {
      'accept-version': '1.2',
      host: '/',
      'client-id': 'c1',
    });
    await sub.sendSync('SUBSCRIBE', {
      destination: '/topic/news',
      id: 'd',
      ack: 'client-individual',
      'activemq.subscriptionName': 'n1',
    });
    sub.close();
    await sub.ended;
    const pub = await connected(a.broker);
    await sendAll(pub, '/topic/news', range(10, 't'));
    await a.broker.close();

    const b = open(dir);
    const again = await connected(b.broker, {
      'accept-version': '1.2',
      host: '/',
      'client-id': 'c1',
    });
    again.send('SUBSCRIBE', {
      destination: '/topic/news',
      id: 'd',
      ack: 'client-individual',
      'activemq.subscriptionName': 'n1',
    });
    const got = await again.messages(10);
    assert.deepEqual(
      got.map((f) => f.text),
      range(10, 't'),
    );
    await ackAll(again, got);
    // Deleting it is durable too.
    await again.sendSync('UNSUBSCRIBE', { id: 'd', 'activemq.subscriptionName': 'n1' });
    await b.broker.close();

    const c = open(dir);
    const pub2 = await connected(c.broker);
    await sendAll(pub2, '/topic/news', ['after']);
    const third = await connected(c.broker, {
      'accept-version': '1.2',
      host: '/',
      'client-id': 'c1',
    });
    third.send('SUBSCRIBE', {
      destination: '/topic/news',
      id: 'd',
      'activemq.subscriptionName': 'n1',
    });
    await pub2.sendSync('SEND', { destination: '/topic/news', persistent: 'true' }, 'fresh');
    const [first] = await third.messages(1);
    assert.equal(first!.text, 'fresh');
    await c.broker.close();
  });

  test('[Durability] a transaction of persistent messages is durable at its COMMIT receipt', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await p.sendSync('BEGIN', { transaction: 't' });
    for (const body of range(5, 'x')) {
      p.send('SEND', { destination: '/queue/tx', persistent: 'true', transaction: 't' }, body);
    }
    await p.sendSync('COMMIT', { transaction: 't' });
    await a.broker.close();
    const b = open(dir);
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/tx'), range(5, 'x'));
    await b.broker.close();
  });

  test('[Durability] a second broker on the same data directory is refused', async () => {
    const dir = newDir();
    const a = open(dir);
    assert.throws(() => open(dir), { code: 'ERR_STOMP_INVALID_ARGUMENT' });
    await a.broker.close();
  });
});

describe('priority and expiry', () => {
  test('[Priority] higher priority first, FIFO within a priority, in memory and after a restart', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    const sent: [string, string][] = [
      ['1', 'low-a'],
      ['9', 'high-a'],
      ['5', 'mid'],
      ['9', 'high-b'],
      ['1', 'low-b'],
    ];
    for (const [priority, body] of sent) {
      await p.sendSync('SEND', { destination: '/queue/p', persistent: 'true', priority }, body);
    }
    await p.sendSync('SEND', { destination: '/queue/p2', priority: '0' }, 'zero');
    await p.sendSync('SEND', { destination: '/queue/p2' }, 'default');
    await p.sendSync('SEND', { destination: '/queue/p2', priority: '7' }, 'seven');
    const order = ['high-a', 'high-b', 'mid', 'low-a', 'low-b'];
    const q = await connected(a.broker);
    assert.deepEqual(
      (await take(q, '/queue/p2', 3)).map((f) => f.text),
      ['seven', 'default', 'zero'],
    );
    await a.broker.close();
    const b = open(dir);
    const r = await connected(b.broker);
    assert.deepEqual(
      (await take(r, '/queue/p', 5)).map((f) => f.text),
      order,
    );
    await b.broker.close();
  });

  test('[Expiry] expired messages (expires, expiration) are never delivered, persistent or not', async () => {
    const dir = newDir();
    // Expiry is read on the broker's clock: moved by hand, so what has expired is exact.
    const clock = new TestClock();
    const a = open(dir, { clock });
    const p = await connected(a.broker);
    const past = String(clock.now() - 1000);
    const soon = String(clock.now() + 30);
    const later = String(clock.now() + 3_600_000);
    await p.sendSync('SEND', { destination: '/queue/e', expires: past }, 'past');
    await p.sendSync(
      'SEND',
      { destination: '/queue/e', persistent: 'true', expires: soon },
      'soon-p',
    );
    await p.sendSync('SEND', { destination: '/queue/e', expiration: '30' }, 'soon-rabbit');
    await p.sendSync(
      'SEND',
      { destination: '/queue/e', persistent: 'true', expires: later },
      'later',
    );
    await p.sendSync(
      'SEND',
      { destination: '/queue/e', persistent: 'true', expiration: '0' },
      'zero',
    );
    await p.sendSync('SEND', { destination: '/queue/e', expiration: '3600000' }, 'later-rabbit');
    clock.advance(80);
    assert.deepEqual(await drain(p, '/queue/e'), ['later', 'later-rabbit']);
    await p.sendSync(
      'SEND',
      { destination: '/queue/e2', persistent: 'true', expiration: '40' },
      'x',
    );
    await p.sendSync(
      'SEND',
      { destination: '/queue/e2', persistent: 'true', expiration: '3600000' },
      'y',
    );
    await a.broker.close();
    clock.advance(60);
    // The absolute expiry is stored: a restart does not extend a relative one.
    const b = open(dir, { clock });
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/e2'), ['y']);
    await b.broker.close();
  });
});

describe('paging', () => {
  test('[Paging] a backlog beyond pageOutBytes stays on disk and is read back in order', async () => {
    const dir = newDir();
    const a = open(dir, { persistence: { pageOutBytes: 64 * 1024, segmentSize: 256 * 1024 } });
    const p = await connected(a.broker);
    const body = 'x'.repeat(1000);
    const n = 1000;
    for (let i = 0; i < n; i++) {
      p.send('SEND', { destination: '/queue/big', persistent: 'true' }, `${String(i)}:${body}`);
    }
    await p.sendSync('SEND', { destination: '/queue/other' }, 'sync');
    const stats = a.broker.engine.stats();
    assert.equal(stats.messages, n + 1);
    assert.ok(stats.memoryBytes < 128 * 1024, `memory held: ${String(stats.memoryBytes)}`);
    const q = await connected(a.broker);
    q.send('SUBSCRIBE', {
      destination: '/queue/big',
      id: 's',
      ack: 'client',
      'prefetch-count': '100',
    });
    for (let i = 0; i < n; i += 100) {
      const got = await q.messages(100);
      got.forEach((f, k) => {
        assert.equal(f.text.slice(0, f.text.indexOf(':')), String(i + k));
      });
      await q.sendSync('ACK', { id: got.at(-1)!.header('ack')! });
    }
    // Consumed segments are deleted.
    await a.broker.close();
    const segments = readdirSync(join(dir, 'journal')).filter((f) => f.endsWith('.log'));
    assert.ok(segments.length <= 2, `segments left: ${segments.join(' ')}`);
    const b = open(dir);
    assert.equal(b.broker.engine.stats().messages, 0);
    await b.broker.close();
  });
});

describe('paging: packed backlog', () => {
  /** Publish straight to the engine (fast enough for thousands of messages). */
  function publish(
    broker: Broker,
    body: string,
    priority: number,
    persistent: boolean,
    expires = 0,
  ): void {
    const headers = ['priority', String(priority), ...(persistent ? ['persistent', 'true'] : [])];
    if (expires > 0) headers.push('expires', String(expires));
    void broker.engine.publish(
      '/',
      'test',
      new Message('/queue/pk', headers, Buffer.from(body)),
      false,
    );
  }

  /** What a queue delivers in order of priority, then publication; `keep` picks what survives. */
  function expected(
    n: number,
    priorityOf: (i: number) => number,
    keep: (i: number) => boolean,
  ): string[] {
    const out: string[] = [];
    for (const p of [9, 4, 0]) {
      for (let i = 0; i < n; i++) if (priorityOf(i) === p && keep(i)) out.push(`m${String(i)}`);
    }
    return out;
  }

  test('[Paging] a paged-out backlog keeps priority order and expiry, with non-persistent messages behind it', async () => {
    const dir = newDir();
    const clock = new TestClock();
    const a = open(dir, {
      persistence: { pageOutBytes: 16 * 1024, segmentSize: 256 * 1024 },
      clock,
    });
    const n = 6000;
    const pad = 'x'.repeat(200);
    const priorityOf = (i: number): number => (i % 5 === 0 ? 9 : i % 5 === 1 ? 0 : 4);
    // Expired by the time it is drained (some may expire while publishing: dropped at once).
    const soon = clock.now() + 100;
    for (let i = 0; i < n; i++) {
      publish(
        a.broker,
        `m${String(i)}`.padEnd(220, pad),
        priorityOf(i),
        i % 7 !== 3,
        i % 11 === 5 ? soon : 0,
      );
    }
    await a.broker.engine.flush?.();
    const stats = a.broker.engine.stats();
    // Only the non-persistent ones (a seventh) and a little more stay in memory.
    assert.ok(
      stats.memoryBytes < (n / 7) * 300 + 32 * 1024,
      `memory held: ${String(stats.memoryBytes)}`,
    );
    clock.advance(101);
    const p = await connected(a.broker);
    // Drained up to a marker of the lowest priority, sent last.
    p.send('SUBSCRIBE', { destination: '/queue/pk', id: 'd', ack: 'auto' });
    p.send('SEND', { destination: '/queue/pk', priority: '0' }, '#end');
    const got: string[] = [];
    for (let f = await p.next('MESSAGE'); f.text !== '#end'; f = await p.next('MESSAGE')) {
      got.push(f.text.slice(0, f.text.indexOf('x')));
    }
    assert.deepEqual(
      got,
      expected(n, priorityOf, (i) => i % 11 !== 5),
    );
    assert.equal(a.broker.engine.stats().messages, 0);
    await a.broker.close();
  });

  test('[Paging] after a restart the whole backlog is packed: order, expiry and redelivery hold', async () => {
    const dir = newDir();
    const clock = new TestClock();
    const a = open(dir, { persistence: { segmentSize: 256 * 1024 }, clock });
    const n = 9000;
    const priorityOf = (i: number): number => (i % 3 === 0 ? 9 : 4);
    const soon = clock.now() + 100;
    for (let i = 0; i < n; i++) {
      publish(a.broker, `m${String(i)}`, priorityOf(i), true, i % 13 === 2 ? soon : 0);
    }
    await a.broker.close();
    clock.advance(101);
    const b = open(dir, { clock });
    assert.equal(b.broker.engine.stats().memoryBytes, 0);
    const p = await connected(b.broker);
    p.send('SUBSCRIBE', { destination: '/queue/pk', id: 's', ack: 'auto' });
    const want = expected(n, priorityOf, (i) => i % 13 !== 2);
    const frames = await p.messages(want.length);
    assert.deepEqual(
      frames.map((f) => f.text),
      want,
    );
    assert.ok(frames.every((f) => f.header('redelivered') === 'true'));
    await b.broker.close();
  });
  test('[Durability] deleting a durable subscription whose backlog is on disk releases it all', async () => {
    const dir = newDir();
    const a = open(dir, { persistence: { segmentSize: 256 * 1024 } });
    const sub = await connected(a.broker, {
      'accept-version': '1.2',
      host: '/',
      'client-id': 'c1',
    });
    await sub.sendSync('SUBSCRIBE', {
      destination: '/topic/pk',
      id: 'd',
      'activemq.subscriptionName': 'n1',
    });
    sub.close();
    await sub.ended;
    for (let i = 0; i < 3000; i++) {
      void a.broker.engine.publish(
        '/',
        'test',
        new Message('/topic/pk', ['persistent', 'true'], Buffer.from('x'.repeat(200))),
        false,
      );
    }
    await a.broker.close();
    const b = open(dir, { persistence: { segmentSize: 256 * 1024 } });
    assert.equal(b.broker.engine.stats().messages, 3000);
    assert.equal(await b.broker.engine.unsubscribeDurable('/', 'c1', 'n1'), true);
    assert.equal(b.broker.engine.stats().messages, 0);
    await b.broker.close();
    const c = open(dir);
    assert.equal(c.broker.engine.stats().messages, 0);
    await c.broker.close();
    // Nothing live is left: every segment but the newest two is gone.
    const segments = readdirSync(join(dir, 'journal')).filter((f) => f.endsWith('.log'));
    assert.ok(segments.length <= 2, `segments left: ${segments.join(' ')}`);
  });
});
