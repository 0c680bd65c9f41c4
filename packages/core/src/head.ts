// A frame's head (command line, header lines, blank line) parsed from bytes in one pass: each line
// is scanned once (scanLine finds its LF, its first colon and whether it holds a backslash), the
// headers become byte spans for Frame.fromSpans (nothing is decoded here), escapes are checked on
// the bytes, STOMP 1.0 padding is trimmed from the spans, and content-length is read from its
// digits. The parser calls parseHead on a head that lies in one chunk, and on a head that straddled
// chunks once it has gathered it (FrameParser.scanHead), so both take the same path.
import { decodeRange } from './bytes.js';
import { ErrorCode, StompProtocolError } from './errors.js';
import { badEscape, escapesApply, unescapeHeader } from './escape.js';
import { Command } from './frame.js';
import type { ParserLimits } from './limits.js';
import * as octets from './octets.js';
import type { StompVersion } from './version.js';

// Module-level copies, one per line: V8 folds a module's own constants into the scanning loops, but
// neither imported bindings (each use is a cell load and a TDZ check) nor destructured ones
// (measured with bench/tools/callgrind-parse.sh: +35% and +6% instructions per frame).
const BACKSLASH = octets.BACKSLASH;
const COLON = octets.COLON;
const CR = octets.CR;
const LF = octets.LF;
const isPadding = octets.isPadding;

/** What {@link scanLine} found besides the line end. Reused: no object per line. */
export const line = {
  /** The first colon of the line, or -1. */
  colon: -1,
  /** Whether the line holds a backslash. */
  escaped: false,
};

/**
 * Scan `buf[from, to)` for the end of a line: returns the position of its LF, or `to` when there
 * is none; sets {@link line}. A JS loop: header lines are short, and indexOf costs a builtin call
 * per line.
 */
export function scanLine(buf: Uint8Array, from: number, to: number): number {
  let colon = -1;
  let escaped = false;
  let i = from;
  for (; i < to; i++) {
    const b = buf[i]!;
    if (b === LF) break;
    if (b === COLON) {
      if (colon === -1) colon = i;
    } else if (b === BACKSLASH) {
      escaped = true;
    }
  }
  line.colon = colon;
  line.escaped = escaped;
  return i;
}

/**
 * The value of the ASCII digits `buf[from, to)`: -1 when there are none or another byte is among
 * them (no sign, no spaces), `Infinity` for a number too large to represent (it breaks every
 * limit).
 */
