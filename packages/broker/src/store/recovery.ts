// Recovery: rebuild the journal's state at start, from the clean-shutdown checkpoint when it
// still matches the segments (restore.ts), else by reading every record (scan.ts), and hand the
// engine its queues.
import { removeCheckpoint } from './checkpoint.js';
import { type ScanResult, scan } from './scan.js';
import { fromCheckpoint, readCheckpoint } from './restore.js';
import { listSegments } from './segment.js';
import type { JournalState } from './state.js';
import type { RecoveredMessages, RecoveredQueue } from './store.js';

/** How recovery went, for its log line. */
export interface RecoveryStats {
  /** Segment files found. */
  readonly segments: number;
  /** Undefined when the checkpoint was used. */
  readonly scan: ScanResult | undefined;
}

/**
 * Fill `state` from the journal directory. With `verify`, every record is read even when the
 * checkpoint matches.
 */
export function recoverState(
  state: JournalState,
  options: { readonly verify: boolean; readonly fsync: boolean },
): RecoveryStats {
  const files = listSegments(state.jdir);
  const checkpoint = readCheckpoint(state, files);
  const fast =
    !options.verify && checkpoint !== undefined && fromCheckpoint(state, checkpoint, files);
  if (options.verify) {
    state.log.info('journal: a full verification scan was asked for; the checkpoint is not used');
  }
  // Whether used or not, it goes before anything is written (a damaged segment cut by the scan
  // included): a checkpoint still on disk after a write would let a crash recover from it and
  // miss the write.
  removeCheckpoint(state.jdir, options.fsync);
  if (fast) return { segments: files.length, scan: undefined };
  // Unused, a checkpoint still says how far each segment was synced at the clean stop: damage
  // there is not a torn write, whatever its place.
  const synced = new Map(checkpoint?.segments.map((s) => [s.no, s.size]));
  return { segments: files.length, scan: scan(state, files, synced) };
}

/**
 * The queues of the recovered index, by queue number, then durable subscriptions and queues
 * created that are empty.
 */
export function recoveredQueues(state: JournalState): RecoveredQueue[] {
  const table = state.keys.table;
  const lists = table.map((_, q) => {
    const n = state.keys.count(q);
    return {
      length: n,
      seqs: new Float64Array(n),
      priorities: new Uint8Array(n),
      expires: new Float64Array(n),
    };
  });
  const fill = new Uint32Array(table.length);
  state.index.each((seq, meta, expires) => {
    const q = meta >>> 4;
    const list = lists[q]!;
    const at = fill[q]!++;
    list.seqs[at] = seq;
    list.priorities[at] = meta & 15;
    list.expires[at] = expires;
  });
  const queues: RecoveredQueue[] = [];
  const listed = new Set<string>();
  for (let q = 0; q < table.length; q++) {
    const key = table[q];
    const messages = lists[q]!;
    if (key === undefined || messages.length === 0) continue;
    if (!key.startsWith('q\0') && !state.subs.has(key)) {
      // A dropped durable subscription's messages (a scan skips them too).
      for (let i = 0; i < messages.length; i++) state.forget(messages.seqs[i]!);
      continue;
    }
    listed.add(key);
    if (key.startsWith('q\0')) {
      queues.push(namedQueue(state, key, messages));
    } else {
      const def = state.subs.get(key)!;
      queues.push({
        key,
        vhost: def.vhost,
        durable: { clientId: def.clientId, name: def.name, topic: def.topic },
        messages,
      });
    }
  }
  for (const [key, def] of state.subs) {
    if (!listed.has(key)) {
      queues.push({
        key,
        vhost: def.vhost,
        durable: { clientId: def.clientId, name: def.name, topic: def.topic },
        messages: NO_MESSAGES,
      });
    }
  }
  // Queues once created exist while empty.
  for (const key of state.queues) {
    if (!listed.has(key)) queues.push(namedQueue(state, key, NO_MESSAGES));
  }
  return queues;
}

const NO_MESSAGES: RecoveredMessages = {
  length: 0,
  seqs: new Float64Array(0),
  priorities: new Uint8Array(0),
  expires: new Float64Array(0),
};

/** A named queue's entry (key `q\0<vhost>\0<destination>`). */
function namedQueue(state: JournalState, key: string, messages: RecoveredMessages): RecoveredQueue {
  const sep = key.indexOf('\0', 2);
  const vhost = key.slice(2, sep);
  const destination = key.slice(sep + 1);
  return state.queues.has(key)
    ? { key, vhost, destination, declared: true, messages }
    : { key, vhost, destination, messages };
}
