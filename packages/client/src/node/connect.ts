import { type Client, connectWith } from '../client.js';
import { webSocketFactory } from '../default-transport.js';
import type { ConnectOptions } from '../options.js';
import type { TransportFactory } from '../transport.js';
import { connectTcp, connectTls, type TlsTransportOptions, wsConnection } from './socket.js';

/** Options of the Node {@link connect}: the common options plus socket and TLS settings. */
export interface NodeConnectOptions extends ConnectOptions {
  /**
   * TLS settings for `ssl://` brokers: `ca`, `cert`, `key`, `passphrase`, `servername`,
   * `rejectUnauthorized` (verification is on by default), and raw `tls` options.
   */
  readonly tls?: Omit<TlsTransportOptions, 'host' | 'port' | 'signal'> | undefined;
  /** Disable Nagle's algorithm (default `true`). */
  readonly noDelay?: boolean | undefined;
  /** TCP keep-alive initial delay in ms (default off). */
  readonly keepAlive?: number | undefined;
}

function nodeFactory(options: NodeConnectOptions): TransportFactory {
  const wss = webSocketFactory(options);
  // Plain ws:// sockets read like TCP ones (see connectTcp: a read nap leaves data in the kernel).
  const ws = webSocketFactory(options, {
    createConnection: wsConnection,
    ...options.webSocketOptions,
  });
  return (broker, context) => {
    const common = {
      host: broker.host,
      port: broker.port,
      signal: context.signal,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      readNapMs: options.readNapMs,
    };
    switch (broker.scheme) {
      case 'tcp':
        return connectTcp(common);
      case 'ssl':
        return connectTls({ ...options.tls, ...common });
      case 'ws':
        return ws(broker, context);
      default:
        return wss(broker, context);
    }
  };
}

/**
 * Connect to a STOMP broker over TCP (`tcp://host:61613`), TLS (`ssl://host:61614`), WebSocket
 * (`ws://`, `wss://`: pass `WebSocket` from the `ws` package on Node 20) or a failover URI of
 * those, and resolve with a connected {@link Client}. See the browser `connect` for the errors.
 */
export function connect(
  target: string | NodeConnectOptions,
  options: NodeConnectOptions = {},
): Promise<Client> {
  const merged: NodeConnectOptions =
    typeof target === 'string' ? { ...options, url: target } : target;
  return connectWith(merged, {}, (o) => nodeFactory(o));
}