export function parseDigits(buf: Uint8Array, from: number, to: number): number {
  if (from === to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : Infinity;
}

/** A parsed head, filled in by {@link parseHead}. */
export interface Head {
  command: string;
  /** Per header: name start, name end, value start, value end (see Frame.fromSpans). */
  spans: number[];
  /** Whether some token holds an escape to undo. */
  unescape: boolean;
  /** The content-length, or -1 without one (then the body ends at the first NUL). */
  contentLength: number;
}

// Commands grouped by length, so recognising one costs a few byte comparisons and no decoding.
const COMMANDS_BY_LENGTH: ReadonlyMap<number, readonly (readonly [Uint8Array, string])[]> = (() => {
  const map = new Map<number, [Uint8Array, string][]>();
  for (const name of Object.values(Command) as string[]) {
    const bytes = ascii(name);
    const group = map.get(bytes.length) ?? [];
    group.push([bytes, name]);
    map.set(bytes.length, group);
  }
  return map;
})();

const CONTENT_LENGTH = ascii('content-length');
const ACCEPT_VERSION = ascii('accept-version');
const RECEIPT = ascii('receipt');

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

function matchCommand(buf: Uint8Array, start: number, end: number): string | undefined {
  const group = COMMANDS_BY_LENGTH.get(end - start);
  if (group === undefined) return undefined;
  outer: for (const [bytes, name] of group) {
    for (let i = 0; i < bytes.length; i++) {
      if (buf[start + i] !== bytes[i]) continue outer;
    }
    return name;
  }
  return undefined;
}

/** The index in `spans` of the first header whose name is `name`, or -1. */
function findHeader(buf: Uint8Array, spans: readonly number[], name: Uint8Array): number {
  const n = name.length;
  for (let k = 0; k < spans.length; k += 4) {
    const start = spans[k]!;
    if (spans[k + 1]! - start !== n) continue;
    let i = 0;
    while (i < n && buf[start + i] === name[i]) i++;
    if (i === n) return k;
  }
  return -1;
}

/**
 * The `receipt` header among `spans` (escapes undone when `escapes`), if there is one: a frame
 * that is refused as malformed is still answered with its `receipt-id` ([1.2 ERROR]). The spans
 * hold only lines already checked, so undoing their escapes cannot fail.
 */
export function receiptOf(
  buf: Uint8Array,
  spans: readonly number[],
  escapes: boolean,
  version: StompVersion,
): string | undefined {
  const k = findHeader(buf, spans, RECEIPT);
  if (k < 0) return undefined;
  const value = decodeRange(buf, spans[k + 2]!, spans[k + 3]!);
  return escapes ? unescapeHeader(value, version) : value;
}

function preview(buf: Uint8Array, start: number, end: number): string {
  const shown = decodeRange(buf, start, Math.min(end, start + 32));
  return JSON.stringify(end - start > 32 ? `${shown}…` : shown);
}

/**
 * Parse the head that starts at `buf[start]` into `out`, and return the position after its blank
 * line. Returns -1, having changed nothing, when the head does not end within `buf` or breaks a
 * size limit: the parser's byte-by-byte scan (which reports limits by byte position, so the error
 * does not depend on chunking) takes over. A malformed head throws, but only once the whole head
 * is known to be within the limits, for the same reason. `base` is the stream offset of `buf[0]`,
 * for error offsets.
 */
export function parseHead(
  buf: Uint8Array,
  start: number,
  limits: ParserLimits,
  version: StompVersion,
  base: number,
  out: Head,
): number {
  const maxLine = limits.maxHeaderLineLength;
  let headers = 0;
  // The blank line's LF must lie before `limit`: the end of `buf` or the head size limit.
  const limit = Math.min(
    buf.length,
    start + Math.min(limits.maxHeaderBytes, limits.maxFrameSize - 1),
  );
  let lf = scanLine(buf, start, limit);
  if (lf === limit || lf - start > maxLine) return -1;
  const commandEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
  const command = matchCommand(buf, start, commandEnd);
  // The first syntax fault and the line it is on, raised once the head is known to be within the
  // limits. (Plain numbers: a closure here would cost a context allocation on every call.)
  let fault: Fault = command === undefined ? Fault.Command : Fault.None;
  let faultStart = start;
  let faultColon = -1;
  let faultEnd = commandEnd;
  const escapes = command !== undefined && escapesApply(command, version);
  const spans: number[] = [];
  let unescape = false;
  let lineStart = lf + 1;
  for (;;) {
    lf = scanLine(buf, lineStart, limit);
    if (lf === limit || lf - lineStart > maxLine) return -1;
    const lineEnd = lf > lineStart && buf[lf - 1] === CR ? lf - 1 : lf;
    if (lineEnd === lineStart) {
      lineStart = lf + 1;
      break;
    }
    if (++headers > limits.maxHeaders) return -1;
    if (fault === Fault.None) {
      const colon = line.colon;
      if (colon === -1 || colon === lineStart) {
        fault = colon === -1 ? Fault.NoColon : Fault.EmptyName;
      } else if (
        line.escaped &&
        escapes &&
        (badEscape(buf, lineStart, colon, version) >= 0 ||
          badEscape(buf, colon + 1, lineEnd, version) >= 0)
      ) {
        fault = Fault.Escape;
      } else {
        unescape ||= line.escaped && escapes;
        spans.push(lineStart, colon, colon + 1, lineEnd);
        lineStart = lf + 1;
        continue;
      }
      faultStart = lineStart;
      faultColon = colon;
      faultEnd = lineEnd;
    }
    lineStart = lf + 1;
  }
  if (fault !== Fault.None) {
    const receipt = receiptOf(buf, spans, escapes, version);
    throw faultError(fault, buf, faultStart, faultColon, faultEnd, version, base, receipt);
  }
  // STOMP 1.0 peers pad headers ("destination: /queue/a", as in the 1.0 spec's own examples), so
  // 1.0 frames are trimmed. A CONNECT with accept-version comes from a 1.1+ client and is not:
  // 1.1 and 1.2 forbid trimming.
  if (
    version === '1.0' &&
    ((command !== 'CONNECT' && command !== 'STOMP') || findHeader(buf, spans, ACCEPT_VERSION) < 0)
  ) {
    trimSpans(buf, spans);
  }
  const k = findHeader(buf, spans, CONTENT_LENGTH);
  let contentLength = -1;
  if (k >= 0) {
    contentLength = parseDigits(buf, spans[k + 2]!, spans[k + 3]!);
    if (contentLength === -1) {
      throw new StompProtocolError(
        ErrorCode.INVALID_CONTENT_LENGTH,
        `content-length ${JSON.stringify(decodeRange(buf, spans[k + 2]!, spans[k + 3]!))} is not a non-negative integer`,
        {
          header: 'content-length',
          offset: base + lineStart,
          receipt: receiptOf(buf, spans, escapes, version),
        },
      );
    }
  }
  out.command = command!;
  out.spans = spans;
  out.unescape = unescape;
  out.contentLength = contentLength;
  return lineStart;
}

const Fault = { None: 0, Command: 1, NoColon: 2, EmptyName: 3, Escape: 4 } as const;
type Fault = (typeof Fault)[keyof typeof Fault];

/** The error for `fault`, found on the line `buf[start, end)` (its first colon at `colon`). */
function faultError(
  fault: Fault,
  buf: Uint8Array,
  start: number,
  colon: number,
  end: number,
  version: StompVersion,
  base: number,
  receipt: string | undefined,
): StompProtocolError {
  const offset = base + start;
  if (fault === Fault.Command) {
    return new StompProtocolError(
      ErrorCode.INVALID_COMMAND,
      `unknown command ${preview(buf, start, end)}`,
      { offset, receipt },
    );
  }
  if (fault !== Fault.Escape) {
    return new StompProtocolError(
      ErrorCode.INVALID_HEADER,
      `header line ${preview(buf, start, end)} ${fault === Fault.NoColon ? "has no ':'" : 'has an empty name'}`,
      { offset, receipt },
    );
  }
  // Named as far as it can be read: the name unescaped, unless the bad escape is in it.
  const inName = badEscape(buf, start, colon, version);
  const at = inName >= 0 ? inName : badEscape(buf, colon + 1, end, version);
  const name = decodeRange(buf, start, colon);
  const seq =
    at + 1 === (inName >= 0 ? colon : end)
      ? '\\ at the end of the value'
      : `\\${decodeRange(buf, at + 1, at + 2)}`;
  return new StompProtocolError(
    ErrorCode.INVALID_ESCAPE,
    `undefined escape sequence ${seq} in a STOMP ${version} header`,
    { offset, header: inName >= 0 ? name : unescapeHeader(name, version), receipt },
  );
}

/** Trim spaces and tabs around every name and value (STOMP 1.0 padding). */
function trimSpans(buf: Uint8Array, spans: number[]): void {
  for (let k = 0; k < spans.length; k += 2) {
    let from = spans[k]!;
    let to = spans[k + 1]!;
    while (from < to && isPadding(buf[from]!)) from++;
    while (to > from && isPadding(buf[to - 1]!)) to--;
    spans[k] = from;
    spans[k + 1] = to;
  }
}
