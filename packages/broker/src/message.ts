// The broker's message: destination, user headers and body, with the delivery properties read
// from the headers once (persistent, priority, expiry). Bodies of kept messages own their bytes.
import { isTrueHeader } from './boolean-header.js';

/** Bodies kept by {@link Message.own} up to this size share slabs of SLAB_SIZE bytes. */
const SLAB_ITEM_MAX = 1024;
const SLAB_SIZE = 8192;
const EMPTY = new Uint8Array(0);
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** The priority of a message that names none (JMS's default). */
export const DEFAULT_PRIORITY = 4;

/** Delivery properties, when they do not come from the headers (recovered or copied messages). */
export interface MessageProperties {
  readonly persistent: boolean;
  readonly priority: number;
  readonly expires: number;
}

/**
 * A published message: the destination it was sent to, the SEND frame's user headers and its
 * body. Immutable (the body is moved once, by {@link Message.own}, without changing its bytes);
 * shared by every queue and delivery that holds it. The MESSAGE encoder keeps its per-version
 * caches beside it (encode.ts), and message-codec.ts turns it into bytes and back.
 */
export class Message {
  /** Where it was published, e.g. `/topic/a.b` (shown as the MESSAGE `destination`). */
  readonly destination: string;
  /** User headers, flattened `[name, value, ...]`, in SEND order. */
  readonly headers: readonly string[];
  // The body is bytes [start, start + bodyLength) of `src`, or the pieces it arrived in (a body
  // that straddled socket chunks: written out by reference as they are). A publisher's body may
  // at first be a view into the socket chunk it was parsed from; own() moves it to memory of its
  // own (joining pieces) once the message is kept beyond its publication (small bodies to a
  // shared slab: no object per body).
  private src: Uint8Array;
  private start = 0;
  // A body that straddled socket chunks: the pieces (views of them), until joined.
  private pieces: readonly Uint8Array[] | undefined = undefined;
  /** @internal the body's length in bytes. */
  readonly bodyLength: number;
  /** Approximate bytes held: body plus headers. */
  readonly size: number;
  /** `persistent:true` was sent (or the broker makes every message persistent). */
  readonly persistent: boolean;
  /** 0 (lowest) to 9 (highest), from the `priority` header; default 4, as JMS. */
  readonly priority: number;
  /**
   * When it expires, in ms since the epoch; 0 = never. From ActiveMQ's `expires` (absolute ms) or
   * RabbitMQ's `expiration` (ms from publication).
   */
  readonly expires: number;
  /** The body is its own copy (or the caller's own bytes), not a view of a larger buffer. */
  private owned = false;

  /**
   * @param body - the body's bytes, or the pieces they arrived in, in order (a parsed frame's
   *   pieces, not copied: they are joined when the message is kept or its `body` is read)
   */
  constructor(
    destination: string,
    headers: readonly string[],
    body: Uint8Array | readonly Uint8Array[],
    properties?: MessageProperties,
    /** The time of publication (ms since the epoch), for a relative `expiration`. */
    now = Date.now(),
  ) {
    this.destination = destination;
    this.headers = headers;
    let length: number;
    if (Array.isArray(body)) {
      const pieces = body as readonly Uint8Array[];
      length = 0;
      for (const piece of pieces) length += piece.length;
      this.pieces = pieces;
      this.src = EMPTY;
    } else {
      this.src = body as Uint8Array;
      length = this.src.length;
    }
    this.bodyLength = length;
    let size = length + destination.length + 64;
    let persistent = false;
    let priority = DEFAULT_PRIORITY;
    let expires = 0;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1] ?? '';
      size += name.length + value.length + 4;
      if (properties !== undefined) continue;
      // Only a few header names matter; their first letters tell them apart cheaply.
      const c = name.charCodeAt(0);
      if (c === 112 /* p */) {
        if (name === 'persistent') persistent = isTrueHeader(value);
        else if (name === 'priority') {
          const n = Number(value);
          if (value.length > 0 && Number.isInteger(n)) priority = n < 0 ? 0 : n > 9 ? 9 : n;
        }
      } else if (c === 101 /* e */) {
        if (name === 'expires') {
          const n = Number(value);
          if (n > 0 && Number.isFinite(n)) expires = Math.floor(n);
        } else if (name === 'expiration' && expires === 0) {
          const n = Number(value);
          if (value.length > 0 && n >= 0 && Number.isFinite(n)) expires = now + Math.floor(n);
        }
      }
    }
    this.size = size;
    this.persistent = properties?.persistent ?? persistent;
    this.priority = properties?.priority ?? priority;
    this.expires = properties?.expires ?? expires;
  }

  /**
   * Make sure the body holds little more memory than its own bytes: a view into a buffer at
   * least twice its size (the socket chunk a SEND was parsed from) is replaced by a copy. The
   * engine calls it for messages it keeps after publication, so a kept 100-byte message never
   * pins a 64 KiB chunk, while one delivered at once is never copied, nor a large body that was
   * most of its chunk (pinning less than its own size again costs less than copying it).
   */
  own(): void {
    if (this.owned) return;
    this.owned = true;
    if (this.pieces !== undefined) this.join();
    const body = this.src;
    if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) return;
    const n = body.length;
    if (n > SLAB_ITEM_MAX && n * 2 > body.buffer.byteLength) return;
    if (n > SLAB_ITEM_MAX) {
      const copy = Buffer.allocUnsafe(n);
      copy.set(body);
      this.src = copy;
      return;
    }
    // Like Node's Buffer pool (also 8 KiB), without a Buffer object per body.
    if (slabUsed + n > SLAB_SIZE) {
      slab = new Uint8Array(SLAB_SIZE);
      slabUsed = 0;
    }
    slab.set(body, slabUsed);
    this.src = slab;
    this.start = slabUsed;
    slabUsed = (slabUsed + n + 7) & ~7;
  }

  /** The body bytes (read-only: shared by every delivery); joins a body kept in pieces. */
  get body(): Uint8Array {
    if (this.pieces !== undefined) this.join();
    const src = this.src;
    const start = this.start;
    const n = this.bodyLength;
    return start === 0 && n === src.length ? src : src.subarray(start, start + n);
  }

  /**
   * @internal The body as the pieces it arrived in, to be written by reference; undefined once
   * it is one array ({@link Message.body}).
   */
  get bodyPieces(): readonly Uint8Array[] | undefined {
    return this.pieces;
  }

  private join(): void {
    const out = new Uint8Array(this.bodyLength);
    let off = 0;
    for (const piece of this.pieces!) {
      out.set(piece, off);
      off += piece.length;
    }
    this.src = out;
    this.start = 0;
    this.pieces = undefined;
  }

  /** @internal Copy the body into `out` at `off`; returns the offset after it. */
  copyBody(out: Uint8Array, off: number): number {
    const pieces = this.pieces;
    if (pieces !== undefined) {
      for (const piece of pieces) {
        out.set(piece, off);
        off += piece.length;
      }
      return off;
    }
    const src = this.src;
    const start = this.start;
    const n = this.bodyLength;
    if (start === 0 && n === src.length) out.set(src, off);
    else if (n <= 128) for (let i = 0; i < n; i++) out[off + i] = src[start + i]!;
    else out.set(src.subarray(start, start + n), off);
    return off + n;
  }

  /** A copy of this message for another destination, with extra headers first. */
  redirect(destination: string, extra: readonly string[]): Message {
    return new Message(destination, [...extra, ...this.headers], this.body, this);
  }

  /** This message, persistent (for a broker that makes every message persistent). */
  asPersistent(): Message {
    if (this.persistent) return this;
    return new Message(this.destination, this.headers, this.body, {
      persistent: true,
      priority: this.priority,
      expires: this.expires,
    });
  }
}
