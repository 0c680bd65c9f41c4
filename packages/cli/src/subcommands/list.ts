// `stompede list queues|topics|connections|subscriptions`: what a broker holds and who is on
// it, from its admin server; an aligned table for people, --json for scripts.
import type {
  ConnectionJson,
  ConnectionsJson,
  DestinationJson,
  DestinationsJson,
  SubscriptionJson,
  SubscriptionsJson,
} from '@stompede/broker';
import { adminClient, adminHelp, parseAdminArgs } from '../admin-client.js';
import { CliError } from '../cli-error.js';
import { type TableColumn, beatText, bytesText, durationText, rateText, table } from '../table.js';

export const LIST_HELP = adminHelp(
  `Usage: stompede list queues|topics|connections|subscriptions [options]

Print what the broker holds, from its admin server (the broker's --admin-port):
  queues         queues and durable topic subscriptions: depth (messages held), unacked,
                 consumers, and messages per second in, out, acked and redelivered
  topics         topics: consumers and messages per second in and out
  connections    user, virtual host, transport, address, STOMP version, heart-beats,
                 messages per second, bytes, subscriptions, how long connected
  subscriptions  every subscription of every connection: destination, ack mode, prefetch,
                 unacknowledged messages
Rates are per second over the admin server's last sample interval (5 s by default).
`,
  `  --vhost V           only this virtual host
  --json              print the admin API's JSON (an array) instead of a table
`,
);

const KINDS = ['queues', 'topics', 'connections', 'subscriptions'] as const;

const count = (n: number | null): string => (n === null ? '-' : String(n));

const QUEUE_COLUMNS: readonly TableColumn<DestinationJson>[] = [
  { head: 'VHOST', cell: (d) => d.vhost },
  {
    head: 'NAME',
    cell: (d) =>
      d.durable === undefined
        ? d.destination
        : `${d.destination} (durable ${d.durable.clientId}/${d.durable.name})`,
  },
  { head: 'DEPTH', cell: (d) => count(d.depth), right: true },
  { head: 'UNACKED', cell: (d) => count(d.unacked), right: true },
  { head: 'CONSUMERS', cell: (d) => count(d.consumers), right: true },
  { head: 'IN/S', cell: (d) => rateText(d.rates.published), right: true },
  { head: 'OUT/S', cell: (d) => rateText(d.rates.delivered), right: true },
  { head: 'ACK/S', cell: (d) => rateText(d.rates.acked), right: true },
  { head: 'REDELIV/S', cell: (d) => rateText(d.rates.redelivered), right: true },
];

const TOPIC_COLUMNS: readonly TableColumn<DestinationJson>[] = [
  { head: 'VHOST', cell: (d) => d.vhost },
  { head: 'NAME', cell: (d) => d.destination },
  { head: 'CONSUMERS', cell: (d) => count(d.consumers), right: true },
  { head: 'IN/S', cell: (d) => rateText(d.rates.published), right: true },
  { head: 'OUT/S', cell: (d) => rateText(d.rates.delivered), right: true },
  {
    head: 'PUBLISHED',
    cell: (d) => (d.counters === null ? '-' : String(d.counters.enqueued)),
    right: true,
  },
];

const CONNECTION_COLUMNS: readonly TableColumn<ConnectionJson>[] = [
  { head: 'ID', cell: (c) => c.id },
  { head: 'USER', cell: (c) => c.user },
  { head: 'VHOST', cell: (c) => c.vhost },
  { head: 'TRANSPORT', cell: (c) => c.transport },
  { head: 'ADDRESS', cell: (c) => c.remoteAddress },
  { head: 'VERSION', cell: (c) => (c.connected ? c.version : '-') },
  {
    head: 'HEART-BEAT',
    cell: (c) => `${beatText(c.heartBeat.send)}/${beatText(c.heartBeat.receive)}`,
  },
  { head: 'IN/S', cell: (c) => rateText(c.rates.messagesIn), right: true },
  { head: 'OUT/S', cell: (c) => rateText(c.rates.messagesOut), right: true },
  { head: 'BYTES IN', cell: (c) => bytesText(c.bytesIn), right: true },
  { head: 'BYTES OUT', cell: (c) => bytesText(c.bytesOut), right: true },
  { head: 'SUBS', cell: (c) => String(c.subscriptions), right: true },
  { head: 'UP', cell: (c) => durationText(Date.now() - c.connectedAt), right: true },
];

const SUBSCRIPTION_COLUMNS: readonly TableColumn<SubscriptionJson>[] = [
  { head: 'CONNECTION', cell: (s) => s.connection },
  { head: 'USER', cell: (s) => s.user },
  { head: 'VHOST', cell: (s) => s.vhost },
  { head: 'ID', cell: (s) => s.id },
  { head: 'DESTINATION', cell: (s) => s.destination },
  { head: 'ACK', cell: (s) => s.ack },
  { head: 'PREFETCH', cell: (s) => count(s.prefetch), right: true },
  { head: 'UNACKED', cell: (s) => String(s.unacked), right: true },
  { head: 'DURABLE', cell: (s) => s.durable ?? '' },
];

export async function runList(argv: readonly string[]): Promise<number> {
  const parsed = parseAdminArgs('list', LIST_HELP, argv, {
    vhost: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed === 'help') return 0;
  const { values, positionals } = parsed;
  const [what, ...extra] = positionals;
  if (what === undefined || !(KINDS as readonly string[]).includes(what) || extra.length > 0)
    throw new CliError(`say what to list: ${KINDS.join(', ')}\n\n${LIST_HELP}`);
  const admin = adminClient(values, process.env);
  const vhost = values.vhost;
  const print = <T>(
    rows: readonly T[],
    columns: readonly TableColumn<T>[],
    empty: string,
  ): void => {
    process.stdout.write(
      values.json === true ? `${JSON.stringify(rows, null, 2)}\n` : table(columns, rows, empty),
    );
  };
  switch (what) {
    case 'queues':
    case 'topics': {
      const { destinations } = await admin.get<DestinationsJson>('/api/destinations', { vhost });
      const rows =
        what === 'topics'
          ? destinations.filter((d) => d.kind === 'topic')
          : destinations.filter((d) => d.kind !== 'topic');
      if (what === 'topics') print(rows, TOPIC_COLUMNS, 'no topics');
      else print(rows, QUEUE_COLUMNS, 'no queues');
      return 0;
    }
    case 'connections': {
      const { connections } = await admin.get<ConnectionsJson>('/api/connections', { vhost });
      print(connections, CONNECTION_COLUMNS, 'no connections');
      return 0;
    }
    default: {
      const { subscriptions } = await admin.get<SubscriptionsJson>('/api/subscriptions', {
        vhost,
      });
      print(subscriptions, SUBSCRIPTION_COLUMNS, 'no subscriptions');
      return 0;
    }
  }
}
