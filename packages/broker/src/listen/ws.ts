// STOMP over WebSocket (as RabbitMQ Web-STOMP): an HTTP server whose upgrades on `path` become
// byte streams for Broker.handle(). Text and binary messages are both read as bytes, and a frame
// may span or share messages (the parser does not care where messages end). Each frame the
// broker writes, and each heart-beat EOL, is sent as one message of its own (the outbox hands
// over one per writeMessage(), listen/message-stream.ts), as RabbitMQ Web-STOMP does: text when it
// is valid UTF-8, else binary. A frame in parts (a large body the outbox writes by reference) is
// still one unfragmented WebSocket frame, its parts written from where they are (not copied):
// clients such as Java-WebSocket 1.3 do not reassemble fragments. The frames of one tick reach
// the socket as one write: it is corked around them.
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

/** Opcodes of an unfragmented WebSocket frame with FIN set (RFC 6455 5.2). */
const FIN_TEXT = 0x81;
const FIN_BINARY = 0x82;

/**
 * The header of one unfragmented, unmasked (server to client) WebSocket frame carrying `length`
 * payload bytes (RFC 6455 5.2).
 */
export function frameHeader(binary: boolean, length: number): Buffer {
  const first = binary ? FIN_BINARY : FIN_TEXT;
  if (length < 126) return Buffer.from([first, length]);
  if (length < 0x10000) {
    const header = Buffer.allocUnsafe(4);
    header[0] = first;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = first;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/**
 * A Duplex over one WebSocket: each {@link WebSocketDuplex.writeMessage} (or plain write) is sent
 * as one message. Writes complete when the socket took them, so the stream's buffer (and `write()`
 * returning false until 'drain') counts what the WebSocket has not sent yet.
 */
export class WebSocketDuplex extends Duplex implements MessageStream {
  readonly messagePerWrite = true;
  private readonly ws: WebSocket;
  private readonly socket: Duplex | undefined;
  /** How many writes make each message not sent yet, in order (a plain write is one). */
  private readonly sizes: number[] = [];
  /** The parts that came through of a message whose last part has not. */
  private partial: Buffer[] = [];
  private partsWanted = 0;

  /** @param socket - the WebSocket's own socket: corked around a batch, takes frames in parts */
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

  /** Write `parts` as one message (each part is a write, so it counts as buffered until sent). */
  writeMessage(parts: readonly Uint8Array[]): boolean {
    const n = parts.length;
    this.sizes.push(n);
    let ok = true;
    for (let i = 0; i < n; i++) ok = this.write(parts[i]!);
    return ok;
  }

  override _read(): void {
    this.ws.resume();
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    // A batch of more than one write reaches the socket as one write.
    const socket = chunks.length > 1 ? this.socket : undefined;
    socket?.cork();
    // Each message is sent when the next one is complete, so that the last one takes the
    // callback. A message whose last part is still to come keeps its parts: the stream hands
    // the rest over after this callback.
    let ready: Buffer | Buffer[] | undefined;
    for (const { chunk } of chunks) {
      if (this.partsWanted === 0) this.partsWanted = this.sizes.shift() ?? 1;
      let message: Buffer | Buffer[];
      if (this.partsWanted === 1) {
        message = chunk;
      } else {
        this.partial.push(chunk);
        if (this.partial.length < this.partsWanted) continue;
        message = this.partial;
        this.partial = [];
      }
      this.partsWanted = 0;
      if (ready !== undefined) this.send(ready);
      ready = message;
    }
    if (ready === undefined) callback();
    else this.send(ready, callback);
    socket?.uncork();
  }

  /**
   * Send `message` as one message; `callback` once the socket took it (or it was dropped). A
   * message in parts goes as one frame whose header we write, then each part from where it is:
   * `ws` sends only one buffer per frame. Its own frames (pong, close) cannot come between the
   * parts, as its sender writes synchronously without permessage-deflate; with it, the parts are
   * joined and `ws` compresses them.
   */
  private send(message: Buffer | Buffer[], callback?: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) {
      callback?.();
      return;
    }
    const done =
      callback === undefined
        ? undefined
        : (err?: Error | null): void => {
            callback(err ?? null);
          };
    if (!Array.isArray(message)) {
      ws.send(message, { binary: !isUtf8(message) }, done);
      return;
    }
    const socket = this.socket;
    const binary = !message.every((part) => isUtf8(part));
    if (socket === undefined || ws.extensions !== '') {
      ws.send(Buffer.concat(message), { binary }, done);
      return;
    }
    let length = 0;
    for (const part of message) length += part.length;
    const last = message.length - 1;
    socket.cork();
    socket.write(frameHeader(binary, length));
    for (let i = 0; i < last; i++) socket.write(message[i]!);
    socket.write(message[last]!, done);
    socket.uncork();
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
