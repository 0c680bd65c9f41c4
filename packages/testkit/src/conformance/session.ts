// Conformance rules through the broker's session layer over the engine under test: the three
// header dialects of durable topic subscriptions (ActiveMQ, RabbitMQ, Artemis) map onto the
// engine's durable identity; ACKs and NACKs find deliveries by whatever message-ids the engine
// gives, in every ack mode; MESSAGE frames carry the engine's delivery counts; prefetch headers
// bound a subscription's unacknowledged messages.
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import { type Broker, type Engine, createBroker } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { Peer } from '../stomp-peer.js';
import { type Group, type Rule, rule as test } from './harness.js';

/** A broker over the rule's engine (which the rule, not the broker, closes). */
function brokerOver(engine: Engine): Broker {
  const kept = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'close') return () => undefined;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return createBroker({ listeners: [], engine: kept, errorLinger: 50, closeTimeout: 500 });
}

/** Run `body` with a broker over the rule's engine; the broker is closed afterwards. */
async function viaBroker(r: Rule, body: (broker: Broker) => Promise<void>): Promise<void> {
  const broker = brokerOver(r.engine);
  try {
    await body(broker);
  } finally {
    await broker.close();
  }
}

/** A peer connected to `broker` (with `client-id` when given). */
async function peer(broker: Broker, clientId?: string, version = '1.2'): Promise<Peer> {
  const [server, client] = duplexPair();
  broker.handle(server, { transport: 'memory' });
  const p = new Peer(client);
  await p.connect({
    'accept-version': version,
    host: '/',
    'heart-beat': '0,0',
    ...(clientId === undefined ? {} : { 'client-id': clientId }),
  });
  return p;
}

/** DISCONNECT with a receipt and wait for the end of the session. */
async function leave(p: Peer): Promise<void> {
  p.send('DISCONNECT', { receipt: 'bye' });
  await p.next('RECEIPT');
  await p.ended;
}

/**
 * Subscribe with `headers` (a durable dialect), leave, publish while away, come back with the same
 * headers: the message published while away arrives.
 */
async function durableRoundTrip(
  r: Rule,
  clientId: string | undefined,
  headers: Record<string, string>,
  unsubscribe: Record<string, string>,
): Promise<void> {
  await viaBroker(r, async (broker) => {
    const sub = { id: 'sub-1', destination: '/topic/dialect', ...headers };
    const first = await peer(broker, clientId);
    await first.sendSync('SUBSCRIBE', sub);
    await leave(first);
    const producer = await peer(broker);
    await producer.sendSync('SEND', { destination: '/topic/dialect' }, 'while away');
    const back = await peer(broker, clientId);
    await back.sendSync('SUBSCRIBE', sub);
    const [m] = await back.messages(1);
    assert.equal(m!.text, 'while away');
    // UNSUBSCRIBE naming the subscription deletes it: nothing is kept for it any more.
    await back.sendSync('UNSUBSCRIBE', { id: 'sub-1', ...unsubscribe });
    await producer.sendSync('SEND', { destination: '/topic/dialect' }, 'after');
    const infos = await r.engine.destinations('/');
    assert.ok(!infos.some((i) => i.durable !== undefined), 'the subscription was deleted');
    back.close();
    producer.close();
  });
}

/** SEND each of `bodies` to `destination` with a receipt, in order. */
async function sendAll(p: Peer, destination: string, bodies: readonly string[]): Promise<void> {
  for (const b of bodies) await p.sendSync('SEND', { destination }, b);
}

/** The MESSAGE frames that arrived at `p` and were not taken yet, once the engine settled. */
async function arrived(r: Rule, p: Peer): Promise<string[]> {
  await r.settle();
  // A frame with a receipt: every MESSAGE written before its RECEIPT is held by now.
  await p.sendSync('BEGIN', { transaction: 'probe' });
  await p.sendSync('ABORT', { transaction: 'probe' });
  return p
    .takeHeld()
    .filter((f) => f.command === 'MESSAGE')
    .map((f) => f.text);
}

