import {
  type Client,
  type ConnectOptions,
  connect,
  type WebSocketConstructor,
  type WebSocketLike,
} from '@stompede/client';
import { type FakeConnection, FakeServer, type HandshakeOptions } from '@stompede/testkit';

/** Let queued microtasks and I/O callbacks run (setImmediate is never mocked in these tests). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A client connected to a fresh fake server over an in-memory transport. */
export async function connected(
  options: Partial<ConnectOptions> = {},
  handshake: HandshakeOptions = {},
): Promise<{ server: FakeServer; conn: FakeConnection; client: Client }> {
  const server = new FakeServer();
  const pending = connect({
    url: 'tcp://broker:61613',
    transport: server.transport,
    heartBeat: [0, 0],
    ...options,
  });
  const conn = await server.accept();
  await conn.handshake(handshake);
  const client = await pending;
  return { server, conn, client };
}

/** What {@link fakeWebSocket} records. */
export type FakeWebSocket = WebSocketLike & {
  paused: number;
  resumed: number;
  closed: boolean;
  /** The constructor's third argument (`ws`'s options). */
  options: unknown;
};

/** A W3C-style WebSocket driven by the test; `pausable` adds `ws`'s pause()/resume(). */
export function fakeWebSocket(pausable: boolean): {
  Ctor: WebSocketConstructor;
  socket: () => FakeWebSocket;
} {
  let last: FakeWebSocket | undefined;
  class Fake implements WebSocketLike {
    binaryType = 'blob';
    readyState = 0;
    bufferedAmount = 0;
    protocol = 'v12.stomp';
    paused = 0;
    resumed = 0;
    closed = false;
    options: unknown;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { readonly data: unknown }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null = null;
    declare pause?: () => void;
    declare resume?: () => void;
    constructor(_url: string, _protocols?: string | string[], options?: unknown) {
      this.options = options;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the test drives this instance
      last = this;
      if (pausable) {
        this.pause = () => {
          this.paused++;
        };
        this.resume = () => {
          this.resumed++;
        };
      }
      setImmediate(() => {
        this.readyState = 1;
        this.onopen?.({});
      });
    }
    send(): void {}
    close(): void {
      if (this.closed) return;
      this.closed = true;
      this.readyState = 3;
      setImmediate(() => this.onclose?.({ code: 1000, reason: '' }));
    }
  }
  return {
    Ctor: Fake,
    socket: () => last!,
  };
}
