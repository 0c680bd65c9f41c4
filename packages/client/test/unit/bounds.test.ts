// Memory bounds and waits: subscription buffers, unawaited sends, write timeouts, WebSocket reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connect,
  connectWebSocket,
  ErrorCode,
  StompError,
  type Subscription,
} from '@stompede/client';
import { encodeFrameBytes, Frame } from '@stompede/core';
import { concatBytes } from '@stompede/core/internal';
import { FakeServer, trackTransports } from '@stompede/testkit';
import { connected, fakeWebSocket, flush } from './helpers.js';

/** Read through a function, so the assertions above do not narrow the type. */
const buffered = (sub: Subscription): number => sub.buffered;

async function connectTracked(options: Record<string, unknown> = {}) {
  const server = new FakeServer();
  const tracked = trackTransports(server);
  const pending = connect({
    url: 'tcp://a:61613',
    transport: tracked.factory,
    heartBeat: [0, 0],
    ...options,
  });
  const conn = await server.accept();
  await conn.handshake();
  const client = await pending;
  return { server, conn, client, transport: tracked.last() };
}

describe('subscription buffer', () => {
  it('never holds more than its capacity, even when one chunk carries many frames', async () => {
    const { conn, client, transport } = await connectTracked();
    const sub = await client.subscribe('/queue/a', { buffer: 2 });
    const subscribe = await conn.next('SUBSCRIBE');
    const id = subscribe.header('id')!;
    const frames = Array.from({ length: 10 }, (_, i) =>
      encodeFrameBytes(
        new Frame(
          'MESSAGE',
          {
            subscription: id,
            'message-id': `m${String(i)}`,
            destination: '/queue/a',
            ack: String(i),
          },
          `m${String(i)}`,
        ),
      ),
    );
    conn.sendBytes(concatBytes(frames)); // one chunk, ten frames
    conn.send('RECEIPT', { 'receipt-id': 'late' }); // a second chunk, read only after them
    await flush();
    assert.equal(sub.buffered, 2);
    assert.equal(transport.unread, 1, 'the next chunk is not read while the buffer is full');
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      got.push((await sub.receive({ timeout: 1000 }))!.text);
      assert.ok(buffered(sub) <= 2);
    }
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `m${String(i)}`),
    );
    await flush();
    assert.equal(transport.unread, 0);
    client.destroy();
  });
});

describe('send backpressure', () => {
  it('waits for the transport to accept each frame, and bounds unawaited sends by sendBufferLimit', async () => {
    const { conn, client, transport } = await connectTracked({ sendBufferLimit: 10 });
    transport.holdWrites(); // the socket's buffer is full: writes resolve on "drain"
    let firstDone = false;
    const first = client.send('/queue/a', '123456').then(() => {
      firstDone = true;
    });
    const second = client.send('/queue/a', '7890');
    await assert.rejects(client.send('/queue/a', 'x'), (err: unknown) => {
      assert.ok(err instanceof StompError);
      assert.equal(err.code, ErrorCode.LIMIT_EXCEEDED);
      return true;
    });
    await flush();
    assert.equal(firstDone, false);
    assert.equal(client.queuedBytes, 10);
    assert.equal(transport.heldWrites, 1, 'frames go out one at a time');
    transport.releaseWrites();
    await Promise.all([first, second]);
    assert.equal(client.queuedBytes, 0);
    assert.equal((await conn.next('SEND')).text, '123456');
    assert.equal((await conn.next('SEND')).text, '7890');
    await client.send('/queue/a', 'a body larger than the limit is fine alone');
    client.destroy();
  });

  it('a write that cannot go out within its timeout rejects with ERR_STOMP_TIMEOUT and is dropped', async (t) => {
    const { conn, client, transport } = await connectTracked();
    transport.holdWrites();
    const blocking = client.send('/queue/a', 'first').catch((err: unknown) => err);
    await flush();
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const second = client.send('/queue/a', 'second', { timeout: 100 });
    await flush();
    t.mock.timers.tick(100);
    await assert.rejects(second, { code: ErrorCode.TIMEOUT });
    t.mock.timers.reset();
    transport.releaseWrites();
    await blocking;
    await client.send('/queue/a', 'third');
    assert.equal((await conn.next('SEND')).text, 'first');
    assert.equal((await conn.next('SEND')).text, 'third', 'the timed-out frame was not sent');
    client.destroy();
  });

  it('an aborted signal cancels a queued write', async () => {
    const { client, transport } = await connectTracked();
    transport.holdWrites();
    void client.send('/queue/a', 'first').catch(() => undefined);
    const ctl = new AbortController();
    const second = client.send('/queue/a', 'second', { signal: ctl.signal });
    await flush();
    ctl.abort(new Error('user'));
    await assert.rejects(second, { code: ErrorCode.ABORTED, name: 'StompAbortError' });
    client.destroy();
  });
});

describe('Symbol.asyncDispose', () => {
  it('is defined under the real symbol, never under an "undefined" key', async () => {
    const { conn, client } = await connected();
    conn.autoReceipt = true;
    const handles: object[] = [client, await client.subscribe('/queue/a'), await client.begin()];
    for (const handle of handles) {
      const proto = Object.getPrototypeOf(handle) as Record<PropertyKey, unknown>;
      assert.equal(typeof proto[Symbol.asyncDispose], 'function');
      assert.ok(!Object.getOwnPropertyNames(proto).includes('undefined'));
    }
    client.destroy();
  });
});

describe('WebSocket reads', () => {
  it('[WebSocket] pauses a ws socket while the client is behind and resumes when it pulls', async () => {
    const fake = fakeWebSocket(true);
    const transport = await connectWebSocket('ws://x/', {
      WebSocket: fake.Ctor,
      readHighWaterMark: 4,
      readNapMs: 0, // naps pause too (read-pacer.test.ts)
    });
    const socket = fake.socket();
    for (let i = 0; i < 6; i++) socket.onmessage?.({ data: `m${String(i)}` });
    assert.equal(socket.paused, 1);
    const iterator = transport[Symbol.asyncIterator]();
    for (let i = 0; i < 6; i++) await iterator.next();
    assert.ok(socket.resumed >= 1);
    transport.destroy();
  });

  it('[WebSocket] fails a browser socket (no pause) past maxUnreadBytes with ERR_STOMP_LIMIT_EXCEEDED', async () => {
    const fake = fakeWebSocket(false);
    const transport = await connectWebSocket('ws://x/', {
      WebSocket: fake.Ctor,
      readHighWaterMark: 1,
      maxUnreadBytes: 1000,
    });
    const socket = fake.socket();
    for (let i = 0; i < 3; i++) socket.onmessage?.({ data: new ArrayBuffer(400) });
    assert.equal(socket.closed, true);
    await assert.rejects(
      (async () => {
        for await (const _ of transport) {
          // drain what was queued
        }
      })(),
      { code: ErrorCode.LIMIT_EXCEEDED },
    );
  });
});
