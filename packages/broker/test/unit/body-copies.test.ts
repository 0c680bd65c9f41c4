// How often the broker copies a large body between the stream it came from and the stream it
// leaves by (issue 17): never for a body that arrived in one chunk and is delivered at once, or
// that a queue keeps while it was most of its chunk; once for one that straddled chunks (the
// parser hands the pieces over; the SEND handler joins them) or that a queue keeps while it shared
// its chunk (Message.own); never on the WebSocket way out. Copies are counted as
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

  test('[Hot path] a large body that straddles chunks is copied once, when joined', async () => {
    const consumer = await subscribed('/queue/two-chunks');
    const producer = new RawSession(broker);
    await producer.connect();
    const { frame } = sendFrame('/queue/two-chunks', 0x62);
    const half = frame.length >> 1;
    const copied = await bodyBytesCopied(async () => {
      producer.write(frame.subarray(0, half));
      producer.write(frame.subarray(half));
      await eventually(() => consumer.chunks.some((c) => c.length === SIZE), 'the body');
    });
    assert.equal(copied, SIZE);
    assert.ok(consumer.chunks.find((c) => c.length === SIZE)!.every((b) => b === 0x62));
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

  test('[Hot path] a large body kept in a queue is copied once when it shared its chunk', async () => {
    // Two frames in one chunk: each body is less than half of the chunk it would pin.
    const a = sendFrame('/queue/kept.shared', 0x64).frame;
    const b = sendFrame('/queue/kept.shared', 0x65).frame;
    assert.equal(await keptThenDelivered('/queue/kept.shared', Buffer.concat([a, b]), 2), 2 * SIZE);
  });
});

/** The part of a `ws` WebSocket that WebSocketDuplex uses, recording what is sent. */
class FakeWebSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly sent: { data: Buffer; binary: boolean; fin: boolean }[] = [];
  send(data: Buffer, opts: { binary: boolean; fin?: boolean }, cb?: (err?: Error) => void): void {
    this.sent.push({ data, binary: opts.binary, fin: opts.fin ?? true });
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
  /** Write `chunks` in one corked batch, as the outbox does in a tick; resolves once sent. */
  async function batch(chunks: Buffer[]): Promise<FakeWebSocket> {
    const ws = new FakeWebSocket();
    const duplex = new WebSocketDuplex(ws as never);
    duplex.cork();
    const written = chunks.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          duplex.write(c, (err) => {
            if (err) reject(err);
            else resolve();
          });
        }),
    );
    duplex.uncork();
    await Promise.all(written);
    return ws;
  }

  test('[WebSocket] a batch is one message; a large body is a fragment of it, not copied', async () => {
    const body = Buffer.alloc(SIZE, 0x64);
    const head = Buffer.from('MESSAGE\ndestination:/queue/a\nmessage-id:1\n\n');
    const next = Buffer.from('\0\nMESSAGE\ndestination:/queue/a\nmessage-id:2\n\nsmall\0\n');
    const ws = await batch([head, Buffer.from('x'), body, next]);
    assert.equal(ws.sent.length, 3);
    assert.deepEqual(
      ws.sent.map((s) => s.fin),
      [false, false, true],
    );
    assert.ok(
      Buffer.concat(ws.sent.map((s) => s.data)).equals(
        Buffer.concat([head, Buffer.from('x'), body, next]),
      ),
    );
    // The body is sent from where it is: the same memory, not a copy.
    assert.equal(ws.sent[1]!.data.buffer, body.buffer);
    assert.ok(
      ws.sent.every((s) => !s.binary),
      'UTF-8 throughout: a text message',
    );
    const copied = await bodyBytesCopied(async () => {
      await batch([head, body, next]);
    });
    assert.equal(copied, 0);
  });

  test('[WebSocket] a batch with a body that is not UTF-8 is a binary message', async () => {
    const body = Buffer.alloc(SIZE, 0xff);
    const ws = await batch([Buffer.from('MESSAGE\n\n'), body, Buffer.from('\0\n')]);
    assert.equal(ws.sent.length, 3);
    assert.ok(ws.sent.every((s) => s.binary));
  });

  test('[WebSocket] a batch of small chunks is one message of one fragment', async () => {
    const ws = await batch([Buffer.from('MESSAGE\n\n'), Buffer.from('hi'), Buffer.from('\0\n')]);
    assert.equal(ws.sent.length, 1);
    assert.equal(ws.sent[0]!.fin, true);
    assert.equal(ws.sent[0]!.data.toString(), 'MESSAGE\n\nhi\0\n');
  });
});
