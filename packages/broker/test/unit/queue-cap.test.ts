// The engine's cap on queues per virtual host (maxQueues): which creations count, the coded
// error, the counter, one warning a minute per virtual host (injected clock), queues recovered
// from the store above the cap kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '@stompede/core';
import { LocalEngine, Message, Metrics } from '@stompede/broker';
import { JournalStore } from '@stompede/broker/internal';
import { type LogLine, keptLogger, tempDirs } from '../durable-helper.js';

const newDir = tempDirs('stompede-queuecap-');

function message(destination: string): Message {
  return new Message(destination, [], Buffer.from('x'), {
    persistent: true,
    priority: 4,
    expires: 0,
  });
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.equal((err as { code?: string }).code, ErrorCode.LIMIT_EXCEEDED);
    return (err as Error).message;
  }
  assert.fail('not refused');
}

describe('maxQueues in the local engine', () => {
  test('[Limits queues] each virtual host has its own cap; refusals are counted and logged once a minute', () => {
    const logs: LogLine[] = [];
    let now = 1_000_000;
    const metrics = new Metrics();
    const engine = new LocalEngine({
      maxQueues: 2,
      metrics,
      logger: keptLogger(logs),
      now: () => now,
    });
    engine.publish('/', 's', message('/queue/a'));
    engine.publish('/', 's', message('/queue/b'));
    engine.publish('other', 's', message('/queue/a'));
    // A queue that exists takes messages at the cap.
    engine.publish('/', 's', message('/queue/a'));
    assert.match(
      refusal(() => engine.publish('/', 's', message('/queue/c'))),
      /maxQueues is 2/,
    );
    assert.match(
      refusal(() => engine.createDestination('/', '/queue/d')),
      /\/queue\/d was not created/,
    );
    assert.equal(engine.createDestination('/', '/queue/a'), true, 'declaring one that exists');
    assert.equal(metrics.queuesRefused, 2);
    const warned = () => logs.filter((l) => l.level === 40 && l.msg.includes('maxQueues')).length;
    assert.equal(warned(), 1);
    now += 61_000;
    refusal(() => engine.publish('/', 's', message('/queue/e')));
    assert.equal(warned(), 2);
    assert.equal(engine.stats().queues, 3);
  });

  test('[Limits queues] queues recovered from the store are all kept when the cap was lowered', async () => {
    const dir = newDir();
    const store = () => new JournalStore({ dir, logger: keptLogger([]), fsync: false });
    const first = new LocalEngine({ maxQueues: 5, store: store() });
    for (const q of ['a', 'b', 'c', 'd']) first.publish('/', 's', message(`/queue/${q}`));
    await first.close();
    const second = new LocalEngine({ maxQueues: 2, store: store() });
    const names = (await second.destinations('/')).map((d) => d.destination).sort();
    assert.deepEqual(names, ['/queue/a', '/queue/b', '/queue/c', '/queue/d']);
    refusal(() => second.publish('/', 's', message('/queue/e')));
    await second.close();
  });
});
