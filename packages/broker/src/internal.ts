/**
 * Unstable pieces for sibling packages and tests. May change in any release.
 * @packageDocumentation
 */
export { Connection } from './session/connection.js';
export { ConnectionState } from './session/lifecycle.js';
export { encodeDelivery, putDigits, sharedBytes } from './encode.js';
export { ackKeyOf, isIdOf } from './delivery.js';
export { Fifo } from './fifo.js';
export { isFalseHeader, isTrueHeader } from './boolean-header.js';
export { WebSocketDuplex } from './listen/ws.js';
export { isUtf8Across } from './listen/utf8.js';
export { originAllowed, originPolicy } from './listen/origin.js';
export { resolveOptions } from './options.js';
export { JournalStore } from './store/journal.js';
export { SeqIndex } from './store/seq-index.js';
export { inspectSegment } from './store/inspect.js';
export type { InspectedRecord } from './store/inspect.js';
export { ReadyQueue } from './engine/ready-queue.js';
export type { Entry } from './engine/entry.js';
export type { JournalOptions } from './store/journal.js';
export type { ResolvedOptions } from './options.js';
export { LoginThrottle } from './security/throttle.js';
export { DestinationPattern } from './security/pattern.js';
export { isLoopback, addressOf } from './listen/address.js';
export { prometheusText } from './admin/prometheus.js';
export { Sampler, rowKey } from './admin/sampler.js';
export { clusterJson } from './admin/cluster.js';
export { brokerHeartBeat } from './session/heartbeat.js';
export {
  BALLAST_SLOTS,
  MAX_PACED_BODY,
  PACE_BYTES,
  PILE_LIMIT,
  ballast,
  paceBody,
} from './session/gc-pacing.js';
