// `stompede status`: is the broker up and ready, for how long, how loaded (connections,
// messages, rates), its memory and disk, and its cluster; from its admin server.
import type { OverviewJson } from '@stompede/broker';
import { adminClient, adminHelp, parseAdminArgs } from '../admin-client.js';
import { CliError } from '../cli-error.js';
import { type TableColumn, bytesText, durationText, rateText, table } from '../table.js';

export const STATUS_HELP = adminHelp(
  `Usage: stompede status [options]

Print the broker's health and readiness, uptime, connections, destinations and messages held,
message rates, memory, disk (free space, its limit, the journal's size) and cluster, from its
admin server. Exits 0 when the broker is ready, 1 when it is not (shutting down, or a cluster
node cut off from its cluster) or cannot be reached.
`,
  `  --json              print {"health", "ready", ...the admin API's /api/overview}
`,
);

const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The report's lines: a label column, then the facts. */
export function statusText(o: OverviewJson, health: number): string {
  const lines: [string, string][] = [];
  const c = o.counts;
  lines.push([
    'broker',
    `${o.node.name}, stompede ${o.node.version}, Node ${o.node.runtime}, pid ${String(o.node.pid)}`,
  ]);
  lines.push([
    'health',
    `${health === 200 ? 'alive' : `not alive (/healthz answered ${String(health)})`}, ${o.ready ? 'ready' : 'NOT READY (/readyz answers 503)'}`,
  ]);
  lines.push([
    'uptime',
    `${durationText(o.node.uptime)} (since ${new Date(o.node.startedAt).toISOString()})`,
  ]);
  lines.push([
    'connections',
    `${plural(o.connections, 'open')}; ${plural(o.totals.connectionsOpened, 'accepted')}, ${plural(o.totals.connectionsRefused, 'refused')} since start`,
  ]);
  lines.push([
    'destinations',
    `${plural(c.queues, 'queue')}, ${plural(c.topics, 'topic')}, ${plural(c.durableSubscriptions, 'durable subscription')}, ${plural(c.consumers, 'consumer')}`,
  ]);
  lines.push([
    'messages',
    `${plural(c.messages, 'held', 'held')} (${c.unacked.toLocaleString('en-US')} unacked)`,
  ]);
  const r = o.rates;
  lines.push([
    'rates /s',
    `published ${rateText(r.published)}, delivered ${rateText(r.delivered)}, acked ${rateText(r.acked)}, redelivered ${rateText(r.redelivered)} (last ${String(o.sampleInterval / 1000)} s)`,
  ]);
  const m = o.memory;
  lines.push([
    'memory',
    `rss ${bytesText(m.rss)}, heap ${bytesText(m.heapUsed)}; messages ${bytesText(m.messageBytes)} of the ${bytesText(m.limit)} limit`,
  ]);
  const d = o.disk;
  if (d.dataDir === null) lines.push(['disk', 'no data directory (messages in memory only)']);
  else {
    const headroom =
      d.freeBytes === null || d.limitBytes === null ? null : d.freeBytes - d.limitBytes;
    lines.push([
      'disk',
      d.refusing
        ? `FULL: persistent SENDs refused; ${bytesText(d.freeBytes)} free, below the ${bytesText(d.limitBytes)} limit`
        : `${bytesText(d.freeBytes)} free, ${bytesText(headroom)} above the ${bytesText(d.limitBytes)} limit`,
    ]);
    lines.push(['journal', `${bytesText(d.journalBytes)} in ${d.dataDir}`]);
  }
  const cl = o.cluster;
  lines.push([
    'cluster',
    cl.clustered
      ? `node ${cl.node} of ${plural(cl.nodes.length, 'node')} (${String(cl.nodes.filter((n) => n.status === 'up').length)} up)`
      : 'single node',
  ]);
  const errors = Object.entries(o.errors).sort((a, b) => b[1] - a[1]);
  if (errors.length > 0)
    lines.push(['errors', errors.map(([k, n]) => `${k} ${String(n)}`).join(', ')]);
  const width = Math.max(...lines.map(([k]) => k.length));
  let out = lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
  if (cl.clustered && cl.nodes.length > 0) {
    const columns: TableColumn<(typeof cl.nodes)[number]>[] = [
      { head: 'NODE', cell: (n) => `${n.name}${n.self === true ? ' *' : ''}` },
      { head: 'ROLE', cell: (n) => n.role },
      { head: 'STATUS', cell: (n) => n.status },
      { head: 'ADDRESS', cell: (n) => n.address ?? '' },
      { head: 'VERSION', cell: (n) => n.version ?? '' },
      { head: 'NOTE', cell: (n) => n.note ?? '' },
    ];
    out += `\n${table(columns, cl.nodes, '')}`;
  }
  return out;
}

export async function runStatus(argv: readonly string[]): Promise<number> {
  const parsed = parseAdminArgs('status', STATUS_HELP, argv, { json: { type: 'boolean' } });
  if (parsed === 'help') return 0;
  if (parsed.positionals.length > 0)
    throw new CliError(`status takes no arguments\n\n${STATUS_HELP}`);
  const admin = adminClient(parsed.values, process.env);
  const overview = await admin.get<OverviewJson>('/api/overview');
  const health = await admin.probe('/healthz');
  if (parsed.values.json === true) {
    process.stdout.write(
      `${JSON.stringify({ health: health === 200 ? 'ok' : 'failing', ...overview }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(statusText(overview, health));
  }
  return overview.ready && health === 200 ? 0 : 1;
}
