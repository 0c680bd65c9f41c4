// Frame serializer. A frame becomes up to three chunks: the encoded command and headers, the body
// by reference (never copied), and a shared NUL terminator, so a transport can write them with
// writev or cork/uncork.
import {
  claimShared,
  concatBytes,
  hasNul,
  sharedOffset,
  sharedRoom,
  utf8EncodeShared,
  writeUtf8,
} from './bytes.js';
import { ErrorCode, StompProtocolError } from './errors.js';
import { escapeHeader, escapesApply } from './escape.js';
import { type Frame, isClientCommand, isServerCommand } from './frame.js';
import type { StompVersion } from './version.js';

/** When to write a `content-length` header. */
export type ContentLengthMode =
  /** On every frame that has a body, as the spec recommends (default). */
  | 'auto'
  /** On every frame, `content-length:0` included. */
  | 'always'
  /** Only when the body contains a NUL octet and so cannot be framed without it. */
  | 'when-required';

/** Options for {@link encodeFrame}. */
export interface SerializerOptions {
  /** The version whose header escaping applies. Default `'1.2'`. */
  readonly version?: StompVersion;
  /** When to add `content-length`. Default `'auto'`. */
  readonly contentLength?: ContentLengthMode;
}

/** The bytes of a heart-beat (one EOL). Shared: do not modify. */
export const HEARTBEAT_BYTES: Uint8Array = Uint8Array.of(10);
/** The frame terminator. Shared: do not modify. */
const NUL_BYTES: Uint8Array = Uint8Array.of(0);

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const BACKSLASH = 92;

/**
 * Encode a frame as chunks to write in order: `[head, body, NUL]`, or `[head]` when the body is
 * empty (the head then ends with the NUL). The body chunk is the frame's own body, not a copy.
 *
 * A user `content-length` header is replaced by the true length. Throws a
 * {@link StompProtocolError} when the command is not a STOMP command (`ERR_STOMP_INVALID_COMMAND`)
 * or a header cannot be represented in the chosen version (`ERR_STOMP_INVALID_HEADER_VALUE`: an
 * empty name, an unpaired surrogate, a line feed in a 1.0 or CONNECT header, a colon in a header
 * name there, a value ending in CR where CR cannot be escaped).
 */
export function encodeFrame(frame: Frame, options: SerializerOptions = {}): Uint8Array[] {
  const head = encodeHead(frame, options);
  const body = frame.body;
  if (body.length === 0) return [head];
  return [head, body, NUL_BYTES];
}

/** Encode a frame into one contiguous byte array (copies the body; prefer {@link encodeFrame}). */
export function encodeFrameBytes(frame: Frame, options: SerializerOptions = {}): Uint8Array {
  return concatBytes(encodeFrame(frame, options));
}

function encodeHead(frame: Frame, options: SerializerOptions): Uint8Array {
  const version = options.version ?? '1.2';
  const mode = options.contentLength ?? 'auto';
  const command = frame.command;
  if (!isClientCommand(command) && !isServerCommand(command)) {
    throw new StompProtocolError(
      ErrorCode.INVALID_COMMAND,
      `${JSON.stringify(command.slice(0, 32))} is not a STOMP command`,
      { frame },
    );
  }
  const body = frame.body;
  const escape = escapesApply(command, version);
  const raw = frame.rawHeaders;
  // Escaping at most doubles an ASCII character, UTF-8 takes at most 3 bytes per UTF-16 unit:
  // 3 bytes per unit is a bound; 32 more cover the content-length line and the ends.
  let bound = command.length + 32;
  for (let i = 0; i < raw.length; i++) bound += raw[i]!.length + 1;
  const out = sharedRoom(bound * 3);
  if (out !== undefined) return writeHead(out, frame, escape, version, mode);
  let text = command + '\n';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // The true length is written below; a 1.0 peer trims, so a padded name counts too.
    if (name === 'content-length' || (version === '1.0' && isPaddedContentLength(name))) continue;
    const value = raw[i + 1]!;
    const encodedName = encodeToken(name, true, escape, version);
    const encodedValue = encodeToken(value, false, escape, version);
    if (encodedName === undefined || encodedValue === undefined) {
      rejectHeader(frame, name, version);
    }
    text += encodedName + ':' + encodedValue + '\n';
  }
  const length = body.length;
  if (mode === 'always' || (length > 0 && (mode === 'auto' || hasNul(body)))) {
    text += 'content-length:' + String(length) + '\n';
  }
  text += length === 0 ? '\n\0' : '\n';
  return utf8EncodeShared(text);
}

