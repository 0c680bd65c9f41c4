/**
 * Cluster mode for the stompede broker: N stateless STOMP nodes over NATS JetStream.
 * @packageDocumentation
 */
export {
  type NatsServerInfo,
  NatsServers,
  type NatsServersOptions,
  ensureNatsServer,
  freePort,
  startNatsServers,
} from './dev/nats-servers.js';
