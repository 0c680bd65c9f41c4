// One destination: its counts, its rate chart, its consumers, and what an operator does to it:
// purge, delete, publish a test message, and peek at the first messages (left in place) with
// their headers and body as text, pretty JSON or hex.
import type {
  DestinationDetailJson,
  MessagesJson,
  PeekedMessageJson,
  SubscriptionJson,
} from '../../api-types.js';
import { get, post } from '../api.js';
import { LineChart, color } from '../chart.js';
import { h, replace, route, setText, tile } from '../dom.js';
import { type BodyFormat, body, bytes, count, fromBase64, rate } from '../format.js';
import { type Page, type Shell, confirmButton, errorText, section } from '../page.js';
import { type Column, DataTable } from '../table.js';

/** Consumers, as the destination and connection pages list them. */
export function subscriptionTable(
  id: string,
  withConnection: boolean,
): DataTable<SubscriptionJson> {
  const columns: Column<SubscriptionJson>[] = [
    ...(withConnection
      ? [
          {
            key: 'connection',
            label: 'connection',
            value: (s: SubscriptionJson) => s.connection,
            cell: (s: SubscriptionJson) =>
              h('a', { href: route('connection', s.connection) }, s.connection),
          },
          { key: 'user', label: 'user', value: (s: SubscriptionJson) => s.user },
          {
            key: 'address',
            label: 'address',
            value: (s: SubscriptionJson) => s.remoteAddress,
            wide: true,
          },
        ]
      : [
          {
            key: 'destination',
            label: 'destination',
            value: (s: SubscriptionJson) => s.destination,
          },
        ]),
    { key: 'id', label: 'subscription', value: (s) => s.id },
    { key: 'ack', label: 'ack', value: (s) => s.ack },
    {
      key: 'prefetch',
      label: 'prefetch',
      value: (s) => s.prefetch,
      cell: (s) => (s.prefetch === null ? '–' : count(s.prefetch)),
      numeric: true,
    },
    { key: 'unacked', label: 'unacked', value: (s) => s.unacked, numeric: true },
  ];
  return new DataTable(
    id,
    columns,
    (s) => ({ connection: s.connection, subscription: s.id }),
    (s) => `${s.connection} ${s.user} ${s.destination} ${s.id}`,
    'no consumers',
  );
}

/** The destination page for route arguments `[vhost, destination, clientId?, name?]`. */
export function destinationPage(shell: Shell, args: readonly string[]): Page {
  const [vhost = '/', destination = '', clientId, name] = args;
  const durable = clientId === undefined || name === undefined ? undefined : { clientId, name };
  const query: Record<string, string> = {
    vhost,
    destination,
    ...(durable === undefined ? {} : { 'client-id': durable.clientId, name: durable.name }),
  };
  const isQueue = durable === undefined && !destination.startsWith('/topic/');
  const title =
    durable === undefined
      ? destination
      : `${destination} (durable ${clientId ?? ''}/${name ?? ''})`;
  const chart = new LineChart('destination-chart', rate);
  const consumers = subscriptionTable('consumers', true);
  consumers.sortBy('connection');
  const actions: HTMLElement[] = [];
  if (isQueue) {
    actions.push(
      confirmButton(
        shell,
        'purge',
        'Purge',
        () => `Remove the messages waiting in ${destination}?`,
        async () => {
          const r = await post<{ purged: number }>('api/queues/purge', { vhost, destination });
          return `Purged ${count(r.purged)} messages from ${destination}.`;
        },
      ),
    );
  }
  if (durable === undefined) {
    actions.push(
      confirmButton(
        shell,
        'delete',
        'Delete',
        () =>
          isQueue
            ? `Delete ${destination} with its messages? Its consumers get an ERROR.`
            : `Delete ${destination} with every subscription to it, durable ones included?`,
        async () => {
          const r = await post<{ purged: number }>('api/destinations/delete', {
            vhost,
            destination,
          });
          shell.go('#/destinations');
          return `Deleted ${destination} (${count(r.purged)} messages removed).`;
        },
      ),
    );
  } else {
    actions.push(
      confirmButton(
        shell,
        'delete',
        'Delete subscription',
        () =>
          `Delete the durable subscription ${durable.clientId}/${durable.name} and its messages?`,
        async () => {
          await post('api/durable-subscriptions/delete', { vhost, ...durable });
          shell.go('#/destinations');
          return `Deleted the durable subscription ${durable.clientId}/${durable.name}.`;
        },
      ),
    );
  }
  const element = h(
    'div',
    {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/destinations' }, 'Destinations'), ' / ', vhost),
    h('h1', { id: 'destination-name' }, title),
    h(
      'div',
      { class: 'tiles' },
      tile('depth', 'depth'),
      tile('unacked', 'unacked'),
      tile('consumers', 'consumers-count'),
      tile('published / s', 'rate-published'),
      tile('delivered / s', 'rate-delivered'),
      tile('enqueued', 'total-enqueued'),
      tile('acked', 'total-acked'),
      tile('dead-lettered', 'total-dead-lettered'),
    ),
    h('div', { class: 'actions' }, ...actions),
    section('Rates and depth', chart.element),
    section('Consumers', consumers.element),
    durable === undefined
      ? section('Publish a test message', publishForm(shell, vhost, destination))
      : null,
    isQueue ? section('Peek at the first messages', peekForm(shell, vhost, destination)) : null,
  );
  return {
    title,
    element,
    async refresh() {
      const d = await get<DestinationDetailJson>('api/destination', query);
      const row = d.destination;
      setText('depth', row.depth === null ? '–' : count(row.depth));
      setText('unacked', count(row.unacked));
      setText('consumers-count', count(row.consumers));
      setText('rate-published', rate(row.rates.published));
      setText('rate-delivered', rate(row.rates.delivered));
      setText('total-enqueued', row.counters === null ? '–' : count(row.counters.enqueued));
      setText('total-acked', row.counters === null ? '–' : count(row.counters.acked));
      setText(
        'total-dead-lettered',
        row.counters === null ? '–' : count(row.counters.deadLettered),
      );
      consumers.update(d.subscriptions);
      const points = d.history ?? [];
      chart.update(
        points.map((p) => p.time),
        [
          { name: 'published', color: color(0), values: points.map((p) => p.published) },
          { name: 'delivered', color: color(1), values: points.map((p) => p.delivered) },
          { name: 'acked', color: color(2), values: points.map((p) => p.acked) },
          { name: 'redelivered', color: color(3), values: points.map((p) => p.redelivered) },
          ...(row.depth === null
            ? []
            : [{ name: 'depth', color: color(4), values: points.map((p) => p.depth) }]),
        ],
      );
    },
  };
}

/** Headers typed one `name:value` per line. */
function parseHeaderLines(textValue: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of textValue.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new Error(`a header line must be name:value, not ${JSON.stringify(line)}`);
    out.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return out;
}

function publishForm(shell: Shell, vhost: string, destination: string): HTMLElement {
  const headers = h('textarea', {
    id: 'publish-headers',
    rows: '3',
    placeholder: 'content-type:application/json\nname:value (one per line)',
    'aria-label': 'headers',
  });
  const bodyInput = h('textarea', {
    id: 'publish-body',
    rows: '4',
    placeholder: 'message body',
    'aria-label': 'body',
  });
  const persistent = h('input', { id: 'publish-persistent', type: 'checkbox' });
  const send = h('button', { type: 'submit', id: 'publish' }, 'Publish');
  const form = h(
    'form',
    { class: 'stack' },
    h('label', { for: 'publish-headers' }, 'Headers'),
    headers,
    h('label', { for: 'publish-body' }, 'Body'),
    bodyInput,
    h('label', { class: 'inline' }, persistent, ' persistent (journaled)'),
    h('div', {}, send),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send.disabled = true;
    (async () => {
      const r = await post<{ published: boolean; size: number }>('api/destinations/publish', {
        vhost,
        destination,
        headers: parseHeaderLines(headers.value),
        body: bodyInput.value,
        persistent: persistent.checked,
      });
      return `Published ${bytes(r.size)} to ${destination}.`;
    })()
      .then(
        (m) => {
          shell.notify(m, 'ok');
        },
        (err: unknown) => {
          shell.notify(errorText(err), 'error');
        },
      )
      .finally(() => {
        send.disabled = false;
      });
  });
  return form;
}

