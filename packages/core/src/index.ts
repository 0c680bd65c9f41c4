/**
 * @stompede/core: the STOMP 1.0/1.1/1.2 protocol, with no I/O and no dependencies.
 *
 * - {@link FrameParser} and {@link encodeFrame}: the streaming frame codec.
 * - Stateless commands, one module per command with its builder, its rule and its interpreter:
 *   `connectFrame`, `sendFrame`, ... and `interpretConnected`, `ackHeaders`, ... (client side);
 *   `validateClientFrame`, `interpretConnect`, `interpretSend`, `interpretAck`, `messageFrame`, ...
 *   (server side); {@link encodeHeaderToken}, whether a header can be written in a version.
 * - {@link negotiateVersion} and {@link negotiateHeartBeat}; {@link ClientSession} and
 *   {@link ServerSession}: I/O-free session state.
 *
 * @packageDocumentation
 */
export { Frame, Command, ClientCommand, ServerCommand } from './frame.js';
export type { HeaderEntry, HeadersInit, BodyInit } from './frame.js';
export type { StompVersion } from './version.js';
export { SUPPORTED_VERSIONS, isStompVersion } from './version.js';
export {
  ErrorCode,
  StompError,
  StompProtocolError,
  StompInvalidArgumentError,
  StompConnectionError,
  StompTimeoutError,
  StompAbortError,
  StompServerError,
  StompInvalidUriError,
} from './errors.js';
export type { StompErrorOptions } from './errors.js';
export { FrameParser, parseFrames } from './parser.js';
export type { FrameHandler, ParserOptions } from './parser.js';
export { DEFAULT_LIMITS } from './limits.js';
export type { ParserLimits } from './limits.js';
export { encodeFrame, encodeFrameBytes, encodeFrames, HEARTBEAT_BYTES } from './serializer.js';
export type { ContentLengthMode, SerializerOptions } from './serializer.js';
export { escapeHeader, escapesApply, unescapeHeader, encodeHeaderToken } from './escape.js';
export type { HeaderTokenOptions } from './escape.js';
export { utf8Encode, concatBytes } from './bytes.js';
export {
  acceptedVersions,
  formatAcceptVersion,
  formatHeartBeat,
  negotiateHeartBeat,
  negotiateVersion,
  parseHeartBeat,
} from './negotiate.js';
export type { HeartBeat, NegotiatedHeartBeat } from './negotiate.js';
export {
  AckMode,
  isAckMode,
  validateClientFrame,
  connectFrame,
  interpretConnect,
  connectedFrame,
  interpretConnected,
  sendFrame,
  interpretSend,
  subscribeFrame,
  interpretSubscribe,
  unsubscribeFrame,
  interpretUnsubscribe,
  ackFrame,
  nackFrame,
  ackHeaders,
  interpretAck,
  interpretNack,
  beginFrame,
  commitFrame,
  abortFrame,
  interpretBegin,
  interpretCommit,
  interpretAbort,
  disconnectFrame,
  messageFrame,
  interpretMessage,
  receiptFrame,
  interpretReceipt,
  errorFrame,
  unsupportedVersionFrame,
  interpretError,
  serverErrorCode,
} from './commands/index.js';
export type {
  FrameOptions,
  ConnectFrameOptions,
  InterpretConnectOptions,
  ConnectRequest,
  ConnectedFrameOptions,
  ConnectedInfo,
  SendFrameOptions,
  SendRequest,
  SubscribeFrameOptions,
  SubscribeRequest,
  UnsubscribeFrameOptions,
  AckHeaders,
  AckFrameOptions,
  AckRequest,
  TransactionCommand,
  TransactionRequest,
  MessageFrameOptions,
  MessageInfo,
  ErrorFrameOptions,
} from './commands/index.js';
export { parseFailoverUri, parseBrokerUri } from './failover/uri.js';
export type { FailoverUri } from './failover/uri.js';
export { BrokerScheme } from './failover/broker.js';
export type { BrokerAddress } from './failover/broker.js';
export { FAILOVER_DEFAULTS } from './failover/options.js';
export type { FailoverOptions } from './failover/options.js';
export { FailoverSchedule } from './failover/schedule.js';
export type { FailoverScheduleOptions, FailoverAttempt } from './failover/schedule.js';
export { ClientSession, SessionState } from './session/client-session.js';
export type {
  SessionSubscription,
  SessionSubscribeOptions,
  PendingReceipt,
  PendingWork,
  SessionInfo,
} from './session/client-session.js';
export { ServerSession } from './session/server-session.js';
export type {
  ServerSessionOptions,
  ServerSessionLeftovers,
  CommittedTransaction,
} from './session/server-session.js';
