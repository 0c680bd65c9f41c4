// The delivery hot path's shortcuts keep the protocol's behaviour: numeric ack keys, ids and
// counts written as digits, bodies copied only when kept, frames checked by their handlers.
import assert from 'node:assert/strict';
import { ErrorCode } from '@stompede/core';
import { after, describe, test } from 'node:test';
import { type Delivery, LocalEngine, Message } from '@stompede/broker';
import { ackKeyOf, isIdOf, putDigits } from '@stompede/broker/internal';
import { connected, memoryBroker } from '../helper.js';

describe('delivery ids and ack keys', () => {
  test('[Hot path] digits are written as String() writes them', () => {
    const buf = Buffer.alloc(32);
    for (const n of [0, 7, 9, 10, 99, 100, 12345, 999_999_999_999, Number.MAX_SAFE_INTEGER]) {
      const end = putDigits(buf, 3, n);
      assert.equal(buf.toString('latin1', 3, end), String(n));
    }
  });

  test('[Hot path] an ACK id gives its ack key by its canonical trailing digits', () => {
    assert.equal(ackKeyOf('p-0'), 0);
    assert.equal(ackKeyOf('p-123'), 123);
    assert.equal(ackKeyOf('p-'), -1);
    assert.equal(ackKeyOf('p-012'), -1);
    assert.equal(ackKeyOf('p-1a'), -1);
    assert.equal(ackKeyOf('42'), 42);
    assert.equal(ackKeyOf('p-1234567890123456'), -1);
    const d: Delivery = {
      message: new Message('/queue/a', [], Buffer.alloc(0)),
      idPrefix: 'p-',
      ackKey: 42,
      messageId: 'p-42',
      deliveryCount: 1,
    };
    assert.equal(isIdOf('p-42', d), true);
    assert.equal(isIdOf('q-42', d), false);
    assert.equal(isIdOf('xp-42', d), false);
    assert.equal(isIdOf('p-x-42', d), false);
  });
});

describe('message bodies', () => {
  test('[Memory] a kept message holds a copy of its body, not the chunk it came in', () => {
    // A chunk of its own (not from Node's shared pool), like a socket read.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('HELLO', 4);
    const message = new Message('/queue/kept', [], chunk.subarray(4, 9));
    const engine = new LocalEngine();
    engine.publish('/', 's1', message);
    assert.equal(Buffer.from(message.body).toString(), 'HELLO');
    assert.ok(message.body.buffer !== chunk.buffer, 'the body still shares the chunk');
    chunk.fill(0);
    assert.equal(Buffer.from(message.body).toString(), 'HELLO');
    void engine.close();
  });
});

describe('kept bodies', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[Memory] kept bodies of every size survive their chunk being reused, across slabs', () => {
    const sizes = [0, 1, 7, 127, 128, 129, 1000, 1024, 1025, 4096, 9000];
    const chunk = Buffer.alloc(1 << 20);
    const engine = new LocalEngine();
    const kept: [Message, Buffer][] = [];
    let off = 0;
    for (let round = 0; round < 40; round++) {
      for (const n of sizes) {
        const expected = Buffer.alloc(n, (round * 31 + n) & 0xff);
        expected.copy(chunk, off);
        const m = new Message('/queue/kept.sizes', [], chunk.subarray(off, off + n));
        engine.publish('/', 's1', m);
        kept.push([m, expected]);
        off += n;
      }
    }
    chunk.fill(0xee);
    for (const [m, expected] of kept) assert.deepEqual(Buffer.from(m.body), expected);
    void engine.close();
  });

  test('[1.2 MESSAGE] queued bodies of every size arrive intact, first and redelivered', async () => {
    const sizes = [0, 1, 127, 128, 129, 1024, 1025, 5000, 9000];
    const p = await connected(broker);
    for (const n of sizes) {
      p.send('SEND', { destination: '/queue/kept.wire' }, Buffer.alloc(n, n & 0xff));
    }
    await p.sendSync('SEND', { destination: '/queue/other' }, 'sync');
    const c = await connected(broker);
    c.send('SUBSCRIBE', { id: 's', destination: '/queue/kept.wire', ack: 'client-individual' });
    const first = await c.messages(sizes.length);
    for (const m of first) c.send('NACK', { id: m.header('ack')! });
    const again = await c.messages(sizes.length);
    for (const batch of [first, again]) {
      assert.deepEqual(
        batch.map((m) => m.body.length),
        sizes,
      );
      for (const m of batch) assert.ok(m.body.every((b) => b === (m.body.length & 0xff)));
    }
  });
});