function peekForm(shell: Shell, vhost: string, destination: string): HTMLElement {
  const howMany = h('input', {
    id: 'peek-count',
    type: 'number',
    min: '1',
    max: '100',
    value: '10',
    'aria-label': 'how many',
  });
  const format = h(
    'select',
    { id: 'peek-format', 'aria-label': 'show bodies as' },
    h('option', { value: 'text' }, 'text'),
    h('option', { value: 'json' }, 'JSON'),
    h('option', { value: 'hex' }, 'hex'),
  );
  const list = h('div', { id: 'peeked' });
  let messages: readonly PeekedMessageJson[] = [];
  const show = (): void => {
    replace(
      list,
      messages.length === 0 ? h('p', { class: 'empty' }, 'no messages waiting') : null,
      ...messages.map((m, i) => peeked(m, i, format.value as BodyFormat)),
    );
  };
  format.addEventListener('change', show);
  const button = h('button', { type: 'submit', id: 'peek' }, 'Peek');
  const form = h(
    'form',
    { class: 'toolbar' },
    h('label', { for: 'peek-count' }, 'First'),
    howMany,
    h('label', { for: 'peek-format' }, 'messages, bodies as'),
    format,
    button,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    get<MessagesJson>('api/messages', { vhost, destination, count: howMany.value }).then(
      (r) => {
        messages = r.messages;
        show();
      },
      (err: unknown) => {
        shell.notify(errorText(err), 'error');
      },
    );
  });
  return h('div', {}, form, list);
}

function peeked(m: PeekedMessageJson, i: number, format: BodyFormat): HTMLElement {
  const data = fromBase64(m.body);
  return h(
    'article',
    { class: 'message', data: { index: String(i), messageId: m.messageId } },
    h(
      'h3',
      {},
      `#${String(i + 1)} ${m.messageId}`,
      h(
        'small',
        {},
        ` ${bytes(m.size)}${m.persistent ? ', persistent' : ''}${m.deliveryCount > 0 ? `, delivered ${String(m.deliveryCount)}×` : ''}`,
      ),
    ),
    h(
      'table',
      { class: 'headers' },
      h('tbody', {}, ...m.headers.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
    ),
    h('pre', { class: `body ${format}` }, body(data, format)),
    m.truncated ? h('p', { class: 'muted' }, `first ${bytes(data.length)} shown`) : null,
  );
}
