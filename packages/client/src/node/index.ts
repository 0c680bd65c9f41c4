/**
 * `@stompede/client/node`: everything in `@stompede/client`, plus TCP (`tcp://`) and TLS
 * (`ssl://`, `tls://`) transports for Node.
 *
 * @example
 * ```ts
 * import { connect } from '@stompede/client/node';
 * await using client = await connect('failover:(tcp://mq1:61613,tcp://mq2:61613)', {
 *   login: 'app',
 *   passcode: 'secret',
 *   heartBeat: [10000, 10000],
 * });
 * await client.send('/queue/orders', JSON.stringify({ id: 1 }), { receipt: true });
 * ```
 * @packageDocumentation
 * @module @stompede/client/node
 */
export * from '../index.js';
export { connect } from './connect.js';
export type { NodeConnectOptions } from './connect.js';
export { connectTcp, connectTls, socketTransport } from './socket.js';
export type { TcpTransportOptions, TlsTransportOptions } from './socket.js';
