// Conformance rules of topics (fan-out, wildcards, slow subscribers), temporary queues and reply
// addresses, and durable subscriptions.
import assert from 'node:assert/strict';
import { Message, replyAddress } from '@stompede/broker';
import { ErrorCode, StompError } from '@stompede/core';
import { type Group, rule as test, text } from './harness.js';

/** The engine-side size of a message of `n` body bytes to `destination`, with no headers. */
function sizeOf(destination: string, n: number): number {
  return new Message(destination, [], Buffer.alloc(n)).size;
}

export const topicRules: Group = (run) => {
  test('[Engine topics] every subscriber gets every message, each copy with a message-id of its own', () =>
    run({}, async (r) => {
      const s1 = await r.subscribe('/topic/news', { ack: 'client' });
      const s2 = await r.subscribe('/topic/news', { ack: 'client' });
      await r.publish('/topic/news', 'one');
      await r.publish('/topic/news', 'two');
      const a = await s1.take(2);
      const b = await s2.take(2);
      assert.deepEqual(a.map(text), ['one', 'two']);
      assert.deepEqual(b.map(text), ['one', 'two']);
      assert.equal(new Set([...a, ...b].map((d) => d.messageId)).size, 4);
      assert.equal(a[0]!.message.destination, '/topic/news');
    }));

  test('[Engine topics] a message nobody subscribes to is gone; a subscriber gets only what follows its subscription', () =>
    run({}, async (r) => {
      await r.publish('/topic/t', 'before');
      const s = await r.subscribe('/topic/t');
      await r.publish('/topic/t', 'after');
      assert.deepEqual(await s.texts(1), ['after']);
      await r.settle();
      assert.equal(s.pending, 0);
    }));

  test('[Engine topics] * matches one segment; > and # match the rest, zero or more segments', () =>
    run({}, async (r) => {
      const patterns = ['a.*.c', 'a.>', 'a.#', 'b.*', 'a.b'];
      const subs = await Promise.all(patterns.map((p) => r.subscribe(`/topic/${p}`)));
      for (const t of ['a.b.c', 'a.b', 'a', 'b.x.y', 'a.x.c', 'b.x'])
        await r.publish(`/topic/${t}`, t);
      await r.settle();
      const got = await Promise.all(subs.map((s) => s.texts(s.pending)));
      assert.deepEqual(got, [
        ['a.b.c', 'a.x.c'],
        ['a.b.c', 'a.b', 'a', 'a.x.c'],
        ['a.b.c', 'a.b', 'a', 'a.x.c'],
        ['b.x'],
        ['a.b'],
      ]);
    }));

  test('[Engine topics] a non-durable subscription ends with its consumer: its unsettled copies are not kept', () =>
    run({}, async (r) => {
      const s = await r.subscribe('/topic/t', { ack: 'client' });
      await r.publish('/topic/t', 'm');
      await s.take(1);
      await s.handle.close();
      const again = await r.subscribe('/topic/t');
      await r.settle();
      assert.equal(again.pending, 0);
    }));

  test('[Engine topics] a slow non-durable subscriber keeps the newest maxTopicPending messages; a fast one is not held back', () =>
    run({ maxTopicPending: 3 }, async (r) => {
      const slow = await r.subscribe('/topic/fast');
      slow.open = false;
      const fast = await r.subscribe('/topic/fast');
      for (let i = 0; i < 10; i++) await r.publish('/topic/fast', String(i));
      assert.equal((await fast.take(10)).length, 10);
      slow.resume();
      assert.deepEqual(await slow.texts(3), ['7', '8', '9']);
    }));

  const big = 1000;
  test('[Engine topics] a slow non-durable subscriber keeps at most maxTopicPendingBytes, dropping the oldest', () =>
    run({ maxTopicPendingBytes: 3 * sizeOf('/topic/bytes', big) }, async (r) => {
      const slow = await r.subscribe('/topic/bytes');
      slow.open = false;
      for (let i = 0; i < 10; i++) await r.publish('/topic/bytes', String(i).padEnd(big, '.'));
      // A networked engine hands messages to subscribers after the publication settles.
      await r.settle();
      slow.resume();
      await r.settle();
      const got = (await slow.texts(slow.pending)).map((t) => t.replace(/\.+$/, ''));
      assert.deepEqual(got, ['7', '8', '9']);
    }));
};

