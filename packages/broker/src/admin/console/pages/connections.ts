// Connections: who is connected, from where, over what, with which version and heart-beats, and
// how much each one sends and receives.
import type { ConnectionJson, ConnectionsJson } from '../../api-types.js';
import { get } from '../api.js';
import { h, route } from '../dom.js';
import { beat, bytes, count, duration, rate } from '../format.js';
import type { Page, Shell } from '../page.js';
import { type Column, DataTable } from '../table.js';

/** Heart-beats as `send/receive`. */
export function beats(c: ConnectionJson): string {
  return `${beat(c.heartBeat.send)} / ${beat(c.heartBeat.receive)}`;
}

const COLUMNS: readonly Column<ConnectionJson>[] = [
  {
    key: 'id',
    label: 'connection',
    value: (c) => c.id,
    cell: (c) => h('a', { href: route('connection', c.id) }, c.id),
  },
  { key: 'user', label: 'user', value: (c) => c.user },
  { key: 'vhost', label: 'vhost', value: (c) => c.vhost, wide: true },
  { key: 'transport', label: 'transport', value: (c) => c.transport },
  { key: 'address', label: 'address', value: (c) => c.remoteAddress },
  { key: 'version', label: 'version', value: (c) => c.version, wide: true },
  { key: 'heartbeat', label: 'heart-beats', value: beats, wide: true },
  {
    key: 'in',
    label: 'in/s',
    value: (c) => c.rates.messagesIn,
    cell: (c) => rate(c.rates.messagesIn),
    numeric: true,
  },
  {
    key: 'out',
    label: 'out/s',
    value: (c) => c.rates.messagesOut,
    cell: (c) => rate(c.rates.messagesOut),
    numeric: true,
  },
  {
    key: 'bytesIn',
    label: 'bytes in',
    value: (c) => c.bytesIn,
    cell: (c) => bytes(c.bytesIn),
    numeric: true,
    wide: true,
  },
  {
    key: 'bytesOut',
    label: 'bytes out',
    value: (c) => c.bytesOut,
    cell: (c) => bytes(c.bytesOut),
    numeric: true,
    wide: true,
  },
  { key: 'subscriptions', label: 'subs', value: (c) => c.subscriptions, numeric: true },
  {
    key: 'age',
    label: 'connected for',
    value: (c) => -c.connectedAt,
    cell: (c) => duration(Date.now() - c.connectedAt),
    numeric: true,
    wide: true,
  },
];

/** The connections page. */
export function connectionsPage(_shell: Shell): Page {
  const table = new DataTable<ConnectionJson>(
    'connections',
    COLUMNS,
    (c) => ({ id: c.id, user: c.user }),
    (c) => `${c.id} ${c.user} ${c.vhost} ${c.transport} ${c.remoteAddress}`,
    'no connections',
  );
  table.sortBy('id');
  const filter = h('input', {
    id: 'filter',
    type: 'search',
    placeholder: 'filter by user, address, vhost…',
    'aria-label': 'filter',
  });
  filter.addEventListener('input', () => {
    table.filter(filter.value);
  });
  const summary = h('p', { id: 'summary', class: 'muted' });
  return {
    title: 'Connections',
    element: h(
      'div',
      {},
      h('h1', {}, 'Connections'),
      h('div', { class: 'toolbar' }, filter),
      summary,
      table.element,
    ),
    async refresh() {
      const rows = (await get<ConnectionsJson>('api/connections')).connections;
      summary.textContent = `${count(rows.length)} connections`;
      table.update(rows);
    },
  };
}
