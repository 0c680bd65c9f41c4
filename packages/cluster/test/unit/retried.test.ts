// A copy stored by a publish retried after a timeout (publisher.ts) may duplicate the copy of the
// attempt that timed out: it must reach clients marked as a redelivery.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers, type Msg } from '@nats-io/nats-core';
import { Message, encodeMessage } from '@stompede/broker';
import { RETRIED_HEADER, toWaiting } from '@stompede/cluster/internal';

const REPLY = '$JS.ACK.Q_S.c.1.7.7.1700000000000000000.0';

function pulled(retried: boolean): Msg {
  const h = headers();
  h.set('Nats-Msg-Id', 'k.1');
  if (retried) h.set(RETRIED_HEADER, '1');
  const data = encodeMessage(new Message('/queue/a', [], new TextEncoder().encode('x')));
  return { subject: 'S.q.a', reply: REPLY, data, headers: h } as unknown as Msg;
}

// toWaiting needs the node context only for an unreadable message.
const ctx = undefined as never;

test('a copy stored by a retried publish counts as delivered once already (redelivered)', () => {
  assert.equal(toWaiting(ctx, pulled(false))?.info.deliveryCount, 1);
  const w = toWaiting(ctx, pulled(true));
  assert.ok(w !== undefined);
  assert.equal(w.info.deliveryCount, 2);
  assert.equal(w.info.streamSeq, 7);
});
