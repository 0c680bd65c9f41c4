// How often the broker copies a large body between the stream it came from and the stream it
// leaves by (issue 17): never for a body delivered at once (one that straddled chunks goes out as
// the pieces it arrived in), or that a queue keeps while it was most of its chunk; once for one
// that a queue keeps while it straddled chunks or shared its chunk (Message.own); never on the
// WebSocket way out (a frame in parts is one WebSocket frame, its parts written as they are).
// Copies are counted as
// bench/tools/copy-hooks.mjs counts them (the JavaScript calls that move bytes), around the
// broker's work only: the test side writes prebuilt chunks and keeps what it reads by reference.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { type Duplex, duplexPair } from 'node:stream';
import { after, describe, test } from 'node:test';
import type { Broker } from '@stompede/broker';
import { WebSocketDuplex } from '@stompede/broker/internal';
import { eventually, memoryBroker } from '../helper.js';

const SIZE = 64 * 1024;
/** Copies smaller than this are headers and frame trailers, not bodies. */
const BODY_COPY = 4096;

/** Bytes moved by copies of at least BODY_COPY bytes while `work` runs. */
async function bodyBytesCopied(work: () => Promise<void>): Promise<number> {
  let bytes = 0;
  const count = (n: number): void => {
    if (n >= BODY_COPY) bytes += n;
  };
  const typed = Object.getPrototypeOf(Uint8Array.prototype) as {
    set: (this: Uint8Array, src: ArrayLike<number>, offset?: number) => void;
    slice: (this: Uint8Array, start?: number, end?: number) => Uint8Array;
  };
  const { set, slice } = typed;
  // Buffer's statics use no `this`: kept and put back as they are.
  const statics = Buffer as unknown as {
    concat: (list: readonly Uint8Array[], total?: number) => Buffer;
    from: (...args: unknown[]) => Buffer;
  };
  const { concat, from } = statics;
  const proto = Buffer.prototype as { copy: Buffer['copy'] };
  const copy = proto.copy;
  typed.set = function (src, offset) {
    count(src.length);
    set.call(this, src, offset);
  };
  typed.slice = function (start, end) {
    const out = slice.call(this, start, end);
    count(out.length);
    return out;
  };
  statics.concat = (list, total) => {
    const out = concat(list, total);
    if (list.length > 1) count(out.length);
    return out;
  };
  statics.from = (value, ...rest) => {
    if (ArrayBuffer.isView(value) || Array.isArray(value))
      count((value as ArrayLike<number>).length);
    return from(value, ...rest);
  };
  proto.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>): number {
    const n = copy.apply(this, args);
    count(n);
    return n;
  };
  try {
    await work();
  } finally {
    typed.set = set;
    typed.slice = slice;
    statics.concat = concat;
    statics.from = from;
    proto.copy = copy;
  }
  return bytes;
}

/** A raw STOMP 1.2 session over an in-memory stream: what it reads is kept by reference. */
class RawSession {
  readonly chunks: Buffer[] = [];
  /** What was read, as text (decoding copies nothing that the count sees). */
  private received = '';
  private readonly client: Duplex;

  constructor(broker: Broker) {
    const [server, client] = duplexPair();
    broker.handle(server, { transport: 'memory' });
    this.client = client;
    client.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.toString('latin1');
    });
  }

  write(chunk: Uint8Array): void {
    this.client.write(chunk);
  }

  /** Wait until `text` has been read `times` times in all. */
  async waitFor(text: string, times = 1): Promise<void> {
    await eventually(() => this.received.split(text).length > times, `${String(times)} × ${text}`);
  }

  async connect(): Promise<void> {
    this.write(Buffer.from('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0'));
    await this.waitFor('CONNECTED');
  }

  close(): void {
    this.client.destroy();
  }
}

/** A SEND frame of a SIZE-byte body to `destination`, as one buffer of its own. */
function sendFrame(destination: string, fill: number): { frame: Buffer; body: Buffer } {
  const head = Buffer.from(`SEND\ndestination:${destination}\ncontent-length:${String(SIZE)}\n\n`);
  const frame = Buffer.alloc(head.length + SIZE + 1, fill);
  head.copy(frame);
  frame[frame.length - 1] = 0;
  return { frame, body: frame.subarray(head.length, head.length + SIZE) };
}

