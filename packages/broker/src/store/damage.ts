// What damage cost, said exactly: for each damaged region, which messages are lost (queue, seqs,
// message ids), how many acknowledgements could not be read (those messages may be delivered
// again), and how many bytes could not be read at all. Reported as structured log lines and
// counted in the broker's metrics.
import { RecordType } from './record.js';
import type { JournalState } from './state.js';
import type { DamagedRecord, Region } from './walk.js';

/** Seqs listed per queue in a log line at most (the count is always exact). */
const LISTED = 100;

/** What became of a damaged ENQUEUE record's message. */
export const Fate = {
  /** No intact copy is left and it was not consumed. */
  LOST: 0,
  /** It had been consumed (acknowledged): nothing lost. */
  CONSUMED: 1,
  /** Another intact copy holds it (compaction's). */
  COPIED: 2,
} as const;
export type Fate = (typeof Fate)[keyof typeof Fate];

/** The losses of some damaged regions. */
export interface DamageReport {
  /** Regions found now (not already noted in the journal). */
  readonly regions: readonly Region[];
  /** Messages lost in them. */
  readonly lost: number;
}

interface QueueLoss {
  vhost: string;
  queue?: string;
  subscription?: string;
  messages: number;
  seqs: number[];
  ids: string[];
}

/** The structured description of `region`'s cost. */
function describe(
  state: JournalState,
  region: Region,
  fate: (rec: DamagedRecord) => Fate,
): { fields: Record<string, unknown>; lost: number; text: string } {
  const losses = new Map<string, QueueLoss>();
  let lost = 0;
  let consumed = 0;
  let copied = 0;
  let unreadableAcks = 0;
  let unknownRecords = 0;
  for (const rec of region.records) {
    if (rec.type === RecordType.ENQUEUE && rec.seq !== undefined && rec.key !== undefined) {
      const f = fate(rec);
      if (f === Fate.CONSUMED) consumed++;
      else if (f === Fate.COPIED) copied++;
      else {
        lost++;
        let q = losses.get(rec.key);
        if (q === undefined) {
          q = { ...state.whereIs(rec.key), messages: 0, seqs: [], ids: [] };
          losses.set(rec.key, q);
        }
        q.messages++;
        if (q.seqs.length < LISTED) {
          q.seqs.push(rec.seq);
          q.ids.push(`${state.id}-${String(rec.seq)}`);
        }
      }
    } else if (rec.type === RecordType.REMOVE) {
      unreadableAcks += rec.unreadable ?? 0;
    } else if (rec.type === undefined) {
      unknownRecords++;
    }
  }
  const bytes = region.end - region.off;
  const parts: string[] = [];
  parts.push(lost === 1 ? '1 message lost' : `${String(lost)} messages lost`);
  for (const q of losses.values()) {
    parts.push(`${q.queue ?? `subscription ${q.subscription ?? '?'}`}: seqs ${q.seqs.join(', ')}`);
  }
  if (unreadableAcks > 0) {
    parts.push(
      `${String(unreadableAcks)} acknowledgements unreadable (those messages may be delivered again)`,
    );
  }
  if (unknownRecords > 0 || region.unknown > 0) {
    parts.push(
      `${String(unknownRecords)} records and ${String(region.unknown)} bytes of unknown content (a message stored there is lost, an acknowledgement undone, a queue's or subscription's creation or deletion unread)`,
    );
  }
  if (consumed + copied > 0) {
    parts.push(
      `${String(consumed + copied)} damaged copies of messages consumed or kept elsewhere`,
    );
  }
  return {
    fields: {
      segment: region.seg,
      offset: region.off,
      bytes,
      lost: [...losses.values()],
      messagesLost: lost,
      unreadableAcks,
      unknownRecords,
      unknownBytes: region.unknown,
      consumed,
      copied,
    },
    lost,
    text: parts.join('; '),
  };
}

/** Binary search of a sorted array. */
function has(sorted: Float64Array, seq: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === seq;
}

/**
 * Report what recovery's scan found: torn writes at the end (info; they were cut) and damage
 * elsewhere (error, or warn when a DAMAGE record says it was reported before).
 */
export function reportScanDamage(
  state: JournalState,
  found: {
    readonly torn: readonly Region[];
    readonly middle: readonly Region[];
    readonly notes: ReadonlySet<string>;
    readonly removed: Float64Array;
    readonly dropped: ReadonlySet<string>;
  },
): DamageReport {
  const log = state.log;
  const fate = (rec: DamagedRecord): Fate => {
    const seq = rec.seq!;
    if (has(found.removed, seq)) return Fate.CONSUMED;
    if (state.index.find(seq) >= 0) return Fate.COPIED;
    const key = rec.key!;
    const kept = !found.dropped.has(key) && (key.startsWith('q\0') || state.subs.has(key));
    return kept ? Fate.LOST : Fate.CONSUMED;
  };
  for (const region of found.torn) {
    // Said in full: a crash cannot be told from damage to the last records synced.
    const seqs = region.records.flatMap((r) => (r.seq === undefined ? [] : [r.seq]));
    const d = describe(state, region, fate);
    log.info(
      { ...d.fields, seqs },
      `journal: torn write at the end of the journal (a crash during a write) cut off: ${String(region.end - region.off)} bytes of segment ${String(region.seg)} (${d.text}); a write cut short by a crash was never synced, so never receipted`,
    );
  }
  const fresh: Region[] = [];
  let lost = 0;
  let records = 0;
  for (const region of found.middle) {
    const known = found.notes.has(`${String(region.seg)}:${String(region.off)}`);
    const d = describe(state, region, fate);
    if (known) {
      log.warn(
        { ...d.fields, known: true },
        `journal: damage reported before, still in segment ${String(region.seg)} at offset ${String(region.off)}: ${d.text}`,
      );
      continue;
    }
    fresh.push(region);
    lost += d.lost;
    records += region.records.length + (region.unknown > 0 ? 1 : 0);
    log.error(
      d.fields,
      `journal: damaged records in segment ${String(region.seg)} at offset ${String(region.off)} (${String(region.end - region.off)} bytes), the records after them are read: ${d.text}`,
    );
  }
  if (fresh.length > 0) {
    log.error(
      { regions: fresh.length, messagesLost: lost },
      `journal: damage found in ${String(fresh.length)} places cost ${String(lost)} messages (listed above); everything else was recovered`,
    );
  }
  state.damaged(records, lost);
  return { regions: fresh, lost };
}

/**
 * Report damage found after start (by the background verification): a damaged record whose
 * message is live is lost now.
 */
export function reportFoundDamage(
  state: JournalState,
  region: Region,
  fate: (rec: DamagedRecord) => Fate,
): number {
  const d = describe(state, region, fate);
  state.log.error(
    { ...d.fields, foundBy: 'verification' },
    `journal: damaged records found in segment ${String(region.seg)} at offset ${String(region.off)} (${String(region.end - region.off)} bytes): ${d.text}`,
  );
  state.damaged(region.records.length + (region.unknown > 0 ? 1 : 0), d.lost);
  return d.lost;
}
