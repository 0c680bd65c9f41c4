// Streaming STOMP frame parser: a byte state machine over Uint8Array chunks.
//
// Frames that fit in one chunk are emitted with bodies that are views (subarray) of that chunk;
// only a frame that straddles chunks is copied, once. Every limit is checked before bytes are
// buffered, so a hostile stream can neither exhaust memory nor make the parser quadratic.
//
// Fast path: a head that lies within one chunk is parsed in one pass (tryFastHead). When it needs
// no unescaping and the body is a view of the same chunk, the headers are not decoded at all: the
// frame keeps the positions of each name and value and decodes on demand (Frame.fromSpans), so it
// keeps alive nothing its body does not. Any other head is decoded before the frame is emitted
// (escapes are therefore still checked, and raised, by push). Anything unusual (1.0 padding, a
// head split across chunks, a malformed line, a limit) takes the general path: scanHead, which
// checks limits as bytes arrive, then parseHead.
import { ByteAccumulator, decodeRange, EMPTY_BYTES } from './bytes.js';
import { ErrorCode, StompError, StompProtocolError } from './errors.js';
import { escapesApply, unescapeHeader } from './escape.js';
import { Command, Frame } from './frame.js';
import { type ParserLimits, resolveLimits } from './limits.js';
import type { StompVersion } from './version.js';

const LF = 10;
const CR = 13;
const COLON = 58;
const BACKSLASH = 92;
const NUL = 0;
const SPACE = 32;
const TAB = 9;

// A content-length body up to this size is allocated as soon as its head is parsed; a larger one
// only once half of it has arrived, so a peer cannot make the parser allocate far more than it sent.
const EAGER_BODY = 64 * 1024;

const State = {
  /** Between frames: EOLs here are heart-beats. */
  Idle: 0,
  /** Saw a CR between frames; an LF must follow. */
  IdleCR: 1,
  /** Inside the command line and headers, looking for the blank line. */
  Head: 2,
  /** Reading a body whose length the content-length header gave. */
  FixedBody: 3,
  /** A content-length body was read; the next byte must be NUL. */
  Terminator: 4,
  /** Reading a body without content-length, up to the first NUL. */
  ScanBody: 5,
  /** An error was raised; every later push raises it again. */
  Failed: 6,
} as const;
type State = (typeof State)[keyof typeof State];

/** Receives what the parser finds, in stream order. */
export interface FrameHandler {
  /** A complete frame. */
  onFrame(frame: Frame): void;
  /** An EOL between frames: a heart-beat. */
  onHeartbeat?(): void;
}

/** Options for {@link FrameParser}. */
export interface ParserOptions {
  /** Protocol version the stream speaks; selects header unescaping. Default `'1.2'`. */
  readonly version?: StompVersion;
  /** Size limits; unspecified ones take {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<ParserLimits>;
}

// Commands grouped by length, so recognising one costs a few byte comparisons and no decoding.
const COMMANDS_BY_LENGTH: ReadonlyMap<number, readonly (readonly [Uint8Array, string])[]> = (() => {
  const names: readonly string[] = Object.values(Command);
  const map = new Map<number, [Uint8Array, string][]>();
  for (const name of names) {
    const bytes = Uint8Array.from(name, (ch) => ch.charCodeAt(0));
    const group = map.get(bytes.length) ?? [];
    group.push([bytes, name]);
    map.set(bytes.length, group);
  }
  return map;
})();

const CONTENT_LENGTH = Uint8Array.from('content-length', (ch) => ch.charCodeAt(0));

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

function preview(buf: Uint8Array, start: number, end: number): string {
  const shown = decodeRange(buf, start, Math.min(end, start + 32));
  return JSON.stringify(end - start > 32 ? `${shown}…` : shown);
}

/**
 * Incremental STOMP frame parser.
 *
 * Feed it bytes with {@link FrameParser.push} as they arrive, split anywhere; it calls the
 * handler for each complete frame and each heart-beat EOL. Malformed input or a broken limit
 * raises a {@link StompProtocolError} from `push` after every frame before the bad bytes was
 * delivered; the parser then stays failed.
 *
 * Emitted frames may share memory with the pushed chunks: do not modify a chunk after pushing it.
 * If the handler throws, the parser fails too (it cannot know which frames were handled).
 *
 * @example
 * ```ts
 * const parser = new FrameParser({ onFrame: (f) => console.log(f.command, f.text) });
 * parser.push(new TextEncoder().encode('SEND\ndestination:/queue/a\n\nhi\0'));
 * ```
 */
export class FrameParser {
  private readonly handler: FrameHandler;
  private readonly limits: ParserLimits;
  private currentVersion: StompVersion;
  private state: State = State.Idle;
  private failure: StompError | undefined;
  /** Bytes consumed over the parser's life: error offsets point into the stream. */
  private consumed = 0;

