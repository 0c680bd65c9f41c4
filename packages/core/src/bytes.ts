// UTF-8 helpers shared by the codec. Header tokens are decoded through a small cache of recently
// decoded short ASCII strings (nearly all header names and most values repeat).

const encoder = new TextEncoder();
// ignoreBOM: a header value or text body may begin with U+FEFF; the default decoder drops it.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** An empty body, shared: never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** UTF-8 encode a string (into an array of its own). */
export function utf8Encode(text: string): Uint8Array {
  return text.length === 0 ? EMPTY_BYTES : encoder.encode(text);
}

// The codec encodes short strings (frame heads, small text bodies) into a shared slab, as Node's
// Buffer pool does: a new ArrayBuffer per head or body costs far more (allocation, then tracking
// by the GC) than a view. A slab is never reused: once full, the next string starts a new one,
// and the old one lives as long as a view of it does (at most POOL_SIZE bytes pinned by a small
// array, as a parsed body pins the chunk it came in).
const POOL_SIZE = 8192;
// Strings up to this many UTF-16 units (at most 3 bytes each) take at most 3/8 of a slab.
const POOLED_LENGTH = POOL_SIZE >> 3;
let pool = new Uint8Array(POOL_SIZE);
let poolUsed = 0;

/**
 * Room for `bytes` bytes in the shared slab (for a writer that fills it directly): returns the
 * slab, to be written from {@link sharedOffset} and then claimed with {@link claimShared}.
 * `undefined` when `bytes` is too large for a slab.
 */
export function sharedRoom(bytes: number): Uint8Array | undefined {
  if (bytes > POOL_SIZE >> 1) return undefined;
  if (POOL_SIZE - poolUsed < bytes) {
    pool = new Uint8Array(POOL_SIZE);
    poolUsed = 0;
  }
  return pool;
}

/** Where a writer given {@link sharedRoom} starts. */
export function sharedOffset(): number {
  return poolUsed;
}

/** Claim `[start, end)` of the slab `sharedRoom` returned, as a view. */
export function claimShared(start: number, end: number): Uint8Array {
  poolUsed = (end + 7) & ~7;
  return pool.subarray(start, end);
}

/**
 * Write `text` as UTF-8 into `out` at `at` (which must have room for 3 bytes per UTF-16 unit);
 * returns the end. ASCII is copied in a loop (no native call for a short token).
 */
export function writeUtf8(out: Uint8Array, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return at + encoder.encodeInto(text.slice(i), out.subarray(at)).written;
    out[at++] = c;
  }
  return at;
}

/**
 * UTF-8 encode a string; a short one becomes a view of a shared slab (its `buffer` is not its
 * own). For what the codec writes and drops: frame heads and bodies, which are read-only.
 */
export function utf8EncodeShared(text: string): Uint8Array {
  const n = text.length;
  if (n === 0) return EMPTY_BYTES;
  if (n > POOLED_LENGTH) return encoder.encode(text);
  if (POOL_SIZE - poolUsed < n * 3) {
    pool = new Uint8Array(POOL_SIZE);
    poolUsed = 0;
  }
  const start = poolUsed;
  const written = encoder.encodeInto(text, start === 0 ? pool : pool.subarray(start)).written;
  // The next view starts 8-byte aligned, as in Node's pool.
  poolUsed = (start + written + 7) & ~7;
  return pool.subarray(start, start + written);
}

/** UTF-8 decode bytes (invalid sequences become U+FFFD). */
export function utf8Decode(bytes: Uint8Array): string {
  return bytes.length === 0 ? '' : decoder.decode(bytes);
}

const SHORT_TOKEN = 48;

// Header tokens repeat from frame to frame (names, destinations, subscriptions, content types), so
// short ASCII tokens are looked up in a direct-mapped table of recently decoded strings first: a hit
// allocates nothing. The table holds at most TOKEN_SLOTS strings of at most SHORT_TOKEN characters
// (bounded memory); a hostile peer can only cause misses, never growth. It holds no bytes: a hit is
// checked by comparing the bytes with the cached string's character codes.
const TOKEN_SLOTS_LOG2 = 10;
const tokenCache: string[] = new Array<string>(1 << TOKEN_SLOTS_LOG2).fill('');

/**
 * Decode `bytes[start, end)` as UTF-8. Short pure-ASCII tokens come from a small cache of recently
 * decoded strings when possible; other short ASCII tokens are built without a native call.
 */
