// A connection's output: frames are encoded straight into an output buffer that lives for one
// tick (allocated on the first write, sized from the previous tick's output, dropped after the
// flush, so an idle connection holds none). The buffer goes to the stream as one write at the end
// of the tick, or as soon as FLUSH_AT bytes are pending; chunks over COPY_LIMIT are written by
// reference between two such writes (corked, so the stream writes them together). `write()`
// returning false marks the outbox blocked until 'drain'. On a message stream (a WebSocket,
// listen/message-stream.ts) each frame and each heart-beat instead goes as a message of its own:
// a slice of the same buffer, or for a frame whose body went by reference, its pieces (none
// copied), still corked for the tick.
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HEARTBEAT_BYTES } from '@stompede/core';
import { COPY_LIMIT } from '../encode.js';
import { type MessageStream, isMessageStream } from '../listen/message-stream.js';
import type { ByteSink } from '../message-writer.js';
import type { Metrics } from '../metrics.js';
import type { Clock } from './clock.js';

/** Smallest and largest output buffer allocated for a tick. */
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
  /** The outbox is done with it: reuse once its writes completed. */
  retire(): void {
    this.current = false;
    if (this.pending === 0) this.recycle();
  }
  private recycle(): void {
    if (this.reusable && spare.length < SPARE_MAX) spare.push(this.bytes);
  }
}

// Every frame ends with NUL and then LF, as RabbitMQ and ActiveMQ send them. The spec allows EOLs
// after the NUL; php-stomp and stomper's stream parser need this one (interop/MATRIX.md).
const FRAME_TRAILER = Uint8Array.of(10);

/** The output side of one connection. */
export class Outbox implements ByteSink {
  private readonly stream: Duplex;
  private readonly clock: Clock;
  private readonly pooled: boolean;
  /**
   * Message streams only: the pieces of the frame being written that left the output buffer
   * before it ended (a body written by reference, a buffer that filled up).
   */
  private readonly parts: Uint8Array[] | undefined;
  private blockedFlag = false;
  private corked = false;
  /** This tick's output buffer; bytes [start, endOffset) are not handed to the stream yet. */
  private out: Buffer | undefined;
  private outBuffer: OutBuffer | undefined;
  private start = 0;
  private endOffset = 0;
  /** Bytes written in the previous flush: sizes the next output buffer. */
  private hint = OUT_MIN;
  private tickScheduled = false;
  private lastWriteAt: number;
  private written = 0;

  /**
   * @param counters - where the bytes handed to the stream are counted
   * @param owner - told when a write fills the stream's buffer (until 'drain')
   */
  constructor(
    stream: Duplex,
    clock: Clock,
    private readonly counters: Pick<Metrics, 'bytesSent'>,
    private readonly owner: { outboxBlocked(): void },
  ) {
    this.stream = stream;
    this.clock = clock;
    this.parts = isMessageStream(stream) ? [] : undefined;
    this.pooled = stream instanceof Socket && this.parts === undefined;
    this.lastWriteAt = clock.now();
  }

  /** True from a `write()` that returned false until {@link Outbox.drained}. */
  get blocked(): boolean {
    return this.blockedFlag;
  }

  /** When output was last handed to the stream (the clock's time). */
  get lastWrite(): number {
    return this.lastWriteAt;
  }

  /** Bytes handed to the stream so far (this session's share of `counters.bytesOut`). */
  get bytesWritten(): number {
    return this.written;
  }

  /** False once the stream is ended or destroyed: writes are then dropped. */
  get open(): boolean {
    const stream = this.stream;
    return !stream.destroyed && !stream.writableEnded;
  }

  /** The stream emitted 'drain': true when the outbox had been blocked. */
  drained(): boolean {
    if (!this.blockedFlag) return false;
    this.blockedFlag = false;
    return true;
  }

  /** Where the next byte goes in the buffer {@link Outbox.room} returned. */
  get end(): number {
    return this.endOffset;
  }