  // Head scanning, kept across chunks.
  private readonly pending = new ByteAccumulator();
  private headSize = 0;
  private lineLength = 0;
  private lineFirstByte = -1;
  private lines = 0;

  // The frame being read once its head is parsed.
  private command = '';
  private headers: string[] = [];
  // Or, for a head the fast path left undecoded, the chunk it is in and its spans (see
  // Frame.fromSpans). The frame keeps that chunk only if its body is a view of the same chunk;
  // otherwise, and before push returns with the frame incomplete, the headers are decoded.
  private lazySrc: Uint8Array | undefined = undefined;
  private lazySpans: number[] = [];
  private body: Uint8Array = EMPTY_BYTES;
  private bodyFilled = 0;
  private bodySize = 0;

  constructor(handler: FrameHandler, options: ParserOptions = {}) {
    this.handler = handler;
    this.limits = resolveLimits(options.limits);
    this.currentVersion = options.version ?? '1.2';
  }

  /** The version used to decode headers from the next frame on. */
  get version(): StompVersion {
    return this.currentVersion;
  }

  /**
   * Switch the version mid-stream, e.g. from the handler when CONNECTED arrives. It applies to
   * the next frame whose headers are decoded, including frames later in the same chunk.
   */
  setVersion(version: StompVersion): void {
    this.currentVersion = version;
  }

  /** The error that failed the parser, if any. */
  get error(): StompError | undefined {
    return this.failure;
  }

  /** True while a frame has started but is not complete. */
  get inFrame(): boolean {
    return this.state !== State.Idle && this.state !== State.Failed;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.headSize + (this.state === State.ScanBody ? this.bodySize : this.bodyFilled);
  }