describe('frames checked by their handlers', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[1.2 ACK] an id that is a message-id with a leading zero names no message', async () => {
    const c = await connected(broker);
    c.send('SUBSCRIBE', { id: 's', destination: '/queue/hp.zero', ack: 'client-individual' });
    c.send('SEND', { destination: '/queue/hp.zero' }, 'm');
    const m = await c.next('MESSAGE');
    const id = m.header('ack')!;
    assert.equal(id, m.header('message-id'));
    const cut = id.lastIndexOf('-') + 1;
    c.send('ACK', { id: `${id.slice(0, cut)}0${id.slice(cut)}` });
    const e = await c.error(ErrorCode.INVALID_HEADER_VALUE);
    assert.match(e.text, /ERR_STOMP_INVALID_HEADER_VALUE/);
  });

  test('[1.2 ACK] an ACK without id is a missing header', async () => {
    const c = await connected(broker);
    c.send('ACK', { 'message-id': 'x' });
    assert.match((await c.error(ErrorCode.MISSING_HEADER)).text, /ERR_STOMP_MISSING_HEADER/);
  });

  test('[1.2 ACK] an ACK with a body is refused', async () => {
    const c = await connected(broker);
    c.send('ACK', { id: 'x' }, 'body');
    assert.match((await c.error(ErrorCode.BODY_NOT_ALLOWED)).text, /ERR_STOMP_BODY_NOT_ALLOWED/);
  });

  test('[1.1 ACK] message-id and subscription are required; with them the ACK settles', async () => {
    const c = await connected(broker, { 'accept-version': '1.1', host: '/' });
    c.send('SUBSCRIBE', { id: 's', destination: '/queue/hp.11', ack: 'client' });
    c.send('SEND', { destination: '/queue/hp.11' }, 'm');
    const m = await c.next('MESSAGE');
    await c.sendSync('ACK', { 'message-id': m.header('message-id')!, subscription: 's' });
    c.send('ACK', { 'message-id': m.header('message-id')! });
    assert.match((await c.error(ErrorCode.MISSING_HEADER)).text, /ERR_STOMP_MISSING_HEADER/);
  });

  test('[1.0 NACK] NACK does not exist in 1.0', async () => {
    const c = await connected(broker, { host: '/' });
    c.send('NACK', { 'message-id': 'x' });
    assert.match((await c.error(ErrorCode.UNEXPECTED_FRAME)).text, /ERR_STOMP_UNEXPECTED_FRAME/);
  });

  test('[1.2 SEND] a SEND without destination, or with an empty one, is refused', async () => {
    const a = await connected(broker);
    a.send('SEND', {}, 'x');
    assert.match((await a.error(ErrorCode.MISSING_HEADER)).text, /ERR_STOMP_MISSING_HEADER/);
    const b = await connected(broker);
    b.send('SEND', { destination: '' }, 'x');
    assert.match(
      (await b.error(ErrorCode.INVALID_HEADER_VALUE)).text,
      /ERR_STOMP_INVALID_HEADER_VALUE/,
    );
  });

  test('[1.2 MESSAGE] redeliveries keep the message-id and count up', async () => {
    const c = await connected(broker);
    c.send('SUBSCRIBE', { id: 's', destination: '/queue/hp.redo', ack: 'client-individual' });
    c.send('SEND', { destination: '/queue/hp.redo' }, 'm');
    const first = await c.next('MESSAGE');
    assert.equal(first.header('delivery-count'), '1');
    // Up to 10 (the default maxDeliveries), past 9 for a two-digit count.
    for (let n = 2; n <= 10; n++) {
      c.send('NACK', { id: first.header('ack')! });
      const again = await c.next('MESSAGE');
      assert.equal(again.header('message-id'), first.header('message-id'));
      assert.equal(again.header('redelivered'), 'true');
      assert.equal(again.header('delivery-count'), String(n));
    }
  });
});

describe('unacknowledged deliveries in any order', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[1.2 ACK] client-individual ACKs out of order settle exactly the named messages; the rest return in order', async () => {
    const c = await connected(broker);
    c.send('SUBSCRIBE', { id: 's', destination: '/queue/hp.order', ack: 'client-individual' });
    for (let i = 0; i < 7; i++) c.send('SEND', { destination: '/queue/hp.order' }, String(i));
    const ms = await c.messages(7);
    // Newest, oldest, then two from the middle; a settled message cannot be acknowledged again.
    for (const i of [6, 0, 3, 5]) await c.sendSync('ACK', { id: ms[i]!.header('ack')! });
    await c.sendSync('UNSUBSCRIBE', { id: 's' });
    const d = await connected(broker);
    d.send('SUBSCRIBE', { id: 's', destination: '/queue/hp.order', ack: 'auto' });
    const back = await d.messages(3);
    assert.deepEqual(
      back.map((f) => f.text),
      ['1', '2', '4'],
    );
    c.send('ACK', { id: ms[6]!.header('ack')! });
    assert.match(
      (await c.error(ErrorCode.INVALID_HEADER_VALUE)).text,
      /ERR_STOMP_INVALID_HEADER_VALUE/,
    );
  });
});
