// Slow consumers over real sockets (issue 19, item 2): a topic subscriber that never reads, on a
// topic with one producer at full speed and 64 KiB messages, must cost the others nothing beyond
// its own bounded backlog. A non-durable one loses its oldest messages; a durable one pushes back
// on the producers of its topic only. Either way a SEND to an unrelated queue gets its RECEIPT.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type Socket, connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { type Broker, createBroker } from '@stompede/broker';
import { Peer } from '@stompede/testkit';

const BODY = Buffer.alloc(64 * 1024, 'x');
const MEMORY = 16 * 1024 * 1024;
const DEADLINE = 20_000;

async function socketTo(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.setNoDelay(true);
  await once(s, 'connect');
  return s;
}

async function peer(port: number, headers: Record<string, string> = {}): Promise<Peer> {
  const p = new Peer(await socketTo(port));
  await p.connect({ 'accept-version': '1.2', host: '/', 'heart-beat': '0,0', ...headers });
  return p;
}

/** A subscriber that subscribes, then never reads again (its socket paused). */
async function stalled(
  port: number,
  sub: Record<string, string>,
  clientId?: string,
): Promise<Peer> {
  const p = await peer(port, clientId === undefined ? {} : { 'client-id': clientId });
  await p.sendSync('SUBSCRIBE', { id: 'slow', ...sub });
  p.stream.pause();
  return p;
}

/**
 * Wait for `condition` on the broker's counters, failing after the deadline. It polls with a
 * timer, not setImmediate: a spinning wait took the CPU the broker in this process needed, and on
 * a loaded machine the test then ran out of time.
 */
async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A SEND to an unrelated queue gets its RECEIPT, and the message reaches that queue's consumer. */
async function unrelatedQueueWorks(port: number): Promise<void> {
  const other = await peer(port);
  await other.sendSync('SEND', { destination: '/queue/unrelated' }, 'still served');
  await other.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/unrelated' });
  const [m] = await other.messages(1);
  assert.equal(m!.text, 'still served');
  other.close();
}

describe('slow consumers', () => {
  const brokers: Broker[] = [];
  after(async () => {
    for (const b of brokers) await b.close();
  });

  async function start(): Promise<{ broker: Broker; port: number }> {
    const broker = createBroker({
      listeners: [{ protocol: 'tcp', port: 0, host: '127.0.0.1' }],
      memoryLimit: MEMORY,
      // Half the memory per non-durable subscriber (the default is a sixteenth, 16 messages of
      // 64 KiB here): the fast subscriber reads in this process, and on a loaded machine it fell
      // that far behind and lost messages as a slow consumer, which is the rule, not the fault.
      maxTopicPendingBytes: MEMORY / 2,
      closeTimeout: 500,
    });
    brokers.push(broker);
    const [address] = await broker.listen();
    return { broker, port: address!.port };
  }

  // A broken broker would leave the waits below pending: the deadline fails the test instead.
  const deadline = { timeout: 3 * DEADLINE };

  test(
    '[Slow consumers] a topic subscriber that never reads (64 KiB messages) stalls neither the topic nor an unrelated queue',
    deadline,
    async () => {
      const { broker, port } = await start();
      const slow = await stalled(port, { destination: '/topic/firehose' });
      const fast = await peer(port);
      await fast.sendSync('SUBSCRIBE', { id: 'fast', destination: '/topic/firehose' });
      const producer = await peer(port);
      // Over twice the memory limit: before the fix, the slow backlog filled memory and paused
      // every producer for good.
      const total = Math.ceil((2.5 * MEMORY) / BODY.length);
      for (let i = 0; i < total; i++)
        producer.send('SEND', { destination: '/topic/firehose' }, BODY);
      producer.send('SEND', { destination: '/topic/firehose' }, 'last');
      const messages = (): number => fast.frames.filter((f) => f.command === 'MESSAGE').length;
      await fast.until(() => messages() >= total + 1, DEADLINE);
      assert.equal(fast.frames.at(-1)!.text, 'last');
      await unrelatedQueueWorks(port);
      assert.equal(broker.metrics.producersPaused, 0);
      assert.ok(broker.metrics.messagesDropped > 0, 'the slow backlog lost its oldest');
      assert.ok(broker.engine.stats().memoryBytes <= MEMORY, 'memory stays under the limit');
      slow.stream.destroy();
      producer.close();
      fast.close();
    },
  );

  test("[Slow consumers] a durable subscriber that never reads pushes back on its topic's producers only", async () => {
    const { broker, port } = await start();
    const slow = await stalled(
      port,
      { destination: '/topic/durable-firehose', 'activemq.subscriptionName': 'slow' },
      'slow-client',
    );
    const producer = await peer(port);
    // Without waiting for receipts: the producer is pushed back (its frames wait) once the
    // durable subscription holds maxQueueBytes in memory.
    const total = Math.ceil((2 * MEMORY) / BODY.length);
    for (let i = 0; i < total; i++) {
      producer.send('SEND', { destination: '/topic/durable-firehose' }, BODY);
    }
    await until('the producer to be pushed back', () => broker.metrics.producersPaused > 0);
    await unrelatedQueueWorks(port);
    assert.ok(broker.engine.stats().memoryBytes < MEMORY, 'memory stays under the limit');
    assert.equal(broker.metrics.messagesDropped, 0, 'a durable subscription loses nothing');
    slow.stream.destroy();
    producer.stream.destroy();
  });
});