export const sessionRules: Group = (run) => {
  test('[Engine session] ActiveMQ durable subscription: client-id and activemq.subscriptionName', () =>
    run({}, (r) =>
      durableRoundTrip(
        r,
        'amq-client',
        { 'activemq.subscriptionName': 'amq-sub' },
        { 'activemq.subscriptionName': 'amq-sub' },
      ),
    ));

  test('[Engine session] RabbitMQ durable subscription: durable:true, auto-delete:false, named by its id', () =>
    run({}, (r) =>
      durableRoundTrip(
        r,
        undefined,
        { durable: 'true', 'auto-delete': 'false' },
        { durable: 'true', 'auto-delete': 'false' },
      ),
    ));

  test('[Engine session] Artemis durable subscription: client-id and durable-subscription-name', () =>
    run({}, (r) =>
      durableRoundTrip(
        r,
        'artemis-client',
        { 'durable-subscription-name': 'art-sub' },
        { 'durable-subscription-name': 'art-sub' },
      ),
    ));

  test("[Engine session] [1.2 ACK] a MESSAGE's ack header settles it; [1.1 ACK] its message-id does, and no other id", () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker);
        await p.sendSync('SUBSCRIBE', {
          id: '1',
          destination: '/queue/acks',
          ack: 'client-individual',
        });
        for (const b of ['one', 'two']) await p.sendSync('SEND', { destination: '/queue/acks' }, b);
        const [one] = await p.messages(2);
        assert.equal(one!.header('ack'), one!.header('message-id'));
        await p.sendSync('ACK', { id: one!.header('ack')! });
        // 'two' was not acknowledged: it goes back to the queue with the session.
        await leave(p);
        const c = await peer(broker, undefined, '1.1');
        await c.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/acks', ack: 'client' });
        const [again] = await c.messages(1);
        assert.equal(again!.text, 'two');
        const id = again!.header('message-id')!;
        c.send('ACK', { 'message-id': `${id}0`, subscription: '2' });
        const error = await c.next('ERROR');
        assert.match(error.text, new RegExp(ErrorCode.INVALID_HEADER_VALUE));
        await c.ended;
        const d = await peer(broker);
        await d.sendSync('SUBSCRIBE', { id: '3', destination: '/queue/acks', ack: 'client' });
        const [third] = await d.messages(1);
        assert.equal(
          third!.header('message-id'),
          id,
          'the message-id is stable across redeliveries',
        );
        await d.sendSync('ACK', { id: third!.header('ack')! });
        await leave(d);
        const e = await peer(broker);
        await e.sendSync('SUBSCRIBE', { id: '4', destination: '/queue/acks' });
        await e.sendSync('SEND', { destination: '/queue/acks' }, 'last');
        assert.deepEqual(
          (await e.messages(1)).map((m) => m.text),
          ['last'],
        );
        e.close();
      }),
    ));

  test('[Engine session] [1.2 ACK] in client mode an ACK settles the delivery it names and every earlier one', () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker);
        await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/cumulative', ack: 'client' });
        for (const b of ['a', 'b', 'c']) {
          await p.sendSync('SEND', { destination: '/queue/cumulative' }, b);
        }
        const [, b] = await p.messages(3);
        await p.sendSync('ACK', { id: b!.header('ack')! });
        await leave(p);
        const q = await peer(broker);
        await q.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/cumulative' });
        await q.sendSync('SEND', { destination: '/queue/cumulative' }, 'd');
        assert.deepEqual(
          (await q.messages(2)).map((m) => m.text),
          ['c', 'd'],
        );
        q.close();
      }),
    ));

  test("[Engine session] [1.2 COMMIT] a transaction's SENDs and ACKs take effect at COMMIT; [1.2 ABORT] discards them", () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker);
        await p.sendSync('SEND', { destination: '/queue/tx-in' }, 'work');
        await p.sendSync('SUBSCRIBE', {
          id: '1',
          destination: '/queue/tx-in',
          ack: 'client-individual',
        });
        const [m] = await p.messages(1);
        await p.sendSync('BEGIN', { transaction: 't1' });
        await p.sendSync('SEND', { destination: '/queue/tx-out', transaction: 't1' }, 'aborted');
        await p.sendSync('ABORT', { transaction: 't1' });
        await p.sendSync('BEGIN', { transaction: 't2' });
        await p.sendSync('SEND', { destination: '/queue/tx-out', transaction: 't2' }, 'result');
        await p.sendSync('ACK', { id: m!.header('ack')!, transaction: 't2' });
        const before = await r.engine.destinations('/');
        assert.ok(!before.some((i) => i.destination === '/queue/tx-out' && i.depth > 0));
        await p.sendSync('COMMIT', { transaction: 't2' });
        await leave(p);
        const q = await peer(broker);
        await q.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tx-out' });
        await q.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/tx-in' });
        await q.sendSync('SEND', { destination: '/queue/tx-in' }, 'next');
        // Two destinations: an engine may deliver them in either order.
        assert.deepEqual((await q.messages(2)).map((f) => f.text).sort(), ['next', 'result']);
        q.close();
      }),
    ));

  test('[Engine session] [1.2 ACK] in client-individual mode an ACK settles only the delivery it names', () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker);
        await p.sendSync('SUBSCRIBE', {
          id: '1',
          destination: '/queue/individual',
          ack: 'client-individual',
        });
        await sendAll(p, '/queue/individual', ['a', 'b', 'c']);
        const [, b] = await p.messages(3);
        await p.sendSync('ACK', { id: b!.header('ack')! });
        await leave(p);
        const q = await peer(broker);
        await q.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/individual' });
        await sendAll(q, '/queue/individual', ['d']);
        // a and c come back (in either order: that rule is the engine's own); b never does.
        const texts = (await q.messages(3)).map((m) => m.text);
        assert.deepEqual([...texts].sort(), ['a', 'c', 'd']);
        assert.deepEqual(await arrived(r, q), []);
        q.close();
      }),
    ));

  test('[Engine session] [1.2 NACK] a NACKed message comes back with redelivered:true, the next delivery-count and the same message-id; requeue:false dead-letters it', () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker);
        await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/nacked', ack: 'client' });
        await sendAll(p, '/queue/nacked', ['x']);
        const [first] = await p.messages(1);
        assert.equal(first!.header('delivery-count'), '1');
        assert.equal(first!.header('redelivered'), undefined);
        await p.sendSync('NACK', { id: first!.header('ack')! });
        const [second] = await p.messages(1);
        assert.equal(second!.text, 'x');
        assert.equal(second!.header('redelivered'), 'true');
        assert.equal(second!.header('delivery-count'), '2');
        assert.equal(second!.header('message-id'), first!.header('message-id'));
        await p.sendSync('NACK', { id: second!.header('ack')!, requeue: 'false' });
        assert.deepEqual(await arrived(r, p), []);
        await p.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/DLQ.nacked' });
        const [dead] = await p.messages(1);
        assert.equal(dead!.text, 'x');
        assert.equal(dead!.header('original-destination'), '/queue/nacked');
        await leave(p);
      }),
    ));

  test('[Engine session] [1.1 NACK] the message-id and subscription headers name the delivery', () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker, undefined, '1.1');
        await p.sendSync('SUBSCRIBE', { id: '7', destination: '/queue/nack11', ack: 'client' });
        await sendAll(p, '/queue/nack11', ['y']);
        const [first] = await p.messages(1);
        const id = first!.header('message-id')!;
        await p.sendSync('NACK', { 'message-id': id, subscription: '7' });
        const [again] = await p.messages(1);
        assert.equal(again!.header('message-id'), id);
        await p.sendSync('ACK', { 'message-id': id, subscription: '7' });
        await leave(p);
        const q = await peer(broker);
        await q.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/nack11' });
        assert.deepEqual(await arrived(r, q), []);
        q.close();
      }),
    ));

  for (const prefetch of ['prefetch-count', 'activemq.prefetchSize']) {
    test(`[Engine session] ${prefetch} bounds a client-mode subscription's unacknowledged messages; an ACK lets the next through`, () =>
      run({}, (r) =>
        viaBroker(r, async (broker) => {
          const p = await peer(broker);
          await p.sendSync('SUBSCRIBE', {
            id: '1',
            destination: '/queue/prefetch',
            ack: 'client-individual',
            [prefetch]: '2',
          });
          const producer = await peer(broker);
          await sendAll(producer, '/queue/prefetch', ['0', '1', '2', '3']);
          const [m0, m1] = await p.messages(2);
          assert.deepEqual([m0!.text, m1!.text], ['0', '1']);
          assert.deepEqual(await arrived(r, p), []);
          await p.sendSync('ACK', { id: m0!.header('ack')! });
          const [m2] = await p.messages(1);
          assert.equal(m2!.text, '2');
          assert.deepEqual(await arrived(r, p), []);
          await leave(p);
          producer.close();
        }),
      ));
  }

  test('[Engine session] ack:auto: what was delivered is consumed, and not held back by unacknowledged messages', () =>
    run({}, (r) =>
      viaBroker(r, async (broker) => {
        const p = await peer(broker);
        await p.sendSync('SUBSCRIBE', {
          id: '1',
          destination: '/queue/auto',
          'prefetch-count': '1',
        });
        await sendAll(p, '/queue/auto', ['a', 'b', 'c']);
        assert.deepEqual(
          (await p.messages(3)).map((m) => m.text),
          ['a', 'b', 'c'],
        );
        await leave(p);
        const q = await peer(broker);
        await q.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/auto', ack: 'client' });
        assert.deepEqual(await arrived(r, q), []);
        q.close();
      }),
    ));
};
