// W3C WebSocket as a byte transport: browsers pass their global `WebSocket`, Node 20 passes the
// `ws` package's class. Each STOMP frame is one WebSocket message, as STOMP-over-WebSocket peers
// expect (ActiveMQ Classic parses one frame per message and drops the rest); the frames written
// in one tick are sent together at the end of the tick, and with `ws` they leave the socket in
// one write. `packFrames` puts a tick's frames of one kind in one message instead, for brokers
// that read the WebSocket as a byte stream. A frame whose bytes are valid UTF-8 (a text body)
// goes as a text message, any other as a binary one; to a broker known to read a byte stream
// (by its `server` header) every message goes as binary, which spares it the UTF-8 check of a
// text message (RabbitMQ does it in Erlang, byte by byte) and us the check that picks the kind.
// With `ws` a text message is sent from the bytes as they are (`send(bytes, { binary: false })`);
// browsers need a string, decoded once.
import { concatBytes, ErrorCode, StompConnectionError, utf8Encode } from '@stompede/core';
import type { Transport, TransportConnectedInfo } from '../transport.js';
import { delay } from '../ticker.js';
import { abortError, deferred } from '../util.js';
import { afterTick } from './after-tick.js';
import { ChunkSource } from './chunk-source.js';
import { closedError, writeAsPromise } from './closed.js';
import { DEFAULT_READ_NAP_MS, ReadPacer } from './read-pacer.js';
import type {
  ConnectWebSocketOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './websocket-options.js';

/** What {@link connectWebSocket} passes as the constructor's third argument, under the caller's. */
const DEFAULT_WEBSOCKET_OPTIONS: object = Object.freeze({
  perMessageDeflate: false,
  allowSynchronousEvents: true,
});

/** The STOMP WebSocket subprotocol for each version. */
export const STOMP_SUBPROTOCOLS = Object.freeze({
  '1.2': 'v12.stomp',
  '1.1': 'v11.stomp',
  '1.0': 'v10.stomp',
} as const);

const OPEN = 1;
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });
const decoder = new TextDecoder('utf-8');
const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/**
 * Node's native `isUtf8` (node:buffer), reached without importing a Node module so that this file
 * stays browser-safe (`process.getBuiltinModule`, Node 20.16+); undefined elsewhere.
 */
const nativeIsUtf8 = (() => {
  const get = (
    globalThis as {
      process?: { getBuiltinModule?: (id: string) => { isUtf8?: unknown } | undefined };
    }
  ).process?.getBuiltinModule;
  const fn = typeof get === 'function' ? get('node:buffer')?.isUtf8 : undefined;
  return typeof fn === 'function' ? (fn as (bytes: Uint8Array) => boolean) : undefined;
})();

