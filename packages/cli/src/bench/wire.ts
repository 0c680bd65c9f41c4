// Raw STOMP over TCP, TLS or WebSocket for the load generator: bytes out as the caller built them
// (the session's frames with core's command builders, the SENDs pre-serialized), frames in
// through the core's FrameParser. No client library in between.
import { type Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  type Frame,
  FrameParser,
  type StompVersion,
  connectFrame,
  disconnectFrame,
  encodeFrameBytes,
  isStompVersion,
} from '@stompede/core';
import { CliError } from '../cli-error.js';
import type { ConnectionSettings } from '../connection-flags.js';

/** Where to connect. */
export interface Endpoint {
  readonly transport: 'tcp' | 'tls' | 'ws';
  readonly host: string;
  readonly port: number;
  /** For WebSocket: the full URL. */
  readonly url: string;
}

/** Parse a broker URL: tcp://, ssl://, ws://, wss:// (one broker: bench measures one). */
export function parseEndpoint(text: string): Endpoint {
  if (text.startsWith('failover:')) {
    throw new CliError(
      'bench measures one broker: give --broker a tcp://, ssl://, ws:// or wss:// URI',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`not a broker URI: ${JSON.stringify(text)}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = (fallback: number): number => (url.port === '' ? fallback : Number(url.port));
  switch (url.protocol) {
    case 'tcp:':
      return { transport: 'tcp', host, port: port(61613), url: text };
    case 'ssl:':
      return { transport: 'tls', host, port: port(61614), url: text };
    case 'ws:':
      return { transport: 'ws', host, port: port(80), url: text };
    case 'wss:':
      return { transport: 'ws', host, port: port(443), url: text };
    default:
      throw new CliError(
        `unsupported URI scheme ${JSON.stringify(url.protocol)}: use tcp://, ssl://, ws:// or wss://`,
      );
  }
}

/** A byte pipe: TCP/TLS socket or WebSocket (each write is one text message). */
interface Transport {
  write(data: Uint8Array): boolean;
  /** Stop reading (the peer's writes back up: TCP flow control reaches the broker). */
  pause(): void;
  resume(): void;
  end(): void;
  destroy(): void;
}

interface TransportEvents {
  data(chunk: Uint8Array): void;
  drain(): void;
  close(err: Error | undefined): void;
}

function socketTransport(socket: Socket, events: TransportEvents): Transport {
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    events.data(chunk);
  });
  socket.on('drain', () => {
    events.drain();
  });
  let error: Error | undefined;
  socket.on('error', (err) => (error = err));
  socket.on('close', () => {
    events.close(error);
  });
  return {
    write: (data) => socket.write(data),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

const WS_HIGH_WATER = 1024 * 1024;

async function wsTransport(
  endpoint: Endpoint,
  tls: ConnectOptions['tls'],
  events: TransportEvents,
): Promise<Transport> {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(endpoint.url, ['v12.stomp', 'v11.stomp', 'v10.stomp'], {
    perMessageDeflate: false,
    ...tls,
  });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      resolve();
    });
    ws.once('error', reject);
  });
  (ws as unknown as { _socket?: Socket })._socket?.setNoDelay(true);
  let pending = 0;
  let waiting = false;
  let error: Error | undefined;
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    events.data(
      Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data,
    );
  });
  ws.on('error', (err) => (error = err));
  ws.on('close', () => {
    events.close(error);
  });
  return {
    write: (data) => {
      if (ws.readyState !== ws.OPEN) return true;
      const n = data.length;
      pending += n;
      // STOMP text is UTF-8 (our bodies are ASCII): text messages, as RabbitMQ Web-STOMP wants.
      ws.send(data, { binary: false }, () => {
        pending -= n;
        if (waiting && pending < WS_HIGH_WATER / 2) {
          waiting = false;
          events.drain();
        }
      });
      if (pending >= WS_HIGH_WATER) waiting = true;
      return !waiting;
    },
    pause: () => {
      ws.pause();
    },
    resume: () => {
      ws.resume();
    },
    end: () => {
      ws.close(1000);
    },
    destroy: () => {
      ws.terminate();
    },
  };
}

/** The CONNECT frame's headers, and how to connect. */
export interface ConnectOptions {
  readonly version: StompVersion;
  readonly login: string | undefined;
  readonly passcode: string | undefined;
  /** The host header; defaults to the endpoint's host. */
  readonly host: string | undefined;
  /** Milliseconds until CONNECTED. */
  readonly timeout: number;
  /** For ssl:// and wss://: CA, client certificate and key, servername, verification. */
  readonly tls: ConnectionSettings['tls'];
}

/** The versions offered for `--stomp-version`: it and those below. */
const OFFERED: Record<StompVersion, readonly StompVersion[]> = {
  '1.0': ['1.0'],
  '1.1': ['1.0', '1.1'],
  '1.2': ['1.0', '1.1', '1.2'],
};

/** One STOMP connection with the session established. */
export class Wire {
  /** Called for every frame after CONNECTED. */
  onFrame: (frame: Frame) => void = () => undefined;
  /** Called after the frames of one received chunk were handled (flush batched ACKs here). */
  onChunk: () => void = () => undefined;
  /** Called once when the connection is gone. */
  onClose: (err: Error | undefined) => void = () => undefined;
  /** The negotiated version. */
  version: StompVersion = '1.0';
  closed = false;
  private transport: Transport | undefined;
  private readonly parser: FrameParser;
  private drainWaiters: (() => void)[] = [];
  private receipts = new Map<string, () => void>();
  private receiptSeq = 0;