  /**
   * Parse the next chunk of the stream. Throws a {@link StompProtocolError} on malformed input
   * or a broken limit, after delivering every complete frame that came before it.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      this.run(chunk);
    } catch (err) {
      this.state = State.Failed;
      this.failure =
        err instanceof StompError
          ? err
          : new StompProtocolError(ErrorCode.PARSER_FAILED, 'the frame handler threw', {
              cause: err,
            });
      this.pending.release();
      this.body = EMPTY_BYTES;
      this.lazySrc = undefined;
      throw this.failure;
    }
  }

  /**
   * Declare the end of the stream. Throws `ERR_STOMP_TRUNCATED_FRAME` if a frame was cut off.
   */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.state !== State.Idle && this.state !== State.IdleCR) {
      this.state = State.Failed;
      this.failure = new StompProtocolError(
        ErrorCode.TRUNCATED_FRAME,
        'the stream ended inside a frame',
        { offset: this.consumed },
      );
      this.pending.release();
      this.body = EMPTY_BYTES;
      this.lazySrc = undefined;
      throw this.failure;
    }
  }

  private fail(
    code: (typeof ErrorCode)[keyof typeof ErrorCode],
    message: string,
    pos: number,
    header?: string,
  ): never {
    throw new StompProtocolError(code, message, {
      offset: this.consumed + pos,
      ...(header === undefined ? {} : { header }),
    });
  }

  private run(buf: Uint8Array): void {
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      switch (this.state) {
        case State.Idle: {
          const b = buf[pos]!;
          if (b === LF) {
            pos++;
            this.handler.onHeartbeat?.();
            continue;
          }
          if (b === CR) {
            pos++;
            this.state = State.IdleCR;
            continue;
          }
          if (b === NUL)
            this.fail(ErrorCode.INVALID_COMMAND, 'a NUL octet where a command was expected', pos);
          {
            // Common case: the whole head is in this chunk and nothing is unusual.
            const next = this.tryFastHead(buf, pos);
            if (next !== -1) {
              pos = next;
              continue;
            }
          }
          this.state = State.Head;
          this.headSize = 0;
          this.lineLength = 0;
          this.lineFirstByte = -1;
          this.lines = 0;
          pos = this.scanHead(buf, pos);
          continue;
        }
        case State.IdleCR:
          if (buf[pos] !== LF)
            this.fail(ErrorCode.INVALID_EOL, 'a CR between frames not followed by LF', pos);
          pos++;
          this.state = State.Idle;
          this.handler.onHeartbeat?.();
          continue;
        case State.Head:
          pos = this.scanHead(buf, pos);
          continue;
        case State.FixedBody: {
          const want = this.bodySize - this.bodyFilled;
          if (this.bodyFilled === 0 && end - pos >= want) {
            // The whole body is in this chunk: hand out a view, copy nothing.
            this.body = buf.subarray(pos, pos + want);
            pos += want;
            this.state = State.Terminator;
            continue;
          }
          const take = Math.min(want, end - pos);
          const piece = buf.subarray(pos, pos + take);
          const filled = this.bodyFilled + take;
          if (this.body.length === 0) {
            // Not allocated yet: allocate once the peer has sent enough to justify it.
            if (this.bodySize <= EAGER_BODY || filled * 2 >= this.bodySize) {
              this.body = new Uint8Array(this.bodySize);
              this.pending.moveTo(this.body);
              this.body.set(piece, this.bodyFilled);
            } else {
              this.pending.append(piece);
            }
          } else {
            this.body.set(piece, this.bodyFilled);
          }
          this.bodyFilled = filled;
          pos += take;
          if (filled === this.bodySize) this.state = State.Terminator;
          continue;
        }
        case State.Terminator:
          if (buf[pos] !== NUL) {
            this.fail(
              ErrorCode.MISSING_NULL,
              `the ${String(this.bodySize)}-byte body given by content-length is not followed by NUL`,
              pos,
            );
          }
          pos++;
          this.emit(this.body);
          continue;
        case State.ScanBody: {
          const nul = buf.indexOf(NUL, pos);
          const stop = nul === -1 ? end : nul;
          const size = this.bodySize + (stop - pos);
          this.checkBodySize(size, pos, this.bodySize);
          if (nul === -1) {
            this.pending.append(buf.subarray(pos, end));
            this.bodySize = size;
            pos = end;
            continue;
          }
          const body = this.pending.take(buf.subarray(pos, nul));
          pos = nul + 1;
          this.emit(body);
          continue;
        }
        case State.Failed:
          throw this.failure!;
      }
    }
    // Never keep a chunk alive between pushes for a head.
    if (this.lazySrc !== undefined) this.decodeLazyHead();
    this.consumed += end;
  }

  /**
   * Decode the headers the fast path left in the chunk (they need no unescaping), and forget the
   * chunk. Cheaper than copying the header lines: repeated tokens come from the token cache.
   */
  private decodeLazyHead(): void {
    const src = this.lazySrc!;
    const spans = this.lazySpans;
    const headers: string[] = [];
    for (let k = 0; k < spans.length; k += 3) {
      const colon = spans[k + 1]!;
      headers.push(decodeRange(src, spans[k]!, colon), decodeRange(src, colon + 1, spans[k + 2]!));
    }
    this.headers = headers;
    this.lazySrc = undefined;
  }

  /**
   * Fail when a body of `size` bytes breaks the body limit or leaves the frame too large. `pos` is
   * where the error is reported; with `seen`, the body bytes before `pos`, it is moved to the first
   * byte over the limit (so the offset does not depend on how the stream was chunked).
   */
  private checkBodySize(size: number, pos: number, seen?: number): void {
    const limits = this.limits;
    // Room left in the frame for the body, after the head and before the NUL.
    const room = limits.maxFrameSize - this.headSize - 1;
    if (size <= limits.maxBodySize && size <= room) return;
    if (seen !== undefined) pos += Math.max(0, Math.min(limits.maxBodySize, room) - seen);
    if (limits.maxBodySize <= room) {
      this.fail(
        ErrorCode.BODY_TOO_LARGE,
        `the ${this.command} body exceeds ${String(limits.maxBodySize)} bytes`,
        pos,
      );
    }
    this.fail(
      ErrorCode.FRAME_TOO_LARGE,
      `the ${this.command} frame exceeds ${String(limits.maxFrameSize)} bytes`,
      pos,
    );
  }

  private emit(body: Uint8Array): void {
    let frame: Frame;
    const src = this.lazySrc;
    // A lazy head is still set only when the whole frame was in this chunk (see the end of run),
    // so its body, unless it is the shared empty one, is a view of the same chunk: the body keeps
    // the chunk alive anyway, and the frame may as well decode its headers from it.
    if (src !== undefined && body !== EMPTY_BYTES) {
      frame = Frame.fromSpans(this.command, src, this.lazySpans, body);
      this.lazySrc = undefined;
    } else {
      if (src !== undefined) this.decodeLazyHead();
      frame = Frame.fromRaw(this.command, this.headers, body);
      this.headers = [];
    }
    this.state = State.Idle;
    this.body = EMPTY_BYTES;
    this.bodyFilled = 0;
    this.bodySize = 0;
    this.headSize = 0;
    this.handler.onFrame(frame);
  }

  /**
   * Look for the blank line that ends the head, from `pos`. Returns the position after the
   * consumed bytes. Line length, line count and head size are checked as bytes are seen, before
   * any of them is kept.
   */
  private scanHead(buf: Uint8Array, pos: number): number {
    const end = buf.length;
    const limits = this.limits;
    const segmentStart = pos;
    // The head may not outgrow the header limit, nor leave no room in the frame for its NUL.
    const maxHead = Math.min(limits.maxHeaderBytes, limits.maxFrameSize - 1);
    let lineStart = pos;
    for (;;) {
      // A JS loop: header lines are short, and indexOf costs a builtin call per line.
      let stop = pos;
      while (stop < end && buf[stop] !== LF) stop++;
      const lf = stop === end ? -1 : stop;
      const lineLength = this.lineLength + (stop - lineStart);
      // Bytes of the head so far, this line's LF included.
      const headSize = this.headSize + (stop - segmentStart) + (lf === -1 ? 0 : 1);
      if (lineLength > limits.maxHeaderLineLength || headSize > maxHead) {
        this.failHead(segmentStart, lineStart, lineLength, headSize, maxHead);
      }
      if (lf === -1) {
        // The head continues in the next chunk: keep this part.
        if (stop > lineStart && this.lineLength === 0) this.lineFirstByte = buf[lineStart]!;
        this.lineLength = lineLength;
        this.pending.append(buf.subarray(segmentStart, end));
        this.headSize = headSize;
        return end;
      }
      const first =
        this.lineLength > 0 ? this.lineFirstByte : lineLength > 0 ? buf[lineStart]! : -1;
      const blank = lineLength === 0 || (lineLength === 1 && first === CR);
      this.lineLength = 0;
      this.lineFirstByte = -1;
      pos = lf + 1;
      lineStart = pos;
      if (blank && this.lines > 0) {
        let head: Uint8Array;
        let headStart: number;
        if (this.pending.size === 0) {
          head = buf;
          headStart = segmentStart;
        } else {
          head = this.pending.take(buf.subarray(segmentStart, pos));
          headStart = 0;
        }
        this.headSize = headSize;
        this.parseHead(head, headStart, headStart + headSize, pos);
        return pos;
      }
      this.lines++;
      if (this.lines > limits.maxHeaders + 1) {
        this.fail(ErrorCode.TOO_MANY_HEADERS, `more than ${String(limits.maxHeaders)} headers`, lf);
      }
    }
  }

  /**
   * Raise the error for the first byte of the head that broke a limit. Choosing by byte position,
   * not by the order of the checks, makes the error the same however the stream was chunked.
   */
  private failHead(
    segmentStart: number,
    lineStart: number,
    lineLength: number,
    headSize: number,
    maxHead: number,
  ): never {
    const limits = this.limits;
    const lineAt =
      lineLength > limits.maxHeaderLineLength
        ? lineStart + limits.maxHeaderLineLength - this.lineLength
        : Infinity;
    const headAt = headSize > maxHead ? segmentStart + maxHead - this.headSize : Infinity;
    if (lineAt <= headAt) {
      this.fail(
        ErrorCode.HEADER_TOO_LARGE,
        `a header line exceeds ${String(limits.maxHeaderLineLength)} bytes`,
        lineAt,
      );
    }
    if (maxHead === limits.maxHeaderBytes) {
      this.fail(
        ErrorCode.HEADER_TOO_LARGE,
        `the headers exceed ${String(limits.maxHeaderBytes)} bytes`,
        headAt,
      );
    }
    this.fail(
      ErrorCode.FRAME_TOO_LARGE,
      `the frame exceeds ${String(limits.maxFrameSize)} bytes`,
      headAt,
    );
  }

  /** Decode the command and headers in `head[start, end)`, then set up the body state. */
  private parseHead(head: Uint8Array, start: number, end: number, bodyPos: number): void {
    // Where head[k] sits in the current chunk (negative when it came in an earlier one).
    const shift = bodyPos - end;
    // Command line.
    let lf = head.indexOf(LF, start);
    let lineEnd = lf > start && head[lf - 1] === CR ? lf - 1 : lf;
    const command = matchCommand(head, start, lineEnd);
    if (command === undefined) {
      this.fail(
        ErrorCode.INVALID_COMMAND,
        `unknown command ${preview(head, start, lineEnd)}`,
        shift + start,
      );
    }
    this.command = command;
    const version = this.currentVersion;
    const unescape = escapesApply(command, version);
    const headers: string[] = [];
    let lineStart = lf + 1;
    // The head ends with the blank line; stop before it.
    while (lineStart < end) {
      // One pass per line finds the LF, the first colon and any backslash. The head ends with
      // the blank line's LF, so the loop stops within it.
      let colon = -1;
      let escaped = false;
      let i = lineStart;
      for (; ; i++) {
        const b = head[i]!;
        if (b === LF) break;
        if (b === COLON) {
          if (colon === -1) colon = i;
        } else if (b === BACKSLASH) {
          escaped = true;
        }
      }
      lf = i;
      lineEnd = head[lf - 1] === CR && lf - 1 >= lineStart ? lf - 1 : lf;
      if (lineEnd === lineStart) break;
      if (colon === -1) {
        this.fail(
          ErrorCode.INVALID_HEADER,
          `header line ${preview(head, lineStart, lineEnd)} has no ':'`,
          shift + lineStart,
        );
      }
      if (colon === lineStart) {
        this.fail(
          ErrorCode.INVALID_HEADER,
          `header line ${preview(head, lineStart, lineEnd)} has an empty name`,
          shift + lineStart,
        );
      }
      let name = decodeRange(head, lineStart, colon);
      let value = decodeRange(head, colon + 1, lineEnd);
      if (unescape && escaped) {
        try {
          name = unescapeHeader(name, version);
          value = unescapeHeader(value, version);
        } catch (err) {
          if (!(err instanceof StompError)) throw err;
          this.fail(err.code, err.message, shift + lineStart, name);
        }
      }
      headers.push(name, value);
      lineStart = lf + 1;
    }
    if (version === '1.0' && shouldTrim10(command, headers)) trimPadding(headers);
    this.finishHead(headers, bodyPos);
  }

  /** Find content-length in the decoded `headers` and set up the body state. */
  private finishHead(headers: string[], bodyPos: number): void {
    let contentLength: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === 'content-length') {
        contentLength = headers[i + 1];
        break;
      }
    }
    this.headers = headers;
    if (contentLength === undefined) {
      this.state = State.ScanBody;
      this.bodySize = 0;
      return;
    }
    const size = parseContentLength(contentLength);
    if (size === undefined) {
      throw new StompProtocolError(
        ErrorCode.INVALID_CONTENT_LENGTH,
        `content-length ${JSON.stringify(contentLength)} is not a non-negative integer`,
        { header: 'content-length', offset: this.consumed + bodyPos },
      );
    }
    this.checkBodySize(size, bodyPos);
    this.bodySize = size;
    this.bodyFilled = 0;
    this.body = EMPTY_BYTES;
    this.state = size === 0 ? State.Terminator : State.FixedBody;
  }

  /**
   * Like {@link finishHead}, with content-length (header `k` in `spans`, or -1) parsed from the
   * bytes.
   */
  private finishLazyHead(
    buf: Uint8Array,
    spans: readonly number[],
    k: number,
    bodyPos: number,
  ): void {
    if (k === -1) {
      this.state = State.ScanBody;
      this.bodySize = 0;
      return;
    }
    const from = spans[k + 1]! + 1;
    const to = spans[k + 2]!;
    let size = 0;
    for (let i = from; i < to; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) {
        size = -1;
        break;
      }
      size = size * 10 + d;
    }
    if (size === -1 || from === to) {
      throw new StompProtocolError(
        ErrorCode.INVALID_CONTENT_LENGTH,
        `content-length ${JSON.stringify(decodeRange(buf, from, to))} is not a non-negative integer`,
        { header: 'content-length', offset: this.consumed + bodyPos },
      );
    }
    if (!Number.isSafeInteger(size)) size = Infinity;
    this.checkBodySize(size, bodyPos);
    this.bodySize = size;
    this.bodyFilled = 0;
    this.body = EMPTY_BYTES;
    this.state = size === 0 ? State.Terminator : State.FixedBody;
  }

  /**
   * The common case in one pass: when the whole head (command line to blank line) is in `buf`
   * from `start`, nothing breaks a limit and every line is well formed, parse it here and return
   * the position after it. Otherwise return -1 having changed nothing: {@link scanHead} and
   * {@link parseHead} then run and raise the same errors as always. STOMP 1.0 (padding) always
   * takes that path.
   */
  private tryFastHead(buf: Uint8Array, start: number): number {
    const version = this.currentVersion;
    if (version === '1.0') return -1;
    const limits = this.limits;
    const maxLine = limits.maxHeaderLineLength;
    // The blank line's LF must lie before `limit`: the chunk's end or the head size limit.
    const limit = Math.min(
      buf.length,
      start + Math.min(limits.maxHeaderBytes, limits.maxFrameSize - 1),
    );
    let i = start;
    while (i < limit && buf[i] !== LF) i++;
    if (i === limit || i - start > maxLine) return -1;
    const command = matchCommand(buf, start, i > start && buf[i - 1] === CR ? i - 1 : i);
    if (command === undefined) return -1;
    // Per header: name start, colon, value end (positions in buf).
    const spans: number[] = [];
    // Index in spans of the first content-length header.
    let contentLength = -1;
    let escaped = false;
    let lineStart = i + 1;
    for (;;) {
      let colon = -1;
      let j = lineStart;
      for (; j < limit; j++) {
        const b = buf[j]!;
        if (b === LF) break;
        if (b === COLON) {
          if (colon === -1) colon = j;
        } else if (b === BACKSLASH) {
          escaped = true;
        }
      }
      if (j === limit || j - lineStart > maxLine) return -1;
      const lineEnd = j > lineStart && buf[j - 1] === CR ? j - 1 : j;
      if (lineEnd === lineStart) {
        lineStart = j + 1;
        break;
      }
      // A line without ':' or with an empty name, or too many headers: the slow path reports it.
      if (colon === -1 || colon === lineStart || spans.length >= limits.maxHeaders * 3) return -1;
      if (contentLength === -1 && colon - lineStart === CONTENT_LENGTH.length) {
        let k = 0;
        while (k < CONTENT_LENGTH.length && buf[lineStart + k] === CONTENT_LENGTH[k]) k++;
        if (k === CONTENT_LENGTH.length) contentLength = spans.length;
      }
      spans.push(lineStart, colon, lineEnd);
      lineStart = j + 1;
    }
    // The head is complete and within every limit: from here on, errors are final.
    this.command = command;
    this.headSize = lineStart - start;
    const unescape = escaped && escapesApply(command, version);
    if (!unescape && spans.length > 0) {
      // Nothing to unescape: the frame decodes its headers when asked. (A head with escapes is
      // decoded below, now, so that an undefined escape is still raised by push.)
      this.lazySrc = buf;
      this.lazySpans = spans;
      this.finishLazyHead(buf, spans, contentLength, lineStart);
      return lineStart;
    }
    const headers: string[] = [];
    for (let k = 0; k < spans.length; k += 3) {
      const nameStart = spans[k]!;
      const colon = spans[k + 1]!;
      let name = decodeRange(buf, nameStart, colon);
      let value = decodeRange(buf, colon + 1, spans[k + 2]!);
      if (unescape) {
        try {
          name = unescapeHeader(name, version);
          value = unescapeHeader(value, version);
        } catch (err) {
          if (!(err instanceof StompError)) throw err;
          this.fail(err.code, err.message, nameStart, name);
        }
      }
      headers.push(name, value);
    }
    this.finishHead(headers, lineStart);
    return lineStart;
  }
}