/** Whether `bytes` are valid UTF-8 (natively on Node, else with a fatal decoder). */
function isUtf8(bytes: Uint8Array): boolean {
  if (nativeIsUtf8 !== undefined) return nativeIsUtf8(bytes);
  try {
    fatalDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Brokers (by their `server` header, `name/version`) known to read a WebSocket as a byte stream,
 * so that several frames may share a message: RabbitMQ Web-STOMP and stompede.
 */
const STREAM_READERS = /^(?:RabbitMQ|stompede)\//;

/** A Node stream's cork/uncork: writes in between leave in one system call. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * `ws`'s socket (its `_socket`, a net or TLS socket), if it has one: corked around a tick's
 * sends, so that one message per frame still costs one write. `ws` corks it around each frame's
 * header and payload itself; Node nests corks.
 */
function corkable(socket: WebSocketLike): Corkable | undefined {
  const raw = (socket as { _socket?: Partial<Corkable> })._socket;
  return typeof raw?.cork === 'function' && typeof raw.uncork === 'function'
    ? (raw as Corkable)
    : undefined;
}

/** `ws`'s send, which takes options: text messages straight from bytes. */
type WsSend = (
  data: ArrayBufferView,
  options: { readonly binary: boolean },
  callback?: (err?: Error) => void,
) => void;

/** Open a WebSocket to `url` and wrap it as a {@link Transport}. */
export function connectWebSocket(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<Transport> {
  const Ctor = options.WebSocket ?? globalWebSocket();
  if (Ctor === undefined) {
    return Promise.reject(
      new StompConnectionError(
        ErrorCode.INVALID_ARGUMENT,
        'no WebSocket class: pass the transport factory a `WebSocket` (on Node 20 the `ws` ' +
          "package's: `nodeTransport({ WebSocket })`)",
      ),
    );
  }
  const { signal } = options;
  if (signal?.aborted === true) return Promise.reject(abortError(signal, `connecting to ${url}`));
  const protocols = [
    ...(options.protocols ?? [
      STOMP_SUBPROTOCOLS['1.2'],
      STOMP_SUBPROTOCOLS['1.1'],
      STOMP_SUBPROTOCOLS['1.0'],
    ]),
  ];
  let socket: WebSocketLike;
  try {
    // A constructor with a third parameter fits the two-parameter type; browsers ignore it.
    const WithOptions = Ctor as unknown as new (
      url: string,
      protocols: string[],
      options: object,
    ) => WebSocketLike;
    socket = new WithOptions(url, protocols, {
      ...DEFAULT_WEBSOCKET_OPTIONS,
      ...options.webSocketOptions,
    });
  } catch (err) {
    return Promise.reject(
      new StompConnectionError(ErrorCode.CONNECTION_REFUSED, `cannot connect to ${url}`, {
        cause: err,
      }),
    );
  }
  // `ws` (recognised by its Node-only terminate()) hands over its Buffers as they are; an
  // ArrayBuffer would be a copy of each message. Browsers: ArrayBuffer.
  socket.binaryType = typeof socket.terminate === 'function' ? 'nodebuffer' : 'arraybuffer';
  return new Promise<Transport>((resolve, reject) => {
    const onAbort = (): void => {
      socket.onopen = socket.onerror = socket.onclose = null;
      socket.close();
      reject(abortError(signal!, `connecting to ${url}`));
    };
    socket.onopen = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(new WebSocketTransport(socket, options));
    };
    socket.onerror = (event: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      socket.onopen = socket.onerror = socket.onclose = null;
      reject(
        new StompConnectionError(ErrorCode.CONNECTION_REFUSED, `cannot connect to ${url}`, {
          cause: eventError(event),
        }),
      );
    };
    socket.onclose = (event) => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        new StompConnectionError(
          ErrorCode.CONNECTION_REFUSED,
          `cannot connect to ${url}: closed with code ${String(event.code)}`,
        ),
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

function eventError(event: unknown): unknown {
  return typeof event === 'object' && event !== null && 'error' in event ? event.error : event;
}

/** `ws`'s EventEmitter side (Node): `message` gives `(data, isBinary)`. */
interface WsEvents {
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
}

class WebSocketTransport implements Transport {
  readonly closed: Promise<Error | undefined>;
  /** Messages to send at the end of this tick: each one frame's chunks (or, packing, a run's). */
  private batch: Uint8Array[][] = [];
  /** Whether each message of `batch` is text (valid UTF-8) or binary. */
  private batchText: boolean[] = [];
  private batchBytes = 0;
  private scheduled = false;
  private packFrames: boolean;
  /** Every message binary (a broker known to read bytes): no UTF-8 check to pick the kind. */
  private allBinary = false;
  private readonly packFramesOption: boolean | 'auto';
  /** `ws`'s socket, corked while a tick's messages are handed to `ws` (one write for all). */
  private readonly rawSocket: Corkable | undefined;
  /** `ws`'s send with options, or undefined for a browser WebSocket. */
  private readonly wsSend: WsSend | undefined;
  private readonly source: ChunkSource;
  private failure: Error | undefined;
  private isClosed = false;
  private readonly highWaterMark: number;
  private readonly pollInterval: number;
  private readonly pacer: ReadPacer | undefined;
  /** `ws` only: writers waiting for the socket to drain, woken by send callbacks. */
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: WebSocketLike,
    options: ConnectWebSocketOptions,
  ) {
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.pollInterval = options.pollInterval ?? 10;
    this.packFramesOption = options.packFrames ?? 'auto';
    this.packFrames = this.packFramesOption === true;
    // `ws` (recognised by its Node-only terminate()) sends bytes as a text message as they are.
    this.wsSend =
      typeof socket.terminate === 'function'
        ? (socket as unknown as { send: WsSend }).send.bind(socket)
        : undefined;
    this.rawSocket = this.wsSend === undefined ? undefined : corkable(socket);
    const closed = deferred<Error | undefined>();
    this.closed = closed.promise;
    // `ws` can pause its socket: reading is bounded like TCP. A browser WebSocket cannot be
    // paused: what it receives is queued up to maxUnreadBytes, then the connection is failed
    // rather than holding memory without bound.
    const pausable = typeof socket.pause === 'function' && typeof socket.resume === 'function';
    const maxUnreadBytes = options.maxUnreadBytes ?? 64 * 1024 * 1024;
    const pacer = pausable
      ? new ReadPacer(
          options.readNapMs ?? DEFAULT_READ_NAP_MS,
          () => {
            socket.pause?.();
          },
          () => {
            socket.resume?.();
          },
        )
      : undefined;
    this.pacer = pacer;
    this.source = new ChunkSource(options.readHighWaterMark ?? 16, () => {
      pacer?.release();
    });
    const push = (chunk: Uint8Array): void => {
      if (this.source.push(chunk)) {
        pacer?.read(chunk.byteLength);
        return;
      }
      if (pacer !== undefined) pacer.hold();
      else if (this.source.bytes > maxUnreadBytes) {
        this.destroy(
          new StompConnectionError(
            ErrorCode.LIMIT_EXCEEDED,
            `more than ${String(maxUnreadBytes)} bytes received and not read: a browser ` +
              'WebSocket cannot be paused (set a prefetch, or raise maxUnreadBytes)',
          ),
        );
      }
    };
    const on = (socket as Partial<WsEvents>).on;
    if (this.wsSend !== undefined && typeof on === 'function') {
      // `ws`: its own 'message' event gives every message as bytes (a Buffer, binaryType
      // 'nodebuffer'); `onmessage` would decode a text message to a string (re-encoded here) and
      // build an event object per message.
      on.call(socket, 'message', (data: unknown) => {
        if (ArrayBuffer.isView(data)) {
          push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        } else if (data instanceof ArrayBuffer) push(new Uint8Array(data));
      });
    } else {
      socket.onmessage = (event) => {
        const data = event.data;
        if (typeof data === 'string') push(utf8Encode(data));
        else if (data instanceof ArrayBuffer) push(new Uint8Array(data));
        else if (ArrayBuffer.isView(data)) {
          push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        }
      };
    }
    socket.onerror = (event) => {
      this.failure ??= new StompConnectionError(ErrorCode.CONNECTION_LOST, 'WebSocket error', {
        cause: eventError(event),
      });
    };
    socket.onclose = (event) => {
      this.isClosed = true;
      pacer?.stop();
      if (this.failure === undefined && event.code !== 1000 && event.code !== 1005) {
        this.failure = new StompConnectionError(
          ErrorCode.CONNECTION_LOST,
          `WebSocket closed with code ${String(event.code)}${event.reason === '' ? '' : `: ${event.reason}`}`,
        );
      }
      this.source.end(this.failure);
      this.wakeDrainWaiters();
      closed.resolve(this.failure);
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.source[Symbol.asyncIterator]();
  }

  readNow(): Uint8Array | undefined {
    return this.source.shift();
  }

  onConnected({ server }: TransportConnectedInfo): void {
    if (this.packFramesOption === 'auto') {
      this.packFrames = this.allBinary = server !== undefined && STREAM_READERS.test(server);
    }
  }

  write(chunks: readonly Uint8Array[]): Promise<void> {
    return writeAsPromise(this, chunks);
  }

  writeNow(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.isClosed || this.socket.readyState !== OPEN) throw closedError(this.failure);
    let text = !this.allBinary;
    for (let i = 0; text && i < chunks.length; i++) text = isUtf8(chunks[i]!);
    const last = this.batch.length - 1;
    if (this.packFrames && last >= 0 && this.batchText[last] === text) {
      this.batch[last]!.push(...chunks);
    } else {
      this.batch.push([...chunks]);
      this.batchText.push(text);
    }
    for (const chunk of chunks) this.batchBytes += chunk.byteLength;
    if (!this.scheduled) {
      this.scheduled = true;
      afterTick(this.flushTick);
    }
    if (this.socket.bufferedAmount + this.batchBytes <= this.highWaterMark) return undefined;
    return this.drained();
  }

  private readonly flushTick = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Send the batch, one WebSocket message per entry. */
  private flush(): void {
    const batch = this.batch;
    const kinds = this.batchText;
    if (batch.length === 0) return;
    this.batch = [];
    this.batchText = [];
    this.batchBytes = 0;
    if (this.isClosed || this.socket.readyState !== OPEN) return;
    this.rawSocket?.cork();
    const last = batch.length - 1;
    for (let i = 0; i <= last; i++) {
      const chunks = batch[i]!;
      const message = chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
      if (this.wsSend !== undefined) {
        // ws calls back in order: the last message's callback means all were written out.
        this.wsSend(
          message,
          kinds[i] ? TEXT : BINARY,
          i === last ? this.wakeDrainWaiters : undefined,
        );
      } else if (!kinds[i]) this.socket.send(message);
      else this.socket.send(decoder.decode(message));
    }
    this.rawSocket?.uncork();
  }

  /**
   * Wait until the send buffer is under the mark. `ws` calls each send's callback once that
   * message is written to the socket (in order), so the writer wakes as soon as the socket
   * drains; a browser WebSocket has no such signal and is polled.
   */
  private async drained(): Promise<void> {
    while (this.socket.bufferedAmount + this.batchBytes > this.highWaterMark) {
      if (this.closedNow()) throw closedError(this.failure);
      if (this.wsSend === undefined) {
        await delay(this.pollInterval); // a worker timer in a page: a background tab keeps polling
        continue;
      }
      // Send what is batched now, so that a callback follows everything written so far.
      this.flush();
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }

  private readonly wakeDrainWaiters = (): void => {
    if (this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  };

  private closedNow(): boolean {
    return this.isClosed;
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.pacer?.stop(); // the closing handshake needs reading
      this.flush();
      this.socket.close(1000);
    }
    await this.closed;
  }

  destroy(error?: Error): void {
    if (error !== undefined) this.failure ??= error;
    if (this.isClosed) return;
    if (error !== undefined) this.source.end(this.failure);
    // `ws` would wait for the peer's close frame, which a paused socket never reads.
    if (typeof this.socket.terminate === 'function') this.socket.terminate();
    else this.socket.close(1000);
  }
}
