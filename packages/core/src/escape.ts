// Header encoding ("Value Encoding" in the 1.1 and 1.2 specs), and the one rule for whether a
// header name or value can be written at all. STOMP 1.0 has no escapes; 1.1 defines \n \c \\; 1.2
// adds \r. CONNECT, STOMP and CONNECTED frames are never escaped.
import { ErrorCode, StompProtocolError } from './errors.js';
import type { Frame } from './frame.js';
import * as octets from './octets.js';
import { unescapeText } from './unescape.js';
import type { StompVersion } from './version.js';

// Module-level copies, which V8 folds (see head.ts).
const BACKSLASH = octets.BACKSLASH;
const COLON = octets.COLON;
const CR = octets.CR;
const LF = octets.LF;

/** True when header escaping applies to `command` in `version`. */
export function escapesApply(command: string, version: StompVersion): boolean {
  return (
    version !== '1.0' && command !== 'CONNECT' && command !== 'CONNECTED' && command !== 'STOMP'
  );
}

/**
 * Escape a header name or value for `version`. Returns the input itself when nothing needs
 * escaping (the common case), so no string is built.
 */
export function escapeHeader(text: string, version: StompVersion): string {
  let i = 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH || c === COLON || c === LF || c === CR) break;
  }
  if (i === n) return text;
  let out = text.slice(0, i);
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) out += '\\\\';
    else if (c === COLON) out += '\\c';
    else if (c === LF) out += '\\n';
    else if (c === CR && version === '1.2') out += '\\r';
    else out += String.fromCharCode(c);
  }
  return out;
}

/**
 * Undo header escaping. `\r` is only defined in 1.2; any other backslash sequence, and a
 * trailing backslash, is a fatal protocol error as the spec requires.
 */
export function unescapeHeader(text: string, version: StompVersion): string {
  const out = unescapeText(text, version);
  if (typeof out === 'string') return out;
  const seq = out + 1 >= text.length ? '\\ at the end of the value' : `\\${text[out + 1]}`;
  throw new StompProtocolError(
    ErrorCode.INVALID_ESCAPE,
    `undefined escape sequence ${seq} in a STOMP ${version} header`,
  );
}

/**
 * The position of the first backslash in `bytes[from, to)` that does not start an escape defined
 * in `version` (`\n`, `\c`, `\\`, and `\r` in 1.2), or -1: the parser's check, on bytes, of what
 * {@link unescapeHeader} would refuse.
 */
export function badEscape(
  bytes: Uint8Array,
  from: number,
  to: number,
  version: StompVersion,
): number {
  for (let i = from; i < to; i++) {
    if (bytes[i] !== BACKSLASH) continue;
    const next = i + 1 < to ? bytes[i + 1] : -1;
    if (next !== 110 && next !== 99 && next !== BACKSLASH && (next !== 114 || version !== '1.2')) {
      return i;
    }
    i++;
  }
  return -1;
}

/** Where a header token goes, for {@link encodeHeaderToken}. */
export interface HeaderTokenOptions {
  /** The token is a header name (default: a value). */
  readonly name?: boolean;
  /**
   * Whether the frame's headers are escaped: `escapesApply(command, version)`. Default `true`, as
   * for MESSAGE, SEND and every frame but CONNECT, STOMP and CONNECTED from 1.1 on (in 1.0 nothing
   * is escaped, whatever this says).
   */
  readonly escape?: boolean;
  /** The header the token belongs to, named in the error (default: the token, for a name). */
  readonly header?: string;
  /** The frame, carried by the error. */
  readonly frame?: Frame;
}

/**
 * The one rule for writing a header name or value in `version`: the text to write (escaped where
 * the frame's headers are; the token itself when it needs nothing, so no string is built), or,
 * returned rather than thrown, an `ERR_STOMP_INVALID_HEADER_VALUE` {@link StompProtocolError}
 * saying why it cannot be written:
 *
 * - an empty name;
 * - an unpaired UTF-16 surrogate (it has no UTF-8 encoding);
 * - where nothing is escaped (1.0, CONNECT, STOMP, CONNECTED): a line feed, a colon in a name, or
 *   a value ending in CR (a reader takes CR LF as the line end);
 * - in 1.1, which has no escape for CR, a value ending in CR.
 *
 * The serializer throws the error; a server writing MESSAGE frames decides what to do with it.
 */
export function encodeHeaderToken(
  text: string,
  version: StompVersion,
  options: HeaderTokenOptions = {},
): string | StompProtocolError {
  const isName = options.name === true;
  const n = text.length;
  if (isName && n === 0) return tokenError('the name is empty', version, options, text);
  let special = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= BACKSLASH) {
      if (c === BACKSLASH || c === COLON || c === LF || c === CR) special = true;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c >= 0xdc00 || next < 0xdc00 || next > 0xdfff) {
        return tokenError('it holds an unpaired surrogate (no UTF-8 form)', version, options, text);
      }
      i++;
    }
  }
  if (!special) return text;
  const endsWithCR = !isName && text.charCodeAt(n - 1) === CR;
  if (version !== '1.0' && options.escape !== false) {
    if (version === '1.1' && endsWithCR) {
      return tokenError('the value ends in CR, which 1.1 cannot escape', version, options, text);
    }
    return escapeHeader(text, version);
  }
  // Nothing is escaped here (1.0, or CONNECT, STOMP, CONNECTED): only what reads back unchanged.
  if (text.includes('\n')) return tokenError('it holds a line feed', version, options, text);
  if (isName && text.includes(':')) {
    return tokenError('the name holds a colon', version, options, text);
  }
  if (endsWithCR)
    return tokenError('the value ends in CR (read as a line end)', version, options, text);
  return text;
}

function tokenError(
  why: string,
  version: StompVersion,
  options: HeaderTokenOptions,
  text: string,
): StompProtocolError {
  const header = options.header ?? (options.name === true ? text : undefined);
  const frame = options.frame;
  const escaped = version !== '1.0' && options.escape !== false;
  return new StompProtocolError(
    ErrorCode.INVALID_HEADER_VALUE,
    `header ${JSON.stringify((header ?? '').slice(0, 64))} cannot be written` +
      (frame === undefined ? '' : ` in a ${frame.command} frame`) +
      ` (STOMP ${version}${escaped ? '' : ', not escaped'}): ${why}`,
    { ...(frame === undefined ? {} : { frame }), ...(header === undefined ? {} : { header }) },
  );
}
