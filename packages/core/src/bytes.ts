// UTF-8 helpers shared by the codec. The parser decodes every header token, so short ASCII
// tokens (nearly all of them) take a path that avoids a native TextDecoder call.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** An empty body, shared: never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** UTF-8 encode a string. */
export function utf8Encode(text: string): Uint8Array {
  return text.length === 0 ? EMPTY_BYTES : encoder.encode(text);
}

/** UTF-8 decode bytes (invalid sequences become U+FFFD). */
export function utf8Decode(bytes: Uint8Array): string {
  return bytes.length === 0 ? '' : decoder.decode(bytes);
}

const SHORT_TOKEN = 48;

/**
 * Decode `bytes[start, end)` as UTF-8. Short pure-ASCII runs are built with
 * `String.fromCharCode`, which is several times cheaper than a TextDecoder call for them.
 */
export function decodeRange(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return '';
  if (length <= SHORT_TOKEN) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
    }
  }
  return decoder.decode(bytes.subarray(start, end));
}

/** Concatenate byte arrays into one new array (returns the only part itself when there is one). */
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
 * Collects the pieces of a frame that spans chunks. Large pieces are kept by reference (copied
 * once, by {@link ByteAccumulator.take}); small ones are packed into a reusable block. Memory held is
 * at most a small constant factor over {@link ByteAccumulator.size}, whatever the chunk sizes.
 */
export class ByteAccumulator {
  /** Bytes appended since the last take. */
  size = 0;
  private parts: Uint8Array[] = [];
  private block: Uint8Array = EMPTY_BYTES;
  private blockStart = 0;
  private blockUsed = 0;

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
    }
    this.block.set(piece, this.blockUsed);
    this.blockUsed += n;
  }

  /** Copy everything appended so far into `target` at 0, and forget it. */
  moveTo(target: Uint8Array): void {
    this.flushBlock();
    let offset = 0;
    for (const part of this.parts) {
      target.set(part, offset);
      offset += part.length;
    }
    this.reset();
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
    const total = this.size + last.length;
    let out: Uint8Array;
    if (parts.length === 1 && parts[0]!.buffer !== this.block.buffer) {
      out = parts[0]!;
    } else {
      out = new Uint8Array(total);
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.length;
      }
    }
    this.reset();
    return out;
  }

  /** Forget everything (the block is kept for reuse: nothing outside refers to it). */
  reset(): void {
    this.parts = [];
    this.size = 0;
    this.blockStart = 0;
    this.blockUsed = 0;
  }

  /** Drop all memory, the block included. */
  release(): void {
    this.reset();
    this.block = EMPTY_BYTES;
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
