/**
 * @stompede/broker: a STOMP 1.0/1.1/1.2 broker over TCP, TLS, WebSocket or any byte stream.
 * @packageDocumentation
 */
export { Broker, createBroker } from './broker.js';
export type {
  BrokerOptions,
  ListenerOptions,
  TcpListenerOptions,
  TlsListenerOptions,
  WsListenerOptions,
} from './options.js';
export { DEFAULTS } from './options.js';
export type { ListenerAddress, CertificateReload } from './listen/listener.js';
export type { Connection } from './session/connection.js';
export type { ConnectionInfo } from './listen/peer.js';
export type { Clock, TimerHandle } from './session/clock.js';
export type { Principal } from './security/authenticator.js';
export type { Authenticator } from './security/authenticator.js';
export type { Authorizer } from './security/authorizer.js';
export type { Sessions } from './sessions.js';
export type { ErrorCounts } from './metrics.js';
export type {
  ClusterNodeReport,
  ClusterReport,
  Engine,
  Consumer,
  ConsumerHandle,
  Delivery,
  DestinationCounters,
  DestinationInfo,
  EngineGauge,
  EngineReport,
  EngineStats,
  MaybePromise,
  PeekedMessage,
  SubscribeRequest,
  TxOp,
} from './engine.js';
export { LocalEngine } from './engine/local.js';
export type { EngineLog, LocalEngineOptions } from './engine/local.js';
export { Message } from './message.js';
export type { MessageProperties } from './message.js';
export {
  decodeMessage,
  encodeMessage,
  encodeMessageInto,
  encodedMessageLength,
} from './message-codec.js';
export {
  DestinationKind,
  ORIGINAL_DESTINATION,
  TEMPORARY,
  TopicPattern,
  deadLetterQueue,
  isTemporary,
  isWildcard,
  parseDestination,
  replyAddress,
  replyOwner,
} from './destination.js';
export type { ParsedDestination } from './destination.js';
export type * from './admin/api-types.js';
export { Metrics } from './metrics.js';
export type { MetricsSnapshot } from './metrics.js';
export type {
  AdminOptions,
  PermissionGrant,
  Right,
  SecurityOptions,
  UserOptions,
} from './security/types.js';
export type { LoginThrottleOptions } from './security/throttle.js';
export {
  DEFAULT_SCRYPT,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
} from './security/password.js';
export type { PasswordHash, ScryptParams } from './security/password.js';
export { InsecureConfigurationError } from './security/errors.js';
