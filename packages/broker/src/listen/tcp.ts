// TCP listener: a thin adapter from sockets to Broker.handle() (TLS is in tls.ts).
import { type Server, type Socket, createServer } from 'node:net';
import type { Logger } from 'pino';
import type { TcpListenerOptions } from './listener-options.js';
import { type Accept, type Listener, type ListenerAddress, listenOn, urlHost } from './listener.js';

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.close(() => {
        resolve();
      });
    });
}

/** Listen for plain TCP connections. */
export async function listenTcp(
  options: TcpListenerOptions,
  accept: Accept,
  logger: Logger,
): Promise<Listener> {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    accept(socket, {
      transport: 'tcp',
      remoteAddress: `${socket.remoteAddress ?? '?'}:${String(socket.remotePort ?? 0)}`,
    });
  });
  server.on('error', (err) => {
    logger.error({ err }, 'tcp listener error');
  });
  const host = options.host ?? '127.0.0.1';
  const info = await listenOn(server, host, options.port ?? 61613);
  const address: ListenerAddress = {
    protocol: 'tcp',
    host,
    port: info.port,
    url: `tcp://${urlHost(host)}:${String(info.port)}`,
  };
  logger.info({ address: address.url }, 'listening');
  return { address, close: closer(server) };
}
