// Frame: one STOMP frame as the codec hands it over and takes it in (command, ordered headers,
// body), and the command names. A parsed frame may keep its head as byte spans and its body as the
// pieces it arrived in; both are turned into strings and one array only when asked for, here and
// nowhere else (decodeAll, lazyHeader, joinPieces).
import { decodeRange, EMPTY_BYTES, utf8Decode, utf8EncodeShared } from './bytes.js';
import { unescapeText } from './unescape.js';

/** Frames a client sends. */
export const ClientCommand = {
  CONNECT: 'CONNECT',
  STOMP: 'STOMP',
  SEND: 'SEND',
  SUBSCRIBE: 'SUBSCRIBE',
  UNSUBSCRIBE: 'UNSUBSCRIBE',
  ACK: 'ACK',
  NACK: 'NACK',
  BEGIN: 'BEGIN',
  COMMIT: 'COMMIT',
  ABORT: 'ABORT',
  DISCONNECT: 'DISCONNECT',
} as const;
/** A command a client sends. */
export type ClientCommand = (typeof ClientCommand)[keyof typeof ClientCommand];

/** Frames a server sends. */
export const ServerCommand = {
  CONNECTED: 'CONNECTED',
  MESSAGE: 'MESSAGE',
  RECEIPT: 'RECEIPT',
  ERROR: 'ERROR',
} as const;
/** A command a server sends. */
export type ServerCommand = (typeof ServerCommand)[keyof typeof ServerCommand];

/** Every STOMP command. */
export const Command = { ...ClientCommand, ...ServerCommand } as const;
/** Any STOMP command. */
export type Command = ClientCommand | ServerCommand;

const CLIENT_COMMANDS: ReadonlySet<string> = new Set(Object.values(ClientCommand));
const SERVER_COMMANDS: ReadonlySet<string> = new Set(Object.values(ServerCommand));

/** True for a command a client may send. */
export function isClientCommand(command: string): command is ClientCommand {
  return CLIENT_COMMANDS.has(command);
}

/** True for a command a server may send. */
export function isServerCommand(command: string): command is ServerCommand {
  return SERVER_COMMANDS.has(command);
}

/** A header as a `[name, value]` pair. */
export type HeaderEntry = readonly [name: string, value: string];

/**
 * Headers given to a constructor or builder: an ordered list of pairs (repeats kept), or a plain
 * object. In an object, `undefined` values are skipped and numbers and booleans are stringified.
 */
export type HeadersInit =
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | boolean | undefined>>;

/** A frame body: bytes, or text that is UTF-8 encoded. */
export type BodyInit = Uint8Array | string;

/** A body as bytes: text UTF-8 encoded, nothing as the empty body. */
export function bodyBytes(body: BodyInit | undefined): Uint8Array {
  return body === undefined
    ? EMPTY_BYTES
    : typeof body === 'string'
      ? utf8EncodeShared(body)
      : body;
}

/** Flatten a {@link HeadersInit} into `[name0, value0, name1, value1, ...]`. */
export function flattenHeaders(init: HeadersInit | undefined): string[] {
  const flat: string[] = [];
  if (init === undefined) return flat;
  if (isIterable(init)) {
    for (const [name, value] of init) flat.push(name, value);
    return flat;
  }
  for (const name of Object.keys(init)) {
    const value = init[name];
    if (value !== undefined) flat.push(name, String(value));
  }
  return flat;
}

function isIterable(value: HeadersInit): value is Iterable<readonly [string, string]> {
  return typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
}

// Passed to the constructor by Frame.fromSpans: "headers come later", without allocating.
const LAZY: HeadersInit = Object.freeze([]);

/**
 * A body the parser received in pieces (views of the chunks, in order), or whole. See
 * {@link Frame.bodyChunks}.
 * @internal
 */
export type ParsedBody = Uint8Array | readonly Uint8Array[];

