// The WebSocket listener sends each frame, and each heart-beat, as one WebSocket message (as
// RabbitMQ Web-STOMP does; Gozirra's and other clients parse one frame per message), over a real
// socket on 127.0.0.1, with ws as the client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Frame, parseFrames } from '@stompede/core';
import { type Broker, type ListenerAddress, createBroker } from '@stompede/broker';
import { WebSocket } from 'ws';
import { TestClock, eventually } from '../helper.js';

/** A raw WebSocket client that keeps every message it receives as it came. */
class WsClient {
  readonly messages: { data: Buffer; binary: boolean }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary) => this.messages.push({ data, binary }));
  }

  static open(address: ListenerAddress): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(address.url, ['v12.stomp']);
      const client = new WsClient(ws);
      ws.once('open', () => {
        resolve(client);
      });
      ws.once('error', reject);
    });
  }

  /** Messages after the first `from`, once there are `n` of them. */
  async take(n: number, from = 0): Promise<{ data: Buffer; binary: boolean }[]> {
    await eventually(() => this.messages.length >= from + n, `${String(n)} messages`);
    return this.messages.slice(from, from + n);
  }

  async connect(heartBeat = '0,0'): Promise<Frame> {
    this.ws.send(`CONNECT\naccept-version:1.2\nhost:/\nheart-beat:${heartBeat}\n\n\0`);
    const [m] = await this.take(1);
    return onlyFrame(m!.data);
  }

  close(): void {
    this.ws.close();
  }
}

/** The one frame a message holds: it must end with the frame's NUL and one LF. */
function onlyFrame(data: Buffer): Frame {
  const frames = parseFrames(data);
  assert.equal(frames.length, 1, `one frame per message: ${JSON.stringify(data.toString())}`);
  assert.deepEqual([...data.subarray(-2)], [0, 10], 'the message ends with NUL and LF');
  return frames[0]!;
}

const SEND = (body: string, extra = ''): string =>
  `SEND\ndestination:/queue/ws-msg\n${extra}\n${body}\0`;

describe('WebSocket listener: one frame per message', () => {
  let broker: Broker;
  let address: ListenerAddress;
  const clock = new TestClock();
  before(async () => {
    broker = createBroker({
      listeners: [{ protocol: 'ws', port: 0 }],
      heartbeat: [20, 60000],
      clock,
    });
    [address] = (await broker.listen()) as [ListenerAddress];
  });
  after(() => broker.close());

  test('[WebSocket] frames written in one tick go as one message each, text or binary', async () => {
    const c = await WsClient.open(address);
    assert.equal((await c.connect()).command, 'CONNECTED');
    const large = 'L'.repeat(20_000); // over the outbox's COPY_LIMIT: written by reference
    const bytes = Buffer.concat([
      Buffer.from('SUBSCRIBE\nid:1\ndestination:/queue/ws-msg\nreceipt:s\n\n\0'),
      Buffer.from(SEND('one') + SEND('two') + SEND('three') + SEND(large)),
      Buffer.from('SEND\ndestination:/queue/ws-msg\ncontent-length:3\n\n'),
      Buffer.from([0xff, 0x00, 0xfe, 0x00]),
      Buffer.from(SEND('last', 'receipt:done\n')),
    ]);
    // All of it in one WebSocket message: the broker answers in one tick.
    c.ws.send(bytes);
    const got = await c.take(8, 1);
    const frames = got.map((m) => onlyFrame(m.data));
    // A RECEIPT follows the frames before it, not the deliveries they caused: look at each kind.
    const receipts = frames.filter((f) => f.command === 'RECEIPT');
    assert.deepEqual(
      receipts.map((f) => f.header('receipt-id')),
      ['s', 'done'],
    );
    const messages = got.filter((_m, i) => frames[i]!.command === 'MESSAGE');
    const bodies = messages.map((m) => onlyFrame(m.data).body);
    assert.deepEqual(
      bodies.map((b) => (b.length > 100 ? `${String(b.length)} bytes` : [...b].join(','))),
      ['one', 'two', 'three', large, '\xff\0\xfe', 'last'].map((t) =>
        t.length > 100 ? `${String(t.length)} bytes` : [...Buffer.from(t, 'latin1')].join(','),
      ),
    );
    assert.ok(bodies[3]!.every((b) => b === 0x4c));
    assert.deepEqual(
      messages.map((m) => m.binary),
      [false, false, false, false, true, false],
      'binary only for the body that is not UTF-8',
    );
    assert.ok(receipts.length + messages.length === got.length);
    c.close();
  });

  test('[1.2 Heart-beating] each heart-beat is a message of its own', async () => {
    const c = await WsClient.open(address);
    await c.connect('0,20');
    c.ws.send('SUBSCRIBE\nid:1\ndestination:/queue/ws-hb\nreceipt:s\n\n\0');
    await c.take(1, 1);
    for (let n = 1; n <= 3; n++) {
      clock.advance(20);
      const [beat] = await c.take(1, 1 + n);
      assert.deepEqual([...beat!.data], [10]);
    }
    c.close();
  });

  test('[WebSocket] a paused client holds the broker back; nothing is lost or merged', async () => {
    const count = 128;
    const body = 'b'.repeat(128 * 1024);
    const consumer = await WsClient.open(address);
    await consumer.connect();
    consumer.ws.send('SUBSCRIBE\nid:1\ndestination:/queue/ws-slow\nreceipt:s\n\n\0');
    await consumer.take(1, 1);
    consumer.ws.pause();
    const producer = await WsClient.open(address);
    await producer.connect();
    const delivered = broker.metrics.messagesDelivered;
    for (let i = 0; i < count; i++) {
      const receipt = i === count - 1 ? 'receipt:sent\n' : '';
      producer.ws.send(`SEND\ndestination:/queue/ws-slow\nn:${String(i)}\n${receipt}\n${body}\0`);
    }
    const [receipt] = await producer.take(1, 1);
    assert.equal(onlyFrame(receipt!.data).header('receipt-id'), 'sent');
    // 16 MiB is far more than the socket buffers of a reader that does not read: the broker
    // stopped writing to it (write() returned false) and keeps the rest queued.
    assert.ok(broker.metrics.messagesDelivered - delivered < count);
    consumer.ws.resume();
    const got = await consumer.take(count, 2);
    got.forEach((m, i) => {
      const f = onlyFrame(m.data);
      assert.equal(f.header('n'), String(i));
      assert.equal(f.body.length, body.length);
    });
    producer.close();
    consumer.close();
  });
});
