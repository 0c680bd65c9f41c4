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
// 12). A throwaway allocation per 64 KiB read makes the scavenges come often enough to free the
// chunks while they are young (0–2 mark-compacts per 10,000); it costs one array allocation per
// read, not per frame, and no memory that outlives the next scavenge. 3/4 of a byte of young heap
// per byte read was the smallest ratio that removed the mark-compacts at 64 KiB (1/4: 18 per
// 10,000; 1/2: 2; 3/4: 0–2).

/** Bytes read between two paced allocations. */
export const PACE_BYTES = 64 * 1024;
/** Slots of each throwaway array: 48 KiB of young heap on 64-bit Node (8-byte slots). */
export const BALLAST_SLOTS = 6144;

let debt = 0;
/** The last throwaway array, kept where the optimizer cannot prove it unused. */
export let ballast: unknown[] = [];

/** `bytes` were read from a connection: allocate young heap in proportion. */
export function paceRead(bytes: number): void {
  debt += bytes;
  while (debt >= PACE_BYTES) {
    debt -= PACE_BYTES;
    ballast = new Array<unknown>(BALLAST_SLOTS);
  }
}
