import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type Broker,
  type Engine,
  type EngineReport,
  LocalEngine,
  Metrics,
  createBroker,
  hashPassword,
} from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { connected } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };
const AUTH = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;

async function get(
  url: string,
  auth?: string,
): Promise<{ status: number; text: string; type: string }> {
  const r = await fetch(url, auth === undefined ? {} : { headers: { authorization: auth } });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') ?? '' };
}

async function post(
  url: string,
  body: unknown,
  auth = AUTH,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return {
    status: r.status,
    json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

function sample(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}${labels} `))
      return Number(line.slice(name.length + labels.length + 1));
  }
  return undefined;
}

describe('admin server', () => {
  let broker: Broker;
  let base = '';
  before(async () => {
    broker = createBroker({
      listeners: [],
      errorLinger: 100,
      closeTimeout: 500,
      maxDeliveries: 2,
      admin: { port: 0, user: 'ops', password: await hashPassword('s3cret', FAST) },
    });
    await broker.listen();
    base = broker.adminUrl!;
  });
  after(() => broker.close());

  test('[Admin] listens on loopback by default, off the STOMP ports', () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('[Admin health] /healthz and /readyz need no credentials', async () => {
    assert.deepEqual(await get(`${base}/healthz`).then((r) => [r.status, r.text]), [200, 'ok\n']);
    assert.equal((await get(`${base}/readyz`)).status, 200);
  });

  test('[Admin auth] everything else needs basic auth with the configured password', async () => {
    for (const path of ['/metrics', '/', '/api/stats']) {
      assert.equal((await get(`${base}${path}`)).status, 401, path);
      const wrong = `Basic ${Buffer.from('ops:nope').toString('base64')}`;
      assert.equal((await get(`${base}${path}`, wrong)).status, 401, path);
      assert.equal((await get(`${base}${path}`, AUTH)).status, 200, path);
    }
    const r = await fetch(`${base}/metrics`);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  });

  test('[Admin metrics] Prometheus text: connections, frames, bytes, per-destination counters, depth, consumers, memory, errors by code', async () => {
    const producer = await connected(broker);
    for (let i = 0; i < 3; i++)
      await producer.sendSync('SEND', { destination: '/queue/work' }, `m${String(i)}`);
    const consumer = await connected(broker);
    await consumer.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/queue/work',
      ack: 'client-individual',
    });
    const [m1, m2] = await consumer.messages(3);
    await consumer.sendSync('ACK', { id: m1!.header('ack')! });
    await consumer.sendSync('NACK', { id: m2!.header('ack')!, requeue: 'false' });
    const bad = await connected(broker);
    bad.send('SEND', { destination: '/nowhere' });
    await bad.error(ErrorCode.INVALID_HEADER_VALUE);

    const { status, text, type } = await get(`${base}/metrics`, AUTH);
    assert.equal(status, 200);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    assert.match(text, /# TYPE stompede_connections gauge/);
    assert.equal(sample(text, 'stompede_connections'), 2);
    assert.ok((sample(text, 'stompede_frames_received_total') ?? 0) >= 10);
    assert.ok((sample(text, 'stompede_bytes_received_total') ?? 0) > 0);
    assert.notEqual(sample(text, 'stompede_bytes_sent_total'), undefined);
    const q = '{vhost="/",destination="/queue/work"}';
    assert.equal(sample(text, 'stompede_destination_messages_enqueued_total', q), 3);
    assert.equal(sample(text, 'stompede_destination_messages_delivered_total', q), 3);
    assert.equal(sample(text, 'stompede_destination_messages_acked_total', q), 1);
    assert.equal(sample(text, 'stompede_destination_messages_dead_lettered_total', q), 1);
    assert.equal(sample(text, 'stompede_destination_consumers', q), 1);
    assert.equal(sample(text, 'stompede_queue_depth', q), 1);
    assert.equal(
      sample(text, 'stompede_queue_depth', '{vhost="/",destination="/queue/DLQ.work"}'),
      1,
    );
    assert.ok((sample(text, 'stompede_process_resident_memory_bytes') ?? 0) > 0);
    assert.equal(
      sample(text, 'stompede_errors_total', `{code="${ErrorCode.INVALID_HEADER_VALUE}"}`),
      1,
    );
    producer.close();
    consumer.close();
  });

  test('[Admin actions] purge a queue', async () => {
    const p = await connected(broker);
    for (let i = 0; i < 4; i++) await p.sendSync('SEND', { destination: '/queue/purge-me' }, 'x');
    assert.deepEqual(await post(`${base}/api/queues/purge`, { destination: '/queue/purge-me' }), {
      status: 200,
      json: { purged: 4 },
    });
    assert.equal((await post(`${base}/api/queues/purge`, { destination: '/topic/t' })).status, 400);
    const c = await connected(broker);
    await c.sendSync('SEND', { destination: '/queue/purge-me' }, 'after');
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/purge-me' });
    assert.deepEqual(
      (await c.messages(1)).map((m) => m.text),
      ['after'],
    );
    p.close();
    c.close();
  });

  test('[Admin actions] delete a destination: its consumers get an ERROR, its messages go', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/doomed', ack: 'client' });
    const p = await connected(broker);
    await p.sendSync('SEND', { destination: '/queue/doomed' }, 'unacked');
    await c.messages(1);
    const r = await post(`${base}/api/destinations/delete`, { destination: '/queue/doomed' });
    assert.deepEqual(r, { status: 200, json: { purged: 1 } });
    assert.match(
      (await c.error(ErrorCode.INVALID_STATE)).header('message') ?? '',
      /\/queue\/doomed was deleted/,
    );
    p.close();
  });

  test('[Admin actions] close a connection', async () => {
    const c = await connected(broker);
    const stats = (await (
      await fetch(`${base}/api/stats`, { headers: { authorization: AUTH } })
    ).json()) as {
      connections: { id: string; user: string }[];
    };
    const id = stats.connections.at(-1)!.id;
    assert.equal(stats.connections.at(-1)!.user, 'anonymous');
    assert.deepEqual(await post(`${base}/api/connections/close`, { id }), {
      status: 200,
      json: { closed: id },
    });
    assert.match(
      (await c.error(ErrorCode.CONNECTION_CLOSED)).header('message') ?? '',
      /closed by an administrator/,
    );
    await c.ended;
    assert.equal((await post(`${base}/api/connections/close`, { id: 'nope' })).status, 404);
  });

  test('[Admin actions] POSTs need credentials and a JSON body; cross-origin requests are refused', async () => {
    assert.equal(
      (await post(`${base}/api/queues/purge`, { destination: '/queue/a' }, 'Basic eDp5')).status,
      401,
    );
    const form = await fetch(`${base}/api/queues/purge`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'destination=/queue/a',
    });
    assert.equal(form.status, 415);
    const cross = await fetch(`${base}/api/queues/purge`, {
      method: 'POST',
      headers: {
        authorization: AUTH,
        'content-type': 'application/json',
        origin: 'http://evil.example',
      },
      body: '{"destination":"/queue/a"}',
    });
    assert.equal(cross.status, 403);
  });

  test('[Admin console] a static shell: its scripts and style are files of the admin server, nothing inline', async () => {
    const r = await fetch(`${base}/`, { headers: { authorization: AUTH } });
    const html = await r.text();
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html, /<script type="module" src="console\/main\.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|style=/);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(
      csp,
      /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/,
    );
    assert.doesNotMatch(csp, /unsafe/);
    for (const path of ['/console/main.js', '/console/pages/destination.js']) {
      const s = await get(`${base}${path}`, AUTH);
      assert.equal(s.status, 200, path);
      assert.match(s.type, /^text\/javascript/);
      assert.doesNotMatch(s.text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
    assert.match((await get(`${base}/console/style.css`, AUTH)).type, /^text\/css/);
    assert.equal((await get(`${base}/console/../package.json`, AUTH)).status, 404);
    assert.equal((await get(`${base}/console/tsconfig.tsbuildinfo`, AUTH)).status, 404);
  });
});

describe('admin server without credentials', () => {
  test('[Admin auth] on loopback without credentials it is open, but refuses foreign Host headers', async () => {
    const broker = createBroker({ listeners: [], admin: { port: 0 } });
    await broker.listen();
    const base = broker.adminUrl!;
    assert.equal((await get(`${base}/metrics`)).status, 200);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/metrics`,
        { headers: { host: 'rebound.example.com' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
    await broker.close();
  });
});

