// A queue's ready messages: entries in memory and packed runs of paged-out seqs per priority
// level. Order per level, priority across levels, expiry and page-in across run boundaries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Entry, ReadyQueue } from '@stompede/broker/internal';

function entry(seq: number, priority = 4, expires = 0): Entry {
  return { message: undefined, seq, deliveries: 0, priority, expires, stored: true };
}

/** Take everything from `q` in delivery order: [seq, deliveries] pairs; expired ones dropped. */
function takeAll(q: ReadyQueue, max = 256, now = 1000): number[][] {
  const out: number[][] = [];
  const unpack = (
    seq: number,
    priority: number,
    expires: number,
    deliveries: number,
  ): Entry | undefined =>
    expires > 0 && expires <= now
      ? undefined
      : { message: undefined, seq, deliveries, priority, expires, stored: true };
  for (;;) {
    let e = q.peek();
    if (e === undefined) {
      if (!q.pageIn(max, unpack)) break;
      e = q.peek();
      if (e === undefined) continue; // all of that page expired
    }
    assert.equal(q.shift(), e);
    out.push([e.seq, e.deliveries]);
  }
  assert.equal(q.length, 0);
  return out;
}

describe('ready queue with paged-out runs', () => {
  test('[Priority] higher level first, FIFO within a level, paged-out or in memory', () => {
    const q = new ReadyQueue();
    q.push(entry(1, 4));
    q.pushPaged(2, 4, 0, 0);
    q.push(entry(3, 9));
    q.push(entry(4, 4)); // held behind the paged-out seq 2
    q.pushPaged(5, 9, 0, 0);
    q.pushPaged(6, 0, 0, 0);
    q.push(entry(7, 0));
    q.pushPaged(8, 4, 0, 0);
    assert.equal(q.length, 8);
    assert.ok(q.hasPaged(4) && q.hasPaged(9) && q.hasPaged(0) && !q.hasPaged(5));
    assert.deepEqual(
      takeAll(q).map(([s]) => s),
      [3, 5, 1, 2, 4, 8, 6, 7],
    );
  });

  test('[Paging] page-in crosses run boundaries and keeps recovered delivery counts', () => {
    const q = new ReadyQueue();
    const want: number[][] = [];
    let seq = 0;
    // Recovered (delivered once), then new paged-out ones, then held entries, then more: runs
    // of different kinds and more than one run's worth of each.
    for (let i = 0; i < 5000; i++) {
      q.pushPaged(++seq, 4, 0, 1);
      want.push([seq, 1]);
    }
    for (let i = 0; i < 5000; i++) {
      q.pushPaged(++seq, 4, 0, 0);
      want.push([seq, 0]);
    }
    for (let i = 0; i < 300; i++) {
      q.push(entry(++seq));
      want.push([seq, 0]);
      q.pushPaged(++seq, 4, 0, 1);
      want.push([seq, 1]);
    }
    assert.equal(q.length, want.length);
    // Pages of 256 slots, not aligned with the runs (of up to 4096).
    assert.deepEqual(takeAll(q, 256), want);
  });

  test('[Expiry] expired paged-out messages are dropped at page-in, the rest keep order', () => {
    const q = new ReadyQueue();
    for (let s = 1; s <= 600; s++) q.pushPaged(s, 4, s % 3 === 0 ? 500 : s % 3 === 1 ? 2000 : 0, 0);
    // A whole page expired: page-in continues with the next.
    const r = new ReadyQueue();
    for (let s = 1; s <= 300; s++) r.pushPaged(s, 7, 10, 0);
    r.pushPaged(301, 7, 0, 0);
    assert.deepEqual(
      takeAll(q).map(([s]) => s),
      Array.from({ length: 600 }, (_, i) => i + 1).filter((s) => s % 3 !== 0),
    );
    assert.deepEqual(takeAll(r), [[301, 0]]);
  });

  test('[Paging] pageOut turns the last entry of its level into a packed slot', () => {
    const q = new ReadyQueue();
    const a = entry(1);
    const b = entry(2);
    q.push(a);
    q.push(b);
    assert.equal(q.pageOut(a), false); // not the last: stays in memory
    assert.equal(q.pageOut(b), true);
    assert.ok(q.hasPaged(4));
    const c = entry(3);
    q.push(c); // behind the paged-out one: held in the run
    const d = entry(4);
    q.push(d);
    assert.equal(q.pageOut(c), false);
    assert.equal(q.pageOut(d), true);
    assert.equal(q.length, 4);
    const seen: [string, number][] = [];
    q.drain(
      (e) => seen.push(['entry', e.seq]),
      (s) => seen.push(['paged', s]),
    );
    assert.deepEqual(seen, [
      ['entry', 1],
      ['paged', 2],
      ['entry', 3],
      ['paged', 4],
    ]);
    assert.equal(q.length, 0);
    assert.equal(q.peek(), undefined);
  });

  test('[Priority] random pushes, page-outs and takes agree with a sorted model', () => {
    interface Item {
      readonly seq: number;
      readonly priority: number;
      readonly expires: number;
      readonly deliveries: number;
      paged: boolean;
      readonly entry: Entry | undefined;
    }
    const NOW = 1000;
    const op = fc.oneof(
      fc.record({
        kind: fc.constantFrom('push' as const, 'paged' as const),
        priority: fc.constantFrom(0, 4, 9),
        expires: fc.constantFrom(0, 0, 500, 2000),
        deliveries: fc.constantFrom(0, 1),
      }),
      fc.record({ kind: fc.constant('pageOut' as const) }),
      fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('many' as const), count: fc.integer({ min: 1, max: 600 }) }),
    );
    const unpack = (
      seq: number,
      priority: number,
      expires: number,
      deliveries: number,
    ): Entry | undefined =>
      expires > 0 && expires <= NOW
        ? undefined
        : { message: undefined, seq, deliveries, priority, expires, stored: true };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new ReadyQueue();
        let model: Item[] = [];
        let seq = 0;
        let last: Entry | undefined;
        /** The model's next item: priority first, then order; expired paged-out ones dropped. */
        const next = (): Item | undefined => {
          for (const p of [9, 4, 0]) {
            for (const item of model) {
              if (item.priority !== p) continue;
              if (item.paged && item.expires > 0 && item.expires <= NOW) {
                model = model.filter((x) => x !== item);
                return next();
              }
              return item;
            }
          }
          return undefined;
        };
        const take = (max: number): void => {
          let e = q.peek();
          while (e === undefined && q.pageIn(max, unpack)) e = q.peek();
          const want = next();
          assert.equal(e?.seq, want?.seq);
          if (e === undefined || want === undefined) return;
          assert.equal(e.deliveries, want.deliveries);
          assert.equal(q.shift(), e);
          model = model.filter((x) => x !== want);
        };
        for (const o of ops) {
          switch (o.kind) {
            case 'push': {
              const e = entry(++seq, o.priority, o.expires);
              q.push(e);
              model.push({ ...o, seq, deliveries: 0, paged: false, entry: e });
              last = e;
              break;
            }
            case 'paged':
              q.pushPaged(++seq, o.priority, o.expires, o.deliveries);
              model.push({ ...o, seq, paged: true, entry: undefined });
              break;
            case 'pageOut': {
              if (last === undefined) break;
              const item = model.find((x) => x.entry === last);
              const lane = model.filter((x) => x.priority === last!.priority);
              const ok = item !== undefined && !item.paged && lane.at(-1) === item;
              assert.equal(q.pageOut(last), ok);
              if (ok) item.paged = true;
              break;
            }
            case 'take':
              take(o.max);
              break;
            case 'many':
              for (let i = 0; i < o.count; i++) {
                q.pushPaged(++seq, 4, 0, 1);
                model.push({
                  seq,
                  priority: 4,
                  expires: 0,
                  deliveries: 1,
                  paged: true,
                  entry: undefined,
                });
              }
              break;
          }
          const live = model.filter((x) => !(x.paged && x.expires > 0 && x.expires <= NOW));
          assert.ok(q.length >= live.length && q.length <= model.length);
        }
        while (model.length > 0 || q.length > 0) {
          take(256);
          if (next() === undefined && q.peek() === undefined && !q.pageIn(256, unpack)) break;
        }
        assert.equal(q.length, 0);
      }),
      { numRuns: 100 },
    );
  });
});
