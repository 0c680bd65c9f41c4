// One connection: who, from where, what was negotiated, its traffic, its subscriptions, and
// closing it with a reason (the client gets an ERROR that says it).
import type { ConnectionDetailJson } from '../../api-types.js';
import { get, post } from '../api.js';
import { h, replace, setText, tile } from '../dom.js';
import { bytes, count, duration, rate } from '../format.js';
import { type Page, type Shell, confirmButton, section } from '../page.js';
import { subscriptionTable } from './destination.js';
import { beats } from './connections.js';

/** The page of connection `id`. */
export function connectionPage(shell: Shell, id: string): Page {
  const subscriptions = subscriptionTable('subscriptions', false);
  subscriptions.sortBy('destination');
  const facts = h('dl', { id: 'facts', class: 'facts' });
  const reason = h('input', {
    id: 'close-reason',
    type: 'text',
    placeholder: 'reason (sent to the client)',
    'aria-label': 'reason',
  });
  const close = confirmButton(
    shell,
    'close',
    'Close connection',
    () => `Close ${id}? The client gets an ERROR${reason.value === '' ? '' : ' with your reason'}.`,
    async () => {
      await post('api/connections/close', { id, reason: reason.value });
      shell.go('#/connections');
      return `Closed ${id}.`;
    },
  );
  const element = h(
    'div',
    {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/connections' }, 'Connections')),
    h('h1', { id: 'connection-id' }, id),
    facts,
    h(
      'div',
      { class: 'tiles' },
      tile('messages in / s', 'rate-in'),
      tile('messages out / s', 'rate-out'),
      tile('messages in', 'messages-in'),
      tile('messages out', 'messages-out'),
      tile('bytes in', 'bytes-in'),
      tile('bytes out', 'bytes-out'),
    ),
    section('Subscriptions', subscriptions.element),
    section('Close', h('div', { class: 'toolbar' }, reason, close)),
  );
  return {
    title: `Connection ${id}`,
    element,
    async refresh() {
      const d = await get<ConnectionDetailJson>('api/connection', { id });
      const c = d.connection;
      const rows: [string, string][] = [
        ['user', c.user],
        ['virtual host', c.vhost],
        ['transport', c.transport],
        ['address', c.remoteAddress],
        ['STOMP version', c.connected ? c.version : 'not connected yet'],
        ['heart-beats (send / receive)', beats(c)],
        ['connected for', duration(Date.now() - c.connectedAt)],
        ['frames in / out', `${count(c.framesIn)} / ${count(c.framesOut)}`],
      ];
      replace(facts, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
      setText('rate-in', rate(c.rates.messagesIn));
      setText('rate-out', rate(c.rates.messagesOut));
      setText('messages-in', count(c.messagesIn));
      setText('messages-out', count(c.messagesOut));
      setText('bytes-in', bytes(c.bytesIn));
      setText('bytes-out', bytes(c.bytesOut));
      subscriptions.update(d.subscriptions);
    },
  };
}
