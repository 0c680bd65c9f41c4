// One client connection: bytes in through the frame parser, frames processed strictly in order
// (a handler that returns a promise holds the frames behind it and pauses the socket), writes
// coalesced per tick, heart-beats, and the write backpressure consumers see.
//
// Writing: frames are encoded straight into an output buffer that lives for one tick (allocated
// on the first write, sized from the previous tick's output, dropped after the flush, so an idle
// connection holds none). The buffer goes to the stream as one write at the end of the tick, or
// as soon as FLUSH_AT bytes are pending; bodies over COPY_LIMIT are written by reference between
// two such writes (corked, so the stream writes them together).
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ErrorCode,
  type Frame,
  FrameParser,
  HEARTBEAT_BYTES,
  type HeartBeat,
  type StompVersion,
  StompError,
  StompProtocolError,
  connectedFrame,
  encodeFrame,
  errorFrame,
  negotiateVersion,
  receiptFrame,
  validateClientFrame,
} from '@stompede/core';
import type { Logger } from 'pino';
import type { Delivery, Engine, MaybePromise } from './engine.js';
import {
  COPY_LIMIT,
  putBytes,
  putDigits,
  putShared,
  putString,
  sharedForDelivery,
  sharedMax,
} from './encode.js';
import { HANDLERS, handleConnect } from './handlers/index.js';
import { brokerHeartBeat } from './heartbeat.js';
import { ackKeyOf, isIdOf } from './delivery.js';
import type { Message } from './message.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { Subscription } from './subscription.js';

/** How a session keys an unacknowledged delivery: its {@link Delivery.ackKey}. */
export type AckKey = number;

/**
 * One operation of an open transaction, kept until COMMIT: a SEND's message, or an ACK or NACK
 * of the delivery `key` of `sub` (in `client` mode, of every earlier one too).
 */
export type PendingTxOp =
  | { readonly kind: 'publish'; readonly message: Message }
  | {
      readonly kind: 'ack' | 'nack';
      readonly sub: Subscription;
      readonly key: AckKey;
      readonly requeue: boolean;
    };

/** Lifecycle of a connection. */
export const ConnectionState = {
  /** Waiting for CONNECT. */
  NEW: 0,
  /** CONNECTED was sent. */
  CONNECTED: 1,
  /** Ending: after DISCONNECT, an ERROR, or broker shutdown. Nothing more is processed. */
  CLOSING: 2,
  /** The stream closed. */
  CLOSED: 3,
} as const;
/** A connection state. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** What the broker shares with its connections. */
export interface ConnectionContext {
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Called once when the connection has released everything. */
  readonly onClosed: (conn: Connection) => void;
}

/** Where a connection came from (for logs). */
export interface ConnectionInfo {
  /** `tcp`, `tls`, `ws` or whatever the caller of `handle()` says. */
  readonly transport?: string;
  /** The peer's address. */
  readonly remoteAddress?: string;
}

/** Smallest and largest output buffer allocated for a tick. */
// Every frame ends with NUL and then LF, as RabbitMQ and ActiveMQ send them. The spec allows EOLs
// after the NUL; php-stomp and stomper's stream parser need this one (interop/MATRIX.md).
const FRAME_TRAILER = Uint8Array.of(10);

const OUT_MIN = 1024;
const OUT_MAX = 64 * 1024;
/** Pending output bytes that are handed to the stream at once rather than at the end of the tick. */
const FLUSH_AT = 64 * 1024;
/**
 * Full-size output buffers whose writes completed, for reuse. Only sockets take part: they copy
 * what they write (to the kernel, or into TLS records) before calling back; an in-memory stream
 * may hand our bytes to a reader that keeps them.
 */
const spare: Buffer[] = [];
const SPARE_MAX = 16;

