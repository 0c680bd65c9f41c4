// A queue's ready messages: entries in memory and packed runs of paged-out seqs per priority
// level. Order per level, priority across levels, expiry and page-in across run boundaries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
});
