// Metrics: counters are read-only properties, moved only by the methods that say what happened,
// and the broker moves them for what goes over a connection.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Metrics } from '@stompede/broker';
import { connected, memoryBroker } from '../helper.js';

test('[Metrics] each counting method moves its counter; snapshot copies them all', () => {
  const m = new Metrics();
  m.connectionOpened();
  m.connectionOpened();
  m.connectionClosed();
  m.frameReceived();
  m.frameSent();
  m.messageDelivered(1);
  m.messageDelivered(2);
  m.messagePublished();
  m.messagePublished(2);
  m.bytesReceived(10);
  m.bytesSent(7);
  m.heartbeatReceived();
  m.heartbeatSent();
  m.messageEnqueued();
  m.messageAcked();
  m.messageNacked();
  m.messageRequeued();
  m.messageDeadLettered();
  m.messageDropped();
  m.errorSent();
  m.producerPaused();
  m.journalDamaged(2, 3);
  m.diskRead(4096, true);
  m.persistentSendRefused();
  m.queueRefused();
  assert.deepEqual(m.snapshot(), {
    connectionsOpened: 2,
    connectionsClosed: 1,
    connectionsActive: 1,
    framesIn: 1,
    framesOut: 3,
    bytesIn: 10,
    bytesOut: 7,
    heartbeatsIn: 1,
    heartbeatsOut: 1,
    messagesPublished: 3,
    messagesEnqueued: 1,
    messagesDelivered: 2,
    messagesRedelivered: 1,
    messagesAcked: 1,
    messagesNacked: 1,
    messagesRequeued: 1,
    messagesDeadLettered: 1,
    messagesDropped: 1,
    errorsSent: 1,
    producersPaused: 1,
    journalDamagedRecords: 2,
    journalMessagesLost: 3,
    diskFreeBytes: 4096,
    diskRefusing: 1,
    persistentSendsRefused: 1,
    queuesRefused: 1,
  });
  assert.equal(new Metrics().diskFreeBytes, -1, 'no disk read yet');
});

test('[Metrics] counters and error counts cannot be written from outside', () => {
  const m = new Metrics();
  assert.throws(() => {
    (m as unknown as { messagesDelivered: number }).messagesDelivered = 5;
  }, TypeError);
  assert.equal(m.messagesDelivered, 0);
  m.errors.count('ERR_STOMP_X');
  assert.equal(m.errors.byCode.get('ERR_STOMP_X'), 1);
  assert.throws(() => {
    (m.errors as unknown as { byCode: unknown }).byCode = new Map();
  }, TypeError);
});

test('[Metrics] a session moves frames, bytes and deliveries', async () => {
  const metrics = new Metrics();
  const broker = memoryBroker({ metrics });
  after(() => broker.close());
  const p = await connected(broker);
  await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/metrics' });
  await p.sendSync('SEND', { destination: '/queue/metrics' }, 'x');
  await p.messages(1);
  assert.equal(metrics.connectionsOpened, 1);
  assert.equal(metrics.messagesEnqueued, 1);
  assert.equal(metrics.messagesDelivered, 1);
  assert.equal(metrics.messagesAcked, 1, 'auto ack settles on delivery');
  // CONNECT, SUBSCRIBE (receipt asked), SEND (receipt asked) in; CONNECTED, 2 RECEIPTs, MESSAGE out.
  assert.equal(metrics.framesIn, 3);
  assert.equal(metrics.framesOut, 4);
  assert.ok(metrics.bytesIn > 0 && metrics.bytesOut > 0);
  p.close();
});
