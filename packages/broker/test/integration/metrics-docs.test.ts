// docs/metrics.md, the broker's /metrics and the Grafana dashboard say the same thing: every
// metric the broker serves is documented with its type, every documented broker metric is
// served, and every metric the dashboard plots exists.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Broker, createBroker } from '@stompede/broker';
import { connected } from '../helper.js';

const docs = new URL('../../../../docs/', import.meta.url);

/** `name → type` of the tables in docs/metrics.md, by section. */
function documented(): Map<string, { type: string; section: string }> {
  const out = new Map<string, { type: string; section: string }>();
  let section = '';
  for (const line of readFileSync(new URL('metrics.md', docs), 'utf8').split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3);
    const m = /^\| `(stompede_\w+)` \| (counter|gauge) \|/.exec(line);
    if (m !== null) out.set(m[1]!, { type: m[2]!, section });
  }
  return out;
}

describe('metrics documentation', () => {
  let broker: Broker;
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stompede-metrics-'));
    broker = createBroker({ listeners: [], dataDir: dir, admin: { port: 0 } });
    await broker.listen();
    // A queue, a topic and a durable subscription, so that every per-destination series shows.
    const p = await connected(broker, { 'accept-version': '1.2', host: '/', 'client-id': 'c1' });
    await p.sendSync('SEND', { destination: '/queue/docs' }, 'x');
    await p.sendSync('SUBSCRIBE', { id: 't', destination: '/topic/docs' });
    await p.sendSync('SUBSCRIBE', {
      id: 'd',
      destination: '/topic/docs.durable',
      'durable-subscription-name': 'n',
    });
    p.close();
    await p.ended;
    // And an ERROR, for the errors by code.
    const bad = await connected(broker);
    bad.send('SEND', { destination: '/nowhere' });
    await bad.next('ERROR');
    bad.close();
  });
  after(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('[Metrics] every metric served is in docs/metrics.md with its type, and every documented one is served', async () => {
    const text = await (await fetch(`${broker.adminUrl!}/metrics`)).text();
    const served = new Map<string, string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) served.set(m[1]!, m[2]!);
    const doc = documented();
    for (const [name, type] of served) {
      assert.equal(doc.get(name)?.type, type, `${name} (${type}) in docs/metrics.md`);
    }
    for (const [name, d] of doc) {
      if (d.section === 'A cluster node') continue; // the cluster engine's (its own test)
      assert.ok(served.has(name), `${name} is documented but not served`);
      // Per-destination series are there, not just their HELP lines.
      assert.ok(new RegExp(`^${name}[ {]`, 'm').test(text), `${name} has a sample`);
    }
  });

  test('[Metrics] every metric the Grafana dashboard plots is documented', () => {
    const dashboard = readFileSync(new URL('grafana/stompede-dashboard.json', docs), 'utf8');
    JSON.parse(dashboard); // valid JSON, as Grafana imports it
    const doc = documented();
    const used = new Set([...dashboard.matchAll(/\b(stompede_\w+)/g)].map((m) => m[1]!));
    assert.ok(used.size > 20, `${String(used.size)} metrics plotted`);
    for (const name of used) assert.ok(doc.has(name), `${name} (dashboard) in docs/metrics.md`);
  });
});
