// Frame serializer. A frame becomes up to three chunks: the encoded command and headers, the body
// by reference (never copied), and a shared NUL terminator, so a transport can write them with
// writev or cork/uncork.
import { concatBytes, hasNul, utf8Encode } from './bytes.js';
import { ErrorCode, StompProtocolError } from './errors.js';
import { escapeHeader, escapesApply } from './escape.js';
import type { Frame } from './frame.js';
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

/**
 * Encode a frame as chunks to write in order: `[head, body, NUL]`, or `[head]` when the body is
 * empty (the head then ends with the NUL). The body chunk is the frame's own body, not a copy.
 *
 * A user `content-length` header is replaced by the true length. Throws a
 * {@link StompProtocolError} when a header cannot be represented in the chosen version (a line
 * feed in a 1.0 or CONNECT header, a colon in a header name there, a value ending in CR before 1.2).
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
  const body = frame.body;
  const escape = escapesApply(command, version);
  let text = command + '\n';
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'content-length') continue;
    const value = raw[i + 1]!;
    if (escape) {
      const escapedName = escapeHeader(name, version);
      const escapedValue = escapeHeader(value, version);
      // 1.1 has no escape for CR, and a CR before the LF would read as part of the EOL.
      if (
        name.length === 0 ||
        (version === '1.1' && (escapedName.endsWith('\r') || escapedValue.endsWith('\r')))
      ) {
        rejectHeader(frame, name, version);
      }
      text += escapedName + ':' + escapedValue + '\n';
    } else {
      if (!canWriteUnescaped(name, value)) rejectHeader(frame, name, version);
      text += name + ':' + value + '\n';
    }
  }
  const length = body.length;
  if (mode === 'always' || (length > 0 && (mode === 'auto' || hasNul(body)))) {
    text += 'content-length:' + String(length) + '\n';
  }
  text += length === 0 ? '\n\0' : '\n';
  return utf8Encode(text);
}

// Without escaping, a header must not contain what would end its line or split it.
function canWriteUnescaped(name: string, value: string): boolean {
  return !(
    name.length === 0 ||
    name.includes(':') ||
    name.includes('\n') ||
    value.includes('\n') ||
    name.endsWith('\r') ||
    value.endsWith('\r')
  );
}

function rejectHeader(frame: Frame, name: string, version: StompVersion): never {
  throw new StompProtocolError(
    ErrorCode.INVALID_HEADER_VALUE,
    `header ${JSON.stringify(name)} cannot be encoded in a ${frame.command} frame (STOMP ${version}): ` +
      'its name is empty, or it holds a line feed, a colon in the name or a trailing CR that this frame cannot escape',
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
