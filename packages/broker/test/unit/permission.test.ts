import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, hashPassword } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { type Peer, connected, memoryBroker } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('permissions', () => {
  let broker: Broker;
  const login = (user: string, host = '/'): Promise<Peer> =>
    connected(broker, { 'accept-version': '1.2', host, login: user, passcode: 'pw' });

  before(async () => {
    const password = await hashPassword('pw', FAST);
    broker = memoryBroker({
      vhosts: ['/', '/other'],
      users: {
        producer: { password },
        consumer: { password, groups: ['readers'] },
        admin: { password },
        reader2: { password },
      },
      groups: { readers: ['reader2'] },
      permissions: [
        {
          user: 'producer',
          destinations: ['/queue/orders.>', '/topic/prices.*'],
          rights: ['write'],
        },
        { user: 'producer', destinations: '/queue/orders.new', rights: ['create'] },
        {
          group: 'readers',
          destinations: ['/queue/orders.>', '/topic/prices.>'],
          rights: ['read'],
        },
        { user: 'admin', destinations: '>', rights: 'all' },
        {
          user: 'admin',
          vhost: '/other',
          destinations: '/queue/only-here',
          rights: ['read', 'write', 'create'],
        },
        { user: 'anonymous', destinations: '/topic/public.>', rights: ['read'] },
        { user: '*', destinations: '/queue/everyone', rights: 'all' },
      ],
    });
  });
  after(() => broker.close());

  async function denied(p: Peer, command: string, headers: Record<string, string>, right: RegExp) {
    p.send(command, { ...headers, receipt: 'r' });
    const f = await p.error(ErrorCode.FORBIDDEN);
    const message = f.header('message') ?? '';
    assert.match(message, right);
    assert.ok(message.includes(headers.destination!), message);
    assert.match(f.text, new RegExp(ErrorCode.FORBIDDEN));
    assert.equal(f.header('receipt-id'), 'r');
    await p.ended;
  }

  test('[Permissions SEND] write is needed; the ERROR names the destination and the right', async () => {
    const c = await login('consumer');
    await denied(c, 'SEND', { destination: '/queue/orders.eu' }, /no write and create permission/);
    const a = await login('admin');
    await a.sendSync('SEND', { destination: '/queue/orders.exists' }, 'created');
    const c2 = await login('consumer');
    await denied(c2, 'SEND', { destination: '/queue/orders.exists' }, /no write permission/);
    a.close();
  });

  test('[Permissions create] the first use of a new destination needs create', async () => {
    const p = await login('producer');
    await denied(
      p,
      'SEND',
      { destination: '/queue/orders.eu' },
      /no create permission .*does not exist yet/,
    );
    const p2 = await login('producer');
    await p2.sendSync('SEND', { destination: '/queue/orders.new' }, 'first');
    // The admin creates orders.eu; now the producer may write to it.
    const a = await login('admin');
    await a.sendSync('SEND', { destination: '/queue/orders.eu' }, 'created');
    await p2.sendSync('SEND', { destination: '/queue/orders.eu' }, 'now allowed');
    p2.close();
    a.close();
  });

  test('[Permissions SUBSCRIBE] read is needed, via a group or a user group list', async () => {
    const p = await login('producer');
    await denied(
      p,
      'SUBSCRIBE',
      { id: '1', destination: '/queue/orders.new' },
      /no read permission/,
    );
    for (const user of ['consumer', 'reader2']) {
      const c = await login(user);
      await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/orders.new', ack: 'client' });
      c.close();
    }
  });

  test('[Permissions SUBSCRIBE] read and create together: both named when both are missing', async () => {
    const c = await login('consumer');
    await denied(
      c,
      'SUBSCRIBE',
      { id: '1', destination: '/queue/secret' },
      /no read and create permission/,
    );
  });

  test('[Permissions SUBSCRIBE] a wildcard subscription must be covered by the grant', async () => {
    const c = await login('consumer');
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/prices.*' });
    await c.sendSync('SUBSCRIBE', { id: '2', destination: '/topic/prices.>' });
    await denied(c, 'SUBSCRIBE', { id: '3', destination: '/topic/>' }, /no read permission/);
  });

  test('[Permissions ACK NACK UNSUBSCRIBE] need no right beyond the subscription', async () => {
    const a = await login('admin');
    const c = await login('consumer');
    await a.sendSync('SEND', { destination: '/queue/orders.acks' }, '1');
    await a.sendSync('SEND', { destination: '/queue/orders.acks' }, '2');
    await c.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/queue/orders.acks',
      ack: 'client-individual',
    });
    const [m1, m2] = await c.messages(2);
    await c.sendSync('ACK', { id: m1!.header('ack')! });
    await c.sendSync('NACK', { id: m2!.header('ack')!, requeue: 'false' });
    await c.sendSync('UNSUBSCRIBE', { id: '1' });
    a.close();
    c.close();
  });

  test('[Permissions BEGIN COMMIT ABORT] transactions need no right; a SEND in one is checked at SEND', async () => {
    const c = await login('consumer');
    await c.sendSync('BEGIN', { transaction: 't1' });
    await c.sendSync('ABORT', { transaction: 't1' });
    await c.sendSync('BEGIN', { transaction: 't2' });
    await c.sendSync('COMMIT', { transaction: 't2' });
    await c.sendSync('BEGIN', { transaction: 't3' });
    await denied(
      c,
      'SEND',
      { destination: '/queue/orders.new', transaction: 't3' },
      /no write permission/,
    );
    const p = await login('producer');
    await p.sendSync('BEGIN', { transaction: 't' });
    await p.sendSync('SEND', { destination: '/queue/orders.new', transaction: 't' }, 'tx');
    await p.sendSync('COMMIT', { transaction: 't' });
    p.send('DISCONNECT', { receipt: 'bye' });
    assert.equal((await p.next('RECEIPT')).header('receipt-id'), 'bye');
  });

  test('[Permissions] temporary queues are private and need no permission', async () => {
    const c = await login('consumer');
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/temp-queue/replies' });
    await c.sendSync('SEND', { destination: '/temp-queue/replies' }, 'self');
    assert.equal((await c.messages(1))[0]!.text, 'self');
    c.close();
  });

  test('[Permissions] anonymous clients and everyone (*) grants', async () => {
    const a = await login('admin');
    await a.sendSync('SEND', { destination: '/topic/public.news' }, 'creates the topic');
    a.close();
    const anon = await connected(broker);
    await anon.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/public.news' });
    await anon.sendSync('SEND', { destination: '/queue/everyone' }, 'x');
    await denied(
      anon,
      'SEND',
      { destination: '/topic/public.news' },
      /anonymous clients have no write permission/,
    );
    const p = await login('producer');
    await p.sendSync('SEND', { destination: '/queue/everyone' }, 'y');
    p.close();
  });

  test('[Permissions virtual hosts] grants are per virtual host; same names are different destinations', async () => {
    // admin has everything in "/", but in /other only /queue/only-here.
    const here = await login('admin', '/other');
    await here.sendSync('SEND', { destination: '/queue/only-here' }, 'in other');
    await denied(here, 'SEND', { destination: '/queue/orders.eu' }, /in virtual host "\/other"/);
    const root = await login('admin', '/');
    await root.sendSync('SEND', { destination: '/queue/only-here' }, 'in root');
    await root.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/only-here' });
    const [m] = await root.messages(1);
    assert.equal(m!.text, 'in root');
    const other = await login('admin', '/other');
    await other.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/only-here' });
    assert.equal((await other.messages(1))[0]!.text, 'in other');
    root.close();
    other.close();
  });

  test('[Permissions] denials are counted by code', () => {
    assert.ok((broker.errorCounts.byCode.get(ErrorCode.FORBIDDEN) ?? 0) >= 8);
  });
});