/**
 * One STOMP frame: a command, an ordered list of headers (repeats are kept; lookups return the
 * first, as the spec requires), and a body of bytes.
 *
 * Frames produced by the parser may share memory with the chunks they were parsed from, and a
 * short text body is encoded into memory shared with other frames; treat bodies as read-only.
 *
 * Headers of a parsed frame may be decoded on demand: {@link Frame.header} then compares bytes
 * and decodes only the value it returns, and {@link Frame.rawHeaders} (and everything built on
 * it) decodes all of them on first use and caches them. Until then the frame refers to the bytes
 * its head was parsed from: the chunk its body is a view of (so it keeps alive nothing the body
 * does not), or a copy of a head that straddled chunks. The first full decode drops that
 * reference.
 *
 * A body that straddled chunks is kept as the pieces it arrived in ({@link Frame.bodyChunks}, for
 * a vectored write with no copy); {@link Frame.body} joins them into one array on first use.
 */
export class Frame {
  /** The command, e.g. `SEND`. */
  readonly command: string;
  // The body's length; the body itself, or undefined while it is only in `pieces`.
  private size: number;
  private whole: Uint8Array | undefined;
  private pieces: readonly Uint8Array[] | undefined;
  // Decoded headers, flattened; undefined while they are only in `src`.
  private raw: readonly string[] | undefined;
  // Head bytes of a lazily decoded frame, and per header: name start and end, value start and end
  // in `src`; and whether the tokens hold escapes to undo.
  private src: Uint8Array | undefined;
  private spans: readonly number[] | undefined;
  private unescape: boolean;

  constructor(command: string, headers?: HeadersInit, body?: BodyInit) {
    this.command = command;
    const bytes = bodyBytes(body);
    this.whole = bytes;
    this.pieces = undefined;
    this.size = bytes.length;
    this.raw = headers === LAZY ? undefined : flattenHeaders(headers);
    this.src = undefined;
    this.spans = undefined;
    this.unescape = false;
  }

  /** Build a frame from already-flattened headers without copying them (used by the parser). */
  static fromRaw(command: string, rawHeaders: readonly string[], body: ParsedBody): Frame {
    const frame = new Frame(command, LAZY);
    frame.raw = rawHeaders;
    frame.setBody(body);
    return frame;
  }

  /**
   * Build a frame whose headers are decoded on demand (used by the parser). Header k's name is
   * `src[spans[4k], spans[4k+1])` and its value `src[spans[4k+2], spans[4k+3])`, already trimmed;
   * with `unescape`, tokens may hold escapes to undo (checked by the parser). `spans` is kept, not
   * copied.
   * @internal
   */
  static fromSpans(
    command: string,
    src: Uint8Array,
    spans: readonly number[],
    unescape: boolean,
    body: ParsedBody,
  ): Frame {
    const frame = new Frame(command, LAZY);
    frame.src = src;
    frame.spans = spans;
    frame.unescape = unescape;
    frame.setBody(body);
    return frame;
  }

  private setBody(body: ParsedBody): void {
    // (Array.isArray is cheaper than instanceof, which walks the prototype chain.)
    if (!Array.isArray(body)) {
      const bytes = body as Uint8Array;
      this.whole = bytes;
      this.size = bytes.length;
      return;
    }
    const pieces = body as readonly Uint8Array[];
    let length = 0;
    for (const piece of pieces) length += piece.length;
    this.size = length;
    if (pieces.length === 1) {
      this.whole = pieces[0]!;
    } else {
      this.whole = length === 0 ? EMPTY_BYTES : undefined;
      this.pieces = length === 0 ? undefined : pieces;
    }
  }

  /** The body's length in bytes (reading it never joins a body received in pieces). */
  get bodyLength(): number {
    return this.size;
  }

  /** The body bytes (empty when there is no body); joins a body received in pieces, once. */
  get body(): Uint8Array {
    return this.whole ?? this.joinPieces();
  }

  /**
   * The body as the pieces it arrived in, in order: views of the received chunks, for a vectored
   * write that copies nothing. One piece for a body that is whole, none for an empty one. Never
   * copies; a new array on each call.
   */
  get bodyChunks(): readonly Uint8Array[] {
    const pieces = this.pieces;
    if (pieces !== undefined) return pieces.slice();
    return this.size === 0 ? [] : [this.whole!];
  }

  /** The pieces of a body received in pieces, until joined; undefined for a whole body. @internal */
  get pieceList(): readonly Uint8Array[] | undefined {
    return this.pieces;
  }

