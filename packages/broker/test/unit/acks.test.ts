import assert from 'node:assert/strict';
import { ErrorCode } from '@stompede/core';
import { after, describe, test } from 'node:test';
import { connected, memoryBroker } from '../helper.js';

describe('acknowledgment', () => {
  const broker = memoryBroker({ maxDeliveries: 3 });
  after(() => broker.close());

  test('[1.2 SUBSCRIBE ack] client mode: ACK is cumulative', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/cum', ack: 'client' });
    for (let i = 0; i < 3; i++) c.send('SEND', { destination: '/queue/cum' }, String(i));
    const ms = await c.messages(3);
    await c.sendSync('ACK', { id: ms[1]!.header('ack')! });
    // The first two are settled: acking the first again is an error-free no-op? No: unknown.
    c.send('UNSUBSCRIBE', { id: '1' });
    c.close();
    await c.ended;
    const d = await connected(broker);
    await d.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/cum' });
    const [left] = await d.messages(1);
    assert.equal(left!.text, '2');
    assert.equal(left!.header('redelivered'), 'true');
    d.close();
  });

  test('[1.2 SUBSCRIBE ack] client-individual: only the named message', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/ind', ack: 'client-individual' });
    for (let i = 0; i < 3; i++) c.send('SEND', { destination: '/queue/ind' }, String(i));
    const ms = await c.messages(3);
    await c.sendSync('ACK', { id: ms[1]!.header('ack')! });
    c.close();
    await c.ended;
    const d = await connected(broker);
    await d.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/ind' });
    const left = await d.messages(2);
    assert.deepEqual(
      left.map((m) => m.text),
      ['0', '2'],
    );
    d.close();
  });

  test('[1.2 NACK] a NACKed message is redelivered, with redelivered:true, ahead of newer ones', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/queue/nack',
      ack: 'client-individual',
      'prefetch-count': '1',
    });
    c.send('SEND', { destination: '/queue/nack' }, 'first');
    c.send('SEND', { destination: '/queue/nack' }, 'second');
    const [m1] = await c.messages(1);
    assert.equal(m1!.text, 'first');
    c.send('NACK', { id: m1!.header('ack')! });
    const m2 = await c.next('MESSAGE');
    assert.equal(m2.text, 'first');
    assert.equal(m2.header('redelivered'), 'true');
    assert.equal(m2.header('delivery-count'), '2');
    c.send('ACK', { id: m2.header('ack')! });
    const m3 = await c.next('MESSAGE');
    assert.equal(m3.text, 'second');
    c.close();
  });

  test('[DLQ] NACK with requeue:false dead-letters at once', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/poison', ack: 'client' });
    c.send('SEND', { destination: '/queue/poison', 'x-a': '1' }, 'bad');
    const [m] = await c.messages(1);
    await c.sendSync('NACK', { id: m!.header('ack')!, requeue: 'false' });
    await c.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/DLQ.poison' });
    const [d] = await c.messages(1);
    assert.equal(d!.text, 'bad');
    assert.equal(d!.header('x-a'), '1');
    assert.equal(d!.header('original-destination'), '/queue/poison');
    assert.equal(d!.header('destination'), '/queue/DLQ.poison');
    c.close();
  });

  test("[DLQ] NACK with stomp.py's requeue:False dead-letters at once too", async () => {
    // stomp.py writes Python booleans as True/False; RabbitMQ accepts them, and so do we.
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/poison-py', ack: 'client' });
    c.send('SEND', { destination: '/queue/poison-py' }, 'bad');
    const [m] = await c.messages(1);
    await c.sendSync('NACK', { id: m!.header('ack')!, requeue: 'False' });
    await c.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/DLQ.poison-py' });
    const [d] = await c.messages(1);
    assert.equal(d!.text, 'bad');
    assert.equal(d!.header('original-destination'), '/queue/poison-py');
    c.close();
  });

  test('[DLQ] after maxDeliveries deliveries a message moves to /queue/DLQ.NAME', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/retry', ack: 'client' });
    c.send('SEND', { destination: '/queue/retry' }, 'again');
    for (let i = 1; i <= 3; i++) {
      const m = await c.next('MESSAGE');
      assert.equal(m.header('delivery-count'), String(i));
      c.send('NACK', { id: m.header('ack')! });
    }
    await c.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/DLQ.retry' });
    const [d] = await c.messages(1);
    assert.equal(d!.text, 'again');
    assert.equal(d!.header('subscription'), '2');
    c.close();
  });

  test('[1.2 SUBSCRIBE] unacked messages go back to the queue on UNSUBSCRIBE', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/unsub', ack: 'client' });
    await c.sendSync('SEND', { destination: '/queue/unsub' }, 'x');
    await c.messages(1);
    await c.sendSync('UNSUBSCRIBE', { id: '1' });
    await c.sendSync('SUBSCRIBE', { id: '2', destination: '/queue/unsub' });
    const [m] = await c.messages(1);
    assert.equal(m!.header('redelivered'), 'true');
    c.close();
  });

  test('[Flow control] prefetch-count bounds unacked messages; ACK opens the window', async () => {
    const c = await connected(broker);
    const p = await connected(broker);
    for (let i = 0; i < 10; i++) p.send('SEND', { destination: '/queue/pf' }, String(i));
    await p.sendSync('SEND', { destination: '/queue/other-pf' }, 'sync');
    await c.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/queue/pf',
      ack: 'client-individual',
      'activemq.prefetchSize': '3',
    });
    await c.sendSync('SEND', { destination: '/queue/other-pf' }, 'round trip');
    const first = await c.messages(3);
    assert.equal(c.frames.filter((f) => f.command === 'MESSAGE').length, 3);
    await c.sendSync('ACK', { id: first[0]!.header('ack')! });
    const [next] = await c.messages(1);
    assert.equal(next!.text, '3');
    c.close();
    p.close();
  });

  test('[Flow control] consumer-window-size bounds unacked bytes', async () => {
    const c = await connected(broker);
    const p = await connected(broker);
    for (let i = 0; i < 5; i++) p.send('SEND', { destination: '/queue/win' }, 'x'.repeat(1000));
    await p.sendSync('SEND', { destination: '/queue/o' }, 's');
    await c.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/queue/win',
      ack: 'client',
      'consumer-window-size': '1500',
    });
    await c.sendSync('SEND', { destination: '/queue/o' }, 'round trip');
    await c.messages(2);
    assert.equal(c.frames.filter((f) => f.command === 'MESSAGE').length, 2);
    c.close();
    p.close();
  });
});

