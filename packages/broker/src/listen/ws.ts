// STOMP over WebSocket (as RabbitMQ Web-STOMP): an HTTP server whose upgrades on `path` become
// byte streams for Broker.handle(). Text and binary messages are both read as bytes, and a frame
// may span or share messages (the parser does not care where messages end). Each batch of
// frames the broker writes is sent as one message: text when it is valid UTF-8, else binary. A
// batch's large chunks (bodies the outbox writes by reference) go out as fragments of that
// message from where they are, never copied into one buffer.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { WsListenerOptions } from './listener-options.js';
import { type Accept, type Listener, type ListenerAddress, listenOn, urlHost } from './listener.js';
import { originAllowed, originPolicy } from './origin.js';

/** Subprotocols we speak, in order of preference. */
const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'] as const;

/**
 * In a batch of writes, a chunk of more than this many bytes is sent as a fragment of its own, by
 * reference; smaller neighbours are joined into one fragment (few WebSocket frames per message).
 * The outbox writes bodies over its COPY_LIMIT (8 KiB) by reference: those are never copied here.
 */
const FRAGMENT_MIN = 8192;

/** A Duplex over one WebSocket. */
export class WebSocketDuplex extends Duplex {
  private readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    super({ allowHalfOpen: false });
    this.ws = ws;
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
    if (chunks.length === 1) {
      this.send(chunks[0]!.chunk, callback);
      return;
    }
    // One message whose fragments are the large chunks themselves and the runs of small ones
    // between them, joined: a body written by reference is not copied again here.
    const fragments: Buffer[] = [];
    let run: Buffer[] = [];
    for (const { chunk } of chunks) {
      if (chunk.length <= FRAGMENT_MIN) {
        run.push(chunk);
        continue;
      }
      if (run.length > 0) fragments.push(run.length === 1 ? run[0]! : Buffer.concat(run));
      run = [];
      fragments.push(chunk);
    }
    if (run.length > 0) fragments.push(run.length === 1 ? run[0]! : Buffer.concat(run));
    if (fragments.length === 1) this.send(fragments[0]!, callback);
    else this.sendFragments(fragments, callback);
  }

  private send(data: Buffer, callback: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      callback();
      return;
    }
    this.ws.send(data, { binary: !isUtf8(data) }, (err) => {
      callback(err ?? null);
    });
  }

  /**
   * Send `fragments` as one message. It is text when each fragment is valid UTF-8 (the outbox
   * never splits a character between chunks: each holds whole frame heads or a whole body), else
   * binary, as {@link send} decides for one buffer.
   */
  private sendFragments(fragments: Buffer[], callback: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) {
      callback();
      return;
    }
    const binary = !fragments.every((f) => isUtf8(f));
    const last = fragments.length - 1;
    for (let i = 0; i < last; i++) ws.send(fragments[i]!, { binary, fin: false });
    ws.send(fragments[last]!, { binary, fin: true }, (err) => {
      callback(err ?? null);
    });
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
      accept(new WebSocketDuplex(ws), {
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
