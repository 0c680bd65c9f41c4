// The cap on queues per virtual host (maxQueues), over real TCP sockets and the admin API: each
// way a queue is created (SEND, SUBSCRIBE, a temporary queue, a durable subscription, a
// transaction's SENDs, the admin API) is refused at the cap with ERR_STOMP_LIMIT_EXCEEDED, a
// counted metric and one warning; a dead letter still gets its DLQ; queues that exist go on.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { type Broker, type BrokerOptions, createBroker, hashPassword } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { Peer } from '../helper.js';

const AUTH = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;

interface Running {
  readonly broker: Broker;
  readonly warnings: { msg: string; vhost?: string; maxQueues?: number }[];
  open(headers?: Record<string, string>): Promise<Peer>;
  post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
}

/** A broker on a TCP port and an admin port, with `maxQueues` queues per virtual host. */
async function start(maxQueues: number, extra: BrokerOptions = {}): Promise<Running> {
  const warnings: Running['warnings'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push(JSON.parse(chunk.toString()) as Running['warnings'][number]);
      done();
    },
  });
  const broker = createBroker({
    listeners: [{ protocol: 'tcp', port: 0 }],
    admin: {
      port: 0,
      user: 'ops',
      password: await hashPassword('s3cret', { N: 1024, r: 8, p: 1 }),
    },
    logger: pino({ level: 'warn' }, sink),
    errorLinger: 100,
    closeTimeout: 500,
    maxQueues,
    ...extra,
  });
  const port = (await broker.listen())[0]!.port;
  return {
    broker,
    warnings,
    async open(headers = { 'accept-version': '1.2', host: '/' }) {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const p = new Peer(socket);
      await p.connect(headers);
      return p;
    },
    async post(path, body) {
      const r = await fetch(`${broker.adminUrl!}${path}`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    },
  };
}

/** Fill the default virtual host to its cap with named queues holding one message each. */
async function fill(r: Running, n: number): Promise<void> {
  const p = await r.open();
  for (let i = 0; i < n; i++)
    await p.sendSync('SEND', { destination: `/queue/held.${String(i)}` }, 'x');
  p.close();
}

async function refused(p: Peer): Promise<string> {
  const f = await p.error(ErrorCode.LIMIT_EXCEEDED);
  const message = f.header('message') ?? '';
  assert.match(message, /maxQueues/, 'the message names the limit');
  assert.match(message, /raise maxQueues/, 'and says how to raise it');
  return message;
}

