// The admin API's answers to GET requests (the JSON shapes are in api-types.ts), built from the
// broker's view and the sampler's rates. Sampling runs on a timer while the admin server is up.
import { StompError } from '@stompede/core';
import { DestinationKind, TEMPORARY, parseDestination } from '../destination.js';
import type { EngineReport } from '../engine.js';
import { OTHER } from '../destination.js';
import type {
  ClusterJson,
  ConnectionDetailJson,
  ConnectionJson,
  ConnectionsJson,
  DestinationDetailJson,
  DestinationJson,
  DestinationRowKind,
  DestinationsJson,
  HistoryJson,
  MessagesJson,
  OverviewJson,
  SubscriptionJson,
  SubscriptionsJson,
  UsersJson,
} from './api-types.js';
import { clusterJson } from './cluster.js';
import { HttpError } from './http.js';
import { journalBytes } from './journal-size.js';
import { Sampler, rowKey } from './sampler.js';
import type { DestinationRow } from './stats.js';
import type { AdminView, ConnectionView, SubscriptionView } from './view.js';

/** Most messages one peek returns. */
export const MAX_PEEK = 100;
/** Body bytes of a peeked message shown (the rest is left out, `truncated: true`). */
export const PEEK_BODY_BYTES = 64 * 1024;

function kindOf(row: DestinationRow): DestinationRowKind {
  if (row.durable !== undefined) return 'durable';
  if (row.destination === TEMPORARY) return 'temporary';
  if (row.destination === OTHER) return 'other';
  return row.destination.startsWith('/topic/') ? 'topic' : 'queue';
}

function subscriptionJson(s: SubscriptionView): SubscriptionJson {
  return { ...s, durable: s.durable === null ? null : s.durable.name };
}

/** The read side of the admin API. */
export class AdminApi {
  readonly sampler: Sampler;
  /** Bytes of the journal's files at the last sample (null without a data directory). */
  journalBytes: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(
    private readonly view: AdminView,
    private readonly version: string,
    sampleInterval: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sampler = new Sampler({ interval: sampleInterval });
  }

