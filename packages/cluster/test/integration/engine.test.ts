// The cluster engine on a real three-server JetStream cluster, with two engines standing for two
// nodes: what holds across nodes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Message, type ConsumerHandle } from '@stompede/broker';
import { ErrorCode, StompError } from '@stompede/core';
import type { ClusterEngine } from '@stompede/cluster';
import { Recorder, engineOn, natsCluster, natsMissing, until } from '../helper.js';

const skip = natsMissing();

const persistent = (dest: string, body: string, headers: string[] = []): Message =>
  new Message(dest, ['persistent', 'true', ...headers], Buffer.from(body));

describe('cluster engine (two nodes, three NATS servers)', { skip }, () => {
  let nats: Awaited<ReturnType<typeof natsCluster>>;
  let a: ClusterEngine;
  let b: ClusterEngine;

  before(async () => {
    nats = await natsCluster();
    [a, b] = await Promise.all([
      engineOn(nats, { maxDeliveries: 3 }),
      engineOn(nats, { maxDeliveries: 3 }),
    ]);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await nats.dispose();
  });

  const sub = (
    engine: ClusterEngine,
    destination: string,
    consumer: Recorder,
    extra: {
      autoAck?: boolean;
      durable?: { clientId: string; name: string };
      session?: string;
    } = {},
  ): Promise<ConsumerHandle> =>
    Promise.resolve(
      engine.subscribe(
        {
          vhost: '/',
          sessionId: extra.session ?? 's',
          destination,
          autoAck: extra.autoAck ?? false,
          ...(extra.durable === undefined ? {} : { durable: extra.durable }),
        },
        consumer,
      ),
    );

  test('a queue message sent on one node reaches a consumer on the other, in order', async () => {
    for (let i = 0; i < 5; i++)
      await a.publish('/', 'p', persistent('/queue/order', `m${String(i)}`));
    const r = new Recorder();
    const h = await sub(b, '/queue/order', r);
    await until(() => r.deliveries.length === 5);
    assert.deepEqual(r.bodies, ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.ok(r.deliveries.every((d) => d.deliveryCount === 1));
    for (const d of r.deliveries) await h.ack(d.ackKey, true);
    await h.close();
  });

  test('competing consumers on both nodes: each message goes to exactly one', async () => {
    const ra = new Recorder(5);
    const rb = new Recorder(5);
    const ha = await sub(a, '/queue/compete', ra);
    const hb = await sub(b, '/queue/compete', rb);
    for (let i = 0; i < 40; i++) await a.publish('/', 'p', persistent('/queue/compete', String(i)));
    const ack = (r: Recorder, h: ConsumerHandle): void => {
      for (const d of [...r.deliveries]) {
        if (!r.unsettled.has(d.ackKey)) continue;
        r.settled(d);
        void h.ack(d.ackKey, false);
        h.resume();
      }
    };
    await until(
      () => {
        ack(ra, ha);
        ack(rb, hb);
        return ra.deliveries.length + rb.deliveries.length >= 40;
      },
      20_000,
      'all 40 messages',
    );
    const all = [...ra.bodies, ...rb.bodies].map(Number).sort((x, y) => x - y);
    assert.deepEqual(
      all,
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.ok(ra.deliveries.length > 0 && rb.deliveries.length > 0, 'both nodes took a share');
    await ha.close();
    await hb.close();
  });

  test('prefetch bounds a subscription: no more than its window unsettled', async () => {
    for (let i = 0; i < 10; i++) await a.publish('/', 'p', persistent('/queue/window', String(i)));
    const r = new Recorder(3);
    const h = await sub(b, '/queue/window', r);
    // Settled one at a time, each next delivery awaited: the recorder counts any delivery that
    // comes while its window is full, so the bound is checked at every step, not over a pause.
    await until(() => r.deliveries.length === 3);
    for (let n = 4; n <= 10; n++) {
      const oldest = r.deliveries[n - 4]!;
      r.settled(oldest);
      await h.ack(oldest.ackKey, true);
      h.resume();
      await until(() => r.deliveries.length === n, 10_000, `delivery ${String(n)}`);
    }
    assert.equal(r.overWindow, 0, 'nothing beyond the window');
    assert.deepEqual(
      r.bodies,
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
    await h.close();
  });

  test('high priority (5-9) is delivered before normal', async () => {
    await a.publish('/', 'p', persistent('/queue/prio', 'low1'));
    await a.publish('/', 'p', persistent('/queue/prio', 'high', ['priority', '9']));
    await a.publish('/', 'p', persistent('/queue/prio', 'low2'));
    const r = new Recorder();
    const h = await sub(b, '/queue/prio', r);
    await until(() => r.deliveries.length === 3);
    assert.deepEqual(r.bodies, ['high', 'low1', 'low2']);
    await h.close();
  });

  test('NACK requeues with a higher delivery count; past the limit it is dead-lettered', async () => {
    await a.publish('/', 'p', persistent('/queue/poison', 'bad'));
    const r = new Recorder();
    const h = await sub(b, '/queue/poison', r);
    for (let n = 1; n <= 3; n++) {
      await until(() => r.deliveries.length === n, 10_000, `delivery ${String(n)}`);
      const d = r.deliveries[n - 1]!;
      assert.equal(d.deliveryCount, n);
      assert.equal(d.messageId, r.deliveries[0]!.messageId, 'message-id stable on redelivery');
      r.settled(d);
      await h.nack(d.ackKey, true, true);
    }
    const dlq = new Recorder();
    const hd = await sub(a, '/queue/DLQ.poison', dlq, { autoAck: true });
    await until(() => dlq.deliveries.length === 1);
    const headers = dlq.deliveries[0]!.message.headers;
    assert.equal(headers[headers.indexOf('original-destination') + 1], '/queue/poison');
    await h.close();
    await hd.close();
  });

  test('closing a subscription returns its unacked messages, redelivered', async () => {
    await a.publish('/', 'p', persistent('/queue/back', 'x'));
    const r1 = new Recorder();
    const h1 = await sub(a, '/queue/back', r1);
    await until(() => r1.deliveries.length === 1);
    await h1.close();
    const r2 = new Recorder();
    const h2 = await sub(b, '/queue/back', r2);
    await until(() => r2.deliveries.length === 1);
    assert.equal(r2.deliveries[0]!.deliveryCount, 2);
    assert.equal(r2.deliveries[0]!.messageId, r1.deliveries[0]!.messageId);
    await h2.ack(r2.deliveries[0]!.ackKey, true);
    await h2.close();
  });

  test('closing a subscription settles once what it held is back: a consumer on the other node gets it ahead of newer messages', async () => {
    await a.publish('/', 'p', persistent('/queue/handback', 'm1'));
    await a.publish('/', 'p', persistent('/queue/handback', 'm2'));
    // A window wider than what is there: the subscription also leaves a pull request waiting.
    const r1 = new Recorder(5);
    const h1 = await sub(a, '/queue/handback', r1);
    await until(() => r1.deliveries.length === 2);
    // Its pull request waits at JetStream (StoredSubscription.waitingSources): what it holds must
    // wait until that request has expired before it goes back (see PULL_TIMING).
    const waiting = h1 as unknown as { waitingSources(): unknown[] };
    await until(() => waiting.waitingSources().length > 0);
    await h1.close();
    await b.publish('/', 'p', persistent('/queue/handback', 'm3'));
    const r2 = new Recorder(5);
    const h2 = await sub(b, '/queue/handback', r2);
    await until(() => r2.deliveries.length === 3);
    assert.deepEqual(r2.bodies, ['m1', 'm2', 'm3']);
    assert.deepEqual(
      r2.deliveries.map((d) => d.deliveryCount),
      [2, 2, 1],
    );
    for (const d of r2.deliveries) await h2.ack(d.ackKey, true);
    await h2.close();
  });

  test('live topics with wildcards: one copy per subscriber, across nodes', async () => {
    const star = new Recorder(1000, true);
    const rest = new Recorder(1000, true);
    const exact = new Recorder(1000, true);
    const hs = await sub(b, '/topic/news.*', star, { autoAck: true });
    const hr = await sub(b, '/topic/news.#', rest, { autoAck: true });
    const he = await sub(b, '/topic/news.eu', exact, { autoAck: true });
    await a.publish('/', 'p', new Message('/topic/news.eu', [], Buffer.from('1')));
    await a.publish('/', 'p', new Message('/topic/news', [], Buffer.from('2')));
    await a.publish('/', 'p', new Message('/topic/news.eu.fr', [], Buffer.from('3')));
    await until(() => rest.deliveries.length === 3);
    await until(() => star.deliveries.length === 1 && exact.deliveries.length === 1);
    assert.deepEqual(rest.bodies, ['1', '2', '3']);
    assert.deepEqual(star.bodies, ['1']);
    assert.deepEqual(exact.bodies, ['1']);
    await Promise.all([hs.close(), hr.close(), he.close()]);
  });

  test('a durable subscription keeps messages while detached and moves between nodes', async () => {
    const durable = { clientId: 'app', name: 'keep' };
    const r1 = new Recorder();
    const h1 = await sub(a, '/topic/orders.>', r1, { durable });
    await assert.rejects(
      sub(b, '/topic/orders.>', new Recorder(), { durable }),
      (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_STATE,
    );
    await h1.close();
    await b.publish('/', 'p', persistent('/topic/orders.new', 'while away'));
    const r2 = new Recorder();
    const h2 = await sub(b, '/topic/orders.>', r2, { durable });
    await until(() => r2.deliveries.length === 1);
    assert.deepEqual(r2.bodies, ['while away']);
    await h2.ack(r2.deliveries[0]!.ackKey, true);
    await h2.close();
    assert.equal(await a.unsubscribeDurable('/', 'app', 'keep'), true);
    assert.equal(await a.unsubscribeDurable('/', 'app', 'keep'), false);
  });

  test('a reply to a temporary queue sent on another node reaches the requester', async () => {
    // As a request goes: the responder on B learns the reply address from the request itself,
    // so NATS has carried A's interest in it to B's server first (one route, in order). A reply
    // sent with no such causal path could race the interest: core NATS, at most once.
    const requests = new Recorder(1000, true);
    const hq = await sub(b, '/topic/requests', requests, { autoAck: true });
    const address = a.replyAddress('/', 'requester', 'replies');
    const r = new Recorder(1000, true);
    const h = await sub(a, '/temp-queue/replies', r, { autoAck: true, session: 'requester' });
    await a.publish(
      '/',
      'requester',
      new Message('/topic/requests', ['reply-to', address], Buffer.from('ping')),
    );
    await until(() => requests.deliveries.length === 1);
    await b.publish('/', 'responder', new Message(address, [], Buffer.from('pong')));
    await until(() => r.deliveries.length === 1);
    assert.deepEqual(r.bodies, ['pong']);
    await Promise.all([h.close(), hq.close()]);
    a.sessionClosed('/', 'requester');
  });

  test('COMMIT publishes the SENDs and applies the ACKs together', async () => {
    await a.publish('/', 'p', persistent('/queue/tx-in', 'job'));
    const r = new Recorder();
    const h = await sub(b, '/queue/tx-in', r);
    await until(() => r.deliveries.length === 1);
    await b.commit(
      '/',
      'worker',
      [
        { kind: 'publish', message: persistent('/queue/tx-out', 'result') },
        { kind: 'ack', consumer: h, ackKey: r.deliveries[0]!.ackKey },
      ],
      true,
    );
    const out = new Recorder();
    const ho = await sub(a, '/queue/tx-out', out);
    await until(() => out.deliveries.length === 1);
    await h.close();
    // The ACK took: a new subscriber gets only a message sent after it (had the ACK been lost,
    // the older message would come back first: the closed subscription requeued it).
    await a.publish('/', 'p', persistent('/queue/tx-in', 'marker'));
    const again = new Recorder();
    const h2 = await sub(a, '/queue/tx-in', again);
    await until(() => again.bodies.includes('marker'), 10_000, 'the marker');
    assert.deepEqual(again.bodies, ['marker']);
    await Promise.all([h2.close(), ho.close()]);
  });

  test('an idempotency-key makes a repeated SEND store one message', async () => {
    const m = (): Message => persistent('/queue/idem', 'once', ['idempotency-key', 'order-17']);
    await a.publish('/', 'p', m());
    await b.publish('/', 'p', m());
    // A marker sent after both: a stored duplicate would come before it.
    await a.publish('/', 'p', persistent('/queue/idem', 'marker'));
    const r = new Recorder();
    const h = await sub(a, '/queue/idem', r);
    await until(() => r.bodies.includes('marker'), 10_000, 'the marker');
    assert.deepEqual(r.bodies, ['once', 'marker']);
    await h.close();
  });

  test('a body over the NATS payload limit gets ERR_STOMP_BODY_TOO_LARGE', () => {
    const big = new Message('/queue/big', [], new Uint8Array(2 * 1024 * 1024));
    assert.throws(
      () => a.publish('/', 'p', big),
      (err: unknown) => err instanceof StompError && err.code === ErrorCode.BODY_TOO_LARGE,
    );
  });

  test('admin: list, peek and purge a queue from either node', async () => {
    for (let i = 0; i < 3; i++) await a.publish('/', 'p', persistent('/queue/adm', String(i)));
    const listed = (await b.destinations('/')).find((d) => d.destination === '/queue/adm');
    assert.equal(listed?.depth, 3);
    const peeked = await b.peek('/', '/queue/adm', 2);
    assert.deepEqual(
      peeked.map((p) => Buffer.from(p.message.body).toString()),
      ['0', '1'],
    );
    assert.equal(await a.purge('/', '/queue/adm'), 3);
    const after = (await b.destinations('/')).find((d) => d.destination === '/queue/adm');
    assert.equal(after?.depth ?? 0, 0);
  });

  test('deleting a queue detaches its subscribers on every node', async () => {
    const r = new Recorder();
    await sub(b, '/queue/doomed', r);
    await a.deleteDestination('/', '/queue/doomed');
    await until(() => r.detachedWith !== undefined, 20_000, 'detached');
  });

  test('admin: a created queue exists empty on every node and for a new node, until deleted', async () => {
    const kept = async (engine: ClusterEngine) =>
      (await engine.destinations('/'))
        .filter((d) => d.destination === '/queue/made')
        .map((d) => [d.depth, d.unacked, d.declared]);
    assert.equal(await a.createDestination('/', '/queue/made'), true);
    assert.equal(await b.createDestination('/', '/queue/made'), false);
    assert.deepEqual(await kept(b), [[0, 0, true]]);
    // A node started later (as after a restart) finds it: JetStream keeps its consumers.
    const c = await engineOn(nats);
    try {
      assert.deepEqual(await kept(c), [[0, 0, true]]);
    } finally {
      await c.close();
    }
    // A message sent before anyone subscribed waits in it, and is delivered on the other node.
    await a.publish('/', 'p', persistent('/queue/made', 'first'));
    const r = new Recorder();
    const h = await sub(b, '/queue/made', r);
    await until(() => r.deliveries.length === 1);
    assert.deepEqual(r.bodies, ['first']);
    await h.ack(r.deliveries[0]!.ackKey, true);
    await h.close();
    await b.deleteDestination('/', '/queue/made');
    assert.deepEqual(await kept(a), []);
    // b made the consumers for its subscription; deleted, they are made again.
    assert.equal(await b.createDestination('/', '/queue/made'), true);
    assert.deepEqual(await kept(a), [[0, 0, true]]);
    await a.deleteDestination('/', '/queue/made');
    // A queue only sent to exists through its messages; purged, it stays (kept until deleted).
    await a.publish('/', 'p', persistent('/queue/sent', 'x'));
    assert.equal(await b.purge('/', '/queue/sent'), 1);
    assert.deepEqual(
      (await a.destinations('/'))
        .filter((d) => d.destination === '/queue/sent')
        .map((d) => [d.depth, d.declared]),
      [[0, true]],
    );
    await a.deleteDestination('/', '/queue/sent');
    await assert.rejects(
      Promise.resolve(a.createDestination('/', '/topic/made')),
      (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_ARGUMENT,
    );
  });

  test('cluster status names stream leaders and the NATS connection', async () => {
    const s = await a.clusterStatus();
    assert.equal(s.nats.state, 'connected');
    assert.ok(s.streams.length >= 5);
    assert.ok(s.streams.every((x) => x.leader !== ''));
  });

  test('[Cluster report] each node reports itself and the three NATS servers (admin API, console, stompede status)', async () => {
    // Right after start a replica may still be catching up: wait (with a deadline) until every
    // server is current, then check what operators are shown.
    const deadline = Date.now() + 20_000;
    let report = (await a.report()).cluster;
    while (report?.nodes.some((n) => n.status !== 'up') === true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      report = (await a.report()).cluster;
    }
    assert.ok(report !== undefined, 'the cluster engine reports its cluster');
    const self = report.nodes.filter((n) => n.self === true);
    assert.equal(self.length, 1);
    assert.equal(self[0]!.name, report.node);
    assert.equal(self[0]!.role, 'broker');
    assert.equal(self[0]!.status, 'up');
    assert.match(self[0]!.note ?? '', /^connected to NATS at /);
    const stores = report.nodes.filter((n) => n.role === 'store');
    assert.deepEqual(
      stores.map((n) => [n.name, n.status]),
      [
        ['n1', 'up'],
        ['n2', 'up'],
        ['n3', 'up'],
      ],
    );
    assert.ok(stores.some((n) => /^leader of \d+ streams?/.test(n.note ?? '')));
    assert.notEqual((await b.report()).cluster?.node, report.node, 'nodes have their own names');
  });
});
