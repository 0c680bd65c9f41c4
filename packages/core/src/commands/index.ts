// The commands, one file each: its builder, the rule it follows and its interpreter.
export { AckMode, isAckMode } from './common.js';
export type { FrameOptions } from './common.js';
export { validateClientFrame } from './validate.js';
export { connectFrame, interpretConnect, connectedFrame, interpretConnected } from './connect.js';
export type {
  ConnectFrameOptions,
  InterpretConnectOptions,
  ConnectRequest,
  ConnectedFrameOptions,
  ConnectedInfo,
} from './connect.js';
export { sendFrame, interpretSend } from './send.js';
export type { SendFrameOptions, SendRequest } from './send.js';
export { subscribeFrame, interpretSubscribe } from './subscribe.js';
export type { SubscribeFrameOptions, SubscribeRequest } from './subscribe.js';
export { unsubscribeFrame, interpretUnsubscribe } from './unsubscribe.js';
export type { UnsubscribeFrameOptions } from './unsubscribe.js';
export { ackFrame, nackFrame, ackHeaders, interpretAck, interpretNack } from './ack.js';
export type { AckHeaders, AckFrameOptions, AckRequest } from './ack.js';
export {
  beginFrame,
  commitFrame,
  abortFrame,
  interpretBegin,
  interpretCommit,
  interpretAbort,
} from './transaction.js';
export type { TransactionCommand, TransactionRequest } from './transaction.js';
export { disconnectFrame } from './disconnect.js';
export { messageFrame, interpretMessage } from './message.js';
export type { MessageFrameOptions, MessageInfo } from './message.js';
export { receiptFrame, interpretReceipt } from './receipt.js';
export { errorFrame, unsupportedVersionFrame, interpretError, serverErrorCode } from './error.js';
export type { ErrorFrameOptions } from './error.js';
