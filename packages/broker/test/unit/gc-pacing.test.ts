import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BALLAST_SLOTS, PACE_BYTES, ballast, paceRead } from '@stompede/broker/internal';

// The broker allocates young heap in proportion to the bytes it reads, so that V8's scavenges keep
// up with the dead socket chunks (session/gc-pacing.ts; the GC counts it is for are measured by
// bench/tools/gc-count.mjs, not here: they are a benchmark figure).
describe('GC pacing of reads', () => {
  test('one throwaway array per 64 KiB read, whatever the chunk sizes', () => {
    const seen = new Set<unknown[]>();
    const note = (): void => {
      seen.add(ballast);
    };
    note();
    // Small chunks add up: nothing until 64 KiB in all.
    for (let n = 0; n < PACE_BYTES - 100; n += 100) {
      paceRead(100);
      note();
    }
    // (the module's debt may start anywhere below 64 KiB: at most one array so far)
    assert.ok(seen.size <= 2, `${String(seen.size)} arrays for less than 64 KiB`);
    const before = seen.size;
    // A 1 MiB chunk (a WebSocket message) pays for all its 64 KiB blocks.
    let arrays = 0;
    for (let i = 0; i < 16; i++) {
      const last = ballast;
      paceRead(PACE_BYTES);
      if (ballast !== last) arrays++;
    }
    assert.equal(arrays, 16);
    note();
    assert.ok(seen.size > before);
  });

  test('only the last array is kept, and it is the size the ratio says', () => {
    paceRead(PACE_BYTES);
    const last = ballast;
    paceRead(PACE_BYTES);
    assert.notEqual(ballast, last, 'each block allocates anew (nothing accumulates)');
    assert.equal(ballast.length, BALLAST_SLOTS);
  });
});
