import assert from 'node:assert/strict';
import { ErrorCode } from '@stompede/core';
import { randomBytes } from 'node:crypto';
import { duplexPair } from 'node:stream';
import { after, describe, test } from 'node:test';
import { type Peer, connected, eventually, memoryBroker, pair } from '../helper.js';

describe('abuse', () => {
  const broker = memoryBroker({
    limits: { maxFrameSize: 8192, maxBodySize: 4096, maxHeaders: 50 },
    maxTopicPending: 100,
    connectTimeout: 200,
  });
  after(() => broker.close());

  test('[Robustness] random garbage bytes: ERROR and close, broker keeps serving', async () => {
    // Garbage without a line feed waits for more bytes until the CONNECT timeout drops it.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const p = pair(broker);
        p.raw(randomBytes(2000));
        await p.ended;
      }),
    );
    const q = await connected(broker);
    await q.sendSync('SEND', { destination: '/queue/alive' }, 'ok');
    q.close();
  });

  test('[1.2 Size Limits] an oversized frame gets an ERROR', async () => {
    const p = await connected(broker);
    p.send('SEND', { destination: '/queue/big' }, 'x'.repeat(10_000));
    const f = await p.error(ErrorCode.BODY_TOO_LARGE);
    assert.match(f.header('message') ?? '', /exceeds/);
    await p.ended;
  });

  test('[1.2 Size Limits] a header flood gets an ERROR', async () => {
    const p = await connected(broker);
    let text = 'SEND\ndestination:/queue/h\n';
    for (let i = 0; i < 500; i++) text += `h${String(i)}:v\n`;
    p.raw(text + '\n\0');
    const f = await p.error(ErrorCode.TOO_MANY_HEADERS);
    assert.match(f.header('message') ?? '', /headers/);
    await p.ended;
  });

  test('[Robustness] a frame that never ends before CONNECT is bounded and times out', async () => {
    const p = pair(broker);
    p.raw('CONNECT\naccept-version:1.2\n');
    await p.ended;
  });

  test('[Robustness] 1000 connections opened and dropped', async () => {
    const closing: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      const [server, client] = duplexPair();
      client.on('data', () => undefined);
      const conn = broker.handle(server);
      closing.push(conn.closed);
      if (i % 3 === 0) client.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
      if (i % 3 === 1) client.write('CONN');
      client.end();
    }
    await Promise.all(closing);
    assert.equal(broker.connections, 0);
  });

  test('[Robustness] Connection.closed first read after the stream closed resolves at once', async () => {
    // The promise is made on first use (an idle connection holds none): it must not wait for a
    // close that already happened.
    const [server, client] = duplexPair();
    client.on('data', () => undefined);
    const before = broker.connections;
    const conn = broker.handle(server);
    client.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
    client.end();
    await eventually(
      () => broker.connections === before && server.destroyed,
      'the connection closed',
    );
    await new Promise((resolve) => setImmediate(resolve));
    await conn.closed;
    assert.equal(conn.closed, conn.closed, 'one promise, however often it is read');
  });

  test('[Flow control] a consumer that stops reading does not stall others; memory stays bounded', async () => {
    const baseline = broker.engine.stats().messages;
    const slow = await connected(broker);
    await slow.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/firehose' });
    slow.stream.pause();
    const fast = await connected(broker);
    await fast.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/fast' });
    const producer = await connected(broker);
    const body = 'y'.repeat(1000);
    for (let i = 0; i < 3000; i++) {
      producer.send('SEND', { destination: '/topic/firehose' }, body);
      if (i % 10 === 0) producer.send('SEND', { destination: '/queue/fast' }, String(i));
    }
    await producer.sendSync('SEND', { destination: '/queue/fast' }, 'end');
    const ms = await fast.messages(301);
    assert.equal(ms.at(-1)!.text, 'end');
    // The slow subscriber holds at most maxTopicPending messages in the broker.
    const held = broker.engine.stats().messages - baseline;
    assert.ok(held <= 100, `${String(held)} messages held`);
    assert.ok(broker.metrics.messagesDropped > 0);
    slow.stream.resume();
    for (const x of [slow, fast, producer]) x.close();
  });
});

describe('memory limit', () => {
  test('[Flow control] producers are paused at the memory limit and resumed when it drains', async () => {
    const broker = memoryBroker({ memoryLimit: 20_000 });
    after(() => broker.close());
    const producer = await connected(broker);
    const body = 'z'.repeat(1000);
    for (let i = 0; i < 200; i++) producer.send('SEND', { destination: '/queue/mem' }, body);
    producer.send('SEND', { destination: '/queue/mem', receipt: 'done' }, 'last');
    // Wait until the broker has paused this producer.
    await eventually(() => broker.metrics.producersPaused > 0, 'the producer paused');
    const held = broker.engine.stats().memoryBytes;
    assert.ok(held < 20_000 + 70_000, `held ${String(held)}`);
    const consumer = await connected(broker);
    await consumer.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/mem' });
    const ms = await consumer.messages(201);
    assert.equal(ms.at(-1)!.text, 'last');
    const r = await producer.next('RECEIPT');
    assert.equal(r.header('receipt-id'), 'done');
    producer.close();
    consumer.close();
  });
});

describe('unfinished frames are bounded in memory', () => {
  // A SEND head announcing a 5000-byte body, and 600 bytes of it: about 650 bytes held.
  const half = `SEND\ndestination:/queue/half\ncontent-length:5000\nreceipt:done\n\n${'x'.repeat(600)}`;
  const rest = `${'x'.repeat(4400)}\0`;

  async function holding(broker: ReturnType<typeof memoryBroker>): Promise<Peer> {
    const p = await connected(broker);
    const bytes = broker.metrics.bytesIn;
    p.raw(half);
    await eventually(() => broker.metrics.bytesIn >= bytes + half.length, 'the half frame read');
    return p;
  }

  test('[Limits unfinished frames] per address: the connection that goes over gets an ERROR, what it held is given back', async () => {
    const broker = memoryBroker({ maxPartialFrameBytesPerAddress: 1500 });
    after(() => broker.close());
    const a = await holding(broker);
    // a holds about 660 bytes; b's 960 more go over 1500.
    const b = await connected(broker);
    b.raw(`SEND\ndestination:/queue/half\ncontent-length:5000\n\n${'x'.repeat(900)}`);
    const e = await b.error(ErrorCode.LIMIT_EXCEEDED);
    assert.match(
      e.header('message') ?? '',
      /unfinished frames from this address exceed 1500 bytes/,
    );
    await b.ended;
    // b's bytes were given back, so c's 660 fit beside a's.
    const c = await holding(broker);
    for (const p of [a, c]) {
      p.raw(rest);
      assert.equal((await p.next('RECEIPT')).header('receipt-id'), 'done');
      p.close();
    }
  });

  test('[Limits unfinished frames] across the broker, and given back when a connection closes', async () => {
    const broker = memoryBroker({ maxPartialFrameBytes: 1000, maxPartialFrameBytesPerAddress: 0 });
    after(() => broker.close());
    const a = await holding(broker);
    a.close();
    await a.ended;
    await eventually(() => broker.connections === 0, 'a closed');
    const b = await holding(broker);
    const c = await connected(broker);
    c.raw(half);
    const e = await c.error(ErrorCode.LIMIT_EXCEEDED);
    assert.match(
      e.header('message') ?? '',
      /unfinished frames of all connections exceed 1000 bytes/,
    );
    b.raw(rest);
    assert.equal((await b.next('RECEIPT')).header('receipt-id'), 'done');
    b.close();
  });
});
