// The client against a real ActiveMQ (interop/peers/activemq.sh): STOMP on 127.0.0.1:61623,
// anonymous. Skipped with a reason when ActiveMQ is not running, unless STOMPEDE_PEERS=1 makes
// a missing peer a failure. activemq.sh opens no WebSocket connector, so this is TCP only.
import { clientScenarios, unreachable } from '../scenarios.js';

const host = '127.0.0.1';
const port = Number(process.env.ACTIVEMQ_STOMP_PORT ?? 61623);

clientScenarios({
  name: 'activemq/tcp',
  url: () => `tcp://${host}:${String(port)}`,
  // ActiveMQ never redelivers a NACKed message: a persistent one moves to ActiveMQ.DLQ with an
  // `original-destination` header (a non-persistent one would be dropped; the scenario sends it
  // persistent).
  nack: { dlq: '/queue/ActiveMQ.DLQ' },
  required: process.env.STOMPEDE_PEERS === '1',
  unavailable: () => unreachable(host, port),
});
