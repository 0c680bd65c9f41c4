/**
 * Cluster mode for the stompede broker: N stateless STOMP nodes over NATS JetStream.
 * @packageDocumentation
 */
export {
  type NatsServerInfo,
  NatsServers,
  type NatsServersOptions,
  freePort,
  startNatsServers,
} from './dev/nats-servers.js';
export {
  NATS_SERVER_VERSION,
  ensureNatsServer,
  hasDedupeGap,
  natsServerCachePath,
} from './dev/nats-binary.js';
export {
  CLUSTER_DEFAULTS,
  type ClusterOptions,
  type NatsAuthOptions,
  type NatsTlsOptions,
  type ResolvedClusterOptions,
  parseServers,
  resolveClusterOptions,
} from './options.js';
export { ClusterEngine, type ClusterEngineOptions } from './engine/cluster-engine.js';
export { IDEMPOTENCY_HEADER } from './engine/router.js';
export type { ClusterStatus, StreamStatus } from './engine/admin.js';
export type { LinkState, LinkStatus } from './nats/link.js';
export { NodeProcess, type NodeAddresses, type NodeProcessOptions } from './dev/nodes.js';
export { runClusterDemo, type ClusterDemoOptions } from './dev/demo.js';