/** An output buffer and the writes of it still in flight. */
class OutBuffer {
  pending = 0;
  current = true;
  readonly done = (): void => {
    if (--this.pending === 0 && !this.current) this.recycle();
  };
  constructor(
    readonly bytes: Buffer,
    readonly reusable: boolean,
  ) {}
  /** The connection is done with it: reuse once its writes completed. */
  retire(): void {
    this.current = false;
    if (this.pending === 0) this.recycle();
  }
  private recycle(): void {
    if (this.reusable && spare.length < SPARE_MAX) spare.push(this.bytes);
  }
}

const MESSAGE_ID = Buffer.from('message-id:');
const ACK = Buffer.from('ack:');
const REDELIVERED = Buffer.from('redelivered:true\n');
const DELIVERY_COUNT = Buffer.from('delivery-count:');
const FIRST_DELIVERY = Buffer.from('delivery-count:1\n');

let sessionCounter = 0;
const sessionPrefix = Math.random().toString(36).slice(2, 8);

/** A STOMP session over one byte stream. Created by {@link Broker.handle}. */
export class Connection {
  /** The session id sent in CONNECTED. */
  readonly id: string;
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly metrics: Metrics;
  state: ConnectionState = ConnectionState.NEW;
  version: StompVersion = '1.0';
  vhost: string;
  /** The CONNECT `client-id` header (names durable subscriptions), or ''. */
  clientId = '';
  /** Subscriptions by id. */
  readonly subscriptions = new Map<string, Subscription>();
  /**
   * Unacknowledged deliveries by ack key, to their subscription: only those made while the
   * connection had more than `SCAN_LIMIT` (8) subscriptions (with few, looking in each
   * subscription's own map is cheaper than keeping a second map). See {@link findUnacked}.
   */
  readonly pendingAcks = new Map<AckKey, Subscription>();
  /** Open transactions: the operations of each, applied at COMMIT. */
  readonly transactions = new Map<string, PendingTxOp[]>();
  /** Set by DISCONNECT: end once its receipt is written. */
  disconnectRequested = false;
  /** Resolves once the stream has closed and everything is released. */
  readonly closed: Promise<void>;
  /** When the connection was accepted (ms since the epoch). */
  readonly connectedAt = Date.now();
  /** Negotiated heart-beats in ms (0: none): what the broker sends, what it expects. */
  heartBeat: { readonly send: number; readonly receive: number } = { send: 0, receive: 0 };
  /** This connection's traffic, for the admin API (SENDs in, MESSAGEs out). */
  readonly traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, messagesIn: 0, messagesOut: 0 };

  private readonly stream: Duplex;
  private readonly ctx: ConnectionContext;
  private readonly parser: FrameParser;
  private readonly info: ConnectionInfo;
  private logger: Logger | undefined;
  private inbox: Frame[] = [];
  private inboxHead = 0;
  private busy = false;
  private parseError: StompError | undefined;
  private connectSeen = false;
  private blocked = false;
  private corked = false;
  /** This tick's output buffer; bytes [outStart, outEnd) are not handed to the stream yet. */
  private out: Buffer | undefined;
  private outBuffer: OutBuffer | undefined;
  private outStart = 0;
  private outEnd = 0;
  /** Bytes written in the previous flush: sizes the next output buffer. */
  private outHint = OUT_MIN;
  private tickScheduled = false;
  private released = false;
  private lastRead = Date.now();
  private lastWrite = Date.now();
  private sendEvery = 0;
  private receiveLimit = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: () => void;

  constructor(stream: Duplex, ctx: ConnectionContext, info: ConnectionInfo = {}) {
    this.id = `${sessionPrefix}-${String(++sessionCounter)}`;
    this.stream = stream;
    this.ctx = ctx;
    this.options = ctx.options;
    this.engine = ctx.engine;
    this.metrics = ctx.metrics;
    this.vhost = ctx.options.defaultVhost;
    this.info = info;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.parser = new FrameParser(
      {
        onFrame: (frame) => {
          this.onFrame(frame);
        },
        onHeartbeat: () => {
          this.metrics.heartbeatsIn++;
        },
      },
      // 1.0 until CONNECT says otherwise: CONNECT is never escaped, and a 1.0 CONNECT is trimmed.
      { version: '1.0', limits: ctx.options.limits },
    );
    const s = stream as Duplex & { setNoDelay?: (on: boolean) => unknown };
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    stream.on('data', (chunk: Buffer | string) => {
      this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.on('drain', () => {
      this.onDrain();
    });
    stream.on('end', () => {
      this.onEnd();
    });
    stream.on('error', (err) => {
      this.log.debug({ err }, 'stream error');
      this.release();
      stream.destroy();
    });
    stream.on('close', () => {
      this.onClose();
    });
    this.connectTimer = setTimeout(() => {
      if (this.state === ConnectionState.NEW) {
        this.log.debug('no CONNECT in time: dropping the connection');
        this.destroy();
      }
    }, ctx.options.connectTimeout);
    this.metrics.connectionsOpened++;
    if (ctx.logger.isLevelEnabled('debug')) this.log.debug('connection opened');
  }

  /** This session's logger (a child of the broker's, created on first use). */
  get log(): Logger {
    return (this.logger ??= this.ctx.logger.child({ session: this.id, ...this.info }));
  }

  /** False while the stream's write buffer is full (consumers wait for 'drain'). */
  get writable(): boolean {
    return !this.blocked && this.state === ConnectionState.CONNECTED;
  }

  // ---- reading ----

  private onData(chunk: Buffer): void {
    this.lastRead = Date.now();
    this.metrics.bytesIn += chunk.length;
    this.traffic.bytesIn += chunk.length;
    if (this.state >= ConnectionState.CLOSING || this.parseError !== undefined) return;
    try {
      this.parser.push(chunk);
      if (!this.connectSeen && this.parser.bufferedBytes > this.options.maxPreConnectBytes) {
        throw new StompProtocolError(
          ErrorCode.FRAME_TOO_LARGE,
          `the CONNECT frame exceeds ${String(this.options.maxPreConnectBytes)} bytes`,
        );
      }
    } catch (err) {
      this.parseError = toStompError(err);
    }
    this.pump();
  }

  private onFrame(frame: Frame): void {
    this.metrics.framesIn++;
    this.traffic.framesIn++;
    if (!this.connectSeen) {
      this.connectSeen = true;
      if (frame.command === 'CONNECT' || frame.command === 'STOMP') {
        // Later frames in the same chunk must already be read with the session's escaping.
        const v = negotiateVersion(frame.header('accept-version'), this.options.versions);
        if (v !== undefined) this.parser.setVersion(v);
      }
    }
    this.inbox.push(frame);
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = true;
    while (this.inboxHead < this.inbox.length && this.state < ConnectionState.CLOSING) {
      const frame = this.inbox[this.inboxHead]!;
      this.inboxHead++;
      let result: MaybePromise<void>;
      try {
        result = this.process(frame);
      } catch (err) {
        this.busy = false;
        this.fail(err, frame);
        return;
      }
      if (result instanceof Promise) {
        this.stream.pause();
        result.then(
          () => {
            this.busy = false;
            this.finish(frame);
            if (this.state < ConnectionState.CLOSING) this.stream.resume();
            this.pump();
          },
          (err: unknown) => {
            this.busy = false;
            this.fail(err, frame);
          },
        );
        return;
      }
      this.finish(frame);
    }
    this.inbox.length = 0;
    this.inboxHead = 0;
    this.busy = false;
    if (this.parseError !== undefined && this.state < ConnectionState.CLOSING) {
      this.fail(this.parseError);
    }
  }

  private process(frame: Frame): MaybePromise<void> {
    const command = frame.command;
    if (this.state === ConnectionState.NEW) return handleConnect(this, frame);
    if (command === 'CONNECT' || command === 'STOMP') {
      throw new StompProtocolError(
        ErrorCode.UNEXPECTED_FRAME,
        `${command} frame on a session that is already connected`,
        { frame },
      );
    }
    // SEND, ACK and NACK (nearly every frame) check themselves, reading each header once.
    if (command !== 'SEND' && command !== 'ACK' && command !== 'NACK') {
      validateClientFrame(frame, this.version);
    }
    const handler = HANDLERS[command];
    if (handler === undefined) {
      throw new StompProtocolError(ErrorCode.UNEXPECTED_FRAME, `unexpected ${command} frame`, {
        frame,
      });
    }
    return handler(this, frame);
  }

  /** After a frame was processed: its receipt, and the end of the session after DISCONNECT. */
  private finish(frame: Frame): void {
    if (this.state >= ConnectionState.CLOSING) return;
    const receipt = frame.header('receipt');
    if (receipt !== undefined && frame.command !== 'CONNECT' && frame.command !== 'STOMP') {
      this.sendFrame(receiptFrame(receipt));
    }
    if (this.disconnectRequested) {
      this.log.debug('DISCONNECT');
      this.shutdown();
    }
  }

  // ---- session ----

  /** Accept the session: send CONNECTED and start heart-beats. */
  accept(version: StompVersion, vhost: string, clientId: string, heartBeat: HeartBeat): void {
    this.version = version;
    this.parser.setVersion(version);
    this.vhost = vhost;
    this.clientId = clientId;
    this.state = ConnectionState.CONNECTED;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    // STOMP 1.0 has no heart-beats.
    const hb = brokerHeartBeat(this.options.heartbeat, version === '1.0' ? [0, 0] : heartBeat);
    this.sendFrame(
      connectedFrame({
        version,
        session: this.id,
        server: this.options.serverName,
        heartBeat: hb.header,
      }),
    );
    this.heartBeat = { send: hb.send, receive: hb.receive };
    if (hb.send > 0) {
      this.sendEvery = hb.send;
      this.writeTimer = setTimeout(this.onWriteTimer, hb.send);
    }
    if (hb.receive > 0) {
      this.receiveLimit = Math.ceil(hb.receive * this.options.heartbeatGrace);
      this.readTimer = setTimeout(this.onReadTimer, this.receiveLimit);
    }
    this.log.debug({ version, vhost, heartBeat: hb }, 'session connected');
  }

  /**
   * Publish `message`. With `awaitDurable` (a RECEIPT waits for it) a persistent message is on
   * disk when the result settles; without, the journal's next sync covers it. While the engine
   * pushes back on this producer, the result settles only once it has room, and the frames
   * behind the SEND wait.
   */
  publish(message: Message, awaitDurable = true): MaybePromise<void> {
    this.metrics.messagesPublished++;
    this.traffic.messagesIn++;
    return this.engine.publish(this.vhost, this.id, message, awaitDurable);
  }

  /** Add an operation to transaction `tx`, or throw if it is not open. */
  addToTransaction(tx: string, frame: Frame, op: PendingTxOp): void {
    const ops = this.transactions.get(tx);
    if (ops === undefined) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_TRANSACTION,
        `${frame.command} names transaction ${JSON.stringify(tx)}, which is not open`,
        { frame, header: 'transaction' },
      );
    }
    if (ops.length >= this.options.maxTransactionFrames) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `transaction ${JSON.stringify(tx)} holds more than ${String(this.options.maxTransactionFrames)} frames`,
        { frame, header: 'transaction' },
      );
    }
    ops.push(op);
  }

  /** The subscription holding the unacknowledged delivery whose message-id is `id`, if any. */
  findUnacked(id: string): { sub: Subscription; key: AckKey } | undefined {
    const key = ackKeyOf(id);
    if (key < 0) return undefined;
    const matches = (sub: Subscription): boolean => {
      const d: Delivery | undefined = sub.unacked.get(key);
      return d !== undefined && isIdOf(id, d);
    };
    if (this.pendingAcks.size > 0) {
      const sub = this.pendingAcks.get(key);
      if (sub !== undefined && matches(sub)) return { sub, key };
    }
    for (const sub of this.subscriptions.values()) if (matches(sub)) return { sub, key };
    return undefined;
  }

  /** Remove a subscription, requeueing its unacknowledged deliveries. */
  removeSubscription(sub: Subscription): MaybePromise<void> {
    this.subscriptions.delete(sub.id);
    return sub.close();
  }

  // ---- writing ----

  /** Send a frame in the session's version. */
  sendFrame(frame: Frame): void {
    let chunks: Uint8Array[];
    try {
      chunks = encodeFrame(frame, { version: this.version });
    } catch (err) {
      this.log.warn({ err }, 'could not encode a frame');
      return;
    }
    this.metrics.framesOut++;
    this.traffic.framesOut++;
    for (const chunk of chunks) this.write(chunk);
    this.write(FRAME_TRAILER);
  }

  /** Write encoded MESSAGE frame chunks. */
  writeMessage(chunks: readonly Uint8Array[]): void {
    this.metrics.framesOut++;
    this.metrics.messagesDelivered++;
    this.traffic.framesOut++;
    this.traffic.messagesOut++;
    for (const chunk of chunks) this.write(chunk);
    this.write(FRAME_TRAILER);
  }

  /**
   * Write one MESSAGE frame: `prefix` (`MESSAGE` and the subscription header, encoded), then
   * `message-id`, `ack` (when `ack`), `redelivered`, `delivery-count`, and the message's shared
   * bytes and body. Encoded in place in the output buffer: no intermediate string or buffer.
   */
  writeDelivery(
    prefix: Uint8Array,
    idText: string,
    idNumber: number,
    ack: boolean,
    deliveryCount: number,
    message: Message,
  ): void {
    this.metrics.framesOut++;
    this.metrics.messagesDelivered++;
    if (deliveryCount > 1) this.metrics.messagesRedelivered++;
    this.traffic.framesOut++;
    this.traffic.messagesOut++;
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return;
    // The shared headers are encoded in place on a message's first delivery in this version, and
    // cached from its second on: a message delivered once (a queue) allocates no copy of them.
    const version = this.version;
    const shared = sharedForDelivery(message, version);
    const bodyLength = message.bodyLength;
    const copy = bodyLength <= COPY_LIMIT;
    const idBytes = idText.length * 3 + 17;
    const need =
      prefix.length +
      MESSAGE_ID.length +
      idBytes +
      (ack ? ACK.length + idBytes : 0) +
      REDELIVERED.length +
      DELIVERY_COUNT.length +
      17 +
      (shared === undefined ? sharedMax(message) : shared.length) +
      (copy ? bodyLength + 2 : 0);
    const out = this.room(need);
    let off = putBytes(out, this.outEnd, prefix);
    off = putBytes(out, off, MESSAGE_ID);
    const idStart = off;
    off = putString(out, off, idText);
    if (idNumber >= 0) off = putDigits(out, off, idNumber);
    const idEnd = off;
    out[off++] = 10;
    if (ack) {
      off = putBytes(out, off, ACK);
      for (let i = idStart; i < idEnd; i++) out[off++] = out[i]!;
      out[off++] = 10;
    }
    if (deliveryCount === 1) {
      off = putBytes(out, off, FIRST_DELIVERY);
    } else {
      if (deliveryCount > 1) off = putBytes(out, off, REDELIVERED);
      off = putBytes(out, off, DELIVERY_COUNT);
      off = putDigits(out, off, deliveryCount);
      out[off++] = 10;
    }
    if (shared === undefined) {
      off = putShared(out, off, message, version);
    } else {
      out.set(shared, off);
      off += shared.length;
    }
    if (copy) {
      off = message.copyBody(out, off);
      out[off++] = 0;
      out[off++] = 10;
      this.outEnd = off;
    } else {
      this.outEnd = off;
      this.flushOut();
      this.streamWrite(message.body);
      const end = this.room(2);
      end[this.outEnd++] = 0;
      end[this.outEnd++] = 10;
    }
    if (this.outEnd - this.outStart >= FLUSH_AT) this.flushOut();
  }

  private write(chunk: Uint8Array): void {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return;
    if (chunk.length <= COPY_LIMIT) {
      this.room(chunk.length).set(chunk, this.outEnd);
      this.outEnd += chunk.length;
      if (this.outEnd - this.outStart >= FLUSH_AT) this.flushOut();
    } else {
      this.scheduleTick();
      this.flushOut();
      this.streamWrite(chunk);
    }
  }

  /** The output buffer, with room for `n` more bytes at `outEnd`. */
  private room(n: number): Buffer {
    this.scheduleTick();
    const out = this.out;
    if (out !== undefined && this.outEnd + n <= out.length) return out;
    this.flushOut();
    this.outBuffer?.retire();
    this.outBuffer = undefined;
    // As much as the last flush took (a tick's worth), so a buffer is rarely too large: unused
    // room still costs an allocation, and external memory makes V8 collect sooner.
    let size = this.outHint + (this.outHint >> 2);
    if (size < OUT_MIN) size = OUT_MIN;
    else if (size > OUT_MAX / 2) size = OUT_MAX;
    let fresh: Buffer;
    if (size === OUT_MAX && n <= OUT_MAX && this.stream instanceof Socket) {
      fresh = spare.pop() ?? Buffer.allocUnsafe(OUT_MAX);
      this.outBuffer = new OutBuffer(fresh, true);
    } else {
      fresh = Buffer.allocUnsafe(size < n ? n : size);
    }
    this.out = fresh;
    this.outStart = 0;
    this.outEnd = 0;
    return fresh;
  }

  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    process.nextTick(this.endTick);
  }

  /** Hand the pending output bytes to the stream. */
  private flushOut(): void {
    const n = this.outEnd - this.outStart;
    if (n === 0) return;
    const chunk = this.out!.subarray(this.outStart, this.outEnd);
    this.outStart = this.outEnd;
    this.outHint = n;
    this.streamWrite(chunk, this.outBuffer);
  }

  private streamWrite(chunk: Uint8Array, owner?: OutBuffer): void {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return;
    // More than one write this tick: cork so that the stream writes them together.
    if (this.tickScheduled && !this.corked) {
      this.corked = true;
      stream.cork();
    }
    let ok: boolean;
    if (owner === undefined) {
      ok = stream.write(chunk);
    } else {
      owner.pending++;
      ok = stream.write(chunk, owner.done);
    }
    if (!ok) this.blocked = true;
  }

  private readonly endTick = (): void => {
    this.tickScheduled = false;
    this.flushOut();
    this.outBuffer?.retire();
    this.outBuffer = undefined;
    this.out = undefined;
    this.outStart = 0;
    this.outEnd = 0;
    this.lastWrite = Date.now();
    if (this.corked) {
      this.corked = false;
      this.stream.uncork();
    }
  };

  private onDrain(): void {
    if (!this.blocked) return;
    this.blocked = false;
    for (const sub of this.subscriptions.values()) {
      if (!this.writable) break;
      sub.handle?.resume();
    }
  }

  // ---- heart-beats ----

  private readonly onWriteTimer = (): void => {
    this.writeTimer = undefined;
    if (this.state !== ConnectionState.CONNECTED) return;
    const idle = Date.now() - this.lastWrite;
    let next = this.sendEvery;
    if (idle >= this.sendEvery - 2) {
      this.metrics.heartbeatsOut++;
      this.write(HEARTBEAT_BYTES);
    } else {
      next = this.sendEvery - idle;
    }
    this.writeTimer = setTimeout(this.onWriteTimer, next);
  };

  private readonly onReadTimer = (): void => {
    this.readTimer = undefined;
    if (this.state !== ConnectionState.CONNECTED) return;
    const idle = Date.now() - this.lastRead;
    if (idle >= this.receiveLimit) {
      this.log.debug({ idle }, 'heart-beat timeout: closing');
      this.destroy();
      return;
    }
    this.readTimer = setTimeout(this.onReadTimer, this.receiveLimit - idle);
  };

  // ---- ending ----

  /**
   * Send an ERROR for `err` (with `receipt-id` when `frame` asked for a receipt), then close
   * once it is flushed. Frames after the offending one are not processed.
   */
  fail(err: unknown, frame?: Frame): void {
    if (this.state >= ConnectionState.CLOSING) return;
    const e = toStompError(err);
    this.log.debug({ code: e.code, command: frame?.command }, e.message);
    const receiptId = frame?.header('receipt');
    this.sendError(
      errorFrame({
        message: e.message.slice(0, 1024),
        code: e.code,
        ...(receiptId === undefined ? {} : { receiptId }),
        body:
          `${e.code}: ${e.message}` +
          (frame === undefined ? '' : `\n\nwhile processing a ${frame.command} frame`),
      }),
    );
  }

  /** Send an ERROR frame and close after it. */
  sendError(frame: Frame): void {
    if (this.state >= ConnectionState.CLOSING) return;
    this.metrics.errorsSent++;
    this.sendFrame(frame);
    this.shutdown();
  }

  /** Graceful end: release the session, flush what is queued, end the stream. Idempotent. */
  shutdown(): void {
    if (this.state >= ConnectionState.CLOSING) return;
    this.state = ConnectionState.CLOSING;
    this.inbox = [];
    this.inboxHead = 0;
    this.release();
    // Keep reading (and discarding) so the peer is not reset before it reads our last frames,
    // also when a frame was waiting (e.g. a SEND the engine pushed back on).
    if (this.busy) this.stream.resume();
    this.endTick();
    this.stream.end();
    this.lingerTimer = setTimeout(() => {
      this.destroy();
    }, this.options.errorLinger);
  }

  /** Abrupt end: nothing more is flushed than what the stream takes at once. */
  destroy(): void {
    this.release();
    const stream = this.stream;
    if (stream.destroyed) return;
    // end() first so in-memory peers (which destroy() does not reach) see the end of the stream.
    if (!stream.writableEnded) {
      this.endTick();
      stream.end();
    }
    setImmediate(() => stream.destroy());
  }

  private onEnd(): void {
    // The peer finished sending: nothing more will come, so end our side too.
    this.state = Math.max(this.state, ConnectionState.CLOSING) as ConnectionState;
    this.release();
    if (!this.stream.writableEnded) {
      this.endTick();
      this.stream.end();
    }
    if (this.stream.writableFinished) this.stream.destroy();
    else this.stream.once('finish', () => this.stream.destroy());
  }

  private onClose(): void {
    this.state = ConnectionState.CLOSED;
    this.release();
    clearTimeout(this.lingerTimer);
    this.resolveClosed();
  }

  /** Free the session's resources: subscriptions (unacked requeued), transactions, temp queues. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    if (this.state < ConnectionState.CLOSING) this.state = ConnectionState.CLOSING;
    clearTimeout(this.connectTimer);
    clearTimeout(this.writeTimer);
    clearTimeout(this.readTimer);
    this.inbox = [];
    this.inboxHead = 0;
    this.transactions.clear();
    for (const sub of this.subscriptions.values()) {
      try {
        const r = sub.close();
        if (r instanceof Promise)
          r.catch((err: unknown) => {
            this.log.warn({ err }, 'detach failed');
          });
      } catch (err) {
        this.log.warn({ err }, 'detach failed');
      }
    }
    this.subscriptions.clear();
    this.pendingAcks.clear();
    this.engine.sessionClosed(this.vhost, this.id);
    this.metrics.connectionsClosed++;
    if (this.ctx.logger.isLevelEnabled('debug')) this.log.debug('connection closed');
    this.ctx.onClosed(this);
  }
}

function toStompError(err: unknown): StompError {
  if (err instanceof StompError) return err;
  // Not a protocol error: a bug, or an engine failure. The client gets a generic ERROR.
  return new StompProtocolError(ErrorCode.INVALID_STATE, 'internal error', { cause: err });
}