export function decodeRange(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return '';
  if (length <= SHORT_TOKEN) {
    // Slot from the length and three sampled bytes: no pass over the token before the lookup.
    // (Exact in doubles: the sum stays far below 2^53; >>> takes it modulo 2^32.)
    const slot =
      (length * 0x9e3779b1 +
        bytes[start]! * 0x85ebca6b +
        bytes[end - 1]! * 0xc2b2ae35 +
        bytes[start + (length >> 1)]! * 0x27d4eb2f) >>>
      (32 - TOKEN_SLOTS_LOG2);
    const cached = tokenCache[slot]!;
    if (cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
      // Only ASCII strings are cached, so equal codes mean the bytes are that ASCII text.
      if (i === length) return cached;
    }
    let high = 0;
    for (let i = start; i < end; i++) high |= bytes[i]!;
    if (high < 0x80) {
      let text = '';
      // V8 builds flat strings below 13 characters; above, TextDecoder is the cheaper way.
      if (length <= 12) for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
      else text = decoder.decode(bytes.subarray(start, end));
      tokenCache[slot] = text;
      return text;
    }
  }
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * Concatenate byte arrays into one new array (returns the only part itself when there is one):
 * for a transport that reassembles frames from chunks. `total`, when known, is the sum of the
 * parts' lengths.
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 0) return EMPTY_BYTES;
  let size = total ?? 0;
  if (total === undefined) for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// Pieces shorter than this are copied into a shared block instead of being kept by reference, so a
// stream that arrives a few bytes at a time costs neither one object per piece nor a whole chunk
// kept alive per piece.
const SMALL_PIECE = 512;
const BLOCK_SIZE = 8192;

/**
 * Collects the pieces of a frame that spans chunks. Large pieces are kept by reference; small ones
 * are packed into a block. Memory held is at most a small constant factor over
 * {@link ByteAccumulator.size}, whatever the chunk sizes. What was appended comes out either as
 * one array ({@link ByteAccumulator.take}, a frame head) or as the pieces themselves, copied
 * nowhere ({@link ByteAccumulator.takePieces}, a body).
 */
export class ByteAccumulator {
  /** Bytes appended since the last take. */
  size = 0;
  private parts: Uint8Array[] = [];
  private block: Uint8Array = EMPTY_BYTES;
  private blockStart = 0;
  private blockUsed = 0;
  // Bytes at the start of the block handed out by takePieces: never written again.
  private blockKept = 0;

  /** Add a piece. The piece must not be modified afterwards (it may be kept by reference). */
  append(piece: Uint8Array): void {
    const n = piece.length;
    if (n === 0) return;
    this.size += n;
    if (n >= SMALL_PIECE) {
      this.flushBlock();
      this.parts.push(piece);
      return;
    }
    if (this.blockUsed + n > this.block.length) {
      this.flushBlock();
      this.block = new Uint8Array(BLOCK_SIZE);
      this.blockStart = 0;
      this.blockUsed = 0;
      this.blockKept = 0;
    }
    this.block.set(piece, this.blockUsed);
    this.blockUsed += n;
  }

  /**
   * Everything appended so far followed by `last`, as one array, and forget it. The result never
   * shares memory with the internal block (it is either a caller's own piece or a fresh copy).
   */
  take(last: Uint8Array): Uint8Array {
    if (this.size === 0) return last;
    this.flushBlock();
    const parts = this.parts;
    if (last.length > 0) parts.push(last);
    let out = parts[0]!;
    if (parts.length > 1 || out.buffer === this.block.buffer) {
      out = new Uint8Array(this.size + last.length);
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.length;
      }
    }
    this.reset();
    return out;
  }

  /**
   * Everything appended so far, as the pieces to read in order, and forget it. Nothing is copied:
   * a large piece is the caller's own, small ones are views of a block that is never written
   * again.
   */
  takePieces(): Uint8Array[] {
    this.flushBlock();
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    this.blockKept = this.blockUsed;
    return parts;
  }

  /** Forget everything (the block is kept for reuse, but for what was handed out). */
  reset(): void {
    this.parts = [];
    this.size = 0;
    this.blockStart = this.blockKept;
    this.blockUsed = this.blockKept;
  }

  /** Drop all memory, the block included. */
  release(): void {
    this.reset();
    this.block = EMPTY_BYTES;
    this.blockStart = 0;
    this.blockUsed = 0;
    this.blockKept = 0;
  }

  private flushBlock(): void {
    if (this.blockUsed > this.blockStart) {
      this.parts.push(this.block.subarray(this.blockStart, this.blockUsed));
      this.blockStart = this.blockUsed;
    }
  }
}

/** True when `bytes` contains a NUL octet (such a body needs a content-length header). */
export function hasNul(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) !== -1;
}