export const temporaryRules: Group = (run) => {
  test('[Engine temporary] a temporary queue is private to its session', () =>
    run({}, async (r) => {
      const mine = await r.subscribe('/temp-queue/r', { session: 's1' });
      await r.publish('/temp-queue/r', 'from s2', {}, 's2');
      await r.publish('/temp-queue/r', 'from s1', {}, 's1');
      assert.deepEqual(await mine.texts(1), ['from s1']);
      await r.settle();
      assert.equal(mine.pending, 0);
    }));

  test("[Engine temporary] a reply address reaches its session's temporary queue from any session; only the owner subscribes to it", () =>
    run({}, async (r) => {
      const address = r.engine.replyAddress('/', 's1', 'replies');
      assert.equal(address, replyAddress('s1', 'replies'));
      await r.publish(address, 'answer', {}, 's2');
      const mine = await r.subscribe('/temp-queue/replies', { session: 's1' });
      assert.deepEqual(await mine.texts(1), ['answer']);
      await assert.rejects(
        async () => r.subscribe(address, { session: 's2' }),
        (err: unknown) => err instanceof StompError && err.code === ErrorCode.FORBIDDEN,
      );
    }));

  test("[Engine temporary] a closed session's temporary queues are gone; its reply address then drops messages", () =>
    run({}, async (r) => {
      const address = r.engine.replyAddress('/', 's1', 'gone');
      await r.publish(address, 'kept?', {}, 's2');
      r.engine.sessionClosed('/', 's1');
      await r.publish(address, 'dropped', {}, 's2');
      const fresh = await r.subscribe('/temp-queue/gone', { session: 's1' });
      await r.settle();
      assert.equal(fresh.pending, 0);
    }));
};

export const durableRules: Group = (run) => {
  const id = { clientId: 'client-1', name: 'sub-1' };

  test('[Engine durable] a durable subscription keeps messages while detached, for the same client id and name', () =>
    run({}, async (r) => {
      const s = await r.subscribe('/topic/d', { durable: id });
      await r.publish('/topic/d', 'attached');
      assert.deepEqual(await s.texts(1), ['attached']);
      await s.handle.close();
      await r.publish('/topic/d', 'while away 1');
      await r.publish('/topic/d', 'while away 2');
      const back = await r.subscribe('/topic/d', { durable: id, session: 's9' });
      assert.deepEqual(await back.texts(2), ['while away 1', 'while away 2']);
    }));

  test('[Engine durable] another client id or another name is another subscription', () =>
    run({}, async (r) => {
      for (const d of [id, { ...id, clientId: 'client-2' }, { ...id, name: 'sub-2' }]) {
        const s = await r.subscribe('/topic/d', { durable: d });
        await s.handle.close();
      }
      await r.publish('/topic/d', 'x');
      for (const d of [id, { ...id, clientId: 'client-2' }, { ...id, name: 'sub-2' }]) {
        const s = await r.subscribe('/topic/d', { durable: d });
        assert.deepEqual(await s.texts(1), ['x']);
        await s.handle.close();
      }
    }));

  test('[Engine durable] attaching to a durable subscription in use is refused with ERR_STOMP_INVALID_STATE', () =>
    run({}, async (r) => {
      await r.subscribe('/topic/d', { durable: id });
      await assert.rejects(
        async () => r.subscribe('/topic/d', { durable: id, session: 's2' }),
        (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_STATE,
      );
    }));

  test('[Engine durable] the same name on another topic replaces the subscription and its messages', () =>
    run({}, async (r) => {
      const s = await r.subscribe('/topic/old', { durable: id });
      await s.handle.close();
      await r.publish('/topic/old', 'old');
      const moved = await r.subscribe('/topic/new', { durable: id });
      await r.publish('/topic/old', 'old again');
      await r.publish('/topic/new', 'new');
      assert.deepEqual(await moved.texts(1), ['new']);
      await r.settle();
      assert.equal(moved.pending, 0);
    }));

  test('[Engine durable] unsubscribeDurable deletes it: false when there is none, ERR_STOMP_INVALID_STATE while attached', () =>
    run({}, async (r) => {
      const s = await r.subscribe('/topic/d', { durable: id });
      await assert.rejects(
        async () => r.engine.unsubscribeDurable('/', id.clientId, id.name),
        (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_STATE,
      );
      await s.handle.close();
      await r.publish('/topic/d', 'lost');
      assert.equal(await r.engine.unsubscribeDurable('/', id.clientId, id.name), true);
      assert.equal(await r.engine.unsubscribeDurable('/', id.clientId, id.name), false);
      const again = await r.subscribe('/topic/d', { durable: id });
      await r.settle();
      assert.equal(again.pending, 0);
    }));
};
