// The octets STOMP frames are built from, named once for the parser and the serializer, and the
// STOMP 1.0 padding rule both of them apply.

/** Line feed: ends every line. */
export const LF = 10;
/** Carriage return: may precede a line's LF (1.2), or a heart-beat's. */
export const CR = 13;
/** NUL: ends every frame. */
export const NUL = 0;
/** Separates a header's name from its value. */
export const COLON = 58;
/** Starts an escape sequence in a header (1.1+). */
export const BACKSLASH = 92;

/** True for the octets STOMP 1.0 peers pad header names and values with (space and tab). */
export function isPadding(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * `text` without the spaces and tabs around it (the input itself when there are none). Only what
 * 1.0 peers pad with: `String#trim` would also eat CR, NBSP and other Unicode spaces that belong
 * to the value.
 */
export function trimPadding(text: string): string {
  const n = text.length;
  let start = 0;
  let end = n;
  while (start < end && isPadding(text.charCodeAt(start))) start++;
  while (end > start && isPadding(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === n ? text : text.slice(start, end);
}