describe('admin server with an engine of its own', () => {
  test('[Admin engine] shared counters, the engine report in /api/stats and /metrics, readiness', async () => {
    const metrics = new Metrics();
    let ready = true;
    // An engine built outside the broker (as a cluster engine is) that reports on itself.
    class Reporting extends LocalEngine {
      report(): EngineReport {
        return {
          state: { cluster: 'up', leaders: { s1: 'n1' } },
          gauges: [
            { name: 'cluster_connected', help: 'Connected to the cluster.', value: 1 },
            {
              name: 'cluster_stream_messages',
              help: 'Per stream.',
              value: 3,
              labels: { stream: 's1' },
            },
            {
              name: 'cluster_stream_messages',
              help: 'Per stream.',
              value: 4,
              labels: { stream: 's2' },
            },
          ],
        };
      }
      ready(): boolean {
        return ready;
      }
    }
    const engine: Engine = new Reporting({ metrics });
    const broker = createBroker({ listeners: [], engine, metrics, admin: { port: 0 } });
    await broker.listen();
    const base = broker.adminUrl!;
    assert.equal(broker.metrics, metrics);
    const stats = JSON.parse((await get(`${base}/api/stats`)).text) as { engine?: unknown };
    assert.deepEqual(stats.engine, { cluster: 'up', leaders: { s1: 'n1' } });
    const text = (await get(`${base}/metrics`)).text;
    assert.equal(sample(text, 'stompede_cluster_connected'), 1);
    assert.equal(sample(text, 'stompede_cluster_stream_messages', '{stream="s2"}'), 4);
    assert.equal(text.split('# TYPE stompede_cluster_stream_messages gauge').length, 2);
    assert.equal((await get(`${base}/readyz`)).status, 200);
    ready = false;
    assert.equal((await get(`${base}/readyz`)).status, 503);
    await broker.close();
  });
});