  /** Write an encoded frame (core's encodeFrame) and the LF after its NUL. */
  writeFrame(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) this.write(chunk);
    this.write(FRAME_TRAILER);
    this.endFrame();
  }

  /** Write a heart-beat: an EOL between frames. */
  writeHeartBeat(): void {
    this.write(HEARTBEAT_BYTES);
    this.endFrame();
  }

  /**
   * A whole frame has been written (by {@link Outbox.writeFrame} or through the ByteSink side):
   * on a message stream it goes now as one message, made of the pieces it left the buffer in
   * (a body written by reference stays where it is).
   */
  endFrame(): void {
    const parts = this.parts;
    if (parts === undefined) return;
    const n = this.endOffset - this.start;
    if (n > 0) {
      parts.push(this.out!.subarray(this.start, this.endOffset));
      this.start = this.endOffset;
    }
    if (parts.length === 1) this.streamWrite(parts[0]!);
    else if (parts.length > 1) this.streamWrite(parts);
    parts.length = 0;
  }

  /** Copy a chunk in (or write it by reference when large). */
  write(chunk: Uint8Array): void {
    if (!this.open) return;
    if (chunk.length <= COPY_LIMIT) {
      this.room(chunk.length).set(chunk, this.endOffset);
      this.commit(this.endOffset + chunk.length);
    } else {
      this.writeByReference(chunk);
    }
  }

  /** The output buffer, with room for `n` more bytes at {@link Outbox.end}. */
  room(n: number): Buffer {
    this.scheduleTick();
    const out = this.out;
    if (out !== undefined && this.endOffset + n <= out.length) return out;
    this.flushPending();
    this.retireBuffer();
    // As much as the last flush took (a tick's worth), so a buffer is rarely too large: unused
    // room still costs an allocation, and external memory makes V8 collect sooner.
    let size = this.hint + (this.hint >> 2);
    if (size < OUT_MIN) size = OUT_MIN;
    else if (size > OUT_MAX / 2) size = OUT_MAX;
    let fresh: Buffer;
    if (size === OUT_MAX && n <= OUT_MAX && this.pooled) {
      fresh = spare.pop() ?? Buffer.allocUnsafe(OUT_MAX);
      this.outBuffer = new OutBuffer(fresh, true);
    } else {
      fresh = Buffer.allocUnsafe(size < n ? n : size);
    }
    this.out = fresh;
    this.start = 0;
    this.endOffset = 0;
    return fresh;
  }

  /** Bytes up to `end` in the buffer are written; flush early when enough are pending. */
  commit(end: number): void {
    this.endOffset = end;
    if (end - this.start >= FLUSH_AT) this.flushPending();
  }

  /** Hand what is pending to the stream, then `chunk` itself (not copied). */
  writeByReference(chunk: Uint8Array): void {
    if (!this.open) return;
    this.scheduleTick();
    this.flushPending();
    if (this.parts === undefined) this.streamWrite(chunk);
    else this.parts.push(chunk);
  }

  /** End the tick now: write everything pending and uncork. */
  flush(): void {
    this.tickScheduled = false;
    this.endFrame(); // frames are written whole within a tick: this only guards against a stall
    this.flushPending();
    this.retireBuffer();
    this.out = undefined;
    this.start = 0;
    this.endOffset = 0;
    this.lastWriteAt = this.clock.now();
    if (this.corked) {
      this.corked = false;
      this.stream.uncork();
    }
  }

  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    // A shared function and this as its argument: no bound callback per session.
    process.nextTick(flushOutbox, this);
  }

  /**
   * Hand the pending output bytes to the stream; on a message stream they are part of an
   * unfinished frame (each finished one went at its end), kept until it ends.
   */
  private flushPending(): void {
    const n = this.endOffset - this.start;
    if (n === 0) return;
    const chunk = this.out!.subarray(this.start, this.endOffset);
    this.start = this.endOffset;
    if (this.parts !== undefined) {
      this.parts.push(chunk);
      return;
    }
    this.hint = n;
    this.streamWrite(chunk, this.outBuffer);
  }

  /** Done with the output buffer: reuse it once its writes completed. */
  private retireBuffer(): void {
    // A message stream takes the buffer frame by frame: size the next one by all it held.
    if (this.parts !== undefined && this.out !== undefined) this.hint = this.endOffset;
    this.outBuffer?.retire();
    this.outBuffer = undefined;
  }

  /** Write a chunk, or (on a message stream) the parts of one message. */
  private streamWrite(chunk: Uint8Array | readonly Uint8Array[], owner?: OutBuffer): void {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return;
    let n = 0;
    if (chunk instanceof Uint8Array) n = chunk.length;
    else for (const part of chunk) n += part.length;
    this.counters.bytesSent(n);
    this.written += n;
    // More than one write this tick: cork so that the stream writes them together.
    if (this.tickScheduled && !this.corked) {
      this.corked = true;
      stream.cork();
    }
    let ok: boolean;
    if (!(chunk instanceof Uint8Array)) {
      ok = (stream as MessageStream).writeMessage(chunk);
    } else if (owner === undefined) {
      ok = stream.write(chunk);
    } else {
      owner.pending++;
      ok = stream.write(chunk, owner.done);
    }
    if (!ok && !this.blockedFlag) {
      this.blockedFlag = true;
      this.owner.outboxBlocked();
    }
  }
}

function flushOutbox(outbox: Outbox): void {
  outbox.flush();
}
