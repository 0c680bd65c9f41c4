// The cluster report the admin API and the console show, and the cluster's gauges against
// docs/metrics.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { clusterReportOf, gaugesOf } from '@stompede/cluster/internal';

type Status = Parameters<typeof clusterReportOf>[0];

const STATUS: Status = {
  node: 'node-a',
  nats: {
    state: 'connected',
    server: '10.0.0.1:4222',
    version: '2.10.1',
    reconnects: 1,
    lastError: undefined,
    maxPayload: 1 << 20,
  },
  streams: [
    {
      name: 'Q',
      leader: 'nats-1',
      replicas: [
        { name: 'nats-2', current: true, lag: 0 },
        { name: 'nats-3', current: false, lag: 12 },
      ],
      messages: 3,
      bytes: 300,
      consumers: 1,
    },
    {
      name: 'T',
      leader: 'nats-2',
      replicas: [{ name: 'nats-1', current: true, lag: 0 }],
      messages: 0,
      bytes: 0,
      consumers: 0,
    },
  ],
  pendingAcks: 2,
  pulledWaiting: 0,
  inflightBytes: 0,
  storedSubscriptions: 1,
  publishFailures: 0,
};

describe('cluster report', () => {
  test('this node, then the NATS servers the streams name: leaders up, a replica behind unknown', () => {
    const r = clusterReportOf(STATUS);
    assert.equal(r.node, 'node-a');
    assert.deepEqual(r.nodes, [
      {
        name: 'node-a',
        role: 'broker',
        status: 'up',
        self: true,
        note: 'connected to NATS at 10.0.0.1:4222',
      },
      { name: 'nats-1', role: 'store', status: 'up', note: 'leader of 1 stream' },
      { name: 'nats-2', role: 'store', status: 'up', note: 'leader of 1 stream' },
      { name: 'nats-3', role: 'store', status: 'unknown', note: 'behind on 1 stream (lag 12)' },
    ]);
    assert.equal(r.details?.pendingAcks, 2);
  });

  test('cut off from NATS: this node says so, and no servers are known', () => {
    const r = clusterReportOf({
      ...STATUS,
      nats: { ...STATUS.nats, state: 'reconnecting', lastError: 'ECONNREFUSED' },
      streams: [],
      streamsError: 'timeout',
    });
    assert.deepEqual(r.nodes, [
      {
        name: 'node-a',
        role: 'broker',
        status: 'unknown',
        self: true,
        note: 'NATS reconnecting: ECONNREFUSED',
      },
    ]);
    assert.equal(r.details?.streamsError, 'timeout');
  });

  test('[Metrics] every cluster gauge is in docs/metrics.md, as a gauge', () => {
    const doc = readFileSync(new URL('../../../../docs/metrics.md', import.meta.url), 'utf8');
    for (const g of gaugesOf(STATUS)) {
      assert.match(doc, new RegExp(`^\\| \`stompede_${g.name}\` \\| gauge \\|`, 'm'), g.name);
    }
  });
});
