import type { Client } from './client.js';
import { connectWith } from './client-impl.js';
import type { ConnectOptions } from './options.js';
import { webSocketTransport } from './transports/websocket-factory.js';

/**
 * Connect to a STOMP broker and resolve with a connected {@link Client}.
 *
 * `target` is a broker URI (`ws://host:15674/ws`, `wss://…`), an ActiveMQ failover URI
 * (`failover:(wss://a/ws,wss://b/ws)?maxReconnectAttempts=10`), or the options themselves.
 * Without a `transport`, WebSockets are opened with `webSocketTransport()`'s defaults; other
 * schemes need a `transport` (or `@stompede/client/node` for `tcp://`/`ssl://`).
 *
 * @throws StompServerError when the broker answers CONNECT with ERROR: never retried. Its code
 *   is `ERR_STOMP_AUTHENTICATION_FAILED` for a refused login and `ERR_STOMP_FORBIDDEN` for a
 *   refused virtual host (from stompede, RabbitMQ and ActiveMQ), else the code the broker
 *   names, else `ERR_STOMP_SERVER_ERROR`.
 * @throws StompTimeoutError `ERR_STOMP_TIMEOUT` when the last attempt took longer than
 *   `connectTimeout`; StompConnectionError `ERR_STOMP_CONNECTION_REFUSED` when no broker could
 *   be reached otherwise (the last attempt's failure is the `cause`).
 * @throws StompAbortError `ERR_STOMP_ABORTED` when `signal` aborts, at once, also while waiting
 *   between attempts.
 * @throws StompInvalidArgumentError for invalid options, and for a transport option given to
 *   `connect()` instead of the transport factory (e.g. `readNapMs`).
 */
export function connect(
  target: string | ConnectOptions,
  options: ConnectOptions = {},
): Promise<Client> {
  return connectWith(target, options, webSocketTransport);
}
