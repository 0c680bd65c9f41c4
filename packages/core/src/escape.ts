// Header value encoding ("Value Encoding" in the 1.1 and 1.2 specs). STOMP 1.0 has no escapes;
// 1.1 defines \n \c \\; 1.2 adds \r. CONNECT, STOMP and CONNECTED frames are never escaped.
import { ErrorCode, StompProtocolError } from './errors.js';
import type { StompVersion } from './version.js';

const BACKSLASH = 92;

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
    if (c === 92 || c === 58 || c === 10 || c === 13) break;
  }
  if (i === n) return text;
  let out = text.slice(0, i);
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) out += '\\\\';
    else if (c === 58) out += '\\c';
    else if (c === 10) out += '\\n';
    else if (c === 13 && version === '1.2') out += '\\r';
    else out += String.fromCharCode(c);
  }
  return out;
}

/**
 * Undo header escaping. `\r` is only defined in 1.2; any other backslash sequence, and a
 * trailing backslash, is a fatal protocol error as the spec requires.
 */
export function unescapeHeader(text: string, version: StompVersion): string {
  let out = '';
  let from = 0;
  for (let i = text.indexOf('\\'); i !== -1; i = text.indexOf('\\', from)) {
    out += text.slice(from, i);
    const next = text.charCodeAt(i + 1);
    if (next === 110) out += '\n';
    else if (next === 99) out += ':';
    else if (next === BACKSLASH) out += '\\';
    else if (next === 114 && version === '1.2') out += '\r';
    else {
      const seq = Number.isNaN(next) ? '\\ at the end of the value' : `\\${text[i + 1] ?? ''}`;
      throw new StompProtocolError(
        ErrorCode.INVALID_ESCAPE,
        `undefined escape sequence ${seq} in a STOMP ${version} header`,
      );
    }
    from = i + 2;
  }
  return out + text.slice(from);
}
