// STOMP over WebSocket (as RabbitMQ Web-STOMP): an HTTP server whose upgrades on `path` become
// byte streams for Broker.handle(). Text and binary messages are both read as bytes, and a frame
// may span or share messages (the parser does not care where messages end). Each frame the
// broker writes, and each heart-beat EOL, is sent as one message of its own
// (listen/message-stream.ts), as RabbitMQ Web-STOMP and Artemis do: text when it is valid UTF-8,
// else binary. A frame whose body the outbox wrote by reference is sent from where its pieces
// are, never joined: as one WebSocket frame whose header we write before them, so that clients
// that do not reassemble fragments (Java-WebSocket 1.3, under Gozirra) read it whole; as
// fragments of one message when permessage-deflate was negotiated (ws compresses what it sends).
// The messages of one tick reach the socket as one write: it is corked around them.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { WsListenerOptions } from './listener-options.js';
import { type Accept, type Listener, type ListenerAddress, listenOn, urlHost } from './listener.js';
import type { MessageStream } from './message-stream.js';
import { originAllowed, originPolicy } from './origin.js';
import { isUtf8Across } from './utf8.js';

/** Subprotocols we speak, in order of preference. */
const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'] as const;

/**
 * Written between two chunks of one message (see {@link WebSocketDuplex.writeMessage}): it travels
 * through the stream's buffer with them, so `_writev` sees where each message ends.
 */
const CONTINUES = Buffer.alloc(0);

/**
 * A Duplex over one WebSocket: each write, and each {@link WebSocketDuplex.writeMessage}, is sent
 * as one message. Writes complete when the socket took them, so the stream's buffer (and
 * `write()` returning false until 'drain') counts what the WebSocket has not sent yet.
 */
export class WebSocketDuplex extends Duplex implements MessageStream {
  private readonly ws: WebSocket;
  private readonly socket: Duplex | undefined;

  /**
   * @param socket - the WebSocket's own socket: corked around a batch of messages, and where a
   *   message of several chunks is written as one WebSocket frame
   */
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

  writeMessage(parts: readonly Uint8Array[]): boolean {
    const last = parts.length - 1;
    if (last < 1) return last === 0 ? this.write(parts[0]) : true;
    // Corked, so that the message reaches _writev whole.
    this.cork();
    for (let i = 0; i < last; i++) {
      this.write(parts[i]);
      this.write(CONTINUES);
    }
    const ok = this.write(parts[last]);
    this.uncork();
    return ok;
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    const n = chunks.length;
    const socket = n > 1 ? this.socket : undefined;
    socket?.cork();
    // writeMessage corks, so a message's chunks all reach the same _writev.
    let first = 0;
    for (let i = 0; i < n; i++) {
      const next = i + 1;
      // A chunk ends its message unless CONTINUES follows it.
      if (next < n && (chunks[i]!.chunk === CONTINUES || chunks[next]!.chunk === CONTINUES)) {
        continue;
      }
      this.sendMessage(chunks, first, next, next === n ? callback : undefined);
      first = next;
    }
    socket?.uncork();
  }

  /** Send chunks [from, to) (CONTINUES left out) as one message; `callback` once sent. */
  private sendMessage(
    chunks: { chunk: Buffer }[],
    from: number,
    to: number,
    callback?: (err?: Error | null) => void,
  ): void {
    if (to - from === 1) {
      this.send(chunks[from]!.chunk, callback);
      return;
    }
    const parts: Buffer[] = [];
    for (let i = from; i < to; i++) {
      if (chunks[i]!.chunk !== CONTINUES) parts.push(chunks[i]!.chunk);
    }
    this.sendParts(parts, callback);
  }

  /** Send `data` as one message; `done` once the socket took it (or it was dropped). */
  private send(data: Buffer, done?: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) {
      done?.();
      return;
    }
    ws.send(data, { binary: !isUtf8(data) }, done);
  }

  /** Send `parts` as one message, none copied: text when they are valid UTF-8, else binary. */
  private sendParts(parts: Buffer[], done?: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) {
      done?.();
      return;
    }
    const binary = !isUtf8Across(parts);
    const last = parts.length - 1;
    const socket = this.socket;
    // Without extensions, ws writes each frame to the socket as it sends it (nothing is queued
    // in its Sender), so a frame written here lands between two of its own, never inside one.
    if (socket !== undefined && ws.extensions === '') {
      let length = 0;
      for (const part of parts) length += part.length;
      socket.write(frameHeader(binary, length));
      for (let i = 0; i < last; i++) socket.write(parts[i]);
      socket.write(parts[last], done);
      return;
    }
    for (let i = 0; i < last; i++) ws.send(parts[i]!, { binary, fin: false });
    ws.send(parts[last]!, { binary, fin: true }, done);
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
 * The header of an unmasked, final WebSocket data frame of `length` bytes (RFC 6455 section
 * 5.2): what a server sends before the payload.
 */
function frameHeader(binary: boolean, length: number): Buffer {
  const opcode = binary ? 0x82 : 0x81;
  if (length < 126) return Buffer.from([opcode, length]);
  if (length < 0x10000) return Buffer.from([opcode, 126, length >> 8, length & 0xff]);
  const header = Buffer.alloc(10);
  header[0] = opcode;
  header[1] = 127;
  header.writeUIntBE(length, 4, 6);
  return header;
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
