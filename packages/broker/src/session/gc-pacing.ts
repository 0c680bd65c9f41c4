// Keeps V8's cheap young-generation collections (scavenges) in step with the bytes the broker
// reads, so that large bodies do not turn into full mark-compacts.
//
// Every socket read is a fresh ArrayBuffer outside the JavaScript heap, and bodies are views of
// them (zero-copy). Nearly all die young, but V8 frees a dead ArrayBuffer only in a GC, and it
// schedules scavenges by JavaScript heap allocation alone. V8 (the Node 20 heap) also counts the
// external memory allocated since the last mark-compact against the old generation's limit, whose
// slack in a broker's small heap is about 8 MB: when a connection moves 64 KiB bodies with a few KB
// of JavaScript objects each, hundreds of dead chunks pile up between two scavenges and that
// count, not the heap, starts mark-compacts (measured with bench/tools/gc-count.mjs: 30–38 per
// 10,000 × 64 KiB messages at 5–65 ms each, where b22a138, which allocated more per message, had
// 12).
//
// So once per 64 KiB of bodies received, the external memory is compared with its recent low;
// while it stands more than PILE_LIMIT above it (dead chunks piling up), each 64 KiB also
// allocates a throwaway array of young heap, which brings the next scavenge closer. Small messages
// allocate enough JavaScript by themselves and rarely reach a look. Bodies over MAX_PACED_BODY do
// not count: each keeps its chunks alive until the whole body arrived and left, so scavenging
// sooner only promotes those chunks to the old generation (measured at 1 MiB: more mark-compacts
// and more CPU with pacing than without). Memory that stays (messages a queue holds) raises the
// low slowly (DRIFT), so a full queue does not keep it pacing.

import { getHeapStatistics } from 'node:v8';

/** Body bytes between two looks at the external memory. */
export const PACE_BYTES = 64 * 1024;
/**
 * External memory above its recent low that counts as dead chunks piling up: under V8's ~8 MB
 * (at 12 MB the mark-compacts at 64 KiB came back), above what a few 1 MiB messages in flight
 * hold (at 2 MB it paced 1 MiB traffic that did not need it).
 */
export const PILE_LIMIT = 6 * 1024 * 1024;
/** Slots of each throwaway array: 48 KiB of young heap on 64-bit Node (8-byte slots). */
export const BALLAST_SLOTS = 6144;
/** Larger bodies are not paced. */
export const MAX_PACED_BODY = 256 * 1024;
/** The low follows memory that stays by 1/2^DRIFT of the difference per look. */
const DRIFT = 8;

let debt = 0;
let low = Number.MAX_SAFE_INTEGER;
/** The last throwaway array, kept where the optimizer cannot prove it unused. */
export let ballast: unknown[] = [];

/**
 * A frame with a body of `bytes` was received: while dead ArrayBuffers pile up, allocate young
 * heap in proportion. `external` is for tests (default: V8's external memory now).
 */
export function paceBody(bytes: number, external?: number): void {
  if (bytes > MAX_PACED_BODY) return;
  debt += bytes;
  if (debt < PACE_BYTES) return;
  let blocks = 0;
  while (debt >= PACE_BYTES) {
    debt -= PACE_BYTES;
    blocks++;
  }
  const now = external ?? getHeapStatistics().external_memory;
  if (now < low) low = now;
  else low += Math.floor((now - low) / 2 ** DRIFT);
  if (now - low < PILE_LIMIT) return;
  for (let i = 0; i < blocks; i++) ballast = new Array<unknown>(BALLAST_SLOTS);
}
