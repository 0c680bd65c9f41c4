// STOMP over WebSocket (as RabbitMQ Web-STOMP): an HTTP server whose upgrades on `path` become
// byte streams for Broker.handle(). Text and binary messages are both read as bytes, and a frame
// may span or share messages (the parser does not care where messages end). Each frame the
// broker writes, and each heart-beat EOL, is sent as one message of its own (the outbox writes
// one per write(), listen/message-stream.ts), as RabbitMQ Web-STOMP does: text when it is valid
// UTF-8, else binary. The frames of one tick still reach the socket as one write: it is corked
// around them.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { WsListenerOptions } from './listener-options.js';
import { type Accept, type Listener, type ListenerAddress, listenOn, urlHost } from './listener.js';
import type { MessageStream } from './message-stream.js';
import { originAllowed, originPolicy } from './origin.js';

/** Subprotocols we speak, in order of preference. */
const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'] as const;

/**
 * A Duplex over one WebSocket: each write is sent as one message. Writes complete when the
 * socket took them, so the stream's buffer (and `write()` returning false until 'drain') counts
 * what the WebSocket has not sent yet.
 */
export class WebSocketDuplex extends Duplex implements MessageStream {
  readonly messagePerWrite = true;
  private readonly ws: WebSocket;
  private readonly socket: Duplex | undefined;

  /** @param socket - the WebSocket's own socket, corked around a batch of messages */
  constructor(ws: WebSocket, socket?: Duplex) {
    super({ allowHalfOpen: false });
    this.ws = ws;
    this.socket = socket;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data;
      if (!this.push(chunk)) ws.pause();
    });
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', (err) => {
      this.destroy(err);
    });
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    this.send(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    const last = chunks.length - 1;
    const socket = this.socket;
    socket?.cork();
    for (let i = 0; i < last; i++) this.send(chunks[i]!.chunk);
    this.send(chunks[last]!.chunk, callback);
    socket?.uncork();
  }

  /** Send `data` as one message; `callback` once the socket took it (or it was dropped). */
  private send(data: Buffer, callback?: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) {
      callback?.();
      return;
    }
    ws.send(
      data,
      { binary: !isUtf8(data) },
      callback === undefined
        ? undefined
        : (err) => {
            callback(err ?? null);
          },
    );
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.ws.close(1000);
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.terminate();
    }
    callback(err);
  }
}

/**
 * Listen for STOMP over WebSocket. An upgrade whose `Origin` is not allowed (see origin.ts) is
 * answered 403 and reported to `onRefused`.
 */
export async function listenWs(
  options: WsListenerOptions,
  accept: Accept,
  logger: Logger,
  maxPayload: number,
  onRefused: (reason: 'origin') => void = () => undefined,
): Promise<Listener> {
  const path = options.path ?? '/ws';
  const host = options.host ?? '127.0.0.1';
  const origins = originPolicy(options.allowedOrigins, host);
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: options.perMessageDeflate ?? false,
    maxPayload,
    handleProtocols: (offered: Set<string>) => {
      for (const p of SUBPROTOCOLS) if (offered.has(p)) return p;
      return false;
    },
  });
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('STOMP over WebSocket: connect with a WebSocket client\n');
  });
  server.on('upgrade', (req, socket, head) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const origin = req.headers.origin;
    if (!originAllowed(origins, origin, req.headers.host)) {
      logger.info(
        { origin: (origin ?? '').slice(0, 200), remoteAddress: req.socket.remoteAddress },
        'websocket upgrade refused: origin not allowed',
      );
      onRefused('origin');
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n' +
          'Content-Length: 19\r\n\r\norigin not allowed\n',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      accept(new WebSocketDuplex(ws, socket), {
        transport: 'ws',
        remoteAddress: `${req.socket.remoteAddress ?? '?'}:${String(req.socket.remotePort ?? 0)}`,
      });
    });
  });
  server.on('error', (err) => {
    logger.error({ err }, 'ws listener error');
  });
  const info = await listenOn(server, host, options.port ?? 15674);
  const address: ListenerAddress = {
    protocol: 'ws',
    host,
    port: info.port,
    path,
    url: `ws://${urlHost(host)}:${String(info.port)}${path}`,
  };
  logger.info({ address: address.url }, 'listening');
  return {
    address,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.close(() => {
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
