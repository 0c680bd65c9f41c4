// Behaviours kept on purpose (see the Client TSDoc) and the session bookkeeping around them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, ErrorCode, StompError } from '@stompede/client';
import { FakeServer } from '@stompede/testkit';
import { connected, flush } from './helpers.js';

describe('silent-server check while reading is held', () => {
  it('[1.2 Heart-beating] is suspended while a full buffer holds the read, and resumes after', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const { conn, client } = await connected(
      { heartBeat: [0, 100], heartBeatGrace: 50 },
      { heartBeat: '100,0' },
    );
    const sub = await client.subscribe('/queue/a', { buffer: 1 });
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'one');
    conn.message(subscribe, 'two'); // waits: the buffer holds one
    await flush();
    for (let i = 0; i < 10; i++) {
      t.mock.timers.tick(150); // 1.5 s of silence in all, far beyond 150 ms
      await flush();
    }
    assert.equal(client.state, 'connected', 'silence behind a held read is not a dead server');
    assert.equal((await sub.receive())?.text, 'one');
    assert.equal((await sub.receive())?.text, 'two');
    await flush();
    t.mock.timers.tick(149);
    await flush();
    assert.equal(client.state, 'connected');
    t.mock.timers.tick(151); // a full period plus grace after reading resumed
    await flush();
    assert.equal(client.state, 'closed');
    const error = (await client.closed) as StompError;
    assert.equal((error.cause as StompError).code, ErrorCode.HEARTBEAT_TIMEOUT);
  });
});

describe('no reconnect for a plain URI', () => {
  it('a tcp:// client closes with ERR_STOMP_CONNECTION_LOST instead of reconnecting', async () => {
    const { server, conn, client } = await connected();
    conn.drop();
    const error = await client.closed;
    assert.ok(error instanceof StompError);
    assert.equal(error.code, ErrorCode.CONNECTION_LOST);
    assert.equal(server.connections.length, 1);
  });
});

describe('subscriptions across a reconnect', () => {
  it('[1.2 SUBSCRIBE replay] a subscription ended while disconnected is not replayed', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      reconnect: true,
    });
    const first = await server.accept();
    await first.handshake();
    const client = await pending;
    const keep = await client.subscribe('/queue/keep');
    const gone = await client.subscribe('/queue/gone');
    await first.next('SUBSCRIBE');
    await first.next('SUBSCRIBE');
    first.drop();
    await flush();
    await gone.unsubscribe();
    const second = await server.accept();
    await second.handshake();
    const replayed = await second.next('SUBSCRIBE');
    assert.equal(replayed.header('id'), keep.id);
    await client.send('/queue/x', 'after');
    assert.equal((await second.next()).command, 'SEND', 'only one SUBSCRIBE was replayed');
    client.destroy();
  });

  it('[1.2 RECEIPT] a SUBSCRIBE whose receipt times out is taken back with UNSUBSCRIBE', async (t) => {
    const { conn, client } = await connected();
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const subscribing = client.subscribe('/queue/a', { receipt: true, timeout: 100 });
    const subscribe = await conn.next('SUBSCRIBE');
    await flush();
    t.mock.timers.tick(100);
    await assert.rejects(subscribing, { code: ErrorCode.TIMEOUT });
    const unsubscribe = await conn.next('UNSUBSCRIBE');
    assert.equal(unsubscribe.header('id'), subscribe.header('id'));
    client.destroy();
  });
});
