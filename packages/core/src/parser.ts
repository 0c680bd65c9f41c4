// Streaming STOMP frame parser: a byte state machine over Uint8Array chunks.
//
// Frames that fit in one chunk are emitted with bodies that are views (subarray) of that chunk. A
// body that straddles chunks is never copied here: the frame gets the pieces it arrived in (views
// of the chunks; pieces under 512 bytes packed into a shared block) and joins them only if its
// `body` is read (Frame.bodyChunks hands them out for a vectored write). Every limit is checked
// before bytes are kept, so a hostile stream can neither exhaust memory nor make the parser
// quadratic.
//
// Heads take one path (head.ts): parseHead scans each line once into byte spans, which the frame
// decodes on demand (Frame.fromSpans). A head that lies in one chunk is parsed where it lies; one
// that straddles chunks, or breaks a limit, is first scanned byte by byte as it arrives
// (scanHead: it checks the limits and reports them by byte position, so the error does not depend
// on chunking) and gathered, then parsed the same way. A frame keeps its head's chunk only if its
// body is a view of the same chunk: a head whose body comes later is copied out of its chunk
// before push returns, and the headers of a frame with an empty body are decoded at once.
import { ByteAccumulator, EMPTY_BYTES } from './bytes.js';
import { ErrorCode, StompError, StompProtocolError } from './errors.js';
import { Frame, type ParsedBody } from './frame.js';
import { type Head, parseHead, receiptOf, scanLine } from './head.js';
import { type ParserLimits, resolveLimits } from './limits.js';
import * as octets from './octets.js';
import type { StompVersion } from './version.js';

// Module-level copies, which V8 folds (see head.ts).
const CR = octets.CR;
const LF = octets.LF;
const NUL = octets.NUL;

