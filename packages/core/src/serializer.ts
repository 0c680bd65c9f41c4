// Frame serializer. A frame becomes a few chunks: the encoded command and headers, the body by
// reference (never copied; a parsed body that straddled chunks as its pieces), and a shared NUL
// terminator, so a transport can write them with writev or cork/uncork.
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
import { encodeHeaderToken, escapesApply } from './escape.js';
import { type Frame, isClientCommand, isServerCommand } from './frame.js';
import * as octets from './octets.js';
import type { StompVersion } from './version.js';

// Module-level copies, which V8 folds (see head.ts).
const BACKSLASH = octets.BACKSLASH;
const COLON = octets.COLON;
const CR = octets.CR;
const LF = octets.LF;
const trimPadding = octets.trimPadding;

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

/**
 * Encode a frame as chunks to write in order: `[head, body, NUL]`, or `[head]` when the body is
 * empty (the head then ends with the NUL). The body chunk is the frame's own body, not a copy; a
 * parsed body that straddled chunks is passed on as its pieces (`[head, ...bodyChunks, NUL]`), so
 * relaying a frame copies none of its body.
 *
 * A user `content-length` header is replaced by the true length. Throws a
 * {@link StompProtocolError} when the command is not a STOMP command (`ERR_STOMP_INVALID_COMMAND`)
 * or a header cannot be written in the chosen version: the error {@link encodeHeaderToken} gives
 * (`ERR_STOMP_INVALID_HEADER_VALUE`: an empty name, an unpaired surrogate, a line feed in a 1.0 or
 * CONNECT header, a colon in a header name there, a value ending in CR where CR cannot be
 * escaped).
 */
export function encodeFrame(frame: Frame, options: SerializerOptions = {}): Uint8Array[] {
  const head = encodeHead(frame, options);
  if (frame.bodyLength === 0) return [head];
  const pieces = frame.pieceList;
  return pieces === undefined ? [head, frame.body, NUL_BYTES] : [head, ...pieces, NUL_BYTES];
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
    text += token(frame, name, name, true, escape, version) + ':';
    text += token(frame, raw[i + 1]!, name, false, escape, version) + '\n';
  }
  const length = frame.bodyLength;
  if (mode === 'always' || (length > 0 && (mode === 'auto' || bodyHasNul(frame)))) {
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
      end = writeUtf8(out, at, token(frame, name, name, true, escape, version));
    }
    at = end;
    out[at++] = COLON;
    end = writePlain(out, at, value);
    if (end < 0) end = writeUtf8(out, at, token(frame, value, name, false, escape, version));
    at = end;
    out[at++] = LF;
  }
  const length = frame.bodyLength;
  if (mode === 'always' || (length > 0 && (mode === 'auto' || bodyHasNul(frame)))) {
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

/** The text to write for a header name or value; throws when it cannot be written. */
function token(
  frame: Frame,
  text: string,
  header: string,
  name: boolean,
  escape: boolean,
  version: StompVersion,
): string {
  const encoded = encodeHeaderToken(text, version, { name, escape, header, frame });
  if (typeof encoded !== 'string') throw encoded;
  return encoded;
}

/** True when the body holds a NUL octet (it then needs a content-length), read piece by piece. */
function bodyHasNul(frame: Frame): boolean {
  const pieces = frame.pieceList;
  return pieces === undefined ? hasNul(frame.body) : pieces.some(hasNul);
}

/** True for `content-length` padded with spaces or tabs, which a 1.0 parser trims to the real one. */
function isPaddedContentLength(name: string): boolean {
  return trimPadding(name) === 'content-length';
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
