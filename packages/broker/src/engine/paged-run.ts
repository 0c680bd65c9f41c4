// A stretch of one priority level of a queue whose messages are on disk: packed as seqs and
// expiry times (8 bytes a message, 16 with expiry), no object per message. Entries held in
// memory that were queued behind paged-out ones are kept in their slots, so order is kept.
import { small } from '../small-int.js';
import { grown } from '../typed-arrays.js';
import type { Entry } from './entry.js';

/** Slots of a run at most; a run starts small and doubles up to this. */
export const RUN_MAX = 4096;
const RUN_MIN = 64;

/** Consecutive slots of a lane, oldest first. */
export class PagedRun {
  seqs: Float64Array;
  /** Allocated at the first message with an expiry. */
  expires: Float64Array | undefined = undefined;
  /** Allocated at the first held entry: the slots whose message is in memory. */
  held: (Entry | undefined)[] | undefined = undefined;
  /** The first slot not yet taken. */
  head = 0;
  /** The first free slot. */
  tail = 0;

  /**
   * @param deliveries What its paged-out messages count as delivered already (1 when recovered
   *   after a restart, else 0).
   */
  constructor(
    readonly deliveries: number,
    capacity = RUN_MIN,
  ) {
    this.seqs = new Float64Array(capacity);
  }

  get length(): number {
    return this.tail - this.head;
  }

  /** True when no slot can be added. */
  get full(): boolean {
    return this.tail === RUN_MAX;
  }

  /** Add a slot: paged out (no `entry`) or held in memory. The run must not be {@link full}. */
  push(seq: number, expires: number, entry: Entry | undefined): void {
    if (this.tail === this.seqs.length) this.grow();
    const k = this.tail++;
    this.seqs[k] = seq;
    if (expires !== 0) {
      this.expires ??= new Float64Array(this.seqs.length);
      this.expires[k] = expires;
    }
    if (entry !== undefined) {
      this.held ??= [];
      this.held[k] = entry;
    }
  }

  /** Remove the last slot if it holds `entry`; true when it did. */
  dropLast(entry: Entry): boolean {
    const k = this.tail - 1;
    if (k < this.head || this.held?.[k] !== entry) return false;
    this.held[k] = undefined;
    if (this.expires !== undefined) this.expires[k] = 0;
    this.tail = k;
    return true;
  }

  /** The entry held in slot `k`, if its message is in memory. */
  entryAt(k: number): Entry | undefined {
    return this.held?.[k];
  }

  /** The seq of slot `k` (a small integer when it is one: it goes into an entry). */
  seqAt(k: number): number {
    return small(this.seqs[k]!);
  }

  /** The expiry of slot `k` (0 = never). */
  expiresAt(k: number): number {
    const expires = this.expires?.[k];
    return expires === undefined || expires === 0 ? 0 : small(expires);
  }

  private grow(): void {
    const size = Math.min(RUN_MAX, this.seqs.length * 2);
    this.seqs = grown(this.seqs, size);
    if (this.expires !== undefined) this.expires = grown(this.expires, size);
  }
}