  /** Take a sample now, then one every interval until {@link stop}. */
  start(): Promise<void> {
    const first = this.sample();
    this.timer = setInterval(() => {
      void this.sample();
    }, this.sampler.interval);
    this.timer.unref();
    return first;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Read every counter and record it (one sample at a time; an overlapping call waits). */
  sample(): Promise<void> {
    this.sampling ??= this.takeSample().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async takeSample(): Promise<void> {
    const rows = await this.view.destinations();
    this.journalBytes = await journalBytes(this.view.node.dataDir);
    const m = this.view.metrics.snapshot();
    this.sampler.record(
      this.now(),
      {
        published: m.messagesPublished,
        delivered: m.messagesDelivered,
        acked: m.messagesAcked,
        redelivered: m.messagesRedelivered,
        bytesIn: m.bytesIn,
        bytesOut: m.bytesOut,
        connections: m.connectionsActive,
        messages: this.view.engineStats().messages,
      },
      rows,
      this.view.connections(),
    );
  }

  async overview(): Promise<OverviewJson> {
    const v = this.view;
    const [rows, report] = await Promise.all([v.destinations(), v.engineReport()]);
    const m = v.metrics.snapshot();
    const e = v.engineStats();
    const mem = process.memoryUsage();
    const time = this.now();
    const latest = this.sampler.latest();
    let unacked = 0;
    let consumers = 0;
    for (const r of rows) {
      unacked += r.unacked;
      consumers += r.consumers;
    }
    const count = (k: DestinationRowKind): number => rows.filter((r) => kindOf(r) === k).length;
    return {
      time,
      node: {
        name: v.node.name,
        version: this.version,
        pid: process.pid,
        runtime: process.version,
        startedAt: v.node.startedAt,
        uptime: time - v.node.startedAt,
      },
      ready: v.ready(),
      connections: m.connectionsActive,
      counts: {
        queues: count('queue'),
        topics: count('topic'),
        durableSubscriptions: count('durable'),
        consumers,
        messages: e.messages,
        unacked,
      },
      totals: {
        published: m.messagesPublished,
        delivered: m.messagesDelivered,
        acked: m.messagesAcked,
        redelivered: m.messagesRedelivered,
        nacked: m.messagesNacked,
        deadLettered: m.messagesDeadLettered,
        dropped: m.messagesDropped,
        framesIn: m.framesIn,
        framesOut: m.framesOut,
        bytesIn: m.bytesIn,
        bytesOut: m.bytesOut,
        connectionsOpened: m.connectionsOpened,
        connectionsRefused: v.errors.refusedTotal,
        errorsSent: m.errorsSent,
      },
      rates: {
        published: latest?.published ?? 0,
        delivered: latest?.delivered ?? 0,
        acked: latest?.acked ?? 0,
        redelivered: latest?.redelivered ?? 0,
        bytesIn: latest?.bytesIn ?? 0,
        bytesOut: latest?.bytesOut ?? 0,
      },
      memory: {
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        messageBytes: e.memoryBytes,
        limit: v.node.memoryLimit,
      },
      disk: {
        dataDir: v.node.dataDir ?? null,
        freeBytes: v.node.dataDir === undefined || m.diskFreeBytes < 0 ? null : m.diskFreeBytes,
        limitBytes: v.node.dataDir === undefined ? null : (v.node.diskFreeLimit ?? null),
        refusing: m.diskRefusing === 1,
        journalBytes: this.journalBytes,
      },
      errors: Object.fromEntries(v.errors.byCode),
      sampleInterval: this.sampler.interval,
      cluster: clusterJson(report),
      ...(report === undefined ? {} : { engine: report.state }),
    };
  }

  history(since: number | undefined): HistoryJson {
    return { interval: this.sampler.interval, points: this.sampler.history(since) };
  }

  private destinationJson(row: DestinationRow): DestinationJson {
    return {
      vhost: row.vhost,
      destination: row.destination,
      kind: kindOf(row),
      ...(row.durable === undefined ? {} : { durable: { ...row.durable } }),
      depth: row.depth ?? null,
      unacked: row.unacked,
      consumers: row.consumers,
      counters: row.counted
        ? {
            enqueued: row.enqueued,
            delivered: row.delivered,
            acked: row.acked,
            nacked: row.nacked,
            redelivered: row.redelivered,
            deadLettered: row.deadLettered,
            dropped: row.dropped,
            purged: row.purged,
          }
        : null,
      rates: this.sampler.rates(rowKey(row)),
    };
  }

  async destinations(vhost: string | undefined): Promise<DestinationsJson> {
    const rows = await this.view.destinations();
    return {
      destinations: rows
        .filter((r) => vhost === undefined || r.vhost === vhost)
        .map((r) => this.destinationJson(r)),
    };
  }

  async destination(
    vhost: string,
    destination: string,
    durable: { clientId: string; name: string } | undefined,
  ): Promise<DestinationDetailJson> {
    const key = rowKey({ vhost, destination, durable });
    const row = (await this.view.destinations()).find((r) => rowKey(r) === key);
    if (row === undefined) throw new HttpError(404, `no destination ${destination} in ${vhost}`);
    const subscriptions = this.view
      .subscriptions()
      .filter((s) =>
        durable === undefined
          ? s.vhost === vhost && s.destination === destination && s.durable === null
          : s.vhost === vhost &&
            s.durable?.clientId === durable.clientId &&
            s.durable.name === durable.name,
      )
      .map(subscriptionJson);
    return {
      destination: this.destinationJson(row),
      subscriptions,
      interval: this.sampler.interval,
      history: this.sampler.destinationHistory(key) ?? null,
    };
  }

  async messages(vhost: string, destination: string, count: number): Promise<MessagesJson> {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PEEK)
      throw new HttpError(400, `count must be a whole number from 1 to ${String(MAX_PEEK)}`);
    let peeked;
    try {
      if (parseDestination(destination).kind !== DestinationKind.QUEUE)
        throw new HttpError(400, `peek looks into a queue (/queue/NAME), not ${destination}`);
      peeked = await this.view.peek(vhost, destination, count);
    } catch (err) {
      if (err instanceof StompError) throw new HttpError(400, err.message, err.code);
      throw err;
    }
    return {
      vhost,
      destination,
      messages: peeked.map((p) => {
        const body = p.message.body;
        const shown = body.subarray(0, PEEK_BODY_BYTES);
        const headers: [string, string][] = [];
        const h = p.message.headers;
        for (let i = 0; i + 1 < h.length; i += 2) headers.push([h[i]!, h[i + 1]!]);
        return {
          messageId: p.messageId,
          deliveryCount: p.deliveryCount,
          headers,
          persistent: p.message.persistent,
          size: body.length,
          body: Buffer.from(shown.buffer, shown.byteOffset, shown.length).toString('base64'),
          truncated: shown.length < body.length,
        };
      }),
    };
  }

  private connectionJson(c: ConnectionView): ConnectionJson {
    return { ...c, rates: this.sampler.connectionRates(c.id) };
  }

  connections(vhost: string | undefined): ConnectionsJson {
    return {
      connections: this.view
        .connections()
        .filter((c) => vhost === undefined || c.vhost === vhost)
        .map((c) => this.connectionJson(c)),
    };
  }

  connection(id: string): ConnectionDetailJson {
    const c = this.view.connections().find((x) => x.id === id);
    if (c === undefined) throw new HttpError(404, `no connection ${id}`);
    return {
      connection: this.connectionJson(c),
      subscriptions: this.view
        .subscriptions()
        .filter((s) => s.connection === id)
        .map(subscriptionJson),
    };
  }

  subscriptions(vhost: string | undefined): SubscriptionsJson {
    return {
      subscriptions: this.view
        .subscriptions()
        .filter((s) => vhost === undefined || s.vhost === vhost)
        .map(subscriptionJson),
    };
  }

  users(): UsersJson {
    const u = this.view.users();
    const open = new Map<string, number>();
    for (const c of this.view.connections()) open.set(c.user, (open.get(c.user) ?? 0) + 1);
    return { ...u, users: u.users.map((x) => ({ ...x, connections: open.get(x.name) ?? 0 })) };
  }

  /** `GET /api/stats`: the first dashboard's JSON, kept for scripts that read it. */
  async stats(): Promise<unknown> {
    const v = this.view;
    const [rows, report] = await Promise.all([v.destinations(), v.engineReport()]);
    const m = v.metrics.snapshot();
    return {
      ...(report === undefined ? {} : { engine: report.state }),
      time: this.now(),
      totals: {
        connections: m.connectionsActive,
        framesIn: m.framesIn,
        framesOut: m.framesOut,
        bytesIn: m.bytesIn,
        bytesOut: m.bytesOut,
        messagesEnqueued: m.messagesEnqueued,
        messagesDelivered: m.messagesDelivered,
        messagesAcked: m.messagesAcked,
        errorsSent: m.errorsSent,
        memory: process.memoryUsage().rss,
        store: v.engineStats(),
      },
      errors: Object.fromEntries(v.errors.byCode),
      destinations: rows.map((d) => ({
        vhost: d.vhost,
        destination: d.destination,
        ...(d.durable === undefined
          ? {}
          : { subscription: `${d.durable.clientId}/${d.durable.name}` }),
        depth: d.depth ?? null,
        unacked: d.unacked,
        consumers: d.consumers,
        enqueued: d.enqueued,
        delivered: d.delivered,
        acked: d.acked,
        redelivered: d.redelivered,
        deadLettered: d.deadLettered,
      })),
      connections: v.connections().map((c) => ({
        id: c.id,
        user: c.user,
        vhost: c.vhost,
        transport: c.transport,
        remoteAddress: c.remoteAddress,
        version: c.version,
        subscriptions: c.subscriptions,
      })),
    };
  }

  async cluster(): Promise<ClusterJson> {
    const report: EngineReport | undefined = await this.view.engineReport();
    return clusterJson(report);
  }
}
