// The publisher reads its PubAcks itself (one subscription per node, not a request per publish):
// what JetStream answers must map onto the same results and errors as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers, type Msg, type MsgHdrs } from '@nats-io/nats-core';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { Publisher, parseAckSubject } from '@stompede/cluster/internal';

type Answer = (published: { subject: string; headers: MsgHdrs | undefined }) => Msg | undefined;

/** A NATS link whose server answers every publish with `answer` (its reply subject filled in). */
function fakeLink(answer: Answer): {
  link: never;
  published: { subject: string; reply: string }[];
} {
  let deliver: ((msg: Msg) => void) | undefined;
  const published: { subject: string; reply: string }[] = [];
  const nc = {
    subscribe(_subject: string, opts: { callback: (err: unknown, msg: Msg) => void }) {
      deliver = (msg) => {
        opts.callback(null, msg);
      };
    },
    publish(subject: string, _data: Uint8Array, opts: { reply: string; headers?: MsgHdrs }) {
      published.push({ subject, reply: opts.reply });
      const msg = answer({ subject, headers: opts.headers });
      if (msg !== undefined) {
        queueMicrotask(() => deliver?.({ ...msg, subject: opts.reply }));
      }
    },
  };
  return { link: { nc } as never, published };
}

const json = (value: unknown): Msg =>
  ({ subject: '', data: new TextEncoder().encode(JSON.stringify(value)) }) as unknown as Msg;

test('a PubAck resolves the publish; the attempt carries the message id and a reply of the node', async () => {
  let msgId: string | undefined;
  const { link, published } = fakeLink(({ headers: h }) => {
    msgId = h?.get('Nats-Msg-Id');
    return json({ stream: 'S_Q0', seq: 42, duplicate: true });
  });
  const publisher = new Publisher(link, 5000, 1 << 20, '_INBOX.n1.a');
  const ack = await publisher.publish('S.q0.v.a.4', new Uint8Array(3), 'n1.1');
  assert.deepEqual(ack, { stream: 'S_Q0', seq: 42, duplicate: true });
  assert.equal(msgId, 'n1.1');
  assert.match(published[0]!.reply, /^_INBOX\.n1\.a\.\d+$/);
  assert.equal(publisher.inflightBytes, 0);
});

test('a JetStream error retrying cannot fix (stream full) fails at once with LIMIT_EXCEEDED', async () => {
  const { link, published } = fakeLink(() =>
    json({ error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' } }),
  );
  const publisher = new Publisher(link, 5000, 1 << 20, '_INBOX.n1.a');
  await assert.rejects(
    publisher.publish('S.q0.v.a.4', new Uint8Array(3), 'n1.1'),
    (err: unknown) => err instanceof StompProtocolError && err.code === ErrorCode.LIMIT_EXCEEDED,
  );
  assert.equal(published.length, 1);
  assert.equal(publisher.failures, 1);
});

test('no responders without a message id is not retried (it could store twice): UNAVAILABLE', async () => {
  const { link, published } = fakeLink(
    () =>
      ({
        subject: '',
        data: new Uint8Array(0),
        headers: headers(503, 'No Responders'),
      }) as unknown as Msg,
  );
  const publisher = new Publisher(link, 5000, 1 << 20, '_INBOX.n1.a');
  await assert.rejects(
    publisher.publish('S.q0.v.a.4', new Uint8Array(3)),
    (err: unknown) =>
      err instanceof StompProtocolError &&
      err.code === ErrorCode.UNAVAILABLE &&
      /no responders/.test(err.message),
  );
  assert.equal(published.length, 1);
});

test('an ACK subject names how many messages the consumer had not yet handed out', () => {
  assert.equal(parseAckSubject('$JS.ACK.Q_S.c.1.7.7.1700000000000000000.5')?.pending, 5);
  assert.equal(
    parseAckSubject('$JS.ACK.dom.acchash.Q_S.c.2.7.7.1700000000000000000.0.tok')?.pending,
    0,
  );
  assert.equal(parseAckSubject('$JS.ACK.Q_S.c.1.7.7.1700000000000000000.x'), undefined);
});
