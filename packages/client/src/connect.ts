import { type Client, connectWith } from './client.js';
import { webSocketFactory } from './default-transport.js';
import type { ConnectOptions } from './options.js';

/**
 * Connect to a STOMP broker and resolve with a connected {@link Client}.
 *
 * `target` is a broker URI (`ws://host:15674/ws`, `wss://…`), an ActiveMQ failover URI
 * (`failover:(wss://a/ws,wss://b/ws)?maxReconnectAttempts=10`), or the options themselves.
 * Other schemes need a `transport` (or `@stompede/client/node` for `tcp://`/`ssl://`).
 *
 * @throws StompServerError when the broker answers CONNECT with ERROR (bad login, unknown
 *   virtual host): never retried.
 * @throws StompConnectionError `ERR_STOMP_CONNECTION_REFUSED` when no broker could be reached.
 * @throws StompTimeoutError / StompError `ERR_STOMP_ABORTED` on `connectTimeout` / `signal`.
 */
export function connect(
  target: string | ConnectOptions,
  options: ConnectOptions = {},
): Promise<Client> {
  return connectWith(target, options, webSocketFactory);
}
