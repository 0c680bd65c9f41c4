/**
 * `@stompede/client/node`: everything in `@stompede/client`, plus TCP (`tcp://`) and TLS
 * (`ssl://`, `tls://`) transports for Node (`nodeTransport()`, the default of this `connect`).
 *
 * @example
 * ```ts
 * import { connect } from '@stompede/client/node';
 * await using client = await connect('failover:(tcp://mq1:61613,ssl://mq2:61614)', {
 *   login: 'app',
 *   passcode: 'secret',
 *   heartBeat: [10000, 10000],
 *   transport: nodeTransport({ tls: { ca: caPem } }),
 * });
 * await client.send('/queue/orders', JSON.stringify({ id: 1 }), { receipt: true });
 * ```
 * @packageDocumentation
 * @module @stompede/client/node
 */
export * from '../index.js';
export { connect } from './connect.js';
export { nodeTransport } from './transport.js';
export type { NodeTransportOptions } from './transport.js';
export { connectTcp, connectTls, socketTransport } from './socket.js';
export type {
  TcpSocketOptions,
  TcpTransportOptions,
  TlsOptions,
  TlsTransportOptions,
} from './socket.js';
