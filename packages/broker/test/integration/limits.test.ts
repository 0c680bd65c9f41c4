import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { after, before, describe, test } from 'node:test';
import { type Broker, DEFAULTS, createBroker } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { Peer, connected, eventually, memoryBroker, pair } from '../helper.js';

// SEND\n destination:/queue/p\n receipt:r\n \n ... \0 = 38 bytes around the body.
const send = (headers: string, body: string): string =>
  `SEND\ndestination:/queue/p\nreceipt:r\n${headers}\n${body}\0`;

async function outcome(broker: Broker, raw: string): Promise<string> {
  const p = await connected(broker);
  p.raw(raw);
  const f = await p.next();
  p.close();
  if (f.command === 'RECEIPT') return 'ok';
  return f.text.split(':')[0]!;
}

describe('limits', () => {
  const broker = memoryBroker({
    limits: {
      maxFrameSize: 300,
      maxBodySize: 200,
      maxHeaderLineLength: 60,
      maxHeaders: 5,
    },
    maxSubscriptions: 3,
    maxUnackedPerSubscription: 3,
    maxTransactions: 2,
    maxTransactionFrames: 2,
    connectTimeout: 100,
  });
  after(() => broker.close());

  test('[Limits] the defaults are safe', () => {
    const b = createBroker();
    assert.equal(b.options.maxConnections, DEFAULTS.maxConnections);
    // Behind a load balancer or a NAT every client shares one address: no limit of its own.
    assert.equal(b.options.maxConnectionsPerAddress, DEFAULTS.maxConnections);
    assert.equal(createBroker({ maxConnections: 50_000 }).options.maxConnectionsPerAddress, 50_000);
    assert.equal(b.options.maxUnackedPerSubscription, 10_000);
    assert.equal(b.options.maxSubscriptions, 1000);
    assert.equal(b.options.maxTransactions, 100);
    assert.equal(b.options.maxTransactionFrames, 10_000);
    assert.equal(b.options.connectTimeout, 10_000);
    assert.equal(b.options.limits.maxFrameSize, 64 * 1024 * 1024 + 256 * 1024);
    assert.equal(b.options.limits.maxHeaders, 1000);
    assert.throws(() => createBroker({ maxConnections: 0 }), /maxConnections/);
    assert.throws(
      () => createBroker({ maxUnackedPerSubscription: -1 }),
      /maxUnackedPerSubscription/,
    );
  });

  test('[Limits body size] a body of exactly the limit passes, one byte more is an ERROR', async () => {
    assert.equal(await outcome(broker, send('', 'x'.repeat(200))), 'ok');
    assert.equal(await outcome(broker, send('', 'x'.repeat(201))), ErrorCode.BODY_TOO_LARGE);
  });

  test('[Limits frame size] a frame of exactly maxFrameSize passes, one byte more is an ERROR', async () => {
    const b = memoryBroker({ limits: { maxFrameSize: 100 } });
    assert.equal(await outcome(b, send('', 'x'.repeat(62))), 'ok'); // 100 bytes
    assert.equal(await outcome(b, send('', 'x'.repeat(63))), ErrorCode.FRAME_TOO_LARGE);
    assert.equal(b.errorCounts.byCode.get(ErrorCode.FRAME_TOO_LARGE), 1);
    await b.close();
  });

  test('[Limits header size] a header line of exactly the limit passes, one byte more is an ERROR', async () => {
    assert.equal(await outcome(broker, send(`h:${'v'.repeat(58)}\n`, '')), 'ok');
    assert.equal(
      await outcome(broker, send(`h:${'v'.repeat(59)}\n`, '')),
      ErrorCode.HEADER_TOO_LARGE,
    );
  });

  test('[Limits header count] exactly maxHeaders headers pass, one more is an ERROR', async () => {
    assert.equal(await outcome(broker, send('a:1\nb:2\nc:3\n', '')), 'ok');
    assert.equal(
      await outcome(broker, send('a:1\nb:2\nc:3\nd:4\n', '')),
      ErrorCode.TOO_MANY_HEADERS,
    );
  });

  test('[Limits subscriptions] maxSubscriptions per connection pass, one more is an ERROR', async () => {
    const p = await connected(broker);
    for (const id of ['1', '2', '3'])
      await p.sendSync('SUBSCRIBE', { id, destination: `/queue/s${id}` });
    p.send('SUBSCRIBE', { id: '4', destination: '/queue/s4' });
    const f = await p.error(ErrorCode.LIMIT_EXCEEDED);
    assert.match(f.header('message') ?? '', /more than 3 subscriptions/);
    assert.match(f.text, new RegExp(ErrorCode.LIMIT_EXCEEDED));
  });

  test('[Limits unacked] a subscription holds at most maxUnackedPerSubscription, whatever prefetch it asks', async () => {
    const producer = await connected(broker);
    for (let i = 1; i <= 5; i++)
      await producer.sendSync('SEND', { destination: '/queue/unacked' }, String(i));
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/queue/unacked',
      ack: 'client-individual',
      'prefetch-count': '0',
    });
    // Frames are written in order: by this RECEIPT every deliverable message was written.
    await c.sendSync('BEGIN', { transaction: 'sync' });
    const first = await c.messages(3);
    assert.deepEqual(
      first.map((m) => m.text),
      ['1', '2', '3'],
    );
    assert.equal(c.frames.filter((f) => f.command === 'MESSAGE').length, 3);
    await c.sendSync('ACK', { id: first[0]!.header('ack')! });
    assert.deepEqual(
      (await c.messages(1)).map((m) => m.text),
      ['4'],
    );
    producer.close();
    c.close();
  });

  test('[Limits transactions] maxTransactions open pass, one more is an ERROR', async () => {
    const p = await connected(broker);
    await p.sendSync('BEGIN', { transaction: 'a' });
    await p.sendSync('BEGIN', { transaction: 'b' });
    p.send('BEGIN', { transaction: 'c' });
    assert.match(
      (await p.error(ErrorCode.LIMIT_EXCEEDED)).header('message') ?? '',
      /more than 2 open transactions/,
    );
  });

  test('[Limits transaction size] maxTransactionFrames frames pass, one more is an ERROR', async () => {
    const p = await connected(broker);
    await p.sendSync('BEGIN', { transaction: 't' });
    await p.sendSync('SEND', { destination: '/queue/tx', transaction: 't' }, '1');
    await p.sendSync('SEND', { destination: '/queue/tx', transaction: 't' }, '2');
    p.send('SEND', { destination: '/queue/tx', transaction: 't' }, '3');
    assert.match(
      (await p.error(ErrorCode.LIMIT_EXCEEDED)).header('message') ?? '',
      /holds more than 2 frames/,
    );
  });

  test('[Limits CONNECT time] CONNECT within connectTimeout is served; silence is dropped', async () => {
    const p = pair(broker);
    await p.connect();
    const silent = pair(broker);
    await silent.ended;
    assert.equal(silent.frames.length, 0);
    p.close();
  });

  test('[Limits] limit errors are counted by code', () => {
    const byCode = broker.errorCounts.byCode;
    assert.ok((byCode.get(ErrorCode.LIMIT_EXCEEDED) ?? 0) >= 3);
    assert.equal(byCode.get(ErrorCode.TOO_MANY_HEADERS), 1);
    assert.equal(byCode.get(ErrorCode.HEADER_TOO_LARGE), 1);
    assert.equal(byCode.get(ErrorCode.BODY_TOO_LARGE), 1);
  });
});