  private constructor(version: StompVersion) {
    this.parser = new FrameParser(
      {
        onFrame: (frame) => {
          if (frame.command === 'RECEIPT') {
            const id = frame.header('receipt-id') ?? '';
            const done = this.receipts.get(id);
            if (done !== undefined) {
              this.receipts.delete(id);
              done();
              return;
            }
          }
          this.onFrame(frame);
        },
      },
      { version, limits: { maxFrameSize: 512 * 1024 * 1024, maxBodySize: 512 * 1024 * 1024 } },
    );
  }

  /** Connect and send CONNECT; resolves once CONNECTED arrives (rejects on ERROR or close). */
  static async open(endpoint: Endpoint, options: ConnectOptions): Promise<Wire> {
    const wire = new Wire(options.version);
    let connected: ((frame: Frame) => void) | undefined;
    let failed: ((err: Error) => void) | undefined;
    const handshake = new Promise<Frame>((resolve, reject) => {
      connected = resolve;
      failed = reject;
    });
    // A connection that fails before CONNECT is sent rejects this too: awaited below.
    handshake.catch(() => undefined);
    wire.onFrame = (frame) => {
      if (frame.command === 'CONNECTED') connected?.(frame);
      else if (frame.command === 'ERROR') {
        failed?.(
          new Error(`ERROR: ${frame.header('message') ?? ''} ${frame.text.slice(0, 200)}`.trim()),
        );
      } else failed?.(new Error(`expected CONNECTED, got ${frame.command}`));
    };
    wire.onClose = (err) => {
      failed?.(err ?? new Error('connection closed during CONNECT'));
    };
    const events: TransportEvents = {
      data: (chunk) => {
        try {
          wire.parser.push(chunk);
        } catch (err) {
          wire.onClose(err as Error);
          wire.destroy();
          return;
        }
        wire.onChunk();
      },
      drain: () => {
        const waiters = wire.drainWaiters;
        wire.drainWaiters = [];
        for (const w of waiters) w();
      },
      close: (err) => {
        if (wire.closed) return;
        wire.closed = true;
        events.drain();
        for (const done of wire.receipts.values()) done();
        wire.receipts.clear();
        wire.onClose(err);
      },
    };
    if (endpoint.transport === 'ws') {
      wire.transport = await wsTransport(endpoint, options.tls, events);
    } else {
      const socket =
        endpoint.transport === 'tls'
          ? tlsConnect({
              host: endpoint.host,
              port: endpoint.port,
              servername: endpoint.host,
              ...options.tls,
            })
          : netConnect({ host: endpoint.host, port: endpoint.port });
      wire.transport = socketTransport(socket, events);
      await new Promise<void>((resolve, reject) => {
        socket.once(endpoint.transport === 'tls' ? 'secureConnect' : 'connect', resolve);
        socket.once('error', reject);
      });
    }
    wire.write(
      encodeFrameBytes(
        connectFrame({
          versions: OFFERED[options.version],
          host: options.host ?? endpoint.host,
          heartBeat: [0, 0],
          ...(options.login === undefined ? {} : { login: options.login }),
          ...(options.passcode === undefined ? {} : { passcode: options.passcode }),
        }),
      ),
    );
    const frame = await Promise.race([
      handshake,
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          reject(new Error(`no CONNECTED within ${String(options.timeout)} ms`));
        }, options.timeout).unref(),
      ),
    ]).catch((err: unknown) => {
      wire.destroy();
      throw err;
    });
    const v = frame.header('version') ?? '1.0';
    wire.version = isStompVersion(v) ? v : '1.0';
    wire.parser.setVersion(wire.version);
    wire.onFrame = () => undefined;
    wire.onClose = () => undefined;
    return wire;
  }

  /** Write bytes (or ASCII/UTF-8 text); false when the transport is full: await {@link drained}. */
  write(data: Uint8Array | string): boolean {
    if (this.closed || this.transport === undefined) return true;
    return this.transport.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** Resolves when the transport can take more (or closed). */
  drained(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Send the frame `build` makes with the `receipt` given (core's builders take it as an option);
   * resolves on the RECEIPT (true) or close or timeout (false).
   */
  request(build: (receipt: string) => Frame, timeoutMs = 10_000): Promise<boolean> {
    const id = `bench-${String(++this.receiptSeq)}`;
    const bytes = encodeFrameBytes(build(id), { version: this.version });
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.receipts.delete(id);
        resolve(false);
      }, timeoutMs);
      this.receipts.set(id, () => {
        clearTimeout(timer);
        resolve(!this.closed);
      });
      this.write(bytes);
    });
  }

  /** DISCONNECT with a receipt (bounded wait), then close. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    // A throttled consumer may be paused: the RECEIPT must be read.
    this.transport?.resume();
    await this.request((receipt) => disconnectFrame(this.version, { receipt }), timeoutMs);
    this.transport?.end();
    const t = this.transport;
    setTimeout(() => t?.destroy(), 500).unref();
  }

  /** Stop reading from the connection until {@link resume} (for throttled consumers). */
  pause(): void {
    if (!this.closed) this.transport?.pause();
  }

  resume(): void {
    if (!this.closed) this.transport?.resume();
  }

  destroy(): void {
    this.transport?.destroy();
  }
}
