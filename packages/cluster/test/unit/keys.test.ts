import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KeySpace } from '@stompede/cluster/internal';

describe('ack keys', () => {
  const keys = new KeySpace(3);

  test('queue, local and durable keys never collide, and local keys decode', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e12 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 1e12 }),
        (seq, shard, n) => {
          const q = keys.queue(seq, shard);
          const l = keys.local(n);
          const d = keys.durable(n);
          assert.equal(new Set([q, l, d]).size, 3);
          assert.equal(keys.localOf(l), n);
          assert.equal(keys.localOf(q), -1);
          assert.equal(keys.localOf(d), -1);
          for (const k of [q, l, d]) assert.ok(Number.isSafeInteger(k) && k < 1e15);
        },
      ),
    );
  });

  test('queue keys are the same on every node (computed from the stream position)', () => {
    assert.equal(new KeySpace(3).queue(42, 1), new KeySpace(3).queue(42, 1));
    assert.notEqual(keys.queue(42, 1), keys.queue(42, 2));
  });

  test('spare keys are fresh and apart from the others', () => {
    const a = keys.spare();
    const b = keys.spare();
    assert.notEqual(a, b);
    assert.equal(keys.localOf(a), -1);
    assert.equal(a % 6, 5);
  });

  test('a key beyond 15 digits falls back to a spare one', () => {
    const k = keys.queue(1e15, 0);
    assert.ok(k < 1e15);
    assert.equal(k % 6, 5);
  });
});
