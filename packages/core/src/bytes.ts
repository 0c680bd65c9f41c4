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

/** True when `bytes` contains a NUL octet (such a body needs a content-length header). */
export function hasNul(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) !== -1;
}
