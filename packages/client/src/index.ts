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
export { Client, ClientState } from './client.js';
export type { StatusEvent, StatusEventType } from './client.js';
export { Message } from './message.js';
export type { AckOptions } from './message.js';
export { Subscription } from './subscription.js';
export type { MessageHandler } from './subscription.js';
export { Transaction, TransactionState } from './transaction.js';
export type {
  ConnectOptions,
  DisconnectedPolicy,
  OperationOptions,
  SendOptions,
  SubscribeOptions,
} from './options.js';
export type { Transport, TransportContext, TransportFactory } from './transport.js';
export { connectWebSocket, STOMP_SUBPROTOCOLS } from './transports/websocket.js';
export type {
  WebSocketConstructor,
  WebSocketLike,
  WebSocketTransportOptions,
} from './transports/websocket.js';
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
