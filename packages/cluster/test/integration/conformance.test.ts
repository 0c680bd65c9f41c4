// The engine conformance suite (@stompede/testkit/engine) against the cluster engine on a real
// three-server JetStream cluster. Every rule gets an engine of its own; the streams (R3) are
// made once and emptied after each rule (messages purged, consumers deleted), as creating
// replicated streams for every rule would take seconds each.
import { after, before } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { type EngineConfig, engineConformance } from '@stompede/testkit/engine';
import { ClusterEngine } from '@stompede/cluster';
import { natsCluster, natsMissing } from '../helper.js';

const skip = natsMissing();
let nats: Awaited<ReturnType<typeof natsCluster>> | undefined;

before(async () => {
  if (skip === undefined) nats = await natsCluster();
});
after(async () => {
  await nats?.dispose();
});

const PREFIX = 'conf';

/** Empty the cluster's streams: no message, no consumer (but the outbox's own) is left. */
async function emptyStreams(): Promise<void> {
  const nc = await connect({ servers: nats!.urls.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) {
      const name = s.config.name;
      if (!name.startsWith(`${PREFIX}_`)) continue;
      for await (const c of jsm.consumers.list(name)) {
        if (!(name === `${PREFIX}_TX` && c.name === 'apply'))
          await jsm.consumers.delete(name, c.name);
      }
      await jsm.streams.purge(name);
    }
  } finally {
    await nc.close();
  }
}

function start(c: EngineConfig): Promise<ClusterEngine> {
  return ClusterEngine.start({
    servers: nats!.urls.split(','),
    prefix: PREFIX,
    queueShards: 1,
    ackWait: 5000,
    publishTimeout: 5000,
    now: c.now,
    maxDeliveries: c.maxDeliveries,
    memoryLimit: c.memoryLimit,
    maxTopicPending: c.maxTopicPending,
    maxTopicPendingBytes: c.maxTopicPendingBytes,
  });
}

if (skip !== undefined) {
  engineConformance('cluster engine', () => Promise.reject(new Error(skip)), {
    skip: Object.fromEntries(
      (
        [
          'queues',
          'acknowledgment',
          'priority',
          'expiry',
          'topics',
          'temporary',
          'durable',
          'transactions',
          'limits',
          'admin',
          'durability',
          'session',
        ] as const
      ).map((g) => [g, skip]),
    ),
  });
} else {
  engineConformance(
    'cluster engine on a 3-server JetStream cluster',
    async (c) => {
      let engine = await start(c);
      return {
        engine,
        restart: async () => {
          await engine.close();
          engine = await start(c);
          return engine;
        },
        keepsNonPersistent: true,
        settle: () => engine.settled(),
        dispose: emptyStreams,
      };
    },
    {
      deadlineMs: 15_000,
      skip: {
        limits:
          'queues live in JetStream, not in node memory: a full stream refuses a SEND with an ' +
          'ERROR (maxStreamBytes) instead of pausing its producers (docs/cluster.md); the ' +
          "topic-backlog rule is in this package's own tests",
      },
    },
  );
}
