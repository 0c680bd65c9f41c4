// The Node transport factory: TCP and TLS sockets, and WebSockets, chosen by the broker's scheme.
import type { TransportFactory } from '../transport.js';
import { webSocketTransport } from '../transports/websocket-factory.js';
import type { WebSocketTransportOptions } from '../transports/websocket-options.js';
import {
  connectTcp,
  connectTls,
  type TcpSocketOptions,
  type TlsOptions,
  wsConnection,
} from './socket.js';

/** Options of {@link nodeTransport}: how TCP, TLS and WebSocket connections are made. */
export interface NodeTransportOptions extends TcpSocketOptions, WebSocketTransportOptions {
  /**
   * TLS settings for `ssl://` brokers: `ca`, `cert`, `key`, `passphrase`, `servername`,
   * `rejectUnauthorized` (verification is on by default), and raw `tls` options.
   */
  readonly tls?: TlsOptions | undefined;
}

/**
 * A {@link TransportFactory} for Node: TCP for `tcp://`, TLS for `ssl://` (and `tls://`), and
 * WebSocket for `ws://` and `wss://` (pass `WebSocket` from the `ws` package on Node 20). What
 * `connect()` of `@stompede/client/node` uses when given no `transport`, with the default
 * options.
 *
 * @example
 * ```ts
 * import { connect, nodeTransport } from '@stompede/client/node';
 * import { WebSocket } from 'ws';
 * const client = await connect('failover:(ssl://mq1:61614,wss://mq2/ws)', {
 *   transport: nodeTransport({ tls: { ca: caPem }, WebSocket, readNapMs: 0 }),
 * });
 * ```
 */
export function nodeTransport(options: NodeTransportOptions = {}): TransportFactory {
  const wss = webSocketTransport(options);
  // Plain ws:// sockets read like TCP ones (see connectTcp: a read nap leaves data in the kernel).
  const ws = webSocketTransport({
    ...options,
    webSocketOptions: { createConnection: wsConnection, ...options.webSocketOptions },
  });
  return (broker, context) => {
    const socket = {
      host: broker.host,
      port: broker.port,
      signal: context.signal,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      readNapMs: options.readNapMs,
      readHighWaterMark: options.readHighWaterMark,
    };
    switch (broker.scheme) {
      case 'tcp':
        return connectTcp(socket);
      case 'ssl':
        return connectTls({ ...options.tls, ...socket });
      case 'ws':
        return ws(broker, context);
      default:
        return wss(broker, context);
    }
  };
}
