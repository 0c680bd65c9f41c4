// Overview: the broker at a glance. Message rates and levels over the last minutes or hour
// (from the server's samples, so the chart is full as soon as the page opens), connections,
// memory and disk, errors by code, and the cluster's nodes when the broker is clustered.
import type { ClusterJson, HistoryJson, HistoryPointJson, OverviewJson } from '../../api-types.js';
import { get } from '../api.js';
import { LineChart, color } from '../chart.js';
import { h, replace, setText, tile } from '../dom.js';
import { bytes, count, duration, rate } from '../format.js';
import { type Page, type Shell, section } from '../page.js';

const WINDOWS: readonly [string, number][] = [
  ['last 5 minutes', 5 * 60_000],
  ['last 15 minutes', 15 * 60_000],
  ['last hour', 60 * 60_000],
];

/** The overview page. */
export function overviewPage(_shell: Shell): Page {
  const rates = new LineChart('rates-chart', rate);
  const levels = new LineChart('levels-chart', count, 160);
  const windowSelect = h(
    'select',
    { id: 'window', 'aria-label': 'chart window' },
    ...WINDOWS.map(([label, ms]) => h('option', { value: String(ms) }, label)),
  );
  const clusterBody = h('div', { id: 'cluster' });
  const errorsBody = h('tbody');
  const engine = h('pre', { id: 'engine-state' });
  const engineSection = section('Engine', engine);
  engineSection.hidden = true;
  const element = h(
    'div',
    { class: 'overview' },
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'tiles' },
      tile('connections', 'connections-count'),
      tile('queues', 'queues-count'),
      tile('consumers', 'consumers-count'),
      tile('messages held', 'messages-held', ''),
      tile('published / s', 'rate-published'),
      tile('delivered / s', 'rate-delivered'),
      tile('acked / s', 'rate-acked'),
      tile('redelivered / s', 'rate-redelivered'),
      tile('memory', 'memory', ''),
      tile('disk free', 'disk-free', ''),
      tile('journal', 'journal-size'),
      tile('uptime', 'uptime', ''),
    ),
    section(
      'Message rates',
      h('div', { class: 'toolbar' }, windowSelect),
      rates.element,
      h('h3', {}, 'Connections and messages held'),
      levels.element,
    ),
    section('Cluster', clusterBody),
    section(
      'Errors by code',
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'errors' },
          h('thead', {}, h('tr', {}, h('th', {}, 'code'), h('th', { class: 'num' }, 'count'))),
          errorsBody,
        ),
      ),
    ),
    engineSection,
  );

  let points: HistoryPointJson[] = [];
  const draw = (): void => {
    const since = (points.at(-1)?.time ?? 0) - Number(windowSelect.value);
    const shown = points.filter((p) => p.time > since);
    const times = shown.map((p) => p.time);
    rates.update(times, [
      { name: 'published', color: color(0), values: shown.map((p) => p.published) },
      { name: 'delivered', color: color(1), values: shown.map((p) => p.delivered) },
      { name: 'acked', color: color(2), values: shown.map((p) => p.acked) },
      { name: 'redelivered', color: color(3), values: shown.map((p) => p.redelivered) },
    ]);
    levels.update(times, [
      { name: 'connections', color: color(4), values: shown.map((p) => p.connections) },
      { name: 'messages held', color: color(5), values: shown.map((p) => p.messages) },
    ]);
  };
  windowSelect.addEventListener('change', draw);

  return {
    title: 'Overview',
    element,
    async refresh() {
      const since = points.at(-1)?.time;
      const [o, history] = await Promise.all([
        get<OverviewJson>('api/overview'),
        get<HistoryJson>('api/history', since === undefined ? {} : { since: String(since) }),
      ]);
      points = points.concat(history.points).filter((p) => p.time > o.time - 3_600_000);
      showTotals(o);
      showCluster(clusterBody, o.cluster);
      const codes = Object.entries(o.errors).sort((a, b) => b[1] - a[1]);
      replace(
        errorsBody,
        ...(codes.length === 0
          ? [h('tr', {}, h('td', {}, 'none'), h('td', { class: 'num' }, ''))]
          : codes.map(([code, n]) =>
              h('tr', {}, h('td', {}, code), h('td', { class: 'num' }, count(n))),
            )),
      );
      const state = o.engine === undefined || o.cluster.clustered ? undefined : o.engine;
      engineSection.hidden = state === undefined;
      if (state !== undefined) engine.textContent = JSON.stringify(state, null, 2);
      draw();
    },
  };
}

function showTotals(o: OverviewJson): void {
  setText('connections-count', count(o.connections));
  setText('queues-count', count(o.counts.queues));
  setText('consumers-count', count(o.counts.consumers));
  setText('messages-held', count(o.counts.messages));
  setText('messages-held-note', `${count(o.counts.unacked)} unacked`);
  setText('rate-published', rate(o.rates.published));
  setText('rate-delivered', rate(o.rates.delivered));
  setText('rate-acked', rate(o.rates.acked));
  setText('rate-redelivered', rate(o.rates.redelivered));
  setText('memory', bytes(o.memory.rss));
  setText(
    'memory-note',
    `messages ${bytes(o.memory.messageBytes)} of ${bytes(o.memory.limit)} limit`,
  );
  const d = o.disk;
  if (d.dataDir === null) {
    setText('disk-free', 'in memory');
    setText('disk-free-note', 'no data directory');
  } else {
    setText('disk-free', bytes(d.freeBytes));
    const headroom =
      d.freeBytes === null || d.limitBytes === null ? null : d.freeBytes - d.limitBytes;
    setText(
      'disk-free-note',
      d.refusing
        ? `below the ${bytes(d.limitBytes)} limit: persistent SENDs refused`
        : `${bytes(headroom)} above the ${bytes(d.limitBytes)} limit`,
    );
    document.getElementById('disk-free')?.classList.toggle('alarm', d.refusing);
  }
  setText('journal-size', d.journalBytes === null ? '–' : bytes(d.journalBytes));
  setText('uptime', duration(o.node.uptime));
  setText('uptime-note', `${o.node.name}, pid ${String(o.node.pid)}`);
}

function showCluster(el: HTMLElement, c: ClusterJson): void {
  if (!c.clustered) {
    if (el.dataset.state !== 'single') {
      replace(el, h('p', { id: 'cluster-state' }, 'Single node (not clustered).'));
      el.dataset.state = 'single';
    }
    return;
  }
  el.dataset.state = 'clustered';
  replace(
    el,
    h('p', { id: 'cluster-state' }, `Clustered: this is node ${c.node}.`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'cluster-nodes' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['node', 'role', 'status', 'address', 'version', 'note'].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          ...c.nodes.map((n) =>
            h(
              'tr',
              { data: { node: n.name }, class: n.status },
              h('td', {}, n.name, n.self === true ? ' (this node)' : ''),
              h('td', {}, n.role),
              h('td', { class: `status-${n.status}` }, n.status),
              h('td', {}, n.address ?? ''),
              h('td', {}, n.version ?? ''),
              h('td', {}, n.note ?? ''),
            ),
          ),
        ),
      ),
    ),
    c.details === undefined
      ? null
      : h('pre', { id: 'cluster-details' }, JSON.stringify(c.details, null, 2)),
  );
}
