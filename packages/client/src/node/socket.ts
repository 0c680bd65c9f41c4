// node:net / node:tls sockets as byte transports. Reads pause the socket while the client is
// behind; writes made in the same tick are gathered and go out in process.nextTick as one
// socket write (small chunks copied into one buffer: a stream write per frame chunk costs more
// than the copy), and wait for `drain` when the socket's buffer is full.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ErrorCode, StompConnectionError } from '@stompede/core';
import type { Transport } from '../transport.js';
import { afterTick } from '../transports/after-tick.js';
import { ChunkSource } from '../transports/chunk-source.js';
import { closedError, writeAsPromise } from '../transports/closed.js';
import { DEFAULT_READ_NAP_MS, type PacedReadOptions, ReadPacer } from '../transports/read-pacer.js';
import { abortError, deferred } from '../util.js';

/** Options for {@link connectTcp}. */
export interface TcpTransportOptions extends TcpSocketOptions {
  /** Host name or address. */
  readonly host: string;
  /** Port. */
  readonly port: number;
  /** Abort the connect attempt (the socket is destroyed). */
  readonly signal?: AbortSignal | undefined;
}

/** How TCP (and TLS) sockets are used: reading, and the socket options. */
export interface TcpSocketOptions extends PacedReadOptions {
  /** Disable Nagle's algorithm (default `true`: frames go out at once). */
  readonly noDelay?: boolean | undefined;
  /** TCP keep-alive initial delay in ms; `0` or omitted keeps the OS default (off). */
  readonly keepAlive?: number | undefined;
}

/**
 * TLS settings: for `ssl://` brokers (`nodeTransport({ tls })`) and {@link connectTls}.
 * Certificate verification is on unless `rejectUnauthorized: false` is given explicitly.
 */
export interface TlsOptions {
  /** Trusted CA certificates (PEM), replacing Node's bundled roots. */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Client certificate chain (PEM) for mutual TLS. */
  readonly cert?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Client private key (PEM) for mutual TLS. */
  readonly key?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Passphrase of `key`. */
  readonly passphrase?: string | undefined;
  /** SNI server name and the name the certificate is checked against (default: `host`). */
  readonly servername?: string | undefined;
  /** Verify the server certificate (default `true`). */
  readonly rejectUnauthorized?: boolean | undefined;
  /** Any further `tls.connect` options (minVersion, ciphers, checkServerIdentity...). */
  readonly tls?: tls.ConnectionOptions | undefined;
}

/** Open a TCP connection to a STOMP broker. */
export function connectTcp(options: TcpTransportOptions): Promise<Transport> {
  return opened(connectPausable({ host: options.host, port: options.port }), 'connect', options);
}

/**
 * A TCP socket that stops reading as soon as it is paused. A paused socket goes on reading until
 * its buffer reaches the readable high-water mark: at 1 byte, a read nap (see ReadPacer) leaves
 * the data in the kernel, to be read in one go.
 */
function connectPausable(options: net.TcpNetConnectOpts): net.Socket {
  return net.connect({ ...options, readableHighWaterMark: 1 } as unknown as net.NetConnectOpts);
}

/**
 * `ws`'s `createConnection` for plain `ws://` URLs (wss:// keeps `ws`'s own): a socket that stops
 * reading as soon as it is paused, as {@link connectTcp}'s does.
 */
export function wsConnection(options: net.TcpNetConnectOpts & { socketPath?: string }): net.Socket {
  // The request's `path` is the URL path, not a socket path (as `ws`'s own netConnect does).
  const tcp: net.TcpNetConnectOpts & { path?: string | undefined } = {
    ...options,
    path: options.socketPath,
  };
  return connectPausable(tcp);
}

/** Options for {@link connectTls}. */
export interface TlsTransportOptions extends TcpTransportOptions, TlsOptions {}

/** Open a TLS connection to a STOMP broker (verification on by default). */
export function connectTls(options: TlsTransportOptions): Promise<Transport> {
  const { host, port } = options;
  const tlsOptions: tls.ConnectionOptions = {
    ...options.tls,
    host,
    port,
    rejectUnauthorized: options.rejectUnauthorized ?? options.tls?.rejectUnauthorized ?? true,
  };
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  if (servername !== undefined) tlsOptions.servername = servername;
  if (options.ca !== undefined) tlsOptions.ca = pem(options.ca);
  if (options.cert !== undefined) tlsOptions.cert = pem(options.cert);
  if (options.key !== undefined) tlsOptions.key = pem(options.key);
  if (options.passphrase !== undefined) tlsOptions.passphrase = options.passphrase;
  const socket = tls.connect(tlsOptions);
  return opened(socket, 'secureConnect', options);
}

function pem(
  value: string | Uint8Array | readonly (string | Uint8Array)[],
): string | Buffer | (string | Buffer)[] {
  const one = (v: string | Uint8Array): string | Buffer =>
    typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Array.isArray(value)
    ? (value as readonly (string | Uint8Array)[]).map(one)
    : one(value as string | Uint8Array);
}

