// The local engine's answers to the admin verbs that look without changing anything: its
// destinations with their counts, and the first messages waiting in a queue.
import { TEMPORARY } from '../destination.js';
import type { DestinationCounters, DestinationInfo, PeekedMessage } from '../engine.js';
import type { Message } from '../message.js';
import type { Store } from '../store/store.js';
import type { Counters } from './counters.js';
import { type Queue, QueueKind } from './queue.js';
import type { VHost } from './vhost.js';

/** Live counts being added up. */
interface Live {
  depth: number;
  unacked: number;
  consumers: number;
}

function add(live: Live, queue: Queue): void {
  live.depth += queue.depth;
  live.unacked += queue.unacked;
  live.consumers += queue.consumers.length;
}

function entry(
  vhost: string,
  destination: string,
  live: Live,
  counters: Counters | undefined,
): DestinationInfo {
  const c: DestinationCounters | undefined = counters?.snapshot();
  return { vhost, destination, ...live, ...(c === undefined ? {} : { counters: c }) };
}

/**
 * Append `vh`'s destinations to `out`: named queues; topics (with the waiting messages of their
 * non-durable subscriptions; a wildcard subscription is listed under its pattern); each durable
 * subscription on its own; every temporary queue together as `(temporary)`; and destinations
 * that have only counts left.
 */
export function listDestinations(vh: VHost, out: DestinationInfo[]): void {
  const listed = new Set<string>();
  const temporary: Live = { depth: 0, unacked: 0, consumers: 0 };
  let temps = 0;
  for (const q of vh.queues.values()) {
    if (q.kind !== QueueKind.QUEUE) {
      add(temporary, q);
      temps++;
      continue;
    }
    const live: Live = { depth: 0, unacked: 0, consumers: 0 };
    add(live, q);
    const info = entry(vh.name, q.key, live, q.counters);
    out.push(q.declared ? { ...info, declared: true } : info);
    listed.add(q.key);
  }
  const topics = new Map<string, Live>();
  for (const q of vh.subscriptions()) {
    const destination = `/topic/${q.topic}`;
    const live: Live = { depth: 0, unacked: 0, consumers: 0 };
    if (q.durable !== undefined) {
      add(live, q);
      out.push({ ...entry(vh.name, destination, live, undefined), durable: { ...q.durable } });
      continue;
    }
    let t = topics.get(destination);
    if (t === undefined) {
      t = live;
      topics.set(destination, t);
    }
    add(t, q);
  }
  for (const [destination, live] of topics) {
    out.push(entry(vh.name, destination, live, vh.counters.get(destination)));
    listed.add(destination);
  }
  const tempCounters = vh.counters.get(TEMPORARY);
  if (temps > 0 || tempCounters !== undefined) {
    out.push(entry(vh.name, TEMPORARY, temporary, tempCounters));
    listed.add(TEMPORARY);
  }
  for (const [destination, counters] of vh.counters.entries()) {
    if (listed.has(destination)) continue;
    out.push(entry(vh.name, destination, { depth: 0, unacked: 0, consumers: 0 }, counters));
  }
}

/**
 * Up to `limit` messages waiting in `queue`, in delivery order (requeued ones first, then by
 * priority and age), paged-out ones read back from the store without being paged in.
 */
export function peekQueue(
  queue: Queue,
  limit: number,
  idPrefix: string,
  store: Store | undefined,
): PeekedMessage[] {
  const slots: { seq: number; deliveries: number; message: Message | undefined }[] = [];
  const paged: number[] = [];
  const pagedSlots: number[] = [];
  for (const e of queue.requeued) {
    if (slots.length >= limit) break;
    slots.push({ seq: e.seq, deliveries: e.deliveries, message: e.message });
  }
  queue.ready.scan(
    limit - slots.length,
    (e) => slots.push({ seq: e.seq, deliveries: e.deliveries, message: e.message }),
    (seq, deliveries) => {
      pagedSlots.push(slots.length);
      paged.push(seq);
      slots.push({ seq, deliveries, message: undefined });
    },
  );
  if (paged.length > 0 && store !== undefined) {
    const loaded = store.load(paged);
    for (let i = 0; i < paged.length; i++) slots[pagedSlots[i]!]!.message = loaded[i];
  }
  const out: PeekedMessage[] = [];
  for (const s of slots) {
    // A message the store could not read back (it reported it) is left out.
    if (s.message === undefined) continue;
    out.push({
      message: s.message,
      messageId: idPrefix + String(s.seq),
      deliveryCount: s.deliveries,
    });
  }
  return out;
}