describe('body copies in the broker', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  async function subscribed(destination: string): Promise<RawSession> {
    const consumer = new RawSession(broker);
    await consumer.connect();
    consumer.write(
      Buffer.from(`SUBSCRIBE\nid:1\ndestination:${destination}\nack:auto\nreceipt:r\n\n\0`),
    );
    await consumer.waitFor('RECEIPT');
    return consumer;
  }

  test('[Hot path] a large body received in one chunk is delivered without a copy', async () => {
    const consumer = await subscribed('/queue/one-chunk');
    const producer = new RawSession(broker);
    await producer.connect();
    const { frame } = sendFrame('/queue/one-chunk', 0x61);
    const copied = await bodyBytesCopied(async () => {
      producer.write(frame);
      await consumer.waitFor('MESSAGE\n');
      await eventually(() => consumer.chunks.some((c) => c.buffer === frame.buffer), 'the body');
    });
    assert.equal(copied, 0);
    // The delivered body is the very memory the frame arrived in.
    const delivered = consumer.chunks.find((c) => c.buffer === frame.buffer)!;
    assert.equal(delivered.length, SIZE);
    producer.close();
    consumer.close();
  });

  test('[Hot path] a large body that straddles chunks is delivered without a copy (as its pieces)', async () => {
    const consumer = await subscribed('/queue/two-chunks');
    const producer = new RawSession(broker);
    await producer.connect();
    const { frame } = sendFrame('/queue/two-chunks', 0x62);
    const half = frame.length >> 1;
    const copied = await bodyBytesCopied(async () => {
      producer.write(frame.subarray(0, half));
      producer.write(frame.subarray(half));
      await eventually(
        () => consumer.chunks.filter((c) => c.buffer === frame.buffer).length === 2,
        'the body, as the two pieces it arrived in',
      );
    });
    assert.equal(copied, 0);
    producer.close();
    consumer.close();
  });

  /** Publish `chunk` (SEND frames) with no subscriber, then deliver `n` bodies of SIZE bytes. */
  async function keptThenDelivered(destination: string, chunk: Buffer, n: number): Promise<number> {
    const producer = new RawSession(broker);
    await producer.connect();
    let consumer: RawSession | undefined;
    const copied = await bodyBytesCopied(async () => {
      producer.write(chunk);
      producer.write(Buffer.from(`SEND\ndestination:${destination}\nreceipt:sent\n\n\0`));
      await producer.waitFor('RECEIPT');
      consumer = await subscribed(destination);
      await eventually(
        () => consumer!.chunks.filter((c) => c.length === SIZE).length === n,
        'the bodies',
      );
    });
    producer.close();
    consumer?.close();
    return copied;
  }

  test('[Hot path] a large body kept in a queue is not copied when it was most of its chunk', async () => {
    const { frame } = sendFrame('/queue/kept', 0x63);
    assert.equal(await keptThenDelivered('/queue/kept', frame, 1), 0);
  });

  test('[Hot path] a large body kept in a queue is copied once when it straddled chunks', async () => {
    const { frame } = sendFrame('/queue/kept.split', 0x66);
    const producer = new RawSession(broker);
    await producer.connect();
    let consumer: RawSession | undefined;
    const half = frame.length >> 1;
    const copied = await bodyBytesCopied(async () => {
      producer.write(frame.subarray(0, half));
      producer.write(frame.subarray(half));
      producer.write(Buffer.from('SEND\ndestination:/queue/kept.split\nreceipt:sent\n\n\0'));
      await producer.waitFor('RECEIPT');
      consumer = await subscribed('/queue/kept.split');
      await eventually(() => consumer!.chunks.some((c) => c.length === SIZE), 'the body');
    });
    assert.equal(copied, SIZE);
    producer.close();
    consumer?.close();
  });

  test('[Hot path] a large body kept in a queue is copied once when it shared its chunk', async () => {
    // Two frames in one chunk: each body is less than half of the chunk it would pin.
    const a = sendFrame('/queue/kept.shared', 0x64).frame;
    const b = sendFrame('/queue/kept.shared', 0x65).frame;
    assert.equal(await keptThenDelivered('/queue/kept.shared', Buffer.concat([a, b]), 2), 2 * SIZE);
  });
});

