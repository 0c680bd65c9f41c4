// The admin API's JSON (docs/console.md): overview, history, destinations with rates, one
// destination with its consumers, peek, connections with their traffic and heart-beats,
// subscriptions, users, cluster; and the actions publish and delete a durable subscription.
// Samples are taken by the test (api.sample()), so rates never depend on a timer, and the broker's
// clock moves one second before each sample: two samples never share a millisecond, whose second
// the sampler would ignore (it was a flake on a fast machine).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type Broker,
  type Clock,
  type ConnectionsJson,
  type DestinationDetailJson,
  type DestinationsJson,
  type HistoryJson,
  type MessagesJson,
  type OverviewJson,
  type UsersJson,
  createBroker,
  hashPassword,
} from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { connected } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('admin API', () => {
  let broker: Broker;
  let base = '';
  let skew = 0;
  const clock: Clock = {
    now: () => Date.now() + skew,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => {
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
  const sample = (): Promise<void> => {
    skew += 1000;
    return broker.adminApi!.sample();
  };
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${base}${path}`);
    assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
    return (await r.json()) as T;
  };
  const post = async (path: string, body: unknown): Promise<{ status: number; json: unknown }> => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, json: await r.json() };
  };

  before(async () => {
    broker = createBroker({
      listeners: [],
      errorLinger: 100,
      closeTimeout: 500,
      users: {
        alice: { password: await hashPassword('pw', FAST), vhosts: ['/'] },
        bob: { password: await hashPassword('pw', FAST) },
      },
      groups: { ops: ['alice', 'bob'] },
      allowAnonymous: true,
      permissions: [
        { group: 'ops', vhost: '*', destinations: ['/queue/>', '/topic/>'], rights: 'all' },
        { user: 'anonymous', destinations: '>', rights: 'all' },
      ],
      admin: { port: 0, sampleInterval: 60_000 },
      clock,
    });
    await broker.listen();
    base = broker.adminUrl!;
  });
  after(() => broker.close());

  test('[Admin API] overview: node, counts, totals, rates over the last sample, memory, disk, cluster', async () => {
    const p = await connected(broker);
    await sample();
    for (let i = 0; i < 4; i++) await p.sendSync('SEND', { destination: '/queue/ov' }, 'abcd');
    await sample();
    const o = await get<OverviewJson>('/api/overview');
    assert.equal(o.node.name, 'stompede/0.1.0');
    assert.match(o.node.version, /^\d+\.\d+\.\d+/);
    assert.equal(o.node.pid, process.pid);
    assert.ok(o.node.uptime >= 0);
    assert.equal(o.ready, true);
    assert.equal(o.connections, 1);
    assert.ok(o.counts.queues >= 1);
    assert.equal(o.totals.published, 4);
    assert.ok(o.rates.published > 0, 'a rate between the two samples');
    assert.equal(o.sampleInterval, 60_000);
    assert.ok(o.memory.rss > 0);
    assert.equal(o.memory.limit, 256 * 1024 * 1024);
    assert.deepEqual(o.disk, {
      dataDir: null,
      freeBytes: null,
      limitBytes: null,
      refusing: false,
      journalBytes: null,
    });
    assert.deepEqual(o.cluster, { clustered: false });
    assert.deepEqual(await get('/api/cluster'), { clustered: false });
    const h = await get<HistoryJson>('/api/history');
    assert.equal(h.interval, 60_000);
    assert.ok(h.points.length >= 1);
    assert.deepEqual(
      await get<HistoryJson>(`/api/history?since=${String(h.points.at(-1)!.time)}`),
      {
        interval: 60_000,
        points: [],
      },
    );
    p.close();
  });

  test('[Admin API] destinations with kind and rates; one destination with its consumers; 404 for none', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', {
      id: 'q',
      destination: '/queue/rated',
      ack: 'client',
      'prefetch-count': '5',
    });
    await c.sendSync('SUBSCRIBE', { id: 't', destination: '/topic/news' });
    await sample();
    for (let i = 0; i < 3; i++) await c.sendSync('SEND', { destination: '/queue/rated' }, 'x');
    await c.messages(3);
    await sample();
    const { destinations } = await get<DestinationsJson>('/api/destinations');
    const q = destinations.find((d) => d.destination === '/queue/rated')!;
    assert.equal(q.kind, 'queue');
    assert.equal(q.depth, 3);
    assert.equal(q.unacked, 3);
    assert.equal(q.consumers, 1);
    assert.equal(q.counters?.enqueued, 3);
    assert.ok(q.rates.published > 0 && q.rates.delivered > 0);
    assert.equal(destinations.find((d) => d.destination === '/topic/news')!.kind, 'topic');
    assert.equal(destinations.find((d) => d.destination === '/topic/news')!.depth, null);
    const d = await get<DestinationDetailJson>('/api/destination?destination=%2Fqueue%2Frated');
    assert.equal(d.destination.destination, '/queue/rated');
    assert.deepEqual(
      d.subscriptions.map((s) => [s.id, s.ack, s.prefetch, s.unacked, s.user, s.durable]),
      [['q', 'client', 5, 3, 'anonymous', null]],
    );
    assert.equal(d.history!.length, 1);
    const none = await fetch(`${base}/api/destination?destination=%2Fqueue%2Fnope`);
    assert.equal(none.status, 404);
    assert.deepEqual(await none.json(), { error: 'no destination /queue/nope in /' });
    c.close();
  });

  test('[Admin API] peek: headers in order, body in base64 (truncated past 64 KiB), left in place', async () => {
    const p = await connected(broker);
    await p.sendSync('SEND', { destination: '/queue/peek', 'x-a': '1', 'x-b': 'two' }, 'hello');
    const big = 'z'.repeat(70 * 1024);
    await p.sendSync('SEND', { destination: '/queue/peek', persistent: 'true' }, big);
    const m = await get<MessagesJson>('/api/messages?destination=%2Fqueue%2Fpeek&count=5');
    assert.equal(m.messages.length, 2);
    const [a, b] = m.messages;
    assert.deepEqual(
      a!.headers.filter(([k]) => k.startsWith('x-')),
      [
        ['x-a', '1'],
        ['x-b', 'two'],
      ],
    );
    assert.equal(Buffer.from(a!.body, 'base64').toString(), 'hello');
    assert.equal(a!.truncated, false);
    assert.equal(a!.deliveryCount, 0);
    assert.equal(b!.size, 70 * 1024);
    assert.equal(Buffer.from(b!.body, 'base64').length, 64 * 1024);
    assert.equal(b!.truncated, true);
    assert.equal(b!.persistent, true);
    // Still there: a consumer gets both, in order.
    await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/peek' });
    assert.deepEqual(
      (await p.messages(2)).map((x) => x.text.length),
      [5, 70 * 1024],
    );
    const bad = await fetch(`${base}/api/messages?destination=%2Fqueue%2Fpeek&count=1000`);
    assert.equal(bad.status, 400);
    const topic = await fetch(`${base}/api/messages?destination=%2Ftopic%2Fx`);
    assert.equal(topic.status, 400);
    assert.match(((await topic.json()) as { error: string }).error, /peek looks into a queue/);
    const invalid = await fetch(`${base}/api/messages?destination=nowhere`);
    assert.equal(
      ((await invalid.json()) as { code?: string }).code,
      ErrorCode.INVALID_HEADER_VALUE,
    );
    p.close();
  });

  test("[Admin API] publish a test message: routed like a SEND; the broker's own headers are refused", async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/test-msg' });
    const r = await post('/api/destinations/publish', {
      destination: '/queue/test-msg',
      headers: { 'content-type': 'application/json', 'x-from': 'console' },
      body: '{"ok":true}',
      persistent: true,
    });
    assert.deepEqual(r, { status: 200, json: { published: true, size: 11 } });
    const [m] = await c.messages(1);
    assert.equal(m!.text, '{"ok":true}');
    assert.equal(m!.header('x-from'), 'console');
    assert.equal(m!.header('persistent'), 'true');
    for (const [body, message] of [
      [
        { destination: '/queue/x', headers: [['message-id', '1']] },
        /message-id is set by the broker/,
      ],
      [{ destination: '/queue/x', headers: [['a\nb', '1']] }, /is not a valid STOMP header/],
      [{ destination: '/temp-queue/x' }, /a \/queue\/ or a \/topic\//],
      [{ destination: '/queue/x', headers: 'nope' }, /headers must be/],
      [{ body: 'x' }, /destination is required/],
    ] as const) {
      const bad = await post('/api/destinations/publish', body);
      assert.equal(bad.status, 400);
      assert.match((bad.json as { error: string }).error, message);
    }
    assert.equal((await post('/api/destinations/publish', '[1]')).status, 400);
    c.close();
  });

  test('[Admin API] delete a durable subscription; refused while a connection uses it', async () => {
    const headers = { 'accept-version': '1.2', host: '/', 'client-id': 'c1' };
    const c = await connected(broker, headers);
    await c.sendSync('SUBSCRIBE', {
      id: 's',
      destination: '/topic/d',
      'activemq.subscriptionName': 'n',
    });
    const busy = await post('/api/durable-subscriptions/delete', { clientId: 'c1', name: 'n' });
    assert.equal(busy.status, 400);
    assert.equal((busy.json as { code: string }).code, ErrorCode.INVALID_STATE);
    c.close();
    await c.ended;
    assert.deepEqual(
      await post('/api/durable-subscriptions/delete', { clientId: 'c1', name: 'n' }),
      {
        status: 200,
        json: { deleted: true },
      },
    );
    assert.equal(
      (await post('/api/durable-subscriptions/delete', { clientId: 'c1', name: 'n' })).status,
      404,
    );
  });

  test('[Admin API] connections: user, transport, version, negotiated heart-beats, traffic and rates', async () => {
    const c = await connected(broker, {
      'accept-version': '1.1,1.2',
      host: '/',
      login: 'bob',
      passcode: 'pw',
      'heart-beat': '0,20000',
    });
    await sample();
    await c.sendSync('SEND', { destination: '/queue/traffic' }, 'abc');
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/traffic' });
    await c.messages(1);
    await sample();
    const { connections } = await get<ConnectionsJson>('/api/connections');
    const bob = connections.find((x) => x.user === 'bob')!;
    assert.equal(bob.transport, 'memory');
    assert.equal(bob.version, '1.2');
    assert.equal(bob.connected, true);
    assert.equal(bob.heartBeat.receive, 0, 'the client cannot send beats: none expected');
    assert.equal(bob.heartBeat.send, 20_000, 'the period the client asked for');
    assert.equal(bob.subscriptions, 1);
    assert.equal(bob.messagesIn, 1);
    assert.equal(bob.messagesOut, 1);
    assert.equal(bob.framesIn, 3, 'CONNECT, SEND and SUBSCRIBE');
    assert.ok(bob.bytesIn > 50);
    assert.ok(bob.rates.messagesIn > 0);
    const detail = await get<{ connection: { id: string }; subscriptions: unknown[] }>(
      `/api/connection?id=${encodeURIComponent(bob.id)}`,
    );
    assert.equal(detail.connection.id, bob.id);
    assert.equal(detail.subscriptions.length, 1);
    assert.equal((await fetch(`${base}/api/connection?id=nope`)).status, 404);
    assert.equal((await fetch(`${base}/api/connection`)).status, 400);
    const users = await get<UsersJson>('/api/users');
    assert.equal(users.users.find((u) => u.name === 'bob')!.connections, 1);
    c.close();
  });

  test('[Admin API] users: groups, virtual hosts and rules as configured, without password hashes', async () => {
    const text = await (await fetch(`${base}/api/users`)).text();
    assert.doesNotMatch(text, /scrypt/);
    const u = JSON.parse(text) as UsersJson;
    assert.equal(u.allowAnonymous, true);
    assert.equal(u.defaultVhost, '/');
    assert.deepEqual(
      u.users.map((x) => [x.name, x.groups, x.vhosts, x.password]),
      [
        ['alice', ['ops'], ['/'], true],
        ['bob', ['ops'], null, true],
      ],
    );
    assert.deepEqual(u.groups, [{ name: 'ops', members: ['alice', 'bob'] }]);
    assert.deepEqual(u.permissions, [
      {
        group: 'ops',
        vhost: '*',
        destinations: ['/queue/>', '/topic/>'],
        rights: ['read', 'write', 'create'],
      },
      { user: 'anonymous', vhost: '/', destinations: ['>'], rights: ['read', 'write', 'create'] },
    ]);
  });

  test('[Admin API] refusals are JSON with a status: 404, 405, 413, 415, 400', async () => {
    const r404 = await fetch(`${base}/api/nothing`);
    assert.deepEqual([r404.status, await r404.json()], [404, { error: 'not found' }]);
    assert.equal((await fetch(`${base}/api/overview`, { method: 'DELETE' })).status, 405);
    const huge = await post('/api/destinations/publish', {
      destination: '/queue/x',
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    assert.equal(huge.status, 413);
    const form = await fetch(`${base}/api/queues/purge`, { method: 'POST', body: 'a=b' });
    assert.equal(form.status, 415);
    assert.equal((await post('/api/connections/close', {})).status, 400);
  });
});
