// Undoing header escapes ("Value Encoding" in the 1.1 and 1.2 specs), apart from escape.ts so that
// Frame, which decodes header spans the parser has already checked, imports no error class (the
// errors carry a Frame: importing them from frame.ts would close an import circle).
import * as octets from './octets.js';
import type { StompVersion } from './version.js';

const BACKSLASH = octets.BACKSLASH;

/**
 * `text` with its escapes undone (`\n`, `\c`, `\\`, and `\r` in 1.2), or, when it holds a backslash
 * sequence `version` does not define (a trailing backslash included), that backslash's index.
 */
export function unescapeText(text: string, version: StompVersion): string | number {
  let out = '';
  let from = 0;
  for (let i = text.indexOf('\\'); i !== -1; i = text.indexOf('\\', from)) {
    out += text.slice(from, i);
    const next = text.charCodeAt(i + 1);
    if (next === 110) out += '\n';
    else if (next === 99) out += ':';
    else if (next === BACKSLASH) out += '\\';
    else if (next === 114 && version === '1.2') out += '\r';
    else return i;
    from = i + 2;
  }
  return out + text.slice(from);
}
