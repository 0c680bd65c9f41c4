// The browser-safe default transport: WebSocket for ws:// and wss:// brokers.
import { ErrorCode, StompConnectionError } from '@stompede/core';
import type { ConnectOptions } from './options.js';
import type { TransportFactory } from './transport.js';
import { connectWebSocket, STOMP_SUBPROTOCOLS } from './transports/websocket.js';

/** @internal A factory that opens WebSockets for `ws`/`wss` brokers and refuses anything else. */
export function webSocketFactory(
  options: ConnectOptions,
  webSocketOptions: object | undefined = options.webSocketOptions,
): TransportFactory {
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
      WebSocket: options.WebSocket,
      protocols: [...context.versions]
        .sort()
        .reverse()
        .map((v) => STOMP_SUBPROTOCOLS[v]),
      signal: context.signal,
      maxUnreadBytes: options.maxUnreadBytes,
      webSocketOptions,
      readNapMs: options.readNapMs,
      packFrames: options.webSocketPackFrames,
    });
  };
}
