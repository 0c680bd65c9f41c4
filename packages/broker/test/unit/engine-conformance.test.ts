// The engine conformance suite (@stompede/testkit/engine) against the local engine: in memory, and
// durable over a journal in a temporary directory (then the durability rules run too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LocalEngine, type LocalEngineOptions } from '@stompede/broker';
import { JournalStore } from '@stompede/broker/internal';
import { type EngineConfig, engineConformance } from '@stompede/testkit/engine';

function options(c: EngineConfig): LocalEngineOptions {
  return {
    now: c.now,
    maxDeliveries: c.maxDeliveries,
    memoryLimit: c.memoryLimit,
    maxTopicPending: c.maxTopicPending,
    maxTopicPendingBytes: c.maxTopicPendingBytes,
    maxQueueBytes: c.maxQueueBytes,
  };
}

engineConformance('local engine in memory', (c) => ({ engine: new LocalEngine(options(c)) }));

const logger = pino({ level: 'silent' });
engineConformance('local engine with a journal', (c) => {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-conformance-'));
  const open = (): LocalEngine =>
    new LocalEngine({ ...options(c), store: new JournalStore({ dir, logger, fsync: false }) });
  let engine = open();
  return {
    engine,
    restart: async () => {
      await engine.close();
      engine = open();
      return engine;
    },
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
