/**
 * `@stompede/client`: a STOMP 1.0/1.1/1.2 client. This entry point is browser-safe: it connects
 * over WebSocket (or any injected transport). TCP and TLS come from `@stompede/client/node`.
 *
 * @example
 * ```ts
 * import { connect } from '@stompede/client';
 * const client = await connect('wss://mq.example.com/ws', { login: 'guest', passcode: 'guest' });
 * const sub = await client.subscribe('/queue/greetings');
 * await client.send('/queue/greetings', 'hello');
 * for await (const msg of sub) { console.log(msg.text); break; }
 * await client.close();
 * ```
 * @packageDocumentation
 * @module @stompede/client
 */
export { connect } from './connect.js';
export type { Client } from './client.js';
export { ClientState } from './events.js';
export type { StatusEvent, StatusEventType } from './events.js';
export type { AckOptions, Message } from './message.js';
export type { MessageHandler, Subscription } from './subscription.js';
export { TransactionState } from './transaction.js';
export type { Transaction } from './transaction.js';
export type {
  ConnectOptions,
  DisconnectedPolicy,
  OperationOptions,
  ResolvedOptions,
  SendOptions,
  SubscribeOptions,
} from './options.js';
export type {
  Transport,
  TransportConnectedInfo,
  TransportContext,
  TransportFactory,
} from './transport.js';
export { webSocketTransport } from './transports/websocket-factory.js';
export { connectWebSocket, STOMP_SUBPROTOCOLS } from './transports/websocket.js';
export type {
  ConnectWebSocketOptions,
  WebSocketConstructor,
  WebSocketLike,
  WebSocketTransportOptions,
} from './transports/websocket-options.js';
export type { PacedReadOptions } from './transports/read-pacer.js';
export type { WaitOptions } from './util.js';
export {
  AckMode,
  ErrorCode,
  StompError,
  StompConnectionError,
  StompTimeoutError,
  StompServerError,
  StompProtocolError,
  StompInvalidArgumentError,
} from '@stompede/core';
