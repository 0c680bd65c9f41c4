// Destinations: every queue, topic, durable subscription and the temporary queues, with depth,
// consumers and rates; sortable by any column, filtered by name and kind.
import type { DestinationJson, DestinationsJson } from '../../api-types.js';
import { get } from '../api.js';
import { h, route } from '../dom.js';
import { count, rate } from '../format.js';
import type { Page, Shell } from '../page.js';
import { type Column, DataTable } from '../table.js';

/** The route of a destination's page. */
export function destinationRoute(d: {
  readonly vhost: string;
  readonly destination: string;
  readonly durable?: { readonly clientId: string; readonly name: string };
}): string {
  return d.durable === undefined
    ? route('destination', d.vhost, d.destination)
    : route('destination', d.vhost, d.destination, d.durable.clientId, d.durable.name);
}

/** The name a destination row shows. */
export function destinationName(d: DestinationJson): string {
  return d.durable === undefined
    ? d.destination
    : `${d.destination} (durable ${d.durable.clientId}/${d.durable.name})`;
}

const COLUMNS: readonly Column<DestinationJson>[] = [
  {
    key: 'name',
    label: 'name',
    value: destinationName,
    cell: (d) => h('a', { href: destinationRoute(d) }, destinationName(d)),
  },
  { key: 'vhost', label: 'vhost', value: (d) => d.vhost, wide: true },
  { key: 'kind', label: 'kind', value: (d) => d.kind },
  {
    key: 'depth',
    label: 'depth',
    value: (d) => d.depth,
    cell: (d) => (d.depth === null ? '' : count(d.depth)),
    numeric: true,
  },
  { key: 'unacked', label: 'unacked', value: (d) => d.unacked, numeric: true, wide: true },
  { key: 'consumers', label: 'consumers', value: (d) => d.consumers, numeric: true },
  {
    key: 'published',
    label: 'in/s',
    value: (d) => d.rates.published,
    cell: (d) => rate(d.rates.published),
    numeric: true,
  },
  {
    key: 'delivered',
    label: 'out/s',
    value: (d) => d.rates.delivered,
    cell: (d) => rate(d.rates.delivered),
    numeric: true,
  },
  {
    key: 'acked',
    label: 'acked/s',
    value: (d) => d.rates.acked,
    cell: (d) => rate(d.rates.acked),
    numeric: true,
    wide: true,
  },
  {
    key: 'redelivered',
    label: 'redelivered/s',
    value: (d) => d.rates.redelivered,
    cell: (d) => rate(d.rates.redelivered),
    numeric: true,
    wide: true,
  },
];

/** The destinations page. */
export function destinationsPage(_shell: Shell): Page {
  const table = new DataTable<DestinationJson>(
    'destinations',
    COLUMNS,
    (d) => ({ vhost: d.vhost, destination: d.destination, kind: d.kind }),
    (d) => `${d.vhost} ${destinationName(d)}`,
    'no destinations yet',
  );
  table.sortBy('name');
  const filter = h('input', {
    id: 'filter',
    type: 'search',
    placeholder: 'filter by name or vhost',
    'aria-label': 'filter',
  });
  filter.addEventListener('input', () => {
    table.filter(filter.value);
  });
  const kind = h(
    'select',
    { id: 'kind', 'aria-label': 'kind' },
    h('option', { value: '' }, 'all kinds'),
    h('option', { value: 'queue' }, 'queues'),
    h('option', { value: 'topic' }, 'topics'),
    h('option', { value: 'durable' }, 'durable subscriptions'),
    h('option', { value: 'temporary' }, 'temporary queues'),
  );
  let rows: readonly DestinationJson[] = [];
  const show = (): void => {
    table.update(kind.value === '' ? rows : rows.filter((d) => d.kind === kind.value));
  };
  kind.addEventListener('change', show);
  const summary = h('p', { id: 'summary', class: 'muted' });
  return {
    title: 'Destinations',
    element: h(
      'div',
      {},
      h('h1', {}, 'Destinations'),
      h('div', { class: 'toolbar' }, filter, kind),
      summary,
      table.element,
    ),
    async refresh() {
      rows = (await get<DestinationsJson>('api/destinations')).destinations;
      const held = rows.reduce((n, d) => n + (d.depth ?? 0), 0);
      summary.textContent = `${count(rows.length)} destinations, ${count(held)} messages held`;
      show();
    },
  };
}
