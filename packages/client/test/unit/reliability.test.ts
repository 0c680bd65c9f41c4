import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Client,
  connect,
  ErrorCode,
  StompError,
  StompServerError,
  type StatusEvent,
} from '@stompede/client';
import { FakeNetwork, FakeServer, type MemoryClientTransport } from '@stompede/testkit';
import { connected, flush } from './helpers.js';

function record(client: Client): StatusEvent[] {
  const events: StatusEvent[] = [];
  for (const type of ['connected', 'disconnected', 'reconnecting', 'closed'] as const) {
    client.on(type, (event) => events.push(event));
  }
  return events;
}

describe('heart-beating', () => {
  it('[1.2 Heart-beating] sends an EOL after each negotiated period without other writes', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { conn, client } = await connected({ heartBeat: [100, 0] }, { heartBeat: '0,50' });
    // send period = max(100, 50)
    await flush();
    t.mock.timers.tick(100);
    await flush();
    assert.equal(conn.heartbeats, 1);
    t.mock.timers.tick(50);
    await client.send('/queue/a', 'data'); // a frame counts as activity
    await flush();
    t.mock.timers.tick(50); // t = 200: only 50 ms since the SEND
    await flush();
    assert.equal(conn.heartbeats, 1);
    t.mock.timers.tick(50); // t = 250: 100 ms since the SEND
    await flush();
    assert.equal(conn.heartbeats, 2);
    client.destroy();
  });

  it('[1.2 Heart-beating] 0 on either side means no beats', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { conn, client } = await connected({ heartBeat: [100, 100] }, { heartBeat: '0,0' });
    t.mock.timers.tick(1000);
    await flush();
    assert.equal(conn.heartbeats, 0);
    assert.equal(client.state, 'connected');
    client.destroy();
  });

  it('[1.2 Heart-beating] a silent server is detected within period + grace', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { conn, client } = await connected(
      { heartBeat: [0, 100], heartBeatGrace: 50 },
      { heartBeat: '100,0' },
    );
    await flush();
    t.mock.timers.tick(100);
    conn.heartbeat(); // t = 100: data from the server
    await flush();
    t.mock.timers.tick(149); // t = 249: 149 ms of silence
    await flush();
    assert.equal(client.state, 'connected');
    t.mock.timers.tick(1); // t = 250: 150 ms of silence
    await flush();
    assert.equal(client.state, 'closed');
    const error = await client.closed;
    assert.ok(error instanceof StompError);
    assert.equal(error.code, ErrorCode.CONNECTION_LOST);
    assert.equal((error.cause as StompError).code, ErrorCode.HEARTBEAT_TIMEOUT);
  });
});