describe('connection limits', () => {
  let broker: Broker;
  let port = 0;
  const logs: { limit?: string; address?: string; msg?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as (typeof logs)[number]);
      done();
    },
  });
  const open = async (): Promise<Peer> => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    return new Peer(socket);
  };
  before(async () => {
    broker = createBroker({
      logger: pino({ level: 'warn' }, sink),
      listeners: [{ protocol: 'tcp', port: 0 }],
      maxConnections: 3,
      maxConnectionsPerAddress: 2,
      errorLinger: 100,
      closeTimeout: 500,
    });
    port = (await broker.listen())[0]!.port;
  });
  after(() => broker.close());

  test('[Limits connections per address] the limit passes, one more is refused at accept with an ERROR', async () => {
    const a = await open();
    const b = await open();
    await a.connect();
    await b.connect();
    const c = await open();
    const f = await c.error(ErrorCode.LIMIT_EXCEEDED);
    assert.equal(
      f.header('message'),
      'too many connections from 127.0.0.1: the limit per address is 2 (maxConnectionsPerAddress)',
    );
    assert.match(
      f.text,
      /An operator can raise maxConnectionsPerAddress in the broker's configuration/,
    );
    await c.ended;
    // Logged once, naming the limit.
    const line = logs.find((l) => l.limit === 'maxConnectionsPerAddress');
    assert.ok(line !== undefined, 'a log line names the limit');
    assert.equal(line.address, '127.0.0.1');
    assert.match(line.msg ?? '', /^connection refused: too many connections from 127\.0\.0\.1/);
    assert.equal(broker.errorCounts.refusedByCode.get(ErrorCode.LIMIT_EXCEEDED), 1);
    // When one closes, a new one is admitted.
    a.close();
    await a.ended;
    await eventually(() => broker.connections <= 1, 'the closed connection left');
    const d = await open();
    await d.connect();
    b.close();
    d.close();
    await Promise.all([b.ended, d.ended]);
  });

  test('[Limits connections] maxConnections in total pass, one more is refused', async () => {
    await eventually(() => broker.connections === 0, 'the earlier connections left');
    // Two from the listener plus in-memory sessions (counted in the total too).
    const inMemory = await connected(broker);
    const a = await open();
    const b = await open();
    await a.connect();
    await b.connect();
    const c = await open();
    const f = await c.error(ErrorCode.LIMIT_EXCEEDED);
    assert.equal(
      f.header('message'),
      'the broker has reached its limit of 3 connections (maxConnections)',
    );
    assert.match(f.text, /An operator can raise maxConnections in the broker's configuration/);
    assert.ok(logs.some((l) => l.limit === 'maxConnections'));
    for (const p of [inMemory, a, b]) p.close();
  });
});