const State = {
  /** Between frames: EOLs here are heart-beats. */
  Idle: 0,
  /** Saw a CR between frames; an LF must follow. */
  IdleCR: 1,
  /** Inside a head that straddles chunks (or breaks a limit), looking for the blank line. */
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

/**
 * Incremental STOMP frame parser.
 *
 * Feed it bytes with {@link FrameParser.push} as they arrive, split anywhere; it calls the
 * handler for each complete frame and each heart-beat EOL. Malformed input or a broken limit
 * raises a {@link StompProtocolError} from `push` after every frame before the bad bytes was
 * delivered; the parser then stays failed.
 *
 * Emitted frames may share memory with the pushed chunks (bodies are views of them, or lists of
 * views for a body that straddled chunks): do not modify a chunk after pushing it. If the handler
 * throws, the parser fails too (it cannot know which frames were handled).
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

  // A head that straddles chunks, scanned as it arrives (its bytes gather in `pending`).
  private readonly pending = new ByteAccumulator();
  private headSize = 0;
  private lineLength = 0;
  private lineFirstByte = -1;
  private lines = 0;

  // The frame being read once its head is parsed: the head, as spans into `headSrc`, which is the
  // chunk being parsed (from `headStart`) when `headInChunk`, else the head's own copy.
  private readonly head: Head = { command: '', spans: [], unescape: false, contentLength: -1 };
  private headSrc: Uint8Array | undefined = undefined;
  private headStart = 0;
  private headInChunk = false;
  // The body: its size (so far, for ScanBody), and how much of a FixedBody has arrived. The bytes
  // are a view of the chunk (`body`) or, when they straddle chunks, pieces in `pending`.
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
   * the next frame whose head is parsed, including frames later in the same chunk.
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
      this.failWith(
        err instanceof StompError
          ? err
          : new StompProtocolError(ErrorCode.PARSER_FAILED, 'the frame handler threw', {
              cause: err,
            }),
      );
    }
  }

  /**
   * Declare the end of the stream. Throws `ERR_STOMP_TRUNCATED_FRAME` if a frame was cut off.
   */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.state !== State.Idle && this.state !== State.IdleCR) {
      this.failWith(
        new StompProtocolError(ErrorCode.TRUNCATED_FRAME, 'the stream ended inside a frame', {
          offset: this.consumed,
        }),
      );
    }
  }

  private failWith(error: StompError): never {
    this.state = State.Failed;
    this.failure = error;
    this.pending.release();
    this.body = EMPTY_BYTES;
    this.headSrc = undefined;
    throw error;
  }

  private fail(
    code: (typeof ErrorCode)[keyof typeof ErrorCode],
    message: string,
    pos: number,
    receipt?: string,
  ): never {
    throw new StompProtocolError(code, message, { offset: this.consumed + pos, receipt });
  }

  /** The `receipt` header of the frame whose head was parsed, for the error that refuses it. */
  private headReceipt(): string | undefined {
    // The parser checked the head's escapes: 1.2's set undoes them (as Frame does).
    return receiptOf(this.headSrc!, this.head.spans, this.head.unescape, '1.2');
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
          // Common case: the whole head is in this chunk and within the limits.
          const next = parseHead(
            buf,
            pos,
            this.limits,
            this.currentVersion,
            this.consumed,
            this.head,
          );
          if (next !== -1) {
            this.headSize = next - pos;
            this.headSrc = buf;
            this.headStart = pos;
            this.headInChunk = true;
            this.startBody(next);
            pos = next;
            continue;
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
          // It straddles chunks: keep the pieces (views, or packed when small), copy nothing.
          const take = Math.min(want, end - pos);
          this.pending.append(buf.subarray(pos, pos + take));
          this.bodyFilled += take;
          pos += take;
          if (this.bodyFilled === this.bodySize) this.state = State.Terminator;
          continue;
        }
        case State.Terminator:
          if (buf[pos] !== NUL) {
            this.fail(
              ErrorCode.MISSING_NULL,
              `the ${String(this.bodySize)}-byte body given by content-length is not followed by NUL`,
              pos,
              this.headReceipt(),
            );
          }
          pos++;
          this.emit(this.pending.size === 0 ? this.body : this.pending.takePieces());
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
          let body: ParsedBody = buf.subarray(pos, nul);
          if (this.pending.size > 0) {
            this.pending.append(body);
            body = this.pending.takePieces();
          }
          pos = nul + 1;
          this.emit(body);
          continue;
        }
        case State.Failed:
          throw this.failure!;
      }
    }
    // Never keep a chunk alive between pushes for a head: copy the head out of it.
    if (this.headInChunk && this.state !== State.Idle) this.copyHead();
    this.consumed += end;
  }

  /** Give the head bytes of their own (the frame will outlive the chunk they are in). */
  private copyHead(): void {
    const start = this.headStart;
    const spans = this.head.spans;
    for (let k = 0; k < spans.length; k++) spans[k] = spans[k]! - start;
    this.headSrc = this.headSrc!.slice(start, start + this.headSize);
    this.headStart = 0;
    this.headInChunk = false;
  }

  /** Set up the body state for the head just parsed; the body starts at `bodyPos`. */
  private startBody(bodyPos: number): void {
    const size = this.head.contentLength;
    this.bodyFilled = 0;
    this.body = EMPTY_BYTES;
    if (size === -1) {
      this.state = State.ScanBody;
      this.bodySize = 0;
      return;
    }
    this.checkBodySize(size, bodyPos);
    this.bodySize = size;
    this.state = size === 0 ? State.Terminator : State.FixedBody;
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
    const command = this.head.command;
    if (limits.maxBodySize <= room) {
      this.fail(
        ErrorCode.BODY_TOO_LARGE,
        `the ${command} body exceeds ${String(limits.maxBodySize)} bytes`,
        pos,
        this.headReceipt(),
      );
    }
    this.fail(
      ErrorCode.FRAME_TOO_LARGE,
      `the ${command} frame exceeds ${String(limits.maxFrameSize)} bytes`,
      pos,
      this.headReceipt(),
    );
  }

  private emit(body: ParsedBody): void {
    const head = this.head;
    // The body is a view of the head's chunk (see the end of run), or the head has its own bytes.
    const frame = Frame.fromSpans(head.command, this.headSrc!, head.spans, head.unescape, body);
    // Nothing of the chunk would be kept but the head: decode it now, keep nothing.
    if (this.headInChunk && body === EMPTY_BYTES) frame.decodeAll();
    this.state = State.Idle;
    this.headSrc = undefined;
    this.headInChunk = false;
    this.body = EMPTY_BYTES;
    this.bodyFilled = 0;
    this.bodySize = 0;
    this.headSize = 0;
    this.handler.onFrame(frame);
  }

  /**
   * Look for the blank line that ends the head, from `pos`. Returns the position after the
   * consumed bytes. Line length, line count and head size are checked as bytes are seen, before
   * any of them is kept; the head is then parsed by parseHead, like one that lies in one chunk.
   */
  private scanHead(buf: Uint8Array, pos: number): number {
    const end = buf.length;
    const limits = this.limits;
    const segmentStart = pos;
    // The head may not outgrow the header limit, nor leave no room in the frame for its NUL.
    const maxHead = Math.min(limits.maxHeaderBytes, limits.maxFrameSize - 1);
    let lineStart = pos;
    for (;;) {
      const stop = scanLine(buf, pos, end);
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
        // The head is complete and within the limits: parse it from one array.
        const inChunk = this.pending.size === 0;
        const head = inChunk ? buf : this.pending.take(buf.subarray(segmentStart, pos));
        const start = inChunk ? segmentStart : 0;
        const base = this.consumed + pos - (start + headSize);
        parseHead(head, start, limits, this.currentVersion, base, this.head);
        this.headSize = headSize;
        this.headSrc = head;
        this.headStart = start;
        this.headInChunk = inChunk;
        this.startBody(pos);
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