describe('transactions', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[1.2 COMMIT] SENDs in a transaction are delivered only at COMMIT', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tx' });
    await c.sendSync('BEGIN', { transaction: 't1' });
    await c.sendSync('SEND', { destination: '/queue/tx', transaction: 't1' }, 'a');
    await c.sendSync('SEND', { destination: '/queue/tx', transaction: 't1' }, 'b');
    assert.equal(c.frames.filter((f) => f.command === 'MESSAGE').length, 0);
    await c.sendSync('COMMIT', { transaction: 't1' });
    const ms = await c.messages(2);
    assert.deepEqual(
      ms.map((m) => m.text),
      ['a', 'b'],
    );
    c.close();
  });

  test('[1.2 ABORT] ABORT discards; ACKs in an aborted transaction leave messages unacked', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tx2', ack: 'client' });
    await c.sendSync('SEND', { destination: '/queue/tx2' }, 'm');
    const [m] = await c.messages(1);
    await c.sendSync('BEGIN', { transaction: 't' });
    await c.sendSync('SEND', { destination: '/queue/tx2', transaction: 't' }, 'never');
    await c.sendSync('ACK', { id: m!.header('ack')!, transaction: 't' });
    await c.sendSync('ABORT', { transaction: 't' });
    // Still unacked: can be ACKed outside the transaction.
    await c.sendSync('ACK', { id: m!.header('ack')! });
    await c.sendSync('SEND', { destination: '/queue/tx2' }, 'after');
    const [n] = await c.messages(1);
    assert.equal(n!.text, 'after');
    c.close();
  });

  test('[1.2 ACK] an ACK in a committed transaction settles the message', async () => {
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tx3', ack: 'client' });
    await c.sendSync('SEND', { destination: '/queue/tx3' }, 'm');
    const [m] = await c.messages(1);
    await c.sendSync('BEGIN', { transaction: 't' });
    await c.sendSync('ACK', { id: m!.header('ack')!, transaction: 't' });
    await c.sendSync('COMMIT', { transaction: 't' });
    c.send('ACK', { id: m!.header('ack')! });
    await c.error(ErrorCode.INVALID_HEADER_VALUE);
  });

  test('[1.2 BEGIN] a transaction id already open is an error', async () => {
    const c = await connected(broker);
    c.send('BEGIN', { transaction: 't' });
    c.send('BEGIN', { transaction: 't' });
    const f = await c.error(ErrorCode.DUPLICATE_TRANSACTION);
    assert.match(f.header('message') ?? '', /already open/);
  });

  test('[1.2 COMMIT] an unknown transaction is an error', async () => {
    const c = await connected(broker);
    c.send('COMMIT', { transaction: 'nope', receipt: 'r' });
    const f = await c.error(ErrorCode.UNKNOWN_TRANSACTION);
    assert.equal(f.header('receipt-id'), 'r');
  });

  test('[1.2 SEND transaction] a SEND naming an unknown transaction is an error', async () => {
    const c = await connected(broker);
    c.send('SEND', { destination: '/queue/x', transaction: 'nope' }, 'x');
    await c.error(ErrorCode.UNKNOWN_TRANSACTION);
  });

  test('[1.2 DISCONNECT] disconnect discards an open transaction', async () => {
    const c = await connected(broker);
    await c.sendSync('BEGIN', { transaction: 't' });
    await c.sendSync('SEND', { destination: '/queue/tx4', transaction: 't' }, 'lost');
    c.close();
    await c.ended;
    const d = await connected(broker);
    await d.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tx4' });
    await d.sendSync('SEND', { destination: '/queue/tx4' }, 'marker');
    const [m] = await d.messages(1);
    assert.equal(m!.text, 'marker');
    d.close();
  });
});