/** {@link encodeHead} written straight into the shared slab (`out` has room for the head). */
function writeHead(
  out: Uint8Array,
  frame: Frame,
  escape: boolean,
  version: StompVersion,
  mode: ContentLengthMode,
): Uint8Array {
  const start = sharedOffset();
  let at = writeUtf8(out, start, frame.command);
  out[at++] = LF;
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'content-length' || (version === '1.0' && isPaddedContentLength(name))) continue;
    const value = raw[i + 1]!;
    // One pass for the usual plain ASCII token; anything else goes through encodeToken.
    let end = writePlain(out, at, name);
    if (end < 0 || name.length === 0) {
      const encodedName = encodeToken(name, true, escape, version);
      if (encodedName === undefined) rejectHeader(frame, name, version);
      end = writeUtf8(out, at, encodedName);
    }
    at = end;
    out[at++] = COLON;
    end = writePlain(out, at, value);
    if (end < 0) {
      const encodedValue = encodeToken(value, false, escape, version);
      if (encodedValue === undefined) rejectHeader(frame, name, version);
      end = writeUtf8(out, at, encodedValue);
    }
    at = end;
    out[at++] = LF;
  }
  const body = frame.body;
  const length = body.length;
  if (mode === 'always' || (length > 0 && (mode === 'auto' || hasNul(body)))) {
    at = writeUtf8(out, at, 'content-length:');
    at = writeUtf8(out, at, String(length));
    out[at++] = LF;
  }
  out[at++] = LF;
  if (length === 0) out[at++] = 0;
  return claimShared(start, at);
}

/**
 * Write `text` at `at` when it is ASCII with nothing to check or escape (no backslash, colon, CR
 * or LF) and return the end; -1 otherwise (what was written is then overwritten).
 */
function writePlain(out: Uint8Array, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || c === BACKSLASH || c === COLON || c === LF || c === CR) return -1;
    out[at++] = c;
  }
  return at;
}

/**
 * The text to write for a header name or value, or `undefined` when it cannot be written: an empty
 * name; an unpaired surrogate (not UTF-8 encodable); without escaping, a line feed, a colon in a
 * name, or a value ending in CR (it would read as a CRLF line end); in 1.1, which cannot escape CR,
 * a value ending in CR. One pass over the text; the text itself is returned when it needs nothing.
 */
function encodeToken(
  text: string,
  isName: boolean,
  escape: boolean,
  version: StompVersion,
): string | undefined {
  const n = text.length;
  if (isName && n === 0) return undefined;
  let special = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= BACKSLASH) {
      if (c === BACKSLASH || c === COLON || c === LF || c === CR) special = true;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c >= 0xdc00 || next < 0xdc00 || next > 0xdfff) return undefined;
      i++;
    }
  }
  if (!special) return text;
  const endsWithCR = !isName && text.charCodeAt(n - 1) === CR;
  if (escape) {
    if (version === '1.1' && endsWithCR) return undefined;
    return escapeHeader(text, version);
  }
  if (endsWithCR || text.includes('\n') || (isName && text.includes(':'))) return undefined;
  return text;
}

/** True for `content-length` padded with spaces or tabs, which a 1.0 parser trims to the real one. */
function isPaddedContentLength(name: string): boolean {
  let start = 0;
  let end = name.length;
  while (start < end && isPadding(name.charCodeAt(start))) start++;
  while (end > start && isPadding(name.charCodeAt(end - 1))) end--;
  return end - start === 14 && name.startsWith('content-length', start);
}

function isPadding(c: number): boolean {
  return c === SPACE || c === TAB;
}

function rejectHeader(frame: Frame, name: string, version: StompVersion): never {
  throw new StompProtocolError(
    ErrorCode.INVALID_HEADER_VALUE,
    `header ${JSON.stringify(name)} cannot be encoded in a ${frame.command} frame (STOMP ${version}): ` +
      'its name is empty, it holds an unpaired surrogate, or a line feed, a colon in the name or a trailing CR that this frame cannot escape',
    { frame, header: name },
  );
}

/** Encode many frames into one array of chunks, ready for a single vectored write. */
export function encodeFrames(
  frames: readonly Frame[],
  options: SerializerOptions = {},
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const frame of frames) {
    for (const chunk of encodeFrame(frame, options)) chunks.push(chunk);
  }
  return chunks;
}
