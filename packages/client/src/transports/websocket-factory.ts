// The browser-safe transport factory: WebSocket for ws:// and wss:// brokers.
import { ErrorCode, StompConnectionError, type StompVersion } from '@stompede/core';
import type { TransportFactory } from '../transport.js';
import { connectWebSocket, STOMP_SUBPROTOCOLS } from './websocket.js';
import type { WebSocketTransportOptions } from './websocket-options.js';

/**
 * A {@link TransportFactory} that opens a WebSocket to `ws://` and `wss://` brokers, with these
 * options; it refuses other schemes (`tcp://` and `ssl://` need `nodeTransport()` from
 * `@stompede/client/node`). What `connect()` of `@stompede/client` uses when given no
 * `transport`, with the default options.
 *
 * @example
 * ```ts
 * import { connect, webSocketTransport } from '@stompede/client';
 * const client = await connect('wss://mq.example.com/ws', {
 *   transport: webSocketTransport({ packFrames: false, maxUnreadBytes: 8 * 1024 * 1024 }),
 * });
 * ```
 */
export function webSocketTransport(options: WebSocketTransportOptions = {}): TransportFactory {
  return (broker, context) => {
    if (broker.scheme !== 'ws' && broker.scheme !== 'wss') {
      return Promise.reject(
        new StompConnectionError(
          ErrorCode.INVALID_ARGUMENT,
          `${broker.scheme}:// needs a TCP transport: import connect from '@stompede/client/node'`,
        ),
      );
    }
    return connectWebSocket(broker.uri, {
      ...options,
      protocols: subprotocols(context.versions),
      signal: context.signal,
    });
  };
}

/** The subprotocols offered for `versions`, the newest first. */
function subprotocols(versions: readonly StompVersion[]): string[] {
  return [...versions]
    .sort()
    .reverse()
    .map((v) => STOMP_SUBPROTOCOLS[v]);
}