describe('failover', () => {
  it('[failover] after a loss tries the other brokers first, announcing every attempt, with growing delays', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const network = new FakeNetwork();
    const a = network.server('a:61613');
    const b = network.server('b:61613');
    const c = network.server('c:61613');
    const pending = connect(
      'failover:(tcp://a:61613,tcp://b:61613,tcp://c:61613)?randomize=false&initialReconnectDelay=100',
      { transport: network.transport, heartBeat: [0, 0] },
    );
    const first = await a.accept();
    await first.handshake();
    const client = await pending;
    const events = record(client);
    b.refuse(1);
    c.refuse(1);
    first.drop(); // a is lost: it is tried last (ActiveMQ), b at once
    await flush();
    t.mock.timers.tick(100);
    await flush();
    t.mock.timers.tick(200);
    await flush();
    const second = await a.accept();
    await second.handshake();
    await flush();
    assert.deepEqual(network.attempts, ['a:61613', 'b:61613', 'c:61613', 'a:61613']);
    const steps = events.filter((e) => e.type === 'reconnecting');
    assert.deepEqual(
      steps.map((e) => [e.broker.host, e.attempt, e.delay]),
      [
        ['b', 1, 0],
        ['c', 2, 100],
        ['a', 3, 200],
      ],
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['disconnected', 'reconnecting', 'reconnecting', 'reconnecting', 'connected'],
    );
    assert.equal(client.state, 'connected');
    client.destroy();
  });

  it('[failover] after a heart-beat timeout the hung broker is tried last, not first', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const network = new FakeNetwork();
    const a = network.server('a:61613');
    const b = network.server('b:61613');
    const pending = connect('failover:(tcp://a:61613,tcp://b:61613)?randomize=false', {
      transport: network.transport,
      heartBeat: [0, 100],
      heartBeatGrace: 50,
      connectTimeout: 30_000,
    });
    const hung = await a.accept();
    await hung.handshake({ heartBeat: '100,0' });
    const client = await pending;
    const events = record(client);
    await flush();
    t.mock.timers.tick(150); // a says nothing (it still accepts TCP: a connect there would hang)
    await flush();
    const next = await b.accept();
    await next.handshake();
    await flush();
    assert.deepEqual(network.attempts, ['a:61613', 'b:61613']);
    assert.deepEqual(
      events.map((e) => e.type),
      ['disconnected', 'reconnecting', 'connected'],
    );
    assert.equal(client.broker?.host, 'b');
    client.destroy();
  });

  it('[failover] gives up after maxReconnectAttempts and closes with an error', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const network = new FakeNetwork();
    const a = network.server('a:61613');
    const pending = connect('failover:(tcp://a:61613)?maxReconnectAttempts=1', {
      transport: network.transport,
      heartBeat: [0, 0],
    });
    const first = await a.accept();
    await first.handshake();
    const client = await pending;
    a.refuse(2);
    first.drop();
    await flush();
    t.mock.timers.tick(10);
    await flush();
    const error = await client.closed;
    assert.equal((error as StompError).code, ErrorCode.CONNECTION_REFUSED);
    assert.equal(network.attempts.length, 3);
  });

  it('[1.2 SUBSCRIBE replay] replays subscriptions with the same ids before queued sends; fails receipts and transactions; stale acks', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      reconnect: true,
    });
    const first = await server.accept();
    await first.handshake();
    const client = await pending;
    const sub = await client.subscribe('/queue/a', {
      ack: 'client-individual',
      headers: { selector: 'x=1' },
    });
    const subscribe = await first.next('SUBSCRIBE');
    first.message(subscribe, 'before');
    const old = (await sub.receive({ timeout: 1000 }))!;
    const tx = await client.begin();
    await first.next('BEGIN');
    const receipt = client.send('/queue/b', 'x', { receipt: true });
    await first.next('SEND');

    first.drop();
    await assert.rejects(receipt, { code: ErrorCode.CONNECTION_LOST });
    await assert.rejects(tx.commit(), { code: ErrorCode.CONNECTION_LOST });
    assert.equal(tx.state, 'lost');
    const queued = client.send('/queue/c', 'queued');

    const second = await server.accept();
    await second.handshake();
    const replayed = await second.next('SUBSCRIBE');
    assert.equal(replayed.header('id'), sub.id);
    assert.equal(replayed.header('destination'), '/queue/a');
    assert.equal(replayed.header('ack'), 'client-individual');
    assert.equal(replayed.header('selector'), 'x=1');
    const send = await second.next('SEND');
    assert.equal(send.text, 'queued');
    await queued;

    await assert.rejects(old.ack(), { code: ErrorCode.STALE_MESSAGE });
    second.message(replayed, 'after');
    const fresh = (await sub.receive({ timeout: 1000 }))!;
    assert.equal(fresh.text, 'after');
    await fresh.ack();
    assert.equal((await second.next('ACK')).header('id'), fresh.header('ack'));
    client.destroy();
  });

  it("whileDisconnected: 'fail' rejects at once while reconnecting", async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      reconnect: true,
      whileDisconnected: 'fail',
    });
    const first = await server.accept();
    await first.handshake();
    const client = await pending;
    first.drop();
    await flush();
    assert.equal(client.state, 'reconnecting');
    await assert.rejects(client.send('/queue/a', 'x'), { code: ErrorCode.CONNECTION_LOST });
    client.destroy();
  });

  it("whileDisconnected: 'wait' is bounded by the timeout", async (t) => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      reconnect: true,
    });
    const first = await server.accept();
    await first.handshake();
    const client = await pending;
    t.mock.timers.enable({ apis: ['setTimeout'] });
    first.drop();
    await flush();
    const waiting = client.send('/queue/a', 'x', { timeout: 300 });
    await flush();
    t.mock.timers.tick(300);
    await assert.rejects(waiting, { code: ErrorCode.TIMEOUT });
    client.destroy();
  });

  it('an ERROR on CONNECT during a reconnect closes the client instead of retrying', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      reconnect: true,
    });
    const first = await server.accept();
    await first.handshake();
    const client = await pending;
    first.drop();
    const second = await server.accept();
    await second.next('CONNECT');
    second.error('login expired', undefined, 'ERR_STOMP_AUTHENTICATION_FAILED: login expired');
    const error = await client.closed;
    assert.ok(error instanceof StompServerError);
    assert.equal(error.code, ErrorCode.AUTHENTICATION_FAILED);
    assert.equal(server.connections.length, 2);
  });
});

describe('backpressure', () => {
  it('stops reading the transport while a subscription buffer is full', async () => {
    const server = new FakeServer();
    let transport: MemoryClientTransport | undefined;
    const pending = connect('tcp://a:61613', {
      transport: async (broker) => {
        const t = await server.transport(broker);
        transport = t;
        return t;
      },
      heartBeat: [0, 0],
    });
    const conn = await server.accept();
    await conn.handshake();
    const client = await pending;
    const sub = await client.subscribe('/queue/a', { buffer: 2 });
    const subscribe = await conn.next('SUBSCRIBE');
    for (let i = 0; i < 10; i++) conn.message(subscribe, `m${String(i)}`);
    await flush();
    assert.equal(sub.buffered, 2);
    assert.ok(transport!.unread >= 7, `unread ${String(transport!.unread)}`);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) got.push((await sub.receive({ timeout: 1000 }))!.text);
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `m${String(i)}`),
    );
    assert.equal(transport!.unread, 0);
    client.destroy();
  });
});

describe('status', () => {
  it('status() yields connected, disconnected and closed events', async () => {
    const { conn, client } = await connected();
    const events: string[] = [];
    const done = (async () => {
      for await (const event of client.status()) events.push(event.type);
    })();
    conn.drop();
    await done;
    assert.deepEqual(events, ['disconnected', 'closed']);
  });
});
