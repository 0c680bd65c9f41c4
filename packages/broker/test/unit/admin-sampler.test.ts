// The admin server's sampler: rates from counters sampled at fixed times, bounded history, and
// the cluster JSON of an engine's report. Pure: times are given, nothing sleeps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Sampler, clusterJson, rowKey } from '@stompede/broker/internal';

type Row = Parameters<Sampler['record']>[2][number];

function row(destination: string, counts: Partial<Row> = {}): Row {
  return {
    vhost: '/',
    destination,
    durable: undefined,
    depth: 0,
    unacked: 0,
    consumers: 0,
    enqueued: 0,
    delivered: 0,
    acked: 0,
    nacked: 0,
    redelivered: 0,
    deadLettered: 0,
    dropped: 0,
    purged: 0,
    counted: true,
    ...counts,
  };
}

const totals = (n: number, extra = {}) => ({
  published: n,
  delivered: n,
  acked: n,
  redelivered: 0,
  bytesIn: n * 100,
  bytesOut: 0,
  connections: 2,
  messages: 7,
  ...extra,
});

describe('admin sampler', () => {
  test('[Admin rates] per-second rates between two samples; none before the second', () => {
    const s = new Sampler({ interval: 5000 });
    s.record(0, totals(0), [row('/queue/a')]);
    assert.equal(s.latest(), undefined);
    assert.deepEqual(s.rates(rowKey(row('/queue/a'))), {
      published: 0,
      delivered: 0,
      acked: 0,
      redelivered: 0,
    });
    s.record(5000, totals(50), [row('/queue/a', { enqueued: 10, delivered: 5, redelivered: 1 })]);
    const p = s.latest()!;
    assert.equal(p.published, 10);
    assert.equal(p.bytesIn, 1000);
    assert.equal(p.connections, 2);
    assert.equal(p.messages, 7);
    assert.deepEqual(s.rates(rowKey(row('/queue/a'))), {
      published: 2,
      delivered: 1,
      acked: 0,
      redelivered: 0.2,
    });
    assert.deepEqual(
      s.destinationHistory(rowKey(row('/queue/a')))!.map((x) => [x.time, x.published, x.depth]),
      [[5000, 2, 0]],
    );
  });

  test('[Admin rates] a counter that goes back (an engine restarted its counts) reads 0, not negative', () => {
    const s = new Sampler({ interval: 1000 });
    s.record(0, totals(100), []);
    s.record(1000, totals(10), []);
    assert.equal(s.latest()!.published, 0);
  });

  test('[Admin history] the broker-wide series keeps an hour of points, oldest first, and answers since a time', () => {
    const s = new Sampler({ interval: 60_000 });
    for (let i = 0; i <= 100; i++) s.record(i * 60_000, totals(i * 60), []);
    const all = s.history();
    assert.equal(all.length, 60);
    assert.equal(all[0]!.time, 41 * 60_000);
    assert.equal(all.at(-1)!.time, 100 * 60_000);
    assert.deepEqual(
      s.history(98 * 60_000).map((p) => p.time),
      [99 * 60_000, 100 * 60_000],
    );
    assert.equal(all[0]!.published, 1);
  });

  test('[Admin history] destinations beyond maxDestinations get rates but no series; gone ones are forgotten', () => {
    const s = new Sampler({ interval: 1000, maxDestinations: 2 });
    const rows = ['/queue/a', '/queue/b', '/queue/c'].map((d) => row(d));
    s.record(0, totals(0), rows);
    s.record(
      1000,
      totals(0),
      rows.map((r) => ({ ...r, enqueued: 3 })),
    );
    assert.equal(s.destinationHistory(rowKey(rows[0]!))!.length, 1);
    assert.equal(s.destinationHistory(rowKey(rows[2]!)), undefined);
    assert.equal(s.rates(rowKey(rows[2]!)).published, 3);
    // /queue/a is deleted: its series goes, and a new destination can have one.
    const d = row('/queue/d');
    s.record(2000, totals(0), [rows[1]!, rows[2]!, d]);
    assert.equal(s.destinationHistory(rowKey(rows[0]!)), undefined);
    s.record(3000, totals(0), [rows[1]!, rows[2]!, d]);
    assert.equal(s.destinationHistory(rowKey(d))!.length, 1);
  });

  test('[Admin history] a destination series is a fixed ring', () => {
    const s = new Sampler({ interval: 1000, destinationPoints: 12 });
    for (let i = 0; i < 30; i++) s.record(i * 1000, totals(0), [row('/queue/a', { enqueued: i })]);
    const h = s.destinationHistory(rowKey(row('/queue/a')))!;
    assert.equal(h.length, 12);
    assert.equal(h[0]!.time, 18_000);
  });

  test('[Admin rates] connection rates, and forgotten once the connection is gone', () => {
    const s = new Sampler({ interval: 1000 });
    const c = { id: 'c1', messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
    s.record(0, totals(0), [], [c]);
    s.record(2000, totals(0), [], [{ ...c, messagesIn: 10, bytesOut: 4000 }]);
    assert.deepEqual(s.connectionRates('c1'), {
      messagesIn: 5,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 2000,
    });
    s.record(3000, totals(0), [], []);
    assert.equal(s.connectionRates('c1').messagesIn, 0);
  });

  test('[Admin cluster] a single node answers clustered: false; a ClusterReport is shown as reported', () => {
    assert.deepEqual(clusterJson(undefined), { clustered: false });
    assert.deepEqual(clusterJson({ state: {}, gauges: [] }), { clustered: false });
    assert.deepEqual(
      clusterJson({
        state: {},
        gauges: [],
        cluster: {
          node: 'n1',
          nodes: [
            { name: 'n1', role: 'broker', status: 'up', self: true },
            { name: 'nats-1', role: 'store', status: 'down', address: '10.0.0.1:4222' },
          ],
        },
      }),
      {
        clustered: true,
        node: 'n1',
        nodes: [
          { name: 'n1', role: 'broker', status: 'up', self: true },
          { name: 'nats-1', role: 'store', status: 'down', address: '10.0.0.1:4222' },
        ],
      },
    );
    // An engine that only puts a cluster object with its node name in its state.
    const fallback = clusterJson({
      state: { cluster: { node: 'n2', pendingAcks: 3 } },
      gauges: [],
    });
    assert.deepEqual(fallback, {
      clustered: true,
      node: 'n2',
      nodes: [{ name: 'n2', role: 'broker', status: 'up', self: true }],
      details: { node: 'n2', pendingAcks: 3 },
    });
  });
});
