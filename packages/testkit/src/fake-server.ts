/**
 * A scripted fake STOMP server for client tests. Tests drive it step by step: accept the next
 * connection, expect the client's frames, answer with the frames the scenario needs. It speaks
 * over in-memory transports (unit tests, no sockets) or a real TCP listener (integration tests).
 *
 * The in-memory transport matches `@stompede/client`'s `Transport` interface structurally.
 * @packageDocumentation
 */
import * as net from 'node:net';
// Frames are built with core's command builders: the fake answers as a server following core's
// rules would (a scenario that needs a malformed frame sends it with send() or sendBytes()).
import {
  connectedFrame,
  encodeFrame,
  errorFrame,
  ErrorCode,
  Frame,
  FrameParser,
  HEARTBEAT_BYTES,
  type HeadersInit,
  messageFrame,
  negotiateVersion,
  parseHeartBeat,
  receiptFrame,
  type StompVersion,
  StompConnectionError,
} from '@stompede/core';
import { type FakeEndpoint, MemoryClientTransport, type Wire } from './fake-transport.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** A FIFO with async take, used for frames and connections. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private failure: Error | undefined;

  put(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else this.items.push(item);
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }

  get size(): number {
    return this.items.length;
  }

  take(what: string, timeoutMs: number): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      // A safety net so a broken test fails instead of hanging; never part of an assertion.
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`fake server: no ${what} within ${String(timeoutMs)} ms`));
      }, timeoutMs);
      const waiter: Waiter<T> = {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

/** Options for {@link FakeConnection.handshake}. */
export interface HandshakeOptions {
  /** The version to answer with (default: the highest in `accept-version`, or 1.0). */
  readonly version?: StompVersion;
  /** The CONNECTED `heart-beat` header (default `0,0`; written from 1.1 on). */
  readonly heartBeat?: string;
  /** More CONNECTED headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** One client connection as the fake server sees it. */
export class FakeConnection {
  /** Every frame received, in order. */
  readonly received: Frame[] = [];
  /** The heart-beat EOLs received so far. */
  heartbeats = 0;
  /** The endpoint the client asked for. */
  readonly endpoint: FakeEndpoint | undefined;
  /** Resolves when the client side closed the stream or the connection was dropped. */
  readonly closed: Promise<void>;
  /** Answer every frame that carries a `receipt` header with a RECEIPT (default `false`). */
  autoReceipt = false;
  /** The version the handshake settled on. */
  version: StompVersion = '1.2';

  private readonly inbox = new Inbox<Frame>();
  private readonly parser: FrameParser;
  private readonly wire: Wire;
  private markClosed!: () => void;
  private isClosed = false;
  private readonly timeoutMs: number;

  /** @internal */
  constructor(wire: Wire, endpoint: FakeEndpoint | undefined, timeoutMs: number) {
    this.wire = wire;
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.parser = new FrameParser(
      {
        onFrame: (frame) => {
          this.received.push(frame);
          if (this.autoReceipt) {
            const receipt = frame.header('receipt');
            if (receipt !== undefined && frame.command !== 'DISCONNECT') {
              this.sendFrame(receiptFrame(receipt));
            }
          }
          this.inbox.put(frame);
        },
        onHeartbeat: () => {
          this.heartbeats++;
        },
      },
      { version: '1.2' },
    );
  }

  /** @internal Bytes from the client. */
  receive(chunk: Uint8Array): void {
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.inbox.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** @internal The client closed its side. */
  clientClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.inbox.fail(new Error('fake server: the client closed the connection'));
    this.markClosed();
  }

  /** Frames received but not yet taken with {@link FakeConnection.next}. */
  get pending(): number {
    return this.inbox.size;
  }

  /** True once the connection is closed. */
  get isOpen(): boolean {
    return !this.isClosed;
  }

  /**
   * The next frame from the client. With `command`, throws unless the frame has that command.
   * Rejects when the connection closes first.
   */
  async next(command?: string): Promise<Frame> {
    const frame = await this.inbox.take(command ?? 'frame', this.timeoutMs);
    if (command !== undefined && frame.command !== command) {
      throw new Error(`fake server: expected ${command}, got ${frame.command}`);
    }
    return frame;
  }

  /**
   * Expect CONNECT (or STOMP) and answer CONNECTED. Returns the client's frame.
   */
  async handshake(options: HandshakeOptions = {}): Promise<Frame> {
    const frame = await this.inbox.take('CONNECT', this.timeoutMs);
    if (frame.command !== 'CONNECT' && frame.command !== 'STOMP') {
      throw new Error(`fake server: expected CONNECT, got ${frame.command}`);
    }
    const version = options.version ?? negotiateVersion(frame.header('accept-version')) ?? '1.0';
    this.version = version;
    this.parser.setVersion(version);
    const { server, session, ...headers } = options.headers ?? {};
    this.sendFrame(
      connectedFrame({
        version,
        heartBeat: parseHeartBeat(options.heartBeat ?? '0,0'),
        server: server ?? 'fake/1.0',
        ...(session === undefined ? {} : { session }),
        headers,
      }),
    );
    return frame;
  }

  /** Send a frame to the client. */
  send(command: string, headers?: HeadersInit, body?: Uint8Array | string): void {
    this.sendFrame(new Frame(command, headers, body));
  }

  /** Send a prepared frame to the client. */
  sendFrame(frame: Frame): void {
    if (this.isClosed) return;
    this.wire.write(encodeFrame(frame, { version: this.version }));
  }

  /** Send raw bytes (e.g. a malformed frame). */
  sendBytes(bytes: Uint8Array): void {
    if (!this.isClosed) this.wire.write([bytes]);
  }

  /** Send one heart-beat EOL. */
  heartbeat(): void {
    this.sendBytes(HEARTBEAT_BYTES);
  }

  /** Send a MESSAGE for the subscription `subscription` (a SUBSCRIBE frame or its id). */
  message(
    subscription: Frame | string,
    body: Uint8Array | string,
    headers: Readonly<Record<string, string>> = {},
  ): void {
    const id = typeof subscription === 'string' ? subscription : (subscription.header('id') ?? '');
    const destination =
      typeof subscription === 'string' ? '/queue/test' : (subscription.header('destination') ?? '');
    const n = ++messageCounter;
    // The headers given replace the identifying ones.
    const { subscription: sid, 'message-id': messageId, ack, ...rest } = headers;
    const ackValue = ack ?? (this.version === '1.2' ? `a-${String(n)}` : undefined);
    this.sendFrame(
      messageFrame({
        destination: headers.destination ?? destination,
        messageId: messageId ?? `m-${String(n)}`,
        subscription: sid ?? id,
        ...(ackValue === undefined ? {} : { ack: ackValue }),
        headers: rest,
        body,
      }),
    );
  }

  /** Answer `frame`'s `receipt` header with a RECEIPT. */
  receipt(frame: Frame): void {
    const receipt = frame.header('receipt');
    if (receipt === undefined) throw new Error(`fake server: ${frame.command} has no receipt`);
    this.sendFrame(receiptFrame(receipt));
  }

  /** Send an ERROR frame (with `receipt-id` when `about` asked for a receipt), then close. */
  error(message: string, about?: Frame, body = ''): void {
    const receipt = about?.header('receipt');
    this.sendFrame(
      errorFrame({
        message,
        ...(receipt === undefined ? {} : { receiptId: receipt }),
        ...(body === '' ? {} : { body }),
      }),
    );
    this.end();
  }

  /** Close gracefully (the client sees end of stream). */
  end(): void {
    if (this.isClosed) return;
    this.wire.end();
    this.clientClosed();
  }

  /** Drop the connection abruptly (the client sees a failure). */
  drop(): void {
    if (this.isClosed) return;
    this.wire.destroy();
    this.clientClosed();
  }
}

let messageCounter = 0;

/** Options for {@link FakeServer}. */
export interface FakeServerOptions {
  /** Safety-net timeout for every wait in a script, in ms (default 5000). */
  readonly timeoutMs?: number;
}

/**
 * A scripted fake STOMP server. Pass {@link FakeServer.transport} to the client as its transport
 * factory for in-memory connections, or {@link FakeServer.listen} for real TCP.
 */
export class FakeServer {
  /** Every connection accepted, in order. */
  readonly connections: FakeConnection[] = [];
  /** Every endpoint a client tried, refused or not. */
  readonly attempts: FakeEndpoint[] = [];
  private readonly inbox = new Inbox<FakeConnection>();
  private refusals = 0;
  private readonly timeoutMs: number;
  private listener: net.Server | undefined;

  constructor(options: FakeServerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Refuse the next `count` connection attempts. */
  refuse(count = 1): void {
    this.refusals += count;
  }

  /** The next connection (waits for the client to open one). */
  accept(): Promise<FakeConnection> {
    return this.inbox.take('connection', this.timeoutMs);
  }

  /** A transport factory for the client: each call opens an in-memory connection. */
  readonly transport = (endpoint?: FakeEndpoint): Promise<MemoryClientTransport> => {
    if (endpoint !== undefined) this.attempts.push(endpoint);
    if (this.refusals > 0) {
      this.refusals--;
      return Promise.reject(
        new StompConnectionError(ErrorCode.CONNECTION_REFUSED, 'fake server: connection refused'),
      );
    }
    const [client, server] = memoryPipe();
    const conn = new FakeConnection(server.wire, endpoint, this.timeoutMs);
    server.attach(conn);
    this.connections.push(conn);
    this.inbox.put(conn);
    return Promise.resolve(client);
  };

  /** Listen on TCP (loopback, port 0 by default); resolves with the bound port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      const conn = new FakeConnection(
        {
          write: (chunks) => {
            for (const chunk of chunks) socket.write(chunk);
          },
          end: () => socket.end(),
          destroy: () => socket.destroy(),
        },
        undefined,
        this.timeoutMs,
      );
      socket.on('data', (chunk: Buffer) => {
        conn.receive(chunk);
      });
      socket.on('close', () => {
        conn.clientClosed();
      });
      socket.on('error', () => undefined);
      this.connections.push(conn);
      this.inbox.put(conn);
    });
    this.listener = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        resolve();
      });
    });
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  }

  /** Drop every connection and stop listening. */
  async close(): Promise<void> {
    for (const conn of this.connections) conn.drop();
    const listener = this.listener;
    this.listener = undefined;
    if (listener !== undefined) {
      await new Promise<void>((resolve) =>
        listener.close(() => {
          resolve();
        }),
      );
    }
  }
}

/**
 * Several fake brokers behind one transport factory, keyed by `host:port`, for failover tests.
 * Unknown addresses are refused.
 */
export class FakeNetwork {
  /** Every `host:port` tried, in order. */
  readonly attempts: string[] = [];
  private readonly servers = new Map<string, FakeServer>();

  /** Add (or get) the fake broker at `host:port`. */
  server(address: string, options: FakeServerOptions = {}): FakeServer {
    let server = this.servers.get(address);
    if (server === undefined) {
      server = new FakeServer(options);
      this.servers.set(address, server);
    }
    return server;
  }

  /** The transport factory to give the client. */
  readonly transport = (endpoint: FakeEndpoint): Promise<MemoryClientTransport> => {
    const key = `${endpoint.host}:${String(endpoint.port)}`;
    this.attempts.push(key);
    const server = this.servers.get(key);
    if (server === undefined) {
      return Promise.reject(
        new StompConnectionError(ErrorCode.CONNECTION_REFUSED, `fake network: ${key} refused`),
      );
    }
    return server.transport(endpoint);
  };
}

/**
 * An in-memory byte pipe: the client end is a `FakeTransport` (fake-transport.ts); the server end delivers
 * client bytes to a {@link FakeConnection}. Delivery is asynchronous (a microtask), like a socket.
 * The client end exposes how many chunks the client has not pulled yet, so tests can observe
 * read backpressure.
 */
export function memoryPipe(): [
  MemoryClientTransport,
  { wire: Wire; attach(conn: FakeConnection): void },
] {
  const client = new MemoryClientTransport();
  let conn: FakeConnection | undefined;
  client.onWrite = (chunks) => {
    queueMicrotask(() => {
      for (const chunk of chunks) conn?.receive(chunk.slice());
    });
  };
  client.onClose = () => {
    queueMicrotask(() => conn?.clientClosed());
  };
  return [
    client,
    {
      wire: {
        write: (chunks) => {
          for (const chunk of chunks) client.deliver(chunk.slice());
        },
        end: () => {
          client.finish();
        },
        destroy: () => {
          client.finish(
            new StompConnectionError(ErrorCode.CONNECTION_LOST, 'fake server dropped the link'),
          );
        },
      },
      attach: (c) => {
        conn = c;
      },
    },
  ];
}

/**
 * The last transport a {@link FakeServer} opened, for tests that need to act on the client's end
 * (hold writes, count unread chunks). Wraps the server's factory.
 */
export function trackTransports(server: FakeServer): {
  readonly factory: (endpoint?: FakeEndpoint) => Promise<MemoryClientTransport>;
  readonly last: () => MemoryClientTransport;
} {
  let last: MemoryClientTransport | undefined;
  return {
    factory: async (endpoint) => {
      const transport = await server.transport(endpoint);
      last = transport;
      return transport;
    },
    last: () => {
      if (last === undefined) throw new Error('fake server: no transport opened yet');
      return last;
    },
  };
}
