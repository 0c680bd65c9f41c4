import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ErrorCode, encodeFrameBytes, messageFrame, parseFrames } from '@stompede/core';
import { Message, TopicPattern, createBroker } from '@stompede/broker';
import { encodeDelivery } from '@stompede/broker/internal';
import { connected, memoryBroker } from '../helper.js';

describe('hot path encoding', () => {
  test('[1.2 MESSAGE] the cached encoding parses like core messageFrame()', () => {
    const message = new Message(
      '/queue/a',
      ['x-k', 'a:b\nc', 'content-type', 'text/plain'],
      Buffer.from('hi'),
    );
    const head = 'MESSAGE\nsubscription:s\nmessage-id:m1\nack:m1\n';
    const ours = parseFrames(Buffer.concat(encodeDelivery(head, message, '1.2')));
    const core = parseFrames(
      encodeFrameBytes(
        messageFrame({
          destination: '/queue/a',
          messageId: 'm1',
          subscription: 's',
          ack: 'm1',
          headers: [
            ['x-k', 'a:b\nc'],
            ['content-type', 'text/plain'],
          ],
          body: 'hi',
        }),
      ),
    );
    assert.deepEqual(ours[0]!.headerObject(), core[0]!.headerObject());
    assert.equal(ours[0]!.text, core[0]!.text);
  });

  test('[Topics] wildcard patterns', () => {
    assert.ok(new TopicPattern('a.*.c').matches('a.b.c'));
    assert.ok(!new TopicPattern('a.*.c').matches('a.b.b.c'));
    assert.ok(new TopicPattern('a.>').matches('a.b.c'));
    assert.ok(new TopicPattern('a.#').matches('a'));
    assert.ok(!new TopicPattern('a.b').matches('a.b.c'));
  });

  test('[Options] invalid options are rejected with a coded error', () => {
    assert.throws(() => createBroker({ heartbeatGrace: 0.5 }), {
      code: 'ERR_STOMP_INVALID_ARGUMENT',
    });
    assert.throws(() => createBroker({ listeners: [{ protocol: 'tcp', port: 70000 }] }), {
      code: 'ERR_STOMP_INVALID_ARGUMENT',
    });
  });
});

describe('delivery under backpressure', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[Flow control] a consumer whose socket is full gets nothing more; others of the queue do', async () => {
    const slow = await connected(broker);
    const fast = await connected(broker);
    await slow.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/bp' });
    await fast.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/bp' });
    slow.stream.pause();
    const producer = await connected(broker);
    const body = 'b'.repeat(1000);
    const total = 2000;
    for (let i = 0; i < total; i++) producer.send('SEND', { destination: '/queue/bp' }, body);
    await producer.sendSync('SEND', { destination: '/queue/sync' }, 'x');
    // The fast consumer takes what the stalled one cannot.
    await fast.until(() => fast.frames.filter((f) => f.command === 'MESSAGE').length > total / 2);
    slow.stream.resume();
    await slow.until(
      () =>
        slow.frames.filter((f) => f.command === 'MESSAGE').length +
          fast.frames.filter((f) => f.command === 'MESSAGE').length ===
        total,
    );
    for (const x of [slow, fast, producer]) x.close();
  });

  test('[Durable] a durable subscription already active elsewhere is an error', async () => {
    const h = { 'accept-version': '1.2', host: '/', 'client-id': 'dup' };
    const s = { id: '1', destination: '/topic/d', 'activemq.subscriptionName': 'n' };
    const a = await connected(broker, h);
    await a.sendSync('SUBSCRIBE', s);
    const b = await connected(broker, h);
    b.send('SUBSCRIBE', s);
    const f = await b.error(ErrorCode.INVALID_STATE);
    assert.match(f.header('message') ?? '', /already active/);
    a.close();
  });
});
