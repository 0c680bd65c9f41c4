// The Prometheus text exposition format (version 0.0.4), written by hand.
import type { DestinationRow } from './stats.js';
import type { EngineReport } from '../engine.js';
import type { AdminView } from './view.js';

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class Writer {
  text = '';
  metric(name: string, type: 'counter' | 'gauge', help: string): void {
    this.text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  }
  sample(name: string, value: number, labels?: Readonly<Record<string, string>>): void {
    let l = '';
    if (labels !== undefined) {
      const parts = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`);
      l = `{${parts.join(',')}}`;
    }
    this.text += `${name}${l} ${String(value)}\n`;
  }
  one(name: string, type: 'counter' | 'gauge', help: string, value: number): void {
    this.metric(name, type, help);
    this.sample(name, value);
  }
}

/** What the admin server adds to the view's numbers. */
export interface ServerFacts {
  /** stompede's version. */
  readonly version: string;
  /** Bytes of the journal's files at the last sample; null without a data directory. */
  readonly journalBytes: number | null;
}

/** Every metric, as Prometheus text; `rows` are the view's destinations. */
export function prometheusText(
  view: AdminView,
  rows: readonly DestinationRow[],
  report: EngineReport | undefined,
  facts: ServerFacts,
): string {
  const w = new Writer();
  const m = view.metrics.snapshot();
  w.metric('stompede_build_info', 'gauge', 'Always 1; the version is a label.');
  w.sample('stompede_build_info', 1, { version: facts.version });
  w.one(
    'stompede_start_time_seconds',
    'gauge',
    'When the broker started, in seconds since the epoch.',
    view.node.startedAt / 1000,
  );
  w.one('stompede_connections', 'gauge', 'Connections open now.', m.connectionsActive);
  w.one(
    'stompede_connections_opened_total',
    'counter',
    'Connections accepted.',
    m.connectionsOpened,
  );
  w.one(
    'stompede_connections_refused_total',
    'counter',
    'Connections refused at accept or upgrade (a connection limit, or a WebSocket Origin not allowed).',
    view.errors.refusedTotal,
  );
  w.one(
    'stompede_frames_received_total',
    'counter',
    'Frames received (heart-beats excluded).',
    m.framesIn,
  );
  w.one(
    'stompede_frames_sent_total',
    'counter',
    'Frames sent (heart-beats excluded).',
    m.framesOut,
  );
  w.one('stompede_bytes_received_total', 'counter', 'Bytes received.', m.bytesIn);
  w.one('stompede_bytes_sent_total', 'counter', 'Bytes sent.', m.bytesOut);
  w.one('stompede_heartbeats_received_total', 'counter', 'Heart-beats received.', m.heartbeatsIn);
  w.one('stompede_heartbeats_sent_total', 'counter', 'Heart-beats sent.', m.heartbeatsOut);
  w.one(
    'stompede_messages_published_total',
    'counter',
    "Messages published: SEND frames (a transaction's at COMMIT) and admin test messages.",
    m.messagesPublished,
  );
  w.one(
    'stompede_messages_enqueued_total',
    'counter',
    'Messages stored (one per queue or subscription copy).',
    m.messagesEnqueued,
  );
  w.one(
    'stompede_messages_delivered_total',
    'counter',
    'MESSAGE frames sent.',
    m.messagesDelivered,
  );
  w.one(
    'stompede_messages_redelivered_total',
    'counter',
    'MESSAGE frames that were redeliveries.',
    m.messagesRedelivered,
  );
  w.one('stompede_messages_acked_total', 'counter', 'Deliveries settled.', m.messagesAcked);
  w.one('stompede_messages_nacked_total', 'counter', 'Deliveries NACKed.', m.messagesNacked);
  w.one(
    'stompede_messages_requeued_total',
    'counter',
    'Deliveries put back in their queue.',
    m.messagesRequeued,
  );
  w.one(
    'stompede_messages_dead_lettered_total',
    'counter',
    'Messages moved to a dead-letter queue.',
    m.messagesDeadLettered,
  );
  w.one('stompede_messages_dropped_total', 'counter', 'Messages dropped.', m.messagesDropped);
  w.one(
    'stompede_producers_paused_total',
    'counter',
    'Producers paused by the memory limit.',
    m.producersPaused,
  );
  w.one(
    'stompede_journal_damaged_records_total',
    'counter',
    'Damaged journal records found (recovery, background verification, reads).',
    m.journalDamagedRecords,
  );
  w.one(
    'stompede_journal_messages_lost_total',
    'counter',
    'Stored messages lost to journal damage.',
    m.journalMessagesLost,
  );
  w.one(
    'stompede_disk_free_bytes',
    'gauge',
    'Free bytes of the data directory disk at the last reading (-1 without a data directory).',
    m.diskFreeBytes,
  );
  w.one(
    'stompede_disk_free_limit_bytes',
    'gauge',
    'persistence.diskFreeLimit: below this much free space persistent SENDs are refused (-1 without a data directory).',
    view.node.dataDir === undefined ? -1 : (view.node.diskFreeLimit ?? -1),
  );
  w.one(
    'stompede_journal_bytes',
    'gauge',
    'Bytes of the journal files at the last sample (-1 without a data directory).',
    facts.journalBytes ?? -1,
  );
  w.one(
    'stompede_disk_full',
    'gauge',
    '1 while persistent messages are refused for lack of disk space.',
    m.diskRefusing,
  );
  w.one(
    'stompede_persistent_sends_refused_total',
    'counter',
    'Persistent messages refused for lack of disk space (ERR_STOMP_DISK_FULL).',
    m.persistentSendsRefused,
  );
  w.one(
    'stompede_queues_refused_total',
    'counter',
    'Queues not created because their virtual host was at its limit (maxQueues, ERR_STOMP_LIMIT_EXCEEDED).',
    m.queuesRefused,
  );
  w.one('stompede_errors_sent_total', 'counter', 'ERROR frames sent.', m.errorsSent);
  w.metric(
    'stompede_errors_total',
    'counter',
    'ERROR frames sent and connections refused, by error code.',
  );
  for (const [code, n] of [...view.errors.byCode].sort())
    w.sample('stompede_errors_total', n, { code });
  const e = view.engineStats();
  w.one('stompede_store_bytes', 'gauge', 'Bytes of message data held.', e.memoryBytes);
  w.one(
    'stompede_memory_limit_bytes',
    'gauge',
    'memoryLimit: message data held beyond it pauses producers.',
    view.node.memoryLimit,
  );
  w.one('stompede_store_messages', 'gauge', 'Messages held.', e.messages);
  w.one(
    'stompede_store_queues',
    'gauge',
    'Queues (temporary and subscription queues included).',
    e.queues,
  );
  const mem = process.memoryUsage();
  w.one('stompede_process_resident_memory_bytes', 'gauge', 'Resident set size.', mem.rss);
  w.one('stompede_process_heap_used_bytes', 'gauge', 'V8 heap used.', mem.heapUsed);
  // Durable subscriptions have a series of their own (below); topics count their traffic.
  const dests = rows.filter((d) => d.durable === undefined);
  const per: [string, string, keyof (typeof dests)[number]][] = [
    [
      'stompede_destination_messages_enqueued_total',
      'Messages published to the destination.',
      'enqueued',
    ],
    [
      'stompede_destination_messages_delivered_total',
      'Messages delivered from the destination.',
      'delivered',
    ],
    [
      'stompede_destination_messages_acked_total',
      'Deliveries from the destination settled.',
      'acked',
    ],
    [
      'stompede_destination_messages_redelivered_total',
      'Redeliveries from the destination.',
      'redelivered',
    ],
    [
      'stompede_destination_messages_dead_lettered_total',
      'Messages of the destination dead-lettered.',
      'deadLettered',
    ],
  ];
  for (const [name, help, key] of per) {
    w.metric(name, 'counter', help);
    for (const d of dests) {
      w.sample(name, d[key] as number, { vhost: d.vhost, destination: d.destination });
    }
  }
  w.metric('stompede_destination_consumers', 'gauge', 'Consumers attached to the destination.');
  for (const d of dests) {
    w.sample('stompede_destination_consumers', d.consumers, {
      vhost: d.vhost,
      destination: d.destination,
    });
  }
  w.metric(
    'stompede_queue_depth',
    'gauge',
    'Messages held by the queue (waiting or unacknowledged).',
  );
  for (const d of dests) {
    if (d.depth !== undefined && d.destination.startsWith('/queue/'))
      w.sample('stompede_queue_depth', d.depth, { vhost: d.vhost, destination: d.destination });
  }
  w.metric(
    'stompede_durable_subscription_messages',
    'gauge',
    'Messages held by the durable subscription (waiting or unacknowledged).',
  );
  for (const d of rows) {
    if (d.durable === undefined) continue;
    w.sample('stompede_durable_subscription_messages', d.depth ?? 0, {
      vhost: d.vhost,
      destination: d.destination,
      client_id: d.durable.clientId,
      name: d.durable.name,
    });
  }
  // The engine's own gauges, one HELP/TYPE per name.
  const described = new Set<string>();
  for (const g of report?.gauges ?? []) {
    const name = `stompede_${g.name}`;
    if (!described.has(name)) {
      described.add(name);
      w.metric(name, 'gauge', g.help);
    }
    w.sample(name, g.value, g.labels);
  }
  return w.text;
}
