// Write batching: frames written in one tick leave in one system call (TCP) or one WebSocket
// message per run of text or binary frames, in order, and backpressure still holds. Pure: the
// sockets are in-memory stand-ins (a stream Duplex for net.Socket, a fake W3C WebSocket).
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import {
  type Client,
  connect,
  nodeTransport,
  socketTransport,
  type Transport,
  type WebSocketConstructor,
  type WebSocketLike,
} from '@stompede/client/node';
import { flush } from './helpers.js';

const latin1 = (chunks: readonly Uint8Array[]): string =>
  chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1')).join('');

/** A Duplex standing in for a net.Socket: records each writev batch; `hold` delays completion. */
class WireStub extends Duplex {
  readonly batches: string[] = [];
  held: (() => void)[] = [];
  hold = false;
  /** Answer CONNECT with CONNECTED (for a client on top). */
  broker = false;

  constructor(highWaterMark = 16 * 1024) {
    super({ writableHighWaterMark: highWaterMark });
  }

  override _read(): void {
    // data is pushed by reply()
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.record(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _write(chunk: Buffer, _enc: string, callback: (error?: Error | null) => void): void {
    this.record([chunk], callback);
  }

  private record(chunks: Buffer[], callback: () => void): void {
    const text = latin1(chunks);
    this.batches.push(text);
    if (this.broker && text.startsWith('CONNECT')) {
      this.push(Buffer.from('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0', 'latin1'));
    }
    if (this.hold) this.held.push(callback);
    else callback();
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const cb of held) cb();
  }
}

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

async function clientOver(wire: WireStub): Promise<Client> {
  wire.broker = true;
  return connect({
    url: 'tcp://broker:61613',
    heartBeat: [0, 0],
    transport: () => Promise.resolve(socketTransport(wire as unknown as net.Socket)),
  });
}

describe('TCP write batching', () => {
  it('writes made in one tick leave in one writev, in order', async () => {
    const wire = new WireStub();
    const transport: Transport = socketTransport(wire as unknown as net.Socket);
    const writes = [
      transport.write([bytes('A\n\n\0')]),
      transport.write([bytes('B\n\n'), bytes('body'), bytes('\0')]),
      transport.write([bytes('C\n\n\0')]),
    ];
    assert.deepEqual(wire.batches, [], 'nothing leaves before the end of the tick');
    await Promise.all(writes);
    await flush();
    assert.deepEqual(wire.batches, ['A\n\n\0B\n\nbody\0C\n\n\0']);
    transport.destroy();
  });

  it('a batch with large bodies keeps every byte in order (large chunks are not copied)', async () => {
    const wire = new WireStub(1024 * 1024);
    const transport = socketTransport(wire as unknown as net.Socket);
    const big = bytes('x'.repeat(20000));
    const other = bytes('y'.repeat(30000));
    const writes = [
      transport.write([bytes('A\n\n\0')]),
      transport.write([bytes('B\n\n'), big, bytes('\0')]),
      transport.write([bytes('C\n\n'), other, bytes('\0')]),
      transport.write([bytes('D\n\n\0'), bytes('E\n\n\0')]),
    ];
    await Promise.all(writes);
    await flush();
    assert.equal(
      wire.batches.join(''),
      `A\n\n\0B\n\n${'x'.repeat(20000)}\0C\n\n${'y'.repeat(30000)}\0D\n\n\0E\n\n\0`,
    );
    assert.equal(wire.batches.length, 1, 'one writev');
    transport.destroy();
  });

  it('a write beyond the high-water mark waits for drain (backpressure is kept)', async () => {
    const wire = new WireStub(8);
    wire.hold = true;
    const transport = socketTransport(wire as unknown as net.Socket);
    let done = false;
    const write = transport.write([bytes('SEND\n\n0123456789\0')]).then(() => {
      done = true;
    });
    await flush();
    assert.equal(wire.batches.length, 1);
    assert.equal(done, false, 'waits while the socket holds more than its high-water mark');
    wire.release();
    await write;
    assert.equal(done, true);
    transport.destroy();
  });

  it('sends and acks of one tick go out together; a send with a receipt keeps its place', async () => {
    const wire = new WireStub();
    const client = await clientOver(wire);
    await flush();
    wire.batches.length = 0;
    const sends = [
      client.send('/queue/a', 'one'),
      client.send('/queue/a', 'two', { receipt: true }),
      client.send('/queue/a', 'three'),
      client.send('/queue/a', Uint8Array.of(0, 1, 2)),
    ];
    await Promise.all([sends[0], sends[2], sends[3]]);
    await flush();
    const bodies = wire.batches
      .join('')
      .split('\0')
      .filter((f) => f.includes('SEND'))
      .map((f) => f.split('\n\n')[1]);
    assert.deepEqual(bodies.slice(0, 2), ['one', 'two']);
    assert.equal(bodies[2], 'three');
    assert.equal(wire.batches.join('').split('SEND\n').length - 1, 4);
    assert.ok(wire.batches.length <= 2, `${String(wire.batches.length)} writes for 4 frames`);
    client.destroy();
    await assert.rejects(sends[1]!, { code: 'ERR_STOMP_CONNECTION_CLOSED' });
  });

  it('sends wait for drain while the socket is full, and all arrive in order', async () => {
    const wire = new WireStub(64);
    const client = await clientOver(wire);
    await flush();
    wire.batches.length = 0;
    wire.hold = true;
    let settled = 0;
    const sends = Array.from({ length: 10 }, (_, i) =>
      client.send('/queue/a', `message ${String(i)} `.padEnd(40, '.')).then(() => {
        settled++;
      }),
    );
    await flush();
    assert.ok(settled < 10, 'some sends wait for drain');
    while (settled < 10) {
      wire.release();
      await flush();
    }
    await Promise.all(sends);
    const bodies = wire.batches
      .join('')
      .split('\0')
      .filter((f) => f.includes('SEND'))
      .map((f) => f.split('\n\n')[1]?.split(' ')[1]);
    assert.deepEqual(
      bodies,
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
    wire.hold = false;
    client.destroy();
  });
});

/** What the stand-in was sent; `written` is `ws`'s send callback (called when written out). */
interface Sent {
  data: unknown;
  binary: boolean;
  written: (() => void) | undefined;
}

/**
 * A W3C WebSocket stand-in; with `ws` true it has terminate() and send(data, options, callback).
 * `bufferedAmount` is the test's to set.
 */
function fakeWebSocket(
  ws: boolean,
  server?: string,
): {
  Ctor: WebSocketConstructor;
  sent: Sent[];
  socket: () => WebSocketLike & { bufferedAmount: number };
} {
  const sent: Sent[] = [];
  let last: Fake | undefined;
  class Fake implements WebSocketLike {
    binaryType = 'blob';
    readyState = 0;
    bufferedAmount = 0;
    protocol = 'v12.stomp';
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { readonly data: unknown }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null = null;
    declare terminate?: () => void;
    /** `ws`'s socket: how often the transport corked and uncorked it. */
    declare _socket?: { corks: number; uncorks: number; cork(): void; uncork(): void };
    constructor() {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the test drives this instance
      last = this;
      if (ws) {
        this._socket = {
          corks: 0,
          uncorks: 0,
          cork() {
            this.corks++;
          },
          uncork() {
            this.uncorks++;
          },
        };
        this.terminate = () => {
          this.close();
        };
      }
      setImmediate(() => {
        this.readyState = 1;
        this.onopen?.({});
      });
    }
    send(
      data: string | ArrayBuffer | ArrayBufferView,
      options?: { binary?: boolean },
      written?: () => void,
    ): void {
      const binary = typeof data === 'string' ? false : (options?.binary ?? true);
      sent.push({ data, binary, written });
      const text =
        typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('latin1');
      if (text.startsWith('CONNECT')) {
        setImmediate(() => {
          const header = server === undefined ? '' : `server:${server}\n`;
          this.onmessage?.({ data: `CONNECTED\nversion:1.2\nheart-beat:0,0\n${header}\n\0` });
        });
      }
    }
    close(): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setImmediate(() => this.onclose?.({ code: 1000, reason: '' }));
    }
  }
  return { Ctor: Fake, sent, socket: () => last! };
}

const asText = (data: unknown): string =>
  typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('latin1');

describe('WebSocket write batching', () => {
  for (const ws of [true, false]) {
    it(`[WebSocket] one message per frame by default, all sent at the end of the tick (${ws ? 'ws' : 'browser'})`, async () => {
      const { Ctor, sent } = fakeWebSocket(ws);
      const client = await connect('ws://broker/ws', {
        transport: nodeTransport({ WebSocket: Ctor }),
        heartBeat: [0, 0],
      });
      sent.length = 0;
      const sending = Promise.all([
        client.send('/q', 'one'),
        client.send('/q', 'two'),
        client.send('/q', Uint8Array.of(0xff, 0xfe)),
        client.send('/q', 'three'),
      ]);
      assert.equal(sent.length, 0, 'nothing is sent before the end of the tick');
      await sending;
      await flush();
      assert.deepEqual(
        sent.map((m) => m.binary),
        [false, false, true, false],
      );
      const texts = sent.map((m) => asText(m.data));
      for (const text of texts) {
        assert.equal(text.split('\0').length, 2, 'one frame, then the NUL ending it');
        assert.ok(text.startsWith('SEND\n'));
      }
      assert.ok(texts[0]!.endsWith('\n\none\0') && texts[3]!.endsWith('\n\nthree\0'));
      if (ws) assert.ok(sent[0]!.data instanceof Uint8Array, 'ws gets text as bytes');
      else assert.equal(typeof sent[0]!.data, 'string', 'browsers get text as a string');
      client.destroy();
    });

    it(`[WebSocket] packFrames: one message per run of text or binary frames in a tick (${ws ? 'ws' : 'browser'})`, async () => {
      const { Ctor, sent } = fakeWebSocket(ws);
      const client = await connect('ws://broker/ws', {
        transport: nodeTransport({ WebSocket: Ctor, packFrames: true }),
        heartBeat: [0, 0],
      });
      sent.length = 0;
      await Promise.all([
        client.send('/q', 'one'),
        client.send('/q', 'two'),
        client.send('/q', Uint8Array.of(0xff, 0xfe)),
        client.send('/q', 'three'),
      ]);
      await flush();
      assert.deepEqual(
        sent.map((m) => m.binary),
        [false, true, false],
      );
      const texts = sent.map((m) => asText(m.data));
      assert.equal(texts[0]!.split('\0').filter((f) => f.includes('SEND')).length, 2);
      assert.ok(texts[0]!.includes('\n\none\0') && texts[0]!.includes('\n\ntwo\0'));
      assert.ok(texts[2]!.includes('\n\nthree\0'));
      client.destroy();
    });
  }

  for (const [server, packs] of [
    ['RabbitMQ/3.10.8', true],
    ['stompede/0.1.0', true],
    ['ActiveMQ/5.17.2', false],
    [undefined, false],
  ] as const) {
    it(`[WebSocket] packFrames 'auto' ${packs ? 'packs, as binary,' : 'does not pack'} for server ${String(server)}`, async () => {
      const { Ctor, sent } = fakeWebSocket(true, server);
      const client = await connect('ws://broker/ws', {
        transport: nodeTransport({ WebSocket: Ctor }),
        heartBeat: [0, 0],
      });
      sent.length = 0;
      await Promise.all([client.send('/q', 'one'), client.send('/q', 'two')]);
      await flush();
      assert.equal(sent.length, packs ? 1 : 2);
      assert.deepEqual(
        sent.map((m) => m.binary),
        packs ? [true] : [false, false],
        'binary to a broker known to read bytes, else text for text bodies',
      );
      client.destroy();
    });
  }

  it("[WebSocket] ws: a tick's messages are handed to ws with its socket corked (one write)", async () => {
    const { Ctor, sent, socket } = fakeWebSocket(true);
    const client = await connect('ws://broker/ws', {
      transport: nodeTransport({ WebSocket: Ctor }),
      heartBeat: [0, 0],
    });
    const raw = (socket() as unknown as { _socket: { corks: number; uncorks: number } })._socket;
    sent.length = 0;
    const corks = raw.corks;
    await Promise.all([client.send('/q', 'a'), client.send('/q', 'b'), client.send('/q', 'c')]);
    await flush();
    assert.equal(sent.length, 3);
    assert.equal(raw.corks - corks, 1);
    assert.equal(raw.uncorks, raw.corks);
    assert.deepEqual(
      sent.map((m) => m.written !== undefined),
      [false, false, true],
      'the last message of the tick carries the callback',
    );
    client.destroy();
  });

  it('[WebSocket] ws: a send over the high-water mark waits until ws reports the data written, and goes on at once', async () => {
    const { Ctor, sent, socket } = fakeWebSocket(true);
    const client = await connect('ws://broker/ws', {
      transport: nodeTransport({ WebSocket: Ctor }),
      heartBeat: [0, 0],
    });
    sent.length = 0;
    socket().bufferedAmount = 2 * 1024 * 1024; // over the 1 MiB default
    let settled = false;
    const sending = client.send('/q', 'over the mark').then(() => (settled = true));
    await flush();
    assert.equal(settled, false, 'the send waits while the buffer is over the mark');
    assert.equal(sent.length, 1, 'what was batched went out at once, with a callback');
    assert.ok(asText(sent[0]!.data).includes('over the mark'));
    socket().bufferedAmount = 0;
    sent[0]!.written!();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, true, 'woken by the send callback, not by a later poll');
    await sending;
    client.destroy();
  });

  it('[WebSocket] ws: a writer waiting for the buffer to drain fails when the socket closes', async () => {
    const { Ctor, socket } = fakeWebSocket(true);
    const client = await connect('ws://broker/ws', {
      transport: nodeTransport({ WebSocket: Ctor }),
      heartBeat: [0, 0],
    });
    socket().bufferedAmount = 2 * 1024 * 1024;
    const sending = client.send('/q', 'never written');
    await flush();
    socket().close();
    await assert.rejects(sending, (err: Error & { code?: string }) => {
      assert.match(String(err.code), /^ERR_STOMP_/);
      return true;
    });
  });
});
