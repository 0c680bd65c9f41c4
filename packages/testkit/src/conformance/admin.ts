// Conformance rules of transactions handed over as data (commit), memory bounds and push-back on
// producers, the admin verbs (purge, delete, list, peek), and durability across a restart.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { type ConsumerHandle, type MaybePromise, Message, type TxOp } from '@stompede/broker';
import { ErrorCode, StompError } from '@stompede/core';
import { type Group, type Rule, rule as test, text } from './harness.js';

/** True when `result` settled by the time the engine has done what it was asked. */
async function settledSoon(r: Rule, result: MaybePromise<void>): Promise<boolean> {
  let done = false;
  void Promise.resolve(result).then(() => (done = true));
  await r.settle();
  return done;
}

const BODY = 1000;
/** The engine-side size of a message of BODY bytes to `destination`. */
const size = (destination: string): number => new Message(destination, [], Buffer.alloc(BODY)).size;

export const transactionRules: Group = (run) => {
  test('[Engine transactions] commit applies its publications in order', () =>
    run({}, async (r) => {
      const c = await r.subscribe('/queue/tx');
      const ops: TxOp[] = ['a', 'b', 'c'].map((b) => ({
        kind: 'publish',
        message: r.message('/queue/tx', b),
      }));
      await r.engine.commit('/', 's1', ops);
      assert.deepEqual(await c.texts(3), ['a', 'b', 'c']);
    }));

  test('[Engine transactions] commit settles its ACKs and NACKs: acknowledged, redelivered, dead-lettered', () =>
    run({}, async (r) => {
      for (const b of ['acked', 'requeued', 'dead']) await r.publish('/queue/txa', b);
      const c = await r.subscribe('/queue/txa', { ack: 'client', window: 3 });
      const [d1, d2, d3] = await c.take(3);
      c.outstanding -= 3;
      await r.engine.commit('/', 's1', [
        { kind: 'ack', consumer: c.handle, ackKey: d1!.ackKey },
        { kind: 'nack', consumer: c.handle, ackKey: d2!.ackKey, requeue: true },
        { kind: 'nack', consumer: c.handle, ackKey: d3!.ackKey, requeue: false },
      ]);
      const [again] = await c.take(1);
      assert.equal(text(again!), 'requeued');
      assert.equal(again!.deliveryCount, 2);
      const dlq = await r.subscribe('/queue/DLQ.txa');
      assert.deepEqual(await dlq.texts(1), ['dead']);
    }));

  test('[Engine transactions] a commit the engine refuses changes nothing', () =>
    run({}, async (r) => {
      const foreign: ConsumerHandle = {
        ack: () => undefined,
        nack: () => undefined,
        resume: () => undefined,
        close: () => undefined,
      };
      await assert.rejects(
        async () =>
          r.engine.commit('/', 's1', [
            { kind: 'publish', message: r.message('/queue/refused', 'x') },
            { kind: 'ack', consumer: foreign, ackKey: 1 },
          ]),
        (err: unknown) => err instanceof StompError,
      );
      const c = await r.subscribe('/queue/refused');
      await r.settle();
      assert.equal(c.pending, 0);
    }));
};

export const limitRules: Group = (run) => {
  test('[Engine limits] a queue over maxQueueBytes pushes back on its own producers only, until it has room', () =>
    run({ maxQueueBytes: 3 * size('/queue/full') }, async (r) => {
      const body = 'x'.repeat(BODY);
      for (let i = 0; i < 2; i++) {
        assert.ok(
          await settledSoon(r, r.engine.publish('/', 's1', r.message('/queue/full', body))),
        );
      }
      const third = r.engine.publish('/', 's1', r.message('/queue/full', body));
      assert.equal(await settledSoon(r, third), false, 'the producer of the full queue waits');
      const other = r.engine.publish('/', 's2', r.message('/queue/other', body));
      assert.ok(await settledSoon(r, other), 'a producer of another queue goes on');
      const c = await r.subscribe('/queue/full');
      await c.take(3);
      await third;
    }));

  test('[Engine limits] over memoryLimit producers wait, and go on once memory is freed', () =>
    run({ memoryLimit: 3 * size('/queue/m') }, async (r) => {
      const body = 'x'.repeat(BODY);
      await r.publish('/queue/m', body);
      await r.publish('/queue/m', body);
      const full = r.engine.publish('/', 's1', r.message('/queue/m', body));
      assert.equal(await settledSoon(r, full), false);
      const c = await r.subscribe('/queue/m');
      await c.take(3);
      await full;
    }));

  test('[Engine limits] a slow non-durable topic subscriber never makes producers wait: its backlog is shed', () =>
    run({ memoryLimit: 5 * size('/topic/s') }, async (r) => {
      const slow = await r.subscribe('/topic/s');
      slow.open = false;
      const fast = await r.subscribe('/topic/s');
      for (let i = 0; i < 20; i++) {
        const p = r.engine.publish('/', 's1', r.message('/topic/s', String(i).padEnd(BODY, '.')));
        assert.ok(await settledSoon(r, p), `publication ${String(i)} waited`);
      }
      assert.equal((await fast.take(20)).length, 20);
      assert.ok(await settledSoon(r, r.engine.publish('/', 's2', r.message('/queue/x', 'go'))));
      slow.resume();
      await r.settle();
      const kept = (await slow.texts(slow.pending)).map((t) => t.replace(/\.+$/, ''));
      assert.ok(kept.length > 0 && kept.length <= 5, `kept ${String(kept.length)}`);
      assert.equal(kept.at(-1), '19', 'the newest are kept');
    }));
};

