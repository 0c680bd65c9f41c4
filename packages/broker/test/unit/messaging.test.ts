import assert from 'node:assert/strict';
import { ErrorCode } from '@stompede/core';
import { after, describe, test } from 'node:test';
import { connected, memoryBroker } from '../helper.js';

describe('queues', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[1.2 SEND] messages wait when there is no subscriber, FIFO for one consumer', async () => {
    const p = await connected(broker);
    for (let i = 0; i < 5; i++) p.send('SEND', { destination: '/queue/fifo' }, `m${String(i)}`);
    await p.sendSync('SEND', { destination: '/queue/other' }, 'x');
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: 's1', destination: '/queue/fifo' });
    const ms = await c.messages(5);
    assert.deepEqual(
      ms.map((m) => m.text),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
    p.close();
    c.close();
  });

  test('[1.2 MESSAGE] destination, unique message-id, subscription, user headers, delivery count', async () => {
    const p = await connected(broker);
    await p.sendSync('SUBSCRIBE', { id: 'sub-7', destination: '/queue/hdr', ack: 'client' });
    p.send(
      'SEND',
      { destination: '/queue/hdr', 'content-type': 'text/plain', 'x-user': 'u1' },
      'one',
    );
    p.send('SEND', { destination: '/queue/hdr' }, 'two');
    const [a, b] = await p.messages(2);
    assert.equal(a!.header('destination'), '/queue/hdr');
    assert.equal(a!.header('subscription'), 'sub-7');
    assert.equal(a!.header('content-type'), 'text/plain');
    assert.equal(a!.header('x-user'), 'u1');
    assert.equal(a!.header('delivery-count'), '1');
    assert.equal(a!.header('redelivered'), undefined);
    assert.equal(a!.header('ack'), a!.header('message-id'));
    assert.notEqual(a!.header('message-id'), b!.header('message-id'));
    assert.equal(a!.header('transaction'), undefined);
    p.close();
  });

  test('[Queues] round-robin among competing subscribers', async () => {
    const c1 = await connected(broker);
    const c2 = await connected(broker);
    await c1.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/rr' });
    await c2.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/rr' });
    const p = await connected(broker);
    for (let i = 0; i < 10; i++) p.send('SEND', { destination: '/queue/rr' }, String(i));
    const a = await c1.messages(5);
    const b = await c2.messages(5);
    assert.deepEqual(
      a.map((m) => m.text),
      ['0', '2', '4', '6', '8'],
    );
    assert.deepEqual(
      b.map((m) => m.text),
      ['1', '3', '5', '7', '9'],
    );
    for (const x of [c1, c2, p]) x.close();
  });

  test('[1.0] a 1.0 session without subscription id gets messages; ACK by message-id', async () => {
    const p = await connected(broker, { login: 'a' });
    p.send('SUBSCRIBE', { destination: '/queue/v10', ack: 'client' });
    p.send('SEND', { destination: '/queue/v10', receipt: 'r' }, 'hello');
    const m = await p.next('MESSAGE');
    assert.equal(m.text, 'hello');
    assert.equal(m.header('subscription'), undefined);
    await p.sendSync('ACK', { 'message-id': m.header('message-id')! });
    p.close();
  });
});