/**
 * The part of a `ws` WebSocket that WebSocketDuplex uses, and its socket, recording what is sent:
 * messages `ws` sends, and what is written to the socket itself (a frame in parts).
 */
class FakeWebSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly extensions = '';
  readonly sent: { data: Buffer; binary: boolean }[] = [];
  readonly written: Buffer[] = [];
  readonly socket = {
    cork: (): void => undefined,
    uncork: (): void => undefined,
    write: (data: Buffer, cb?: (err?: Error) => void): boolean => {
      this.written.push(data);
      if (cb !== undefined) queueMicrotask(cb);
      return true;
    },
  };
  send(data: Buffer, opts: { binary: boolean }, cb?: (err?: Error) => void): void {
    this.sent.push({ data, binary: opts.binary });
    if (cb !== undefined) {
      queueMicrotask(() => {
        cb();
      });
    }
  }
  pause(): void {
    /* nothing is read here */
  }
  resume(): void {
    /* nothing is read here */
  }
  terminate(): void {
    this.readyState = 3;
  }
  close(): void {
    this.readyState = 3;
  }
}

describe('WebSocket output', () => {
  /** Write `messages` in one corked batch, as the outbox does in a tick; resolves once sent. */
  async function batch(messages: Buffer[][]): Promise<FakeWebSocket> {
    const ws = new FakeWebSocket();
    const duplex = new WebSocketDuplex(ws as never, ws.socket as never);
    duplex.cork();
    for (const parts of messages) duplex.writeMessage(parts);
    const sent = new Promise<void>((resolve, reject) => {
      duplex.write(Buffer.from('\n'), (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
    duplex.uncork();
    await sent;
    return ws;
  }

  test('[WebSocket] a frame in parts is one unfragmented frame; its large body is not copied', async () => {
    const body = Buffer.alloc(SIZE, 0x64);
    const head = Buffer.from('MESSAGE\ndestination:/queue/a\nmessage-id:1\n\n');
    const trailer = Buffer.from('\0\n');
    const next = Buffer.from('MESSAGE\ndestination:/queue/a\nmessage-id:2\n\nsmall\0\n');
    const ws = await batch([[head, body, trailer], [next]]);
    // The frame in parts: a header for one final text frame of the whole length (RFC 6455 5.2:
    // 0x81, 127 and a 64-bit length), then the parts themselves.
    assert.equal(ws.written.length, 4);
    const length = head.length + body.length + trailer.length;
    const header = ws.written[0]!;
    assert.deepEqual([header[0], header[1]], [0x81, 127]);
    assert.equal(header.readBigUInt64BE(2), BigInt(length));
    assert.equal(ws.written[2], body, 'the body is sent from where it is: the same memory');
    assert.ok(Buffer.concat(ws.written.slice(1)).equals(Buffer.concat([head, body, trailer])));
    // The next frame, and the heart-beat, are messages of their own, sent by ws.
    assert.deepEqual(
      ws.sent.map((s) => s.data.toString()),
      [next.toString(), '\n'],
    );
    const copied = await bodyBytesCopied(async () => {
      await batch([[head, body, trailer], [next]]);
    });
    assert.equal(copied, 0);
  });

  test('[WebSocket] a frame in parts with a body that is not UTF-8 is a binary frame', async () => {
    const ws = await batch([
      [Buffer.from('MESSAGE\n\n'), Buffer.alloc(300, 0xff), Buffer.from('\0\n')],
    ]);
    const header = ws.written[0]!;
    assert.deepEqual([header[0], header[1]], [0x82, 126]);
    assert.equal(header.readUInt16BE(2), 9 + 300 + 2);
  });

  test('[WebSocket] a short frame in parts has a two-byte header', async () => {
    const ws = await batch([[Buffer.from('MESSAGE\n\n'), Buffer.from('hi'), Buffer.from('\0\n')]]);
    assert.deepEqual([...ws.written[0]!], [0x81, 13]);
    assert.equal(Buffer.concat(ws.written.slice(1)).toString(), 'MESSAGE\n\nhi\0\n');
  });
});