describe('maxQueues: the cap on queues per virtual host', () => {
  test('[Limits queues] a SEND that would create one queue too many is refused; existing queues go on', async () => {
    const r = await start(3);
    try {
      await fill(r, 3);
      const p = await r.open();
      p.send('SEND', { destination: '/queue/one.more', receipt: 'r' }, 'y');
      const message = await refused(p);
      assert.match(message, /\/queue\/one\.more was not created/);
      assert.match(message, /"\/" has 3 queues/);
      assert.equal(r.broker.metrics.snapshot().queuesRefused, 1);
      assert.equal(
        r.warnings.filter((w) => w.msg.includes('at its limit of 3 queues')).length,
        1,
        'one warning',
      );
      // The queues that exist take messages and deliver them.
      const q = await r.open();
      await q.sendSync('SEND', { destination: '/queue/held.0' }, 'z');
      q.send('SUBSCRIBE', { id: 's', destination: '/queue/held.0' });
      assert.deepEqual(
        (await q.messages(2)).map((f) => f.text),
        ['x', 'z'],
      );
      // Refusals are counted by the metric, and summed up in the log rather than echoed.
      const again = await r.open();
      again.send('SUBSCRIBE', { id: 's', destination: '/queue/other' });
      await refused(again);
      assert.equal(r.broker.metrics.snapshot().queuesRefused, 2);
      assert.equal(r.warnings.filter((w) => w.msg.includes('at its limit')).length, 1);
      const text = await (
        await fetch(`${r.broker.adminUrl!}/metrics`, { headers: { authorization: AUTH } })
      ).text();
      assert.match(text, /^stompede_queues_refused_total 2$/m);
      q.close();
    } finally {
      await r.broker.close();
    }
  });

  test('[Limits queues] temporary queues and durable subscriptions count; non-durable topic subscriptions do not', async () => {
    const r = await start(2);
    try {
      const p = await r.open({ 'accept-version': '1.2', host: '/', 'client-id': 'c1' });
      await p.sendSync('SUBSCRIBE', { id: '1', destination: '/temp-queue/replies' });
      await p.sendSync('SUBSCRIBE', {
        id: '2',
        destination: '/topic/prices',
        'activemq.subscriptionName': 'keep',
      });
      await p.sendSync('SUBSCRIBE', { id: '3', destination: '/topic/news' });
      const d = await r.open({ 'accept-version': '1.2', host: '/', 'client-id': 'c2' });
      d.send('SUBSCRIBE', {
        id: '1',
        destination: '/topic/prices',
        'activemq.subscriptionName': 'another',
      });
      assert.match(await refused(d), /durable subscription "another" was not created/);
      // (Its ERROR closed d, which held no queue: p's two are still there.)
      p.send('SUBSCRIBE', { id: '4', destination: '/temp-queue/more', receipt: 'r' });
      assert.match(await refused(p), /\/temp-queue\/more was not created/);
    } finally {
      await r.broker.close();
    }
  });

  test('[Limits queues] a transaction whose SENDs would pass the cap publishes none of them', async () => {
    const r = await start(3);
    try {
      await fill(r, 2);
      const p = await r.open();
      await p.sendSync('BEGIN', { transaction: 't' });
      await p.sendSync('SEND', { destination: '/queue/held.0', transaction: 't' }, 'old');
      await p.sendSync('SEND', { destination: '/queue/new.a', transaction: 't' }, 'a');
      await p.sendSync('SEND', { destination: '/queue/new.b', transaction: 't' }, 'b');
      p.send('COMMIT', { transaction: 't', receipt: 'c' });
      await refused(p);
      const listed = (await r.broker.engine.destinations('/')).map((d) => [d.destination, d.depth]);
      assert.deepEqual(listed.filter(([d]) => String(d).startsWith('/queue/')).sort(), [
        ['/queue/held.0', 1],
        ['/queue/held.1', 1],
      ]);
    } finally {
      await r.broker.close();
    }
  });

  test('[Limits queues] a dead letter gets its DLQ even at the cap', async () => {
    const r = await start(2);
    try {
      await fill(r, 2);
      const p = await r.open();
      p.send('SUBSCRIBE', { id: 's', destination: '/queue/held.0', ack: 'client-individual' });
      const [m] = await p.messages(1);
      await p.sendSync('NACK', { id: m!.header('ack')!, requeue: 'false' });
      const c = await r.open();
      c.send('SUBSCRIBE', { id: 'd', destination: '/queue/DLQ.held.0' });
      const [dead] = await c.messages(1);
      assert.equal(dead!.text, 'x');
      assert.equal(r.broker.metrics.snapshot().queuesRefused, 0);
    } finally {
      await r.broker.close();
    }
  });

  test('[Limits queues] the admin API refuses to create a queue at the cap (400, ERR_STOMP_LIMIT_EXCEEDED); 0 means no cap', async () => {
    const r = await start(1);
    try {
      assert.deepEqual(await r.post('/api/destinations/create', { destination: '/queue/a' }), {
        status: 200,
        json: { created: true },
      });
      const over = await r.post('/api/destinations/create', { destination: '/queue/b' });
      assert.equal(over.status, 400);
      assert.equal(over.json.code, ErrorCode.LIMIT_EXCEEDED);
      assert.match(String(over.json.error), /\/queue\/b was not created.*raise maxQueues/);
      // Creating one that exists is no new queue.
      assert.equal(
        (await r.post('/api/destinations/create', { destination: '/queue/a' })).status,
        200,
      );
    } finally {
      await r.broker.close();
    }
    const free = await start(0);
    try {
      await fill(free, 50);
      assert.equal(free.broker.metrics.snapshot().queuesRefused, 0);
    } finally {
      await free.broker.close();
    }
  });
});
