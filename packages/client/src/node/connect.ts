import type { Client } from '../client.js';
import { connectWith } from '../client-impl.js';
import type { ConnectOptions } from '../options.js';
import { nodeTransport } from './transport.js';

/**
 * Connect to a STOMP broker over TCP (`tcp://host:61613`), TLS (`ssl://host:61614`), WebSocket
 * (`ws://`, `wss://`) or a failover URI of those, and resolve with a connected {@link Client}.
 * Without a `transport`, connections are opened with `nodeTransport()`'s defaults; pass
 * `transport: nodeTransport({ tls, WebSocket, ... })` for TLS settings, the `ws` package's
 * `WebSocket` on Node 20, and the other socket options. See the browser `connect` for the
 * errors.
 */
export function connect(
  target: string | ConnectOptions,
  options: ConnectOptions = {},
): Promise<Client> {
  return connectWith(target, options, nodeTransport);
}
