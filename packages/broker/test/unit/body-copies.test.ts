// How often the broker copies a large body between the stream it came from and the stream it
// leaves by (issue 17): never for a body delivered at once (one that straddled chunks goes out as
// the pieces it arrived in), or that a queue keeps while it was most of its chunk; once for one
// that a queue keeps while it straddled chunks or shared its chunk (Message.own); never on the
// WebSocket way out, where each frame is still one message. Copies are counted as
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

/** One WebSocket message the broker sent: its payload, as the buffers it was written from. */
interface SentMessage {
  parts: Buffer[];
  binary: boolean;
}

/**
 * The part of a `ws` WebSocket (no extension negotiated) and of its socket that WebSocketDuplex
 * uses: messages sent through ws, and WebSocket frames written straight to the socket, are
 * recorded in order as whole messages, their payloads kept by reference.
 */
class FakeWebSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly extensions = '';
  readonly messages: SentMessage[] = [];
  /** The frame being written to the socket: payload bytes still to come. */
  private remaining = 0;
  readonly socket = {
    cork: (): void => undefined,
    uncork: (): void => undefined,
    write: (data: Buffer, cb?: (err?: Error) => void): boolean => {
      if (this.remaining === 0) {
        // A frame header (RFC 6455 5.2): FIN set, unmasked, 7-, 16- or 64-bit length.
        assert.equal(data[0]! & 0x80, 0x80, 'one frame per message: FIN');
        const len = data[1]!;
        this.remaining =
          len < 126 ? len : len === 126 ? data.readUInt16BE(2) : data.readUIntBE(4, 6);
        this.messages.push({ parts: [], binary: (data[0]! & 0x0f) === 2 });
      } else {
        this.messages.at(-1)!.parts.push(data);
        this.remaining -= data.length;
      }
      this.later(cb);
      return true;
    },
  };
  send(data: Buffer, opts: { binary: boolean; fin?: boolean }, cb?: (err?: Error) => void): void {
    assert.notEqual(opts.fin, false, 'one frame per message: no fragments');
    this.messages.push({ parts: [data], binary: opts.binary });
    this.later(cb);
  }
  /** The messages' payloads, as text. */
  texts(): string[] {
    return this.messages.map((m) => Buffer.concat(m.parts).toString('latin1'));
  }
  private later(cb?: (err?: Error) => void): void {
    if (cb !== undefined) {
      queueMicrotask(() => {
        cb();
      });
    }
  }
  pause(): void {
    /* the broker reads at once */
  }
  resume(): void {
    /* the broker reads at once */
  }
  terminate(): void {
    this.readyState = 3;
  }
  close(): void {
    this.readyState = 3;
  }
}

describe('WebSocket output', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  /** A STOMP 1.2 session over a fake WebSocket, subscribed to `destination`. */
  async function wsConsumer(destination: string): Promise<FakeWebSocket> {
    const ws = new FakeWebSocket();
    broker.handle(new WebSocketDuplex(ws as never, ws.socket as never), { transport: 'ws' });
    ws.emit('message', Buffer.from('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0'));
    ws.emit(
      'message',
      Buffer.from(`SUBSCRIBE\nid:1\ndestination:${destination}\nack:auto\nreceipt:r\n\n\0`),
    );
    await eventually(() => ws.messages.length === 2, 'CONNECTED and RECEIPT');
    return ws;
  }

  /** Send `pieces` (one SEND frame, as chunks) from a TCP-like session; the body copies made. */
  async function deliveredOver(ws: FakeWebSocket, pieces: Buffer[]): Promise<number> {
    const producer = new RawSession(broker);
    await producer.connect();
    const copied = await bodyBytesCopied(async () => {
      for (const piece of pieces) producer.write(piece);
      await eventually(() => ws.messages.length === 3, 'the MESSAGE');
    });
    producer.close();
    return copied;
  }

  test('[WebSocket] each frame is one message; a large body is sent from where it is', async () => {
    const ws = await wsConsumer('/queue/ws.one');
    const { frame, body } = sendFrame('/queue/ws.one', 0x61);
    assert.equal(await deliveredOver(ws, [frame]), 0);
    const texts = ws.texts();
    assert.match(texts[0]!, /^CONNECTED\n[^\0]*\0\n$/);
    assert.match(texts[1]!, /^RECEIPT\nreceipt-id:r\n\n\0\n$/);
    assert.match(texts[2]!, /^MESSAGE\n[^\0]*\n\na{65536}\0\n$/);
    const message = ws.messages[2]!;
    assert.equal(message.binary, false);
    // The body is one part of the message's frame: the very memory the SEND arrived in.
    assert.ok(message.parts.some((p) => p.buffer === body.buffer && p.length === SIZE));
  });

  test('[WebSocket] a body that straddled chunks is one message, its pieces not joined', async () => {
    const ws = await wsConsumer('/queue/ws.two');
    const { frame } = sendFrame('/queue/ws.two', 0x62);
    const half = frame.length >> 1;
    assert.equal(await deliveredOver(ws, [frame.subarray(0, half), frame.subarray(half)]), 0);
    assert.match(ws.texts()[2]!, /^MESSAGE\n[^\0]*\n\nb{65536}\0\n$/);
    const fromFrame = ws.messages[2]!.parts.filter((p) => p.buffer === frame.buffer);
    assert.equal(fromFrame.length, 2, 'the two pieces it arrived in');
  });

  test('[WebSocket] a UTF-8 body cut inside a character between chunks is still a text message', async () => {
    const ws = await wsConsumer('/queue/ws.utf8');
    const { frame, body } = sendFrame('/queue/ws.utf8', 0x61);
    body.write('é'.repeat(SIZE / 2)); // c3 a9 each: SIZE bytes
    const inside = frame.length - body.length + 1001; // between c3 and a9
    assert.equal(await deliveredOver(ws, [frame.subarray(0, inside), frame.subarray(inside)]), 0);
    assert.equal(ws.messages[2]!.binary, false);
    assert.ok(Buffer.concat(ws.messages[2]!.parts).includes(body));
  });

  test('[WebSocket] a frame whose body is not UTF-8 is a binary message', async () => {
    const ws = await wsConsumer('/queue/ws.binary');
    const { frame } = sendFrame('/queue/ws.binary', 0xff);
    assert.equal(await deliveredOver(ws, [frame]), 0);
    assert.equal(ws.messages[2]!.binary, true);
    assert.equal(ws.messages[1]!.binary, false);
  });
});
