/**
 * Unstable pieces for tests and sibling packages. May change in any release.
 * @packageDocumentation
 */
export {
  Level,
  Names,
  decodeToken,
  encodeToken,
  levelOf,
  nameHash,
  subjectMatches,
  validPrefix,
} from './names.js';
export { KeySpace } from './engine/keys.js';
export { parseAckSubject } from './nats/ack.js';
export { clusterReportOf } from './engine/cluster-report.js';
export { gaugesOf } from './engine/admin.js';
export { Publisher, RETRIED_HEADER } from './nats/publisher.js';
export { toWaiting } from './engine/stored-subscription.js';
export { transient } from './nats/retry.js';
