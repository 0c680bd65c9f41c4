// Durable messages: restart, acknowledgment, durable subscriptions, priority, expiry, paging and
// the damage checks of the journal, over in-memory streams with a real data directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Frame } from '@stompede/core';
import { type Broker, type BrokerOptions, Message } from '@stompede/broker';
import { type Peer, connected, memoryBroker } from '../helper.js';

const root = mkdtempSync(join(tmpdir(), 'stompede-durable-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
function newDir(): string {
  return join(root, String(++dirs));
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

function open(dataDir: string, options: BrokerOptions = {}): { broker: Broker; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { broker: memoryBroker({ dataDir, logger, ...options }), logs };
}

async function sendAll(
  peer: Peer,
  destination: string,
  bodies: readonly string[],
  headers: Record<string, string> = { persistent: 'true' },
): Promise<void> {
  for (const body of bodies) await peer.sendSync('SEND', { destination, ...headers }, body);
}

/** Subscribe with client-individual acks and take `n` messages. */
async function take(peer: Peer, destination: string, n: number, id = 's'): Promise<Frame[]> {
  peer.send('SUBSCRIBE', { destination, id, ack: 'client-individual' });
  return peer.messages(n);
}

async function ackAll(peer: Peer, frames: readonly Frame[]): Promise<void> {
  for (const f of frames) await peer.sendSync('ACK', { id: f.header('ack')! });
}

/** What is left in `destination` after a restart: drained until a marker sent last comes back. */
async function drain(peer: Peer, destination: string): Promise<string[]> {
  peer.send('SUBSCRIBE', { destination, id: 'drain', ack: 'auto' });
  peer.send('SEND', { destination }, '#end');
  const out: string[] = [];
  for (;;) {
    const f = await peer.next('MESSAGE');
    if (f.text === '#end') return out;
    out.push(f.text);
  }
}

const range = (n: number, prefix = 'm'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i)}`);

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
    const a = open(dir);
    const p = await connected(a.broker);
    const past = String(Date.now() - 1000);
    const soon = String(Date.now() + 30);
    const later = String(Date.now() + 3_600_000);
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
    await new Promise((resolve) => setTimeout(resolve, 80));
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
    await new Promise((resolve) => setTimeout(resolve, 60));
    // The absolute expiry is stored: a restart does not extend a relative one.
    const b = open(dir);
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
    const a = open(dir, { persistence: { pageOutBytes: 16 * 1024, segmentSize: 256 * 1024 } });
    const n = 6000;
    const pad = 'x'.repeat(200);
    const priorityOf = (i: number): number => (i % 5 === 0 ? 9 : i % 5 === 1 ? 0 : 4);
    // Expired by the time it is drained (some may expire while publishing: dropped at once).
    const soon = Date.now() + 100;
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
    while (Date.now() <= soon) await new Promise((resolve) => setTimeout(resolve, 20));
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
    const a = open(dir, { persistence: { segmentSize: 256 * 1024 } });
    const n = 9000;
    const priorityOf = (i: number): number => (i % 3 === 0 ? 9 : 4);
    const soon = Date.now() + 100;
    for (let i = 0; i < n; i++) {
      publish(a.broker, `m${String(i)}`, priorityOf(i), true, i % 13 === 2 ? soon : 0);
    }
    await a.broker.close();
    while (Date.now() <= soon) await new Promise((resolve) => setTimeout(resolve, 20));
    const b = open(dir);
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

describe('journal damage', () => {
  async function filled(n: number): Promise<string> {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/d', range(n));
    await a.broker.close();
    // As after a crash: no clean-shutdown checkpoint, so recovery reads (and checks) every record.
    rmSync(join(dir, 'journal', 'checkpoint'));
    return dir;
  }

  function segment(dir: string): string {
    const names = readdirSync(join(dir, 'journal'))
      .filter((f) => f.endsWith('.log'))
      .sort();
    // The newest segment is the empty one the broker started with; the data is before it.
    for (const name of names) {
      const path = join(dir, 'journal', name);
      if (statSync(path).size > 4096) return path;
    }
    throw new Error('no segment with data');
  }

  test('[Recovery] a torn last write: the valid prefix is recovered and the damage logged', async () => {
    const dir = await filled(50);
    const path = segment(dir);
    const size = statSync(path).size;
    writeFileSync(path, readFileSync(path).subarray(0, size - 10));
    const b = open(dir);
    const warn = b.logs.find((l) => l.level >= 40 && l.msg.includes('journal'));
    assert.ok(warn, 'the damage is reported');
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/d'), range(49));
    await b.broker.close();
    // Reported once: the file was cut to its valid prefix.
    const c = open(dir);
    assert.equal(c.logs.filter((l) => l.level >= 40).length, 0);
    await c.broker.close();
  });

  test('[Recovery] zeros after the last record (preallocated, then killed) are the clean end', async () => {
    const dir = await filled(50);
    const path = segment(dir);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(64 * 1024)]));
    const b = open(dir);
    assert.deepEqual(
      b.logs.filter((l) => l.level >= 40),
      [],
    );
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/d'), range(50));
    await b.broker.close();
  });

  test('[Recovery] zeros followed by other bytes are damage, not an end', async () => {
    const dir = await filled(50);
    const path = segment(dir);
    const junk = Buffer.alloc(4096);
    junk[4000] = 7;
    writeFileSync(path, Buffer.concat([readFileSync(path), junk]));
    const b = open(dir);
    assert.ok(b.logs.some((l) => l.level >= 40 && l.msg.includes('journal')));
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/d'), range(50));
    await b.broker.close();
  });

  test('[Recovery] a flipped bit: the checksum catches it, records before it are kept', async () => {
    const dir = await filled(50);
    const path = segment(dir);
    const bytes = readFileSync(path);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x10;
    writeFileSync(path, bytes);
    const b = open(dir);
    const error = b.logs.find((l) => l.level >= 50);
    assert.ok(error, 'the damage is reported as an error');
    assert.match(error.msg, /checksum|invalid|cut short|decoded/);
    const q = await connected(b.broker);
    const left = await drain(q, '/queue/d');
    assert.ok(left.length > 0 && left.length < 50, `kept ${String(left.length)}`);
    assert.deepEqual(left, range(left.length));
    await b.broker.close();
  });

  test('[Recovery] garbage and empty segments never crash the broker', async () => {
    const dir = await filled(5);
    writeFileSync(join(dir, 'journal', '0000000100.log'), Buffer.from('not a journal at all'));
    writeFileSync(join(dir, 'journal', '0000000101.log'), Buffer.alloc(0));
    const b = open(dir);
    assert.ok(b.logs.some((l) => l.level >= 50));
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/d'), range(5));
    await b.broker.close();
  });
});
