// Conformance rules of queues: delivery order and competing consumers, message-ids and ack keys,
// acknowledgment (ACK, NACK, redelivery counts, dead-lettering, flow windows), priority, expiry.
import assert from 'node:assert/strict';
import { ORIGINAL_DESTINATION } from '@stompede/broker';
import { type Group, header, rule as test, text } from './harness.js';

export const queueRules: Group = (run) => {
  test('[Engine queues] messages sent before and after a subscription arrive once, in order, intact', () =>
    run({}, async (r) => {
      await r.publish('/queue/a', 'one', { 'x-h': 'v1', 'content-type': 'text/plain' });
      const c = await r.subscribe('/queue/a');
      await r.publish('/queue/a', 'two');
      const [d1, d2] = await c.take(2);
      assert.deepEqual([text(d1!), text(d2!)], ['one', 'two']);
      assert.equal(d1!.message.destination, '/queue/a');
      assert.equal(header(d1!, 'x-h'), 'v1');
      assert.equal(header(d1!, 'content-type'), 'text/plain');
      assert.equal(d1!.deliveryCount, 1);
      await r.settle();
      assert.equal(c.pending, 0);
    }));

  test('[Engine queues] a message-id is idPrefix + the digits of its ack key, unique among unsettled deliveries', () =>
    run({}, async (r) => {
      for (const q of ['/queue/a', '/queue/b']) {
        for (let i = 0; i < 3; i++) await r.publish(q, `${q} ${String(i)}`);
      }
      const a = await r.subscribe('/queue/a', { ack: 'client' });
      const b = await r.subscribe('/queue/b', { ack: 'client' });
      const all = [...(await a.take(3)), ...(await b.take(3))];
      for (const d of all) {
        assert.ok(Number.isSafeInteger(d.ackKey) && d.ackKey >= 0, `ack key ${String(d.ackKey)}`);
        assert.equal(d.messageId, d.idPrefix + String(d.ackKey));
        assert.doesNotMatch(d.idPrefix, /[0-9]$/, 'idPrefix must not end with a digit');
      }
      assert.equal(new Set(all.map((d) => d.ackKey)).size, all.length);
    }));

  test('[Engine queues] competing consumers: each message goes to exactly one, and both get some', () =>
    run({}, async (r) => {
      const c1 = await r.subscribe('/queue/shared');
      const c2 = await r.subscribe('/queue/shared');
      for (let i = 0; i < 10; i++) await r.publish('/queue/shared', String(i));
      await r.settle();
      const n1 = c1.pending;
      const n2 = c2.pending;
      assert.equal(n1 + n2, 10);
      assert.ok(n1 > 0 && n2 > 0, `split ${String(n1)}/${String(n2)}`);
      const got = [...(await c1.texts(n1)), ...(await c2.texts(n2))].sort();
      assert.deepEqual(got, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    }));

  test('[Engine queues] a consumer that is not ready is passed over for one that is', () =>
    run({}, async (r) => {
      const stalled = await r.subscribe('/queue/q');
      stalled.open = false;
      const ready = await r.subscribe('/queue/q');
      for (let i = 0; i < 3; i++) await r.publish('/queue/q', String(i));
      assert.deepEqual(await ready.texts(3), ['0', '1', '2']);
      await r.settle();
      assert.equal(stalled.pending, 0);
    }));

  test('[Engine queues] virtual hosts do not share destinations', () =>
    run({}, async (r) => {
      await r.engine.publish('other', 's1', r.message('/queue/v', 'other host'));
      await r.publish('/queue/v', 'default host');
      const c = await r.subscribe('/queue/v');
      assert.deepEqual(await c.texts(1), ['default host']);
      const o = await r.subscribe('/queue/v', { vhost: 'other' });
      assert.deepEqual(await o.texts(1), ['other host']);
      await r.settle();
      assert.equal(c.pending + o.pending, 0);
    }));
};

export const ackRules: Group = (run) => {
  test('[Engine acks] auto-acknowledged deliveries are consumed: nothing comes back after the consumer leaves', () =>
    run({}, async (r) => {
      await r.publish('/queue/a', 'one');
      await r.publish('/queue/a', 'two');
      const c = await r.subscribe('/queue/a');
      await c.take(2);
      await c.handle.close();
      const again = await r.subscribe('/queue/a');
      await r.publish('/queue/a', 'three');
      assert.deepEqual(await again.texts(1), ['three']);
    }));

  test('[Engine acks] ACKed messages are gone; unacknowledged ones come back to the next consumer, counted, same message-id, ahead of newer ones', () =>
    run({}, async (r) => {
      for (const b of ['a', 'b', 'c']) await r.publish('/queue/w', b);
      const c1 = await r.subscribe('/queue/w', { ack: 'client', window: 3 });
      const [a, b, c] = await c1.take(3);
      // Published while c1's window is full (the ACK freed a slot, but c1 is not resumed).
      await c1.ack(a!);
      c1.open = false;
      await r.publish('/queue/w', 'd');
      await c1.handle.close();
      const c2 = await r.subscribe('/queue/w', { ack: 'client' });
      const again = await c2.take(3);
      assert.deepEqual(again.map(text), ['b', 'c', 'd']);
      assert.deepEqual(
        again.map((d) => d.deliveryCount),
        [2, 2, 1],
      );
      assert.deepEqual(
        again.slice(0, 2).map((d) => d.messageId),
        [b!.messageId, c!.messageId],
      );
    }));

  test('[Engine acks] an ACK of a key the consumer does not hold changes nothing', () =>
    run({}, async (r) => {
      await r.publish('/queue/a', 'one');
      const c = await r.subscribe('/queue/a', { ack: 'client' });
      const [d] = await c.take(1);
      await c.handle.ack(d!.ackKey + 1_000_000);
      await c.ack(d!);
      await c.handle.ack(d!.ackKey);
      await c.handle.close();
      const again = await r.subscribe('/queue/a');
      await r.settle();
      assert.equal(again.pending, 0);
    }));

  test('[Engine acks] NACK with requeue redelivers it first, with the next delivery count', () =>
    run({}, async (r) => {
      await r.publish('/queue/n', 'first');
      await r.publish('/queue/n', 'second');
      const c = await r.subscribe('/queue/n', { ack: 'client', window: 1 });
      const [d] = await c.take(1);
      await c.nack(d!, true);
      c.resume();
      const [again] = await c.take(1);
      assert.equal(text(again!), 'first');
      assert.equal(again!.deliveryCount, 2);
      assert.equal(again!.messageId, d!.messageId);
    }));

  test('[Engine acks] NACK without requeue dead-letters to /queue/DLQ.<name>, with original-destination', () =>
    run({}, async (r) => {
      await r.publish('/queue/work', 'bad', { 'x-h': 'kept' });
      const c = await r.subscribe('/queue/work', { ack: 'client' });
      const [d] = await c.take(1);
      await c.nack(d!, false);
      const dlq = await r.subscribe('/queue/DLQ.work');
      const [dead] = await dlq.take(1);
      assert.equal(text(dead!), 'bad');
      assert.equal(dead!.message.destination, '/queue/DLQ.work');
      assert.equal(header(dead!, ORIGINAL_DESTINATION), '/queue/work');
      assert.equal(header(dead!, 'x-h'), 'kept');
      await r.settle();
      assert.equal(c.pending, 0);
    }));

  test('[Engine acks] after maxDeliveries deliveries a requeued message is dead-lettered', () =>
    run({ maxDeliveries: 2 }, async (r) => {
      await r.publish('/queue/poison', 'p');
      const c = await r.subscribe('/queue/poison', { ack: 'client' });
      const [d1] = await c.take(1);
      await c.nack(d1!, true);
      const [d2] = await c.take(1);
      assert.equal(d2!.deliveryCount, 2);
      // Leaving also requeues: the limit holds for that too.
      await c.handle.close();
      const dlq = await r.subscribe('/queue/DLQ.poison');
      assert.deepEqual(await dlq.texts(1), ['p']);
      const again = await r.subscribe('/queue/poison');
      await r.settle();
      assert.equal(again.pending, 0);
    }));

  test('[Engine acks] a topic message dead-letters to /queue/DLQ.<topic>; a dead-letter queue and a temporary queue drop theirs', () =>
    run({}, async (r) => {
      const sub = await r.subscribe('/topic/t.x', { ack: 'client' });
      await r.publish('/topic/t.x', 'from topic');
      const [d] = await sub.take(1);
      await sub.nack(d!, false);
      const dlq = await r.subscribe('/queue/DLQ.t.x', { ack: 'client' });
      const [dead] = await dlq.take(1);
      assert.equal(header(dead!, ORIGINAL_DESTINATION), '/topic/t.x');
      await dlq.nack(dead!, false);
      const tmp = await r.subscribe('/temp-queue/r', { ack: 'client' });
      await r.publish('/temp-queue/r', 'temporary');
      const [t] = await tmp.take(1);
      await tmp.nack(t!, false);
      await r.settle();
      const infos = await r.engine.destinations('/');
      const names = infos.map((i) => i.destination);
      assert.ok(!names.some((n) => n.startsWith('/queue/DLQ.DLQ.')), names.join(' '));
      assert.ok(!names.some((n) => n.includes('temp-queue')), names.join(' '));
      assert.equal(dlq.pending, 0);
    }));

  test('[Engine acks] a consumer whose window is full gets nothing more until an ACK and resume()', () =>
    run({}, async (r) => {
      const c = await r.subscribe('/queue/p', { ack: 'client', window: 2 });
      for (let i = 0; i < 5; i++) await r.publish('/queue/p', String(i));
      const [d0] = await c.take(2);
      await r.settle();
      assert.equal(c.pending, 0);
      await c.ack(d0!);
      c.resume();
      assert.deepEqual(await c.texts(1), ['2']);
      await r.settle();
      assert.equal(c.pending, 0);
    }));
};

export const priorityRules: Group = (run) => {
  test('[Engine priority] waiting messages go out highest priority first, FIFO within a priority', () =>
    run({}, async (r) => {
      const sent: [string, string | undefined][] = [
        ['a', '1'],
        ['b', '9'],
        ['c', undefined],
        ['d', '9'],
        ['e', '1'],
        ['f', '4'],
      ];
      for (const [body, priority] of sent) {
        await r.publish('/queue/prio', body, priority === undefined ? {} : { priority });
      }
      const c = await r.subscribe('/queue/prio');
      assert.deepEqual(await c.texts(6), ['b', 'd', 'c', 'f', 'a', 'e']);
    }));
};

export const expiryRules: Group = (run) => {
  test('[Engine expiry] a message expired when published (expires) is dropped', () =>
    run({}, async (r) => {
      await r.publish('/queue/e', 'stale', { expires: String(r.clock.now() - 1) });
      await r.publish('/queue/e', 'fresh');
      const c = await r.subscribe('/queue/e');
      assert.deepEqual(await c.texts(1), ['fresh']);
      await r.settle();
      assert.equal(c.pending, 0);
    }));

  test('[Engine expiry] a message that expires while waiting (expires, or expiration from publication) is never delivered', () =>
    run({}, async (r) => {
      await r.publish('/queue/e', 'absolute', { expires: String(r.clock.now() + 1000) });
      await r.publish('/queue/e', 'relative', { expiration: '1000' });
      await r.publish('/queue/e', 'later', { expires: String(r.clock.now() + 5000) });
      await r.publish('/queue/e', 'never');
      r.clock.advance(1001);
      const c = await r.subscribe('/queue/e');
      assert.deepEqual(await c.texts(2), ['later', 'never']);
      await r.settle();
      assert.equal(c.pending, 0);
    }));

  test('[Engine expiry] a requeued message that has expired is dropped, not redelivered', () =>
    run({}, async (r) => {
      await r.publish('/queue/e', 'short', { expires: String(r.clock.now() + 1000) });
      const c = await r.subscribe('/queue/e', { ack: 'client' });
      await c.take(1);
      r.clock.advance(2000);
      await c.handle.close();
      const again = await r.subscribe('/queue/e');
      await r.settle();
      assert.equal(again.pending, 0);
    }));
};
