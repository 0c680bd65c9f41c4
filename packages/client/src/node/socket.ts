// node:net / node:tls sockets as byte transports. Reads pause the socket while the client is
// behind; writes made in the same tick are corked into one system call (uncorked in
// process.nextTick), and wait for `drain` when the socket's buffer is full.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ErrorCode, StompConnectionError } from '@stompede/core';
import {
  afterTick,
  ChunkSource,
  closedError,
  type SyncWritable,
  type Transport,
  writeNow,
} from '../transport.js';
import { abortError, deferred } from '../util.js';

/** Options for {@link connectTcp}. */
export interface TcpTransportOptions {
  /** Host name or address. */
  readonly host: string;
  /** Port. */
  readonly port: number;
  /** Abort the connect attempt (the socket is destroyed). */
  readonly signal?: AbortSignal | undefined;
  /** Disable Nagle's algorithm (default `true`: frames go out at once). */
  readonly noDelay?: boolean | undefined;
  /** TCP keep-alive initial delay in ms; `0` or omitted keeps the OS default (off). */
  readonly keepAlive?: number | undefined;
  /** Chunks buffered from the socket before it is paused (default 16). */
  readonly readHighWaterMark?: number | undefined;
}

/**
 * TLS options for {@link connectTls}. Certificate verification is on unless
 * `rejectUnauthorized: false` is given explicitly.
 */
export interface TlsTransportOptions extends TcpTransportOptions {
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
  const socket = net.connect({ host: options.host, port: options.port });
  return opened(socket, 'connect', options);
}

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
      resolve(new SocketTransport(socket, options.readHighWaterMark ?? 16));
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
export function socketTransport(socket: net.Socket, readHighWaterMark = 16): Transport {
  return new SocketTransport(socket, readHighWaterMark);
}

class SocketTransport implements Transport, SyncWritable {
  readonly closed: Promise<Error | undefined>;
  private corked = false;
  private readonly source: ChunkSource;
  private failure: Error | undefined;
  private ending = false;

  constructor(
    private readonly socket: net.Socket,
    readHighWaterMark: number,
  ) {
    const closed = deferred<Error | undefined>();
    this.closed = closed.promise;
    this.source = new ChunkSource(readHighWaterMark, () => {
      if (socket.isPaused()) socket.resume();
    });
    socket.on('data', (chunk: Buffer) => {
      if (!this.source.push(chunk)) socket.pause();
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
      this.source.end(this.failure);
      closed.resolve(this.failure);
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.source[Symbol.asyncIterator]();
  }

  write(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      return this[writeNow](chunks) ?? Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  [writeNow](chunks: readonly Uint8Array[]): Promise<void> | undefined {
    const socket = this.socket;
    if (this.ending || socket.destroyed || !socket.writable) throw closedError(this.failure);
    if (!this.corked) {
      // Everything written until the end of this tick leaves in one writev.
      this.corked = true;
      socket.cork();
      afterTick(this.uncork);
    }
    let ok = true;
    for (const chunk of chunks) ok = socket.write(chunk);
    if (ok && socket.writableLength < socket.writableHighWaterMark) return undefined;
    return this.drained();
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

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
      this.ending = true;
      this.socket.end();
    }
    await this.closed;
  }

  destroy(error?: Error): void {
    if (error !== undefined && this.failure === undefined) this.failure = error;
    this.ending = true;
    this.socket.destroy();
  }
}