  private joinPieces(): Uint8Array {
    const pieces = this.pieces!;
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const piece of pieces) {
      out.set(piece, offset);
      offset += piece.length;
    }
    this.whole = out;
    this.pieces = undefined;
    return out;
  }

  /**
   * Headers flattened as `[name0, value0, name1, value1, ...]`, in wire order, repeats kept.
   * Use {@link Frame.header} for lookups and {@link Frame.headers} for pairs.
   */
  get rawHeaders(): readonly string[] {
    return this.raw ?? this.decodeAll();
  }

  /**
   * Decode every header now, and drop the head's bytes (the parser's call for a frame that must
   * not keep its chunk). The only place header bytes become strings, but for single lookups.
   * @internal
   */
  decodeAll(): readonly string[] {
    const src = this.src!;
    const spans = this.spans!;
    const raw: string[] = [];
    if (this.unescape) {
      // The parser rejected every escape the frame's version does not define: 1.2's set applies.
      for (let k = 0; k < spans.length; k += 2) {
        const text = decodeRange(src, spans[k]!, spans[k + 1]!);
        raw.push(text.includes('\\') ? (unescapeText(text, '1.2') as string) : text);
      }
    } else {
      // (decodeRange is called here directly, not through a helper, so that V8 inlines it.)
      for (let k = 0; k < spans.length; k += 4) {
        raw.push(
          decodeRange(src, spans[k]!, spans[k + 1]!),
          decodeRange(src, spans[k + 2]!, spans[k + 3]!),
        );
      }
    }
    this.raw = raw;
    this.src = undefined;
    this.spans = undefined;
    return raw;
  }

  /** The value of the first header called `name`, or `undefined`. Names are case sensitive. */
  header(name: string): string | undefined {
    const raw = this.raw ?? this.lazyRaw(name);
    if (raw === undefined) return this.lazyHeader(name);
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i] === name) return raw[i + 1];
    }
    return undefined;
  }

  // Undefined when `name` can be looked up in the bytes (it is ASCII: a wire name equals it exactly
  // when its bytes are its character codes); otherwise the decoded headers.
  private lazyRaw(name: string): readonly string[] | undefined {
    // Escaped names differ from their bytes.
    if (this.unescape) return this.decodeAll();
    for (let i = 0; i < name.length; i++) {
      if (name.charCodeAt(i) >= 0x80) return this.decodeAll();
    }
    return undefined;
  }

  private lazyHeader(name: string): string | undefined {
    const k = this.lazyIndex(name);
    if (k < 0) return undefined;
    const spans = this.spans!;
    return decodeRange(this.src!, spans[k + 2]!, spans[k + 3]!);
  }

  // The span index of the first header called `name` (ASCII) in `src`, or -1.
  private lazyIndex(name: string): number {
    const src = this.src!;
    const spans = this.spans!;
    const n = name.length;
    for (let k = 0; k < spans.length; k += 4) {
      const start = spans[k]!;
      if (spans[k + 1]! - start !== n) continue;
      let i = 0;
      while (i < n && src[start + i] === name.charCodeAt(i)) i++;
      if (i === n) return k;
    }
    return -1;
  }

  /** Every value of the headers called `name`, in wire order. */
  headerAll(name: string): string[] {
    const values: string[] = [];
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i] === name) values.push(raw[i + 1]!);
    }
    return values;
  }

  /** True when the frame has a header called `name`. */
  has(name: string): boolean {
    // Undecoded headers are searched in the bytes, without decoding the value.
    if (this.raw === undefined && this.lazyRaw(name) === undefined)
      return this.lazyIndex(name) >= 0;
    return this.header(name) !== undefined;
  }

  /** The headers as `[name, value]` pairs in wire order, repeats kept. */
  get headers(): HeaderEntry[] {
    const pairs: HeaderEntry[] = [];
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
    return pairs;
  }

  /** The headers as an object, where the first of repeated headers wins. */
  headerObject(): Record<string, string> {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (!(name in out)) out[name] = raw[i + 1]!;
    }
    return out;
  }

  /** The body decoded as UTF-8. */
  get text(): string {
    return utf8Decode(this.body);
  }

  /** A copy of this frame with other headers (and optionally another body). */
  with(headers: HeadersInit, body: BodyInit = this.body): Frame {
    return new Frame(this.command, headers, body);
  }

  /** A JSON-friendly view: command, header pairs and the body as text. */
  toJSON(): { command: string; headers: HeaderEntry[]; body: string } {
    return { command: this.command, headers: this.headers, body: this.text };
  }
}