export const adminRules: Group = (run) => {
  test('[Engine admin] purge removes the waiting messages of a queue (not unacknowledged ones) and counts them', () =>
    run({}, async (r) => {
      for (let i = 0; i < 5; i++) await r.publish('/queue/p', String(i));
      const c = await r.subscribe('/queue/p', { ack: 'client', window: 2 });
      await c.take(2);
      assert.equal(await r.engine.purge('/', '/queue/p'), 3);
      assert.equal(await r.engine.purge('/', '/queue/none'), 0);
      await assert.rejects(
        async () => r.engine.purge('/', '/topic/t'),
        (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_ARGUMENT,
      );
      await c.handle.close();
      const again = await r.subscribe('/queue/p');
      assert.deepEqual(await again.texts(2), ['0', '1']);
      await r.settle();
      assert.equal(again.pending, 0);
    }));

  test('[Engine admin] deleting a queue detaches its consumers (telling them why) and removes every message', () =>
    run({}, async (r) => {
      for (let i = 0; i < 3; i++) await r.publish('/queue/doomed', String(i));
      const c = await r.subscribe('/queue/doomed', { ack: 'client', window: 1 });
      await c.take(1);
      assert.equal(await r.engine.deleteDestination('/', '/queue/doomed'), 3);
      await r.settle();
      assert.ok(c.detachedWith instanceof StompError, 'the consumer was told');
      const again = await r.subscribe('/queue/doomed');
      await r.settle();
      assert.equal(again.pending, 0);
      await r.publish('/queue/doomed', 'new life');
      assert.deepEqual(await again.texts(1), ['new life']);
    }));

  test('[Engine admin] deleting a topic removes its subscriptions, durable ones included', () =>
    run({}, async (r) => {
      const id = { clientId: 'c', name: 'n' };
      const durable = await r.subscribe('/topic/doomed', { durable: id });
      await durable.handle.close();
      await r.publish('/topic/doomed', 'a');
      await r.publish('/topic/doomed', 'b');
      const live = await r.subscribe('/topic/doomed');
      assert.equal(await r.engine.deleteDestination('/', '/topic/doomed'), 2);
      await r.settle();
      assert.ok(live.detachedWith instanceof StompError);
      const back = await r.subscribe('/topic/doomed', { durable: id });
      await r.settle();
      assert.equal(back.pending, 0);
    }));

  test('[Engine admin] destinations lists queues, topics and durable subscriptions with depth, unacknowledged and consumers', () =>
    run({}, async (r) => {
      for (let i = 0; i < 3; i++) await r.publish('/queue/l', String(i));
      const c = await r.subscribe('/queue/l', { ack: 'client', window: 1 });
      await c.take(1);
      const d = await r.subscribe('/topic/d', { durable: { clientId: 'c', name: 'n' } });
      await d.handle.close();
      await r.publish('/topic/d', 'held');
      await r.subscribe('/topic/e');
      await r.settle();
      const infos = await r.engine.destinations('/');
      const queue = infos.find((i) => i.destination === '/queue/l');
      assert.deepEqual(
        { depth: queue?.depth, unacked: queue?.unacked, consumers: queue?.consumers },
        { depth: 2, unacked: 1, consumers: 1 },
      );
      if (queue?.counters !== undefined) {
        assert.equal(queue.counters.enqueued, 3);
        assert.equal(queue.counters.delivered, 1);
      }
      const sub = infos.find((i) => i.durable !== undefined);
      assert.deepEqual(
        { destination: sub?.destination, durable: sub?.durable, depth: sub?.depth },
        { destination: '/topic/d', durable: { clientId: 'c', name: 'n' }, depth: 1 },
      );
      const topic = infos.find((i) => i.destination === '/topic/e' && i.durable === undefined);
      assert.equal(topic?.consumers, 1);
      assert.ok(infos.every((i) => i.vhost === '/'));
      const elsewhere = await r.engine.destinations('other');
      assert.ok(!elsewhere.some((i) => i.destination === '/queue/l'));
    }));

  test('[Engine admin] peek shows the first waiting messages in delivery order and takes none', () =>
    run({}, async (r) => {
      await r.publish('/queue/k', 'low', { priority: '1' });
      await r.publish('/queue/k', 'high', { priority: '9' });
      await r.publish('/queue/k', 'normal');
      const two = await r.engine.peek('/', '/queue/k', 2);
      assert.deepEqual(two.map(text), ['high', 'normal']);
      const all = await r.engine.peek('/', '/queue/k', 10);
      assert.deepEqual(
        all.map((p) => p.deliveryCount),
        [0, 0, 0],
      );
      assert.deepEqual(await r.engine.peek('/', '/queue/none', 10), []);
      const c = await r.subscribe('/queue/k');
      const got = await c.take(3);
      assert.deepEqual(got.map(text), ['high', 'normal', 'low']);
      assert.deepEqual(
        got.map((d) => d.messageId),
        all.map((p) => p.messageId),
      );
    }));
};

export const durabilityRules: Group = (run) => {
  const durableOnly = 'the engine under test gives no restart(): it is not durable';

  test('[Engine durability] persistent messages survive a restart (redelivered), acknowledged ones (and non-persistent ones, unless the storage outlives the engine) do not', (t) =>
    run({}, async (r) => {
      if (!r.canRestart) {
        t.skip(durableOnly);
        return;
      }
      for (const b of ['a', 'b', 'c']) await r.publish('/queue/keep', b, { persistent: 'true' });
      await r.publish('/queue/keep', 'volatile');
      const c = await r.subscribe('/queue/keep', { ack: 'client' });
      const [a] = await c.take(4);
      await c.ack(a!, true);
      await r.restart();
      const again = await r.subscribe('/queue/keep');
      // The volatile message goes with the engine, unless its storage keeps it (and it restarted
      // without it).
      const expected = r.keepsNonPersistent ? ['b', 'c', 'volatile'] : ['b', 'c'];
      const got = await again.take(expected.length);
      assert.deepEqual(got.map(text), expected);
      assert.ok(got.every((d) => d.deliveryCount >= 2));
      await r.settle();
      assert.equal(again.pending, 0);
    }));

  test('[Engine durability] recovered queues and durable subscriptions exist after a restart and are listed', (t) =>
    run({}, async (r) => {
      if (!r.canRestart) {
        t.skip(durableOnly);
        return;
      }
      const id = { clientId: 'c', name: 'n' };
      const s = await r.subscribe('/topic/d', { durable: id });
      await s.handle.close();
      await r.publish('/topic/d', 'for the subscription', { persistent: 'true' });
      await r.publish('/queue/q', 'for the queue', { persistent: 'true' });
      await r.restart();
      // A clustered engine's listing may trail a publish by a moment: JetStream counts a
      // consumer's pending messages after the stream has stored them (seen once in CI, depth 0).
      // The listing must show both within a deadline.
      const listing = async (): Promise<object> => {
        const infos = await r.engine.destinations();
        const sub = infos.find((i) => i.durable?.name === 'n');
        return {
          queue: infos.find((i) => i.destination === '/queue/q')?.depth,
          destination: sub?.destination,
          depth: sub?.depth,
        };
      };
      const expected = { queue: 1, destination: '/topic/d', depth: 1 };
      const deadline = Date.now() + 5000;
      let listed = await listing();
      while (!isDeepStrictEqual(listed, expected) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await listing();
      }
      assert.deepEqual(listed, expected);
      const back = await r.subscribe('/topic/d', { durable: id });
      assert.deepEqual(await back.texts(1), ['for the subscription']);
    }));
};
