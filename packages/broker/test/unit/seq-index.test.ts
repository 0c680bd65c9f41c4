// The journal's packed index of stored messages (seq → segment, offset, length), checked against
// a Map through random sequences of adds, removals and moves (compaction relocations).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SeqIndex } from '@stompede/broker/internal';

interface Loc {
  seg: number;
  off: number;
  len: number;
}

type Op =
  | { readonly kind: 'add'; readonly gap: number; readonly seg: number; readonly len: number }
  | { readonly kind: 'remove'; readonly pick: number }
  | { readonly kind: 'move'; readonly pick: number; readonly seg: number; readonly off: number }
  | { readonly kind: 'bulk'; readonly count: number; readonly keep: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      gap: fc.integer({ min: 1, max: 3 }),
      seg: fc.integer({ min: 1, max: 5 }),
      len: fc.integer({ min: 1, max: 5000 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      pick: fc.nat(),
      seg: fc.integer({ min: 0, max: 9 }),
      off: fc.nat({ max: 2 ** 32 - 1 }),
    }),
  },
  // Many adds then removal of most (chunks filled, emptied, tidied and merged).
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bulk' as const),
      count: fc.integer({ min: 1, max: 9000 }),
      keep: fc.integer({ min: 1, max: 50 }),
    }),
  },
);

/** Apply `ops` to an index and to a Map model, checking every live seq after each step. */
function run(ops: readonly Op[]): void {
  const index = new SeqIndex();
  const model = new Map<number, Loc>();
  let seq = 0;
  let off = 16;
  const live = (): number[] => [...model.keys()];
  for (const o of ops) {
    switch (o.kind) {
      case 'add':
        seq += o.gap;
        index.add(seq, o.seg, off, o.len);
        model.set(seq, { seg: o.seg, off, len: o.len });
        off += o.len;
        break;
      case 'bulk':
        for (let i = 0; i < o.count; i++) {
          seq++;
          index.add(seq, 1, off, 100);
          model.set(seq, { seg: 1, off, len: 100 });
          off += 100;
          // Keep one in `keep` of them.
          if (i % o.keep !== 0) {
            index.remove(index.find(seq));
            model.delete(seq);
          }
        }
        break;
      case 'remove': {
        const keys = live();
        if (keys.length === 0) break;
        const s = keys[o.pick % keys.length]!;
        const pos = index.find(s);
        assert.ok(pos >= 0, `seq ${String(s)} not found`);
        index.remove(pos);
        model.delete(s);
        assert.equal(index.find(s), -1);
        break;
      }
      case 'move': {
        const keys = live();
        if (keys.length === 0) break;
        const s = keys[o.pick % keys.length]!;
        index.move(index.find(s), o.seg, o.off, model.get(s)!.len);
        const loc = model.get(s)!;
        loc.seg = o.seg;
        loc.off = o.off;
        break;
      }
    }
    assert.equal(index.size, model.size);
  }
  for (const [s, loc] of model) {
    const pos = index.find(s);
    assert.ok(pos >= 0, `seq ${String(s)} lost`);
    assert.deepEqual({ seg: index.seg(pos), off: index.off(pos), len: index.len(pos) }, loc);
  }
  // Seqs never added or removed are not found.
  for (let s = 0; s <= seq + 1; s++) {
    if (!model.has(s)) assert.equal(index.find(s), -1, `seq ${String(s)} found`);
  }
  for (let seg = 0; seg <= 9; seg++) {
    const want = [...model]
      .filter(([, loc]) => loc.seg === seg)
      .map(([s, loc]) => [s, loc.off, loc.len])
      .sort((x, y) => x[1]! - y[1]!);
    assert.deepEqual(index.inSegment(seg), want);
  }
}

describe('packed seq index', () => {
  test('[Durability] random adds, removals and moves agree with a Map', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        run(ops);
      }),
      { numRuns: 200 },
    );
  });

  test('[Durability] chunks mostly dead are reclaimed; survivors keep their locations', () => {
    const index = new SeqIndex();
    const n = 100_000;
    for (let s = 1; s <= n; s++) index.add(s, 1 + (s >> 12), s * 10, 10);
    // Consume all but every 1000th, oldest first (a queue drained past a few stuck messages).
    for (let s = 1; s <= n; s++) if (s % 1000 !== 0) index.remove(index.find(s));
    assert.equal(index.size, 100);
    for (let s = 1000; s <= n; s += 1000) {
      const pos = index.find(s);
      assert.equal(index.off(pos), s * 10);
      assert.equal(index.seg(pos), 1 + (s >> 12));
    }
    // New seqs still go in after the old ones.
    index.add(n + 1, 99, 0, 5);
    assert.equal(index.len(index.find(n + 1)), 5);
    assert.throws(() => {
      index.add(n, 99, 0, 5);
    }, RangeError);
  });
});
