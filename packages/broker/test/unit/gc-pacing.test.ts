import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BALLAST_SLOTS,
  MAX_PACED_BODY,
  PACE_BYTES,
  PILE_LIMIT,
  ballast,
  paceBody,
} from '@stompede/broker/internal';

// While dead socket chunks pile up as external memory, the broker allocates young heap in
// proportion to the body bytes it receives, so that V8's scavenges free them young (session/gc-pacing.ts).
// The GC counts this is for are a benchmark figure (bench/tools/gc-count.mjs), not asserted here.
const MB = 1024 * 1024;

/** Arrays allocated for `blocks` 64 KiB bodies with the external memory at `external`. */
function arraysFor(blocks: number, external: number): number {
  let arrays = 0;
  for (let i = 0; i < blocks; i++) {
    const last = ballast;
    paceBody(PACE_BYTES, external);
    if (ballast !== last) arrays++;
  }
  return arrays;
}

describe('GC pacing of reads', () => {
  test('nothing while the external memory stays near its low', () => {
    assert.equal(arraysFor(8, 10 * MB), 0);
    assert.equal(arraysFor(8, 10 * MB + PILE_LIMIT - 1), 0);
  });

  test('one throwaway array per 64 KiB read while dead chunks pile up, none kept but the last', () => {
    arraysFor(1, 10 * MB); // the low: 10 MB
    assert.equal(arraysFor(16, 10 * MB + PILE_LIMIT + MB), 16);
    assert.equal(ballast.length, BALLAST_SLOTS);
    // A scavenge freed them: back to the low, no more pacing.
    assert.equal(arraysFor(4, 10 * MB), 0);
  });

  test('small bodies add up to 64 KiB before a look; bodies over 256 KiB do not count', () => {
    arraysFor(1, 10 * MB);
    const piled = 10 * MB + PILE_LIMIT + MB;
    const last = ballast;
    for (let n = 0; n + 1000 < PACE_BYTES; n += 1000) paceBody(1000, piled);
    assert.equal(ballast, last, 'no look before 64 KiB in all');
    for (let i = 0; i < 8; i++) paceBody(MAX_PACED_BODY + 1, piled);
    assert.equal(ballast, last, 'a large body keeps its chunks until it leaves: not paced');
    paceBody(PACE_BYTES, piled); // crosses a 64 KiB mark
    assert.notEqual(ballast, last);
  });

  test('memory that stays (a queue holding messages) stops counting as a pile', () => {
    arraysFor(1, 10 * MB);
    const held = 10 * MB + PILE_LIMIT * 4;
    assert.equal(arraysFor(1, held), 1);
    // The low follows what stays, so pacing ends after a while (2,000 × 64 KiB = 125 MiB read).
    arraysFor(2000, held);
    assert.equal(arraysFor(4, held), 0);
  });
});
