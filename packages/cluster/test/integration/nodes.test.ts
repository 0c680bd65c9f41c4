// Two stompede nodes (`stompede broker --cluster`, real processes) on a three-server JetStream
// cluster, with real clients: a producer on one node and a consumer on the other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Client, connect } from '@stompede/client/node';
import { natsCluster, natsMissing, startNodes } from '../helper.js';

const skip = natsMissing();

describe('two nodes: producer on one, consumer on the other', { skip }, () => {
  let nats: Awaited<ReturnType<typeof natsCluster>>;
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let a: string;
  let b: string;
  const clients: Client[] = [];
  const client = async (url: string, headers?: Record<string, string>): Promise<Client> => {
    const c = await connect(url, headers === undefined ? {} : { headers });
    clients.push(c);
    return c;
  };

  before(async () => {
    nats = await natsCluster();
    cluster = await startNodes(nats, 2);
    [a, b] = cluster.urls as [string, string];
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster.dispose();
    await nats.dispose();
  });

  test('[Cluster queues] a receipted SEND on node A reaches a consumer on node B, in order', async () => {
    const producer = await client(a);
    for (let i = 0; i < 20; i++) {
      await producer.send('/queue/orders', `order ${String(i)}`, {
        receipt: true,
        headers: { persistent: 'true' },
      });
    }
    const consumer = await client(b);
    const sub = await consumer.subscribe('/queue/orders', {
      ack: 'client-individual',
      prefetch: 5,
    });
    const got: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = (await sub.receive({ timeout: 10_000 }))!;
      got.push(m.text);
      assert.equal(m.header('redelivered'), undefined);
      await m.ack();
    }
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => `order ${String(i)}`),
    );
    await sub.unsubscribe();
  });

  test('[Cluster topics] a subscriber on node B gets what is published on node A, wildcards too', async () => {
    const consumer = await client(b);
    const exact = await consumer.subscribe('/topic/prices.eur', { receipt: true });
    const wild = await consumer.subscribe('/topic/prices.*', { receipt: true });
    const producer = await client(a);
    await producer.send('/topic/prices.eur', '1.08', { receipt: true });
    await producer.send('/topic/prices.usd', '1.00', { receipt: true });
    assert.equal((await exact.receive({ timeout: 10_000 }))!.text, '1.08');
    const w = [
      (await wild.receive({ timeout: 10_000 }))!,
      (await wild.receive({ timeout: 10_000 }))!,
    ];
    assert.deepEqual(w.map((m) => m.text).sort(), ['1.00', '1.08']);
  });

  for (const [dialect, connectHeaders, subscribeHeaders] of [
    ['ActiveMQ', { 'client-id': 'app-amq' }, { 'activemq.subscriptionName': 'keep' }],
    ['RabbitMQ', {}, { durable: 'true', 'auto-delete': 'false' }],
    ['Artemis', { 'client-id': 'app-art' }, { 'durable-subscription-name': 'keep' }],
  ] as const) {
    test(`[Cluster durable] ${dialect} durable subscription: made on B, kept while away, read on A`, async () => {
      const topic = `/topic/news.${dialect}`;
      const id = `dur-${dialect}`;
      const first = await connect(b, { headers: connectHeaders });
      const s1 = await first.subscribe(topic, {
        id,
        ack: 'client-individual',
        headers: subscribeHeaders,
      });
      await first.send(topic, 'seen', { receipt: true, headers: { persistent: 'true' } });
      const m1 = (await s1.receive({ timeout: 10_000 }))!;
      assert.equal(m1.text, 'seen');
      await m1.ack({ receipt: true });
      await first.close();
      const producer = await client(a);
      await producer.send(topic, 'while away', { receipt: true, headers: { persistent: 'true' } });
      const second = await client(a, connectHeaders);
      const s2 = await second.subscribe(topic, {
        id,
        ack: 'client-individual',
        headers: subscribeHeaders,
      });
      const m2 = (await s2.receive({ timeout: 10_000 }))!;
      assert.equal(m2.text, 'while away');
      await m2.ack({ receipt: true });
    });
  }

  test('[Cluster temp queues] a reply sent on node B reaches the requester on node A', async () => {
    const requester = await client(a);
    const replies = await requester.subscribe('/temp-queue/answers', { receipt: true });
    const responder = await client(b);
    const requests = await responder.subscribe('/queue/requests');
    await requester.send('/queue/requests', 'ping', {
      receipt: true,
      headers: { 'reply-to': '/temp-queue/answers' },
    });
    const request = (await requests.receive({ timeout: 10_000 }))!;
    const replyTo = request.header('reply-to');
    assert.match(replyTo ?? '', /^\/reply-queue\//);
    await responder.send(replyTo!, 'pong', { receipt: true });
    assert.equal((await replies.receive({ timeout: 10_000 }))!.text, 'pong');
  });

  test('[Cluster transactions] SENDs and ACKs committed on node B take effect on node A', async () => {
    const producer = await client(a);
    await producer.send('/queue/jobs', 'job 1', { receipt: true, headers: { persistent: 'true' } });
    const worker = await client(b);
    const jobs = await worker.subscribe('/queue/jobs', { ack: 'client-individual' });
    const job = (await jobs.receive({ timeout: 10_000 }))!;
    await worker.transaction(
      async (tx) => {
        await tx.send('/queue/results', `done: ${job.text}`, { headers: { persistent: 'true' } });
        await tx.ack(job);
      },
      { receipt: true },
    );
    await jobs.unsubscribe();
    const reader = await client(a);
    const results = await reader.subscribe('/queue/results');
    assert.equal((await results.receive({ timeout: 10_000 }))!.text, 'done: job 1');
    // The ACK took effect: the job is not redelivered to anyone.
    const again = await reader.subscribe('/queue/jobs');
    await assert.rejects(again.receive({ timeout: 1500 }));
  });
});