// STOMP 1.0 peers pad headers ("destination: /queue/a", as in the 1.0 spec's own examples), so
// 1.0 frames are trimmed. A CONNECT with accept-version comes from a 1.1+ client and is not:
// 1.1 and 1.2 forbid trimming.
function shouldTrim10(command: string, headers: readonly string[]): boolean {
  if (command !== 'CONNECT' && command !== 'STOMP') return true;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'accept-version') return false;
  return true;
}

// Only the spaces and tabs 1.0 peers pad with: String#trim would also eat CR, NBSP and other
// Unicode spaces that belong to the value.
function trimPadding(headers: string[]): void {
  for (let i = 0; i < headers.length; i++) {
    const text = headers[i]!;
    const n = text.length;
    let start = 0;
    let end = n;
    while (start < end && isPadding(text.charCodeAt(start))) start++;
    while (end > start && isPadding(text.charCodeAt(end - 1))) end--;
    if (start !== 0 || end !== n) headers[i] = text.slice(start, end);
  }
}

function isPadding(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Parse a content-length value: ASCII digits only, no sign, no spaces. Returns `undefined` when it
 * is not a number, and `Infinity` for a number too large to represent (it breaks every limit).
 */
function parseContentLength(value: string): number | undefined {
  if (value.length === 0) return undefined;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : Infinity;
}

/**
 * Parse a complete byte string into frames (heart-beats are skipped). Throws on malformed or
 * truncated input. Convenient for tests and one-off decoding; streams should use
 * {@link FrameParser}.
 */
export function parseFrames(bytes: Uint8Array, options: ParserOptions = {}): Frame[] {
  const frames: Frame[] = [];
  const parser = new FrameParser({ onFrame: (frame) => frames.push(frame) }, options);
  parser.push(bytes);
  parser.end();
  return frames;
}
