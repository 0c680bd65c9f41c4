// The live dashboard: one static page; its script polls /api/stats and plots the last minutes.
// Every name shown comes from clients, so the script only ever sets textContent.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stompede broker</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child,td.name{text-align:left}
#totals span{margin-right:1.5em}#status{color:#888}canvas{border:1px solid #ddd;max-width:100%}
</style></head><body>
<h1>stompede broker <small id="status">connecting…</small></h1>
<div id="totals"><span>connections <b id="connections-count">–</b></span><span>messages in/s <b id="rate-in">–</b></span><span>out/s <b id="rate-out">–</b></span><span>held <b id="held">–</b></span><span>memory <b id="memory">–</b></span><span>errors <b id="errors">–</b></span></div>
<h2>Queue depth and connections, last 5 minutes</h2>
<canvas id="chart" width="900" height="240"></canvas>
<h2>Destinations</h2>
<table id="destinations"><thead><tr><th>vhost</th><th>destination</th><th>depth</th><th>consumers</th><th>in/s</th><th>out/s</th><th>enqueued</th><th>delivered</th><th>acked</th><th>dead-lettered</th></tr></thead><tbody></tbody></table>
<section id="engine" hidden><h2>Engine</h2><pre id="engine-state"></pre></section>
<h2>Connections</h2>
<table id="connections"><thead><tr><th>id</th><th>user</th><th>vhost</th><th>transport</th><th>address</th><th>version</th><th>subscriptions</th></tr></thead><tbody></tbody></table>
<script>
'use strict';
const WINDOW = 5 * 60 * 1000;
const interval = Number(new URLSearchParams(location.search).get('interval')) || 1000;
const history = [];
let last;
const $ = (id) => document.getElementById(id);
const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : String(Math.round(n * 10) / 10);
function row(cells, cls) {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => { const td = document.createElement('td'); td.textContent = String(c); if (cls && cls[i]) td.className = cls[i]; tr.appendChild(td); });
  return tr;
}
function render(s) {
  const dt = last ? (s.time - last.time) / 1000 : 0;
  const prev = new Map((last ? last.destinations : []).filter((d) => !d.subscription).map((d) => [d.vhost + '\\0' + d.destination, d]));
  const rate = (now, before) => (dt > 0 ? Math.max(0, now - before) / dt : 0);
  $('connections-count').textContent = String(s.totals.connections);
  $('rate-in').textContent = last ? fmt(rate(s.totals.messagesEnqueued, last.totals.messagesEnqueued)) : '–';
  $('rate-out').textContent = last ? fmt(rate(s.totals.messagesDelivered, last.totals.messagesDelivered)) : '–';
  $('held').textContent = fmt(s.totals.store.messages);
  $('memory').textContent = fmt(s.totals.memory / 1048576) + ' MiB';
  $('errors').textContent = String(s.totals.errorsSent);
  const body = $('destinations').tBodies[0];
  body.replaceChildren(...s.destinations.map((d) => {
    const p = d.subscription ? undefined : prev.get(d.vhost + '\\0' + d.destination);
    const tr = row([d.vhost, d.subscription ? d.destination + ' (durable ' + d.subscription + ')' : d.destination, d.depth === null ? '' : d.depth, d.consumers,
      p ? fmt(rate(d.enqueued, p.enqueued)) : '', p ? fmt(rate(d.delivered, p.delivered)) : '',
      d.enqueued, d.delivered, d.acked, d.deadLettered],
      ['name', 'name destination', 'depth', 'consumers', 'rate-in', 'rate-out', 'enqueued', 'delivered', 'acked', 'dead-lettered']);
    tr.dataset.destination = d.destination;
    tr.dataset.vhost = d.vhost;
    return tr;
  }));
  $('engine').hidden = !s.engine;
  if (s.engine) $('engine-state').textContent = JSON.stringify(s.engine, null, 2);
  $('connections').tBodies[0].replaceChildren(...s.connections.map((c) =>
    row([c.id, c.user, c.vhost, c.transport, c.remoteAddress, c.version, c.subscriptions], ['name'])));
  history.push({ time: s.time, connections: s.totals.connections,
    depth: new Map(s.destinations.filter((d) => d.depth !== null).map((d) => [d.vhost + ' ' + d.destination, d.depth])) });
  while (history.length > 0 && history[0].time < s.time - WINDOW) history.shift();
  last = s;
  draw();
}
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
function draw() {
  const cv = $('chart'), g = cv.getContext('2d');
  const W = cv.width, H = cv.height, L = 50, B = 20;
  g.clearRect(0, 0, W, H);
  if (history.length === 0) return;
  const names = new Map();
  for (const h of history) for (const [k, v] of h.depth) names.set(k, Math.max(names.get(k) || 0, v));
  const top = [...names.entries()].sort((a, b) => b[1] - a[1]).slice(0, COLORS.length - 1).map((e) => e[0]);
  let max = 1;
  for (const h of history) { max = Math.max(max, h.connections); for (const k of top) max = Math.max(max, h.depth.get(k) || 0); }
  const t1 = history[history.length - 1].time, t0 = t1 - WINDOW;
  const x = (t) => L + ((t - t0) / WINDOW) * (W - L - 10);
  const y = (v) => H - B - (v / max) * (H - B - 10);
  g.strokeStyle = '#ccc'; g.fillStyle = '#666'; g.font = '11px sans-serif';
  g.beginPath(); g.moveTo(L, 10); g.lineTo(L, H - B); g.lineTo(W - 10, H - B); g.stroke();
  g.fillText(fmt(max), 4, 14); g.fillText('0', 4, H - B); g.fillText('-5 min', L, H - 4); g.fillText('now', W - 34, H - 4);
  const series = [['connections', (h) => h.connections]].concat(top.map((k) => [k, (h) => h.depth.get(k) || 0]));
  series.forEach(([name, f], i) => {
    g.strokeStyle = COLORS[i % COLORS.length]; g.lineWidth = 2; g.beginPath();
    history.forEach((h, j) => { const px = x(h.time), py = y(f(h)); if (j === 0) g.moveTo(px, py); else g.lineTo(px, py); });
    g.stroke(); g.fillStyle = COLORS[i % COLORS.length]; g.fillText(name, L + 10 + (i % 4) * 200, 12 + Math.floor(i / 4) * 12);
  });
}
async function poll() {
  try {
    const r = await fetch('api/stats', { cache: 'no-store', credentials: 'same-origin' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    render(await r.json());
    $('status').textContent = 'live, updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    $('status').textContent = 'cannot reach the broker (' + e.message + '), retrying';
  }
  setTimeout(poll, interval);
}
poll();
</script></body></html>
`;
