// The messages of a queue waiting for a consumer: FIFO per priority level, highest level first.
// Each level (a Lane) holds entries in memory, then, once some of its messages were paged out,
// PagedRuns: a packed stretch that becomes entries only as it reaches the head (pageIn). The hot
// path — levels without paged-out messages — is a FIFO of entries.
import { Fifo } from '../fifo.js';
import type { Entry } from './entry.js';
import { PagedRun } from './paged-run.js';

/** One priority level: `mem` first, then `runs`. */
class Lane {
  constructor(readonly priority: number) {}

  readonly mem = new Fifo<Entry>();
  readonly runs = new Fifo<PagedRun>();
  /** Slots in `runs`. */
  paged = 0;

  get length(): number {
    return this.mem.length + this.paged;
  }

  /** Add a slot at the tail of the runs (a new run when the last is full or of another kind). */
  append(seq: number, expires: number, entry: Entry | undefined, deliveries: number): void {
    let run = this.runs.at(this.runs.length - 1);
    if (run === undefined || run.full || (entry === undefined && run.deliveries !== deliveries)) {
      run = new PagedRun(deliveries);
      this.runs.push(run);
    }
    run.push(seq, expires, entry);
    this.paged++;
  }
}

/**
 * Called by {@link ReadyQueue.pageIn} for each paged-out message reaching the head: its entry
 * (message still to be read), or undefined to drop it (expired).
 */
export type Unpack = (
  seq: number,
  priority: number,
  expires: number,
  deliveries: number,
) => Entry | undefined;

/** The queued messages of one queue. */
export class ReadyQueue {
  private readonly lanes: (Lane | undefined)[] = [];
  /** The highest level that may be non-empty. */
  private top = -1;
  private size = 0;

  /** Messages held, paged-out ones included. */
  get length(): number {
    return this.size;
  }

  private lane(priority: number): Lane {
    let lane = this.lanes[priority];
    if (lane === undefined) {
      lane = new Lane(priority);
      this.lanes[priority] = lane;
    }
    if (priority > this.top) this.top = priority;
    this.size++;
    return lane;
  }

  /** Append `entry` at its priority (0..9). */
  push(entry: Entry): void {
    const lane = this.lane(entry.priority);
    if (lane.paged === 0) lane.mem.push(entry);
    else lane.append(entry.seq, entry.expires, entry, 0);
  }

  /** Append a paged-out message (its copy is in the store). */
  pushPaged(seq: number, priority: number, expires: number, deliveries: number): void {
    this.lane(priority).append(seq, expires, undefined, deliveries);
  }

  /** True when level `priority` has paged-out messages (a new one queues behind them). */
  hasPaged(priority: number): boolean {
    return (this.lanes[priority]?.paged ?? 0) > 0;
  }

  /**
   * Page out `entry`, pushed last at its level: only its seq stays. False when it is not the
   * last any more (then it stays in memory).
   */
  pageOut(entry: Entry): boolean {
    const lane = this.lanes[entry.priority];
    if (lane === undefined) return false;
    if (lane.paged === 0) {
      if (lane.mem.at(lane.mem.length - 1) !== entry) return false;
      lane.mem.pop();
    } else {
      // Held in the last run: its slot is replaced by a packed one (in a new run when the
      // delivery counts of the run's paged-out messages differ from its own).
      const run = lane.runs.at(lane.runs.length - 1)!;
      if (!run.dropLast(entry)) return false;
      lane.paged--;
      if (run.length === 0) lane.runs.pop();
    }
    lane.append(entry.seq, entry.expires, undefined, entry.deliveries);
    return true;
  }

  /** The level the next message comes from (undefined when empty). */
  private head(): Lane | undefined {
    while (this.top >= 0) {
      const lane = this.lanes[this.top];
      if (lane !== undefined && lane.length > 0) return lane;
      this.top--;
    }
    return undefined;
  }

  /**
   * The next entry; undefined when empty or when the next message is paged out (then
   * {@link ReadyQueue.pageIn} first).
   */
  peek(): Entry | undefined {
    return this.head()?.mem.peek();
  }

  /** Remove the entry {@link ReadyQueue.peek} returned. */
  shift(): Entry | undefined {
    const entry = this.head()?.mem.shift();
    if (entry !== undefined) this.size--;
    return entry;
  }

  /**
   * When the next message is paged out: turn up to `max` slots of its level into entries, in
   * order (paged-out ones through `unpack`). False when there was nothing to page in.
   */
  pageIn(max: number, unpack: Unpack): boolean {
    const lane = this.head();
    if (lane === undefined || lane.mem.length > 0 || lane.paged === 0) return false;
    let moved = 0;
    while (moved < max && lane.paged > 0) {
      const run = lane.runs.peek()!;
      const k = run.head++;
      lane.paged--;
      if (run.head === run.tail) lane.runs.shift();
      let entry = run.entryAt(k);
      if (entry === undefined) {
        entry = unpack(run.seqAt(k), lane.priority, run.expiresAt(k), run.deliveries);
        if (entry === undefined) {
          this.size--;
          continue;
        }
      }
      lane.mem.push(entry);
      moved++;
    }
    return true;
  }

  /**
   * Visit up to `limit` waiting messages in the order they would be delivered, without taking
   * them: entries through `onEntry`, paged-out messages through `onPaged` (seq and the deliveries
   * it counts). Returns how many were visited.
   */
  scan(
    limit: number,
    onEntry: (entry: Entry) => void,
    onPaged: (seq: number, deliveries: number) => void,
  ): number {
    let n = 0;
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const lane = this.lanes[p];
      if (lane === undefined) continue;
      for (let i = 0; i < lane.mem.length; i++) {
        if (n++ >= limit) return limit;
        onEntry(lane.mem.at(i)!);
      }
      for (let r = 0; r < lane.runs.length; r++) {
        const run = lane.runs.at(r)!;
        for (let k = run.head; k < run.tail; k++) {
          if (n++ >= limit) return limit;
          const entry = run.entryAt(k);
          if (entry === undefined) onPaged(run.seqAt(k), run.deliveries);
          else onEntry(entry);
        }
      }
    }
    return n;
  }

  /**
   * Remove everything, highest level first: entries through `onEntry`, paged-out messages
   * through `onPaged`.
   */
  drain(onEntry: (entry: Entry) => void, onPaged: (seq: number) => void): void {
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const lane = this.lanes[p];
      if (lane === undefined) continue;
      for (const entry of lane.mem.drain()) onEntry(entry);
      for (const run of lane.runs.drain()) {
        for (let k = run.head; k < run.tail; k++) {
          const entry = run.entryAt(k);
          if (entry === undefined) onPaged(run.seqAt(k));
          else onEntry(entry);
        }
      }
      lane.paged = 0;
    }
    this.size = 0;
    this.top = -1;
  }
}