function opened(
  socket: net.Socket,
  event: 'connect' | 'secureConnect',
  options: TcpTransportOptions,
): Promise<Transport> {
  const { signal } = options;
  const where = `${options.host}:${String(options.port)}`;
  return new Promise<Transport>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(event, onOpen);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onOpen = (): void => {
      cleanup();
      socket.setNoDelay(options.noDelay ?? true);
      if (options.keepAlive !== undefined && options.keepAlive > 0) {
        socket.setKeepAlive(true, options.keepAlive);
      }
      resolve(
        new SocketTransport(
          socket,
          options.readHighWaterMark ?? 16,
          options.readNapMs ?? DEFAULT_READ_NAP_MS,
        ),
      );
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(
        new StompConnectionError(
          ErrorCode.CONNECTION_REFUSED,
          `cannot connect to ${where}: ${err.message}`,
          { cause: err },
        ),
      );
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(abortError(signal!, `connecting to ${where}`));
    };
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    socket.once(event, onOpen);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wrap a connected `net.Socket` (or `tls.TLSSocket`) as a {@link Transport}. The transport owns
 * the socket from then on.
 */
export function socketTransport(
  socket: net.Socket,
  readHighWaterMark = 16,
  readNapMs = DEFAULT_READ_NAP_MS,
): Transport {
  return new SocketTransport(socket, readHighWaterMark, readNapMs);
}

/** Chunks at least this large are written by reference; smaller ones are copied together. */
const COPY_LIMIT = 16 * 1024;

class SocketTransport implements Transport {
  readonly closed: Promise<Error | undefined>;
  private readonly source: ChunkSource;
  private failure: Error | undefined;
  private ending = false;
  // The current tick's batch: written in one go by `flush` (process.nextTick), or earlier once
  // it holds a socket buffer's worth.
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private scheduled = false;

  constructor(
    private readonly socket: net.Socket,
    readHighWaterMark: number,
    readNapMs: number,
  ) {
    const closed = deferred<Error | undefined>();
    this.closed = closed.promise;
    const pacer = new ReadPacer(
      readNapMs,
      () => socket.pause(),
      () => socket.resume(),
    );
    this.source = new ChunkSource(readHighWaterMark, () => {
      pacer.release();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.source.push(chunk)) pacer.read(chunk.byteLength);
      else pacer.hold();
    });
    socket.on('end', () => {
      this.source.end();
    });
    socket.on('error', (err: Error) => {
      this.failure = new StompConnectionError(
        ErrorCode.CONNECTION_LOST,
        `connection lost: ${err.message}`,
        { cause: err },
      );
      this.source.end(this.failure);
    });
    socket.on('close', () => {
      pacer.stop();
      this.source.end(this.failure);
      closed.resolve(this.failure);
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.source[Symbol.asyncIterator]();
  }

  readNow(): Uint8Array | undefined {
    return this.source.shift();
  }

  write(chunks: readonly Uint8Array[]): Promise<void> {
    return writeAsPromise(this, chunks);
  }

  writeNow(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    const socket = this.socket;
    if (this.ending || socket.destroyed || !socket.writable) throw closedError(this.failure);
    const pending = this.pending;
    let bytes = this.pendingBytes;
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue;
      pending.push(chunk);
      bytes += chunk.byteLength;
    }
    this.pendingBytes = bytes;
    if (bytes >= socket.writableHighWaterMark) {
      // A socket buffer's worth: out now, so that the caller learns whether to wait.
      return this.flush() ? undefined : this.drained();
    }
    if (!this.scheduled && pending.length > 0) {
      this.scheduled = true;
      afterTick(this.flushTick);
    }
    return socket.writableNeedDrain ? this.drained() : undefined;
  }

  private readonly flushTick = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Write the batch; `false` when the socket's buffer is over its high-water mark. */
  private flush(): boolean {
    const chunks = this.pending;
    const total = this.pendingBytes;
    if (chunks.length === 0) return !this.socket.writableNeedDrain;
    this.pending = [];
    this.pendingBytes = 0;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return true; // 'close' reports the failure
    if (chunks.length === 1) return socket.write(chunks[0]!);
    let big = false;
    for (const chunk of chunks) {
      if (chunk.byteLength >= COPY_LIMIT) {
        big = true;
        break;
      }
    }
    if (!big) return socket.write(gather(chunks, 0, chunks.length, total));
    // Large chunks by reference, runs of small ones gathered: one writev.
    socket.cork();
    let ok = true;
    let run = 0;
    let runBytes = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (chunk.byteLength < COPY_LIMIT) {
        runBytes += chunk.byteLength;
        continue;
      }
      if (i > run) ok = socket.write(gather(chunks, run, i, runBytes));
      ok = socket.write(chunk);
      run = i + 1;
      runBytes = 0;
    }
    if (chunks.length > run) ok = socket.write(gather(chunks, run, chunks.length, runBytes));
    socket.uncork();
    return ok;
  }

  private drained(): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(closedError(this.failure));
      };
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }

  async close(): Promise<void> {
    if (!this.ending) {
      this.flush();
      this.ending = true;
      this.socket.end();
    }
    await this.closed;
  }

  destroy(error?: Error): void {
    if (error !== undefined && this.failure === undefined) this.failure = error;
    this.ending = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.destroy();
  }
}

/** `chunks[from, to)` (`bytes` long in all) as one buffer: the chunk itself when it is alone. */
function gather(
  chunks: readonly Uint8Array[],
  from: number,
  to: number,
  bytes: number,
): Uint8Array {
  if (to - from === 1) return chunks[from]!;
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = from; i < to; i++) {
    const chunk = chunks[i]!;
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
