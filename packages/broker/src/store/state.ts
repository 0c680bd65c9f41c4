// What the journal's parts share: the open segments, where each live copy is (the index), the
// queue keys, the durable subscriptions and the queues created. The facade (journal.ts) owns it; recovery fills it,
// the writer and compaction change it.
import { closeSync } from 'node:fs';
import type { Logger } from 'pino';
import { QueueKeys } from './queue-keys.js';
import { Segment, segmentPath } from './segment.js';
import { SeqIndex } from './seq-index.js';

/** A durable subscription's definition. */
export interface SubscriptionDef {
  readonly vhost: string;
  readonly clientId: string;
  readonly name: string;
  readonly topic: string;
}

/** What the store counts (the broker's {@link Metrics} keeps the counts). */
export interface StoreCounters {
  /** Damage was found (by recovery, the background verification or a read). */
  journalDamaged(records: number, messagesLost: number): void;
  /** The data directory's disk was read: `freeBytes` free (-1: unknown), refusing or not. */
  diskRead(freeBytes: number, refusing: boolean): void;
  /** A persistent message was refused for lack of disk space. */
  persistentSendRefused(): void;
}

/** Counts nowhere: a store on its own (tools, tests) that no broker reads counters of. */
const UNCOUNTED: StoreCounters = {
  journalDamaged: () => undefined,
  diskRead: () => undefined,
  persistentSendRefused: () => undefined,
};

export class JournalState {
  /** The store's id (the prefix of message ids). */
  id = '';
  /** Where damage is counted. */
  counters: StoreCounters = UNCOUNTED;
  /** Open segments, oldest first. */
  readonly segs: Segment[] = [];
  readonly byNo = new Map<number, Segment>();
  /** The segment appended to. */
  cur: Segment | undefined;
  /** Where the live copy of each stored seq is, and its queue's number. */
  index = new SeqIndex();
  keys = new QueueKeys();
  readonly subs = new Map<string, SubscriptionDef>();
  /** The keys of the queues created (kept while empty; see Store.defineQueue). */
  readonly queues = new Set<string>();
  /** The highest seq recovery found (removed ones included). */
  recoveredMaxSeq = 0;

  constructor(
    /** The `journal` directory. */
    readonly jdir: string,
    readonly log: Logger,
  ) {}

  /** A new segment object for number `no` (not yet listed). */
  segment(no: number): Segment {
    return new Segment(no, segmentPath(this.jdir, no));
  }

  /** List `seg` as the newest segment. */
  add(seg: Segment): void {
    this.segs.push(seg);
    this.byNo.set(seg.no, seg);
  }

  /** Unlist the oldest segment and close its descriptors. */
  dropOldest(): Segment | undefined {
    const seg = this.segs.shift();
    if (seg === undefined) return undefined;
    this.byNo.delete(seg.no);
    if (seg.wfd >= 0) closeSync(seg.wfd);
    if (seg.rfd >= 0) closeSync(seg.rfd);
    seg.wfd = seg.rfd = -1;
    return seg;
  }

  /** Drop `seq` from the index and its segment's live count (it is consumed or gone). */
  forget(seq: number): void {
    const pos = this.index.find(seq);
    if (pos < 0) return; // already gone
    const seg = this.byNo.get(this.index.seg(pos));
    const len = this.index.len(pos);
    this.keys.release(this.index.queue(pos));
    this.index.remove(pos);
    if (seg === undefined) return; // its copy was lost
    seg.live--;
    seg.liveBytes -= len;
  }

  /** A queue key as a report names it: a named queue's vhost and destination, or a subscription. */
  whereIs(key: string): { vhost: string; queue?: string; subscription?: string } {
    if (key.startsWith('q\0')) {
      const sep = key.indexOf('\0', 2);
      return { vhost: key.slice(2, sep), queue: key.slice(sep + 1) };
    }
    const def = this.subs.get(key);
    if (def === undefined) return { vhost: '?', subscription: JSON.stringify(key) };
    return { vhost: def.vhost, subscription: `${def.clientId}/${def.name} (${def.topic})` };
  }

  /** Count damage found. */
  damaged(records: number, messagesLost: number): void {
    this.counters.journalDamaged(records, messagesLost);
  }

  /** Report a stored message that cannot be read (it is lost), with its queue and id. */
  lost(seq: number, segment: number, offset: number, why: string): void {
    const pos = this.index.find(seq);
    const key = pos < 0 ? undefined : this.keys.table[this.index.queue(pos)];
    const where = key === undefined ? {} : this.whereIs(key);
    this.damaged(1, 1);
    this.log.error(
      { segment, offset, seq, id: `${this.id}-${String(seq)}`, ...where },
      `journal: a stored message cannot be read (${why}); it is lost`,
    );
  }
}