describe('topics', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[Topics] pub/sub with * and > / # wildcards', async () => {
    const exact = await connected(broker);
    const star = await connected(broker);
    const rest = await connected(broker);
    const hash = await connected(broker);
    await exact.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/a.b.c' });
    await star.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/a.*.c' });
    await rest.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/a.>' });
    await hash.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/x.#' });
    const p = await connected(broker);
    p.send('SEND', { destination: '/topic/a.b.c' }, '1');
    p.send('SEND', { destination: '/topic/a.z.c' }, '2');
    p.send('SEND', { destination: '/topic/a.b.c.d' }, '3');
    p.send('SEND', { destination: '/topic/x.y' }, '4');
    await p.sendSync('SEND', { destination: '/topic/nobody' }, 'dropped');
    assert.deepEqual(
      (await exact.messages(1)).map((m) => m.text),
      ['1'],
    );
    assert.deepEqual(
      (await star.messages(2)).map((m) => m.text),
      ['1', '2'],
    );
    assert.deepEqual(
      (await rest.messages(3)).map((m) => m.text),
      ['1', '2', '3'],
    );
    const [h] = await hash.messages(1);
    assert.equal(h!.text, '4');
    assert.equal(h!.header('destination'), '/topic/x.y');
    for (const x of [exact, star, rest, hash, p]) x.close();
  });

  test('[Durable] ActiveMQ client-id + activemq.subscriptionName keeps receiving while away', async () => {
    const headers = { 'accept-version': '1.2', host: '/', 'client-id': 'c1' };
    const sub = { id: 'd', destination: '/topic/news', 'activemq.subscriptionName': 'n1' };
    const a = await connected(broker, headers);
    await a.sendSync('SUBSCRIBE', sub);
    a.send('DISCONNECT', { receipt: 'x' });
    await a.next('RECEIPT');
    const p = await connected(broker);
    await p.sendSync('SEND', { destination: '/topic/news' }, 'while-away');
    const b = await connected(broker, headers);
    await b.sendSync('SUBSCRIBE', sub);
    const [m] = await b.messages(1);
    assert.equal(m!.text, 'while-away');
    // UNSUBSCRIBE with the name deletes it: nothing is kept afterwards.
    await b.sendSync('UNSUBSCRIBE', { id: 'd', 'activemq.subscriptionName': 'n1' });
    await p.sendSync('SEND', { destination: '/topic/news' }, 'after-delete');
    await b.sendSync('SUBSCRIBE', sub);
    await p.sendSync('SEND', { destination: '/topic/news' }, 'fresh');
    const [n] = await b.messages(1);
    assert.equal(n!.text, 'fresh');
    p.close();
    b.close();
  });

  test('[Durable] RabbitMQ durable:true + auto-delete:false, Artemis durable-subscription-name', async () => {
    const headers = { 'accept-version': '1.2', host: '/', 'client-id': 'c2' };
    const rabbit = { id: 'r1', destination: '/topic/t2', durable: 'true', 'auto-delete': 'false' };
    const artemis = { id: 'x', destination: '/topic/t2', 'durable-subscription-name': 'art' };
    const a = await connected(broker, headers);
    await a.sendSync('SUBSCRIBE', rabbit);
    await a.sendSync('SUBSCRIBE', artemis);
    a.close();
    await a.ended;
    const p = await connected(broker);
    await p.sendSync('SEND', { destination: '/topic/t2' }, 'kept');
    const b = await connected(broker, headers);
    await b.sendSync('SUBSCRIBE', rabbit);
    await b.sendSync('SUBSCRIBE', artemis);
    const ms = await b.messages(2);
    assert.deepEqual(ms.map((m) => m.text).sort(), ['kept', 'kept']);
    p.close();
    b.close();
  });
});

describe('temporary queues', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[Temp queues] reply-to naming /temp-queue/ is rewritten so another client can reply', async () => {
    const requester = await connected(broker);
    const server = await connected(broker);
    await server.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/requests' });
    await requester.sendSync('SUBSCRIBE', { id: 'replies', destination: '/temp-queue/r' });
    await requester.sendSync(
      'SEND',
      { destination: '/queue/requests', 'reply-to': '/temp-queue/r' },
      'ping',
    );
    const [req] = await server.messages(1);
    const replyTo = req!.header('reply-to')!;
    assert.notEqual(replyTo, '/temp-queue/r');
    await server.sendSync('SEND', { destination: replyTo }, 'pong');
    const [reply] = await requester.messages(1);
    assert.equal(reply!.text, 'pong');
    assert.equal(reply!.header('subscription'), 'replies');
    // Another session cannot subscribe to it.
    server.send('SUBSCRIBE', { id: 'steal', destination: replyTo });
    await server.error(ErrorCode.FORBIDDEN);
    requester.close();
  });

  test('[Temp queues] deleted with the connection', async () => {
    const a = await connected(broker);
    await a.sendSync('SEND', { destination: '/queue/x', 'reply-to': '/temp-queue/gone' }, 'x');
    const before = broker.engine.stats().queues;
    a.close();
    await a.ended;
    await new Promise((r) => setImmediate(r));
    assert.ok(broker.engine.stats().queues < before);
  });
});
