// Destinations that survive a restart exist (issue 21, item 2): after a restart, a consumer with
// only the read right can subscribe to a durable queue or resume a durable subscription without
// a producer sending first, and the admin listing shows them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Broker, type BrokerOptions, hashPassword } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { connected, memoryBroker } from '../helper.js';

const root = mkdtempSync(join(tmpdir(), 'stompede-recovered-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

async function options(dir: string): Promise<BrokerOptions> {
  const password = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
  return {
    dataDir: dir,
    users: { writer: { password }, reader: { password } },
    permissions: [
      { user: 'writer', destinations: ['/queue/>', '/topic/>'], rights: ['write', 'create'] },
      { user: 'reader', destinations: ['/queue/>', '/topic/>'], rights: ['read'] },
    ],
  };
}

const as = (broker: Broker, user: string, clientId?: string) =>
  connected(broker, {
    'accept-version': '1.2',
    host: '/',
    login: user,
    passcode: 'pw',
    ...(clientId === undefined ? {} : { 'client-id': clientId }),
  });

describe('destinations recovered after a restart', () => {
  test('[Restart] a read-only consumer subscribes to a queue recovered from the journal, which is listed', async () => {
    const dir = join(root, 'a');
    const opts = await options(dir);
    const first = memoryBroker(opts);
    const w = await as(first, 'writer');
    await w.sendSync('SEND', { destination: '/queue/orders', persistent: 'true' }, 'order 1');
    w.close();
    await first.close();

    const second = memoryBroker(opts);
    const listed = await second.engine.destinations('/');
    assert.ok(listed.some((d) => d.destination === '/queue/orders' && d.depth === 1));
    const r = await as(second, 'reader');
    await r.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/orders' });
    assert.deepEqual(
      (await r.messages(1)).map((m) => m.text),
      ['order 1'],
    );
    // A queue that never existed still needs the create right.
    r.send('SUBSCRIBE', { id: '2', destination: '/queue/never', receipt: 'x' });
    const denied = await r.next('ERROR');
    assert.match(denied.text, new RegExp(ErrorCode.FORBIDDEN));
    assert.match(denied.header('message') ?? '', /create/);
    await second.close();
  });

  test('[Restart] a durable subscription that survived a restart can be resumed with the read right only', async () => {
    const dir = join(root, 'b');
    const base = await options(dir);
    // The reader may create its durable subscription once; after the restart it resumes it
    // with read only (its grant to create is taken away).
    const first = memoryBroker({
      ...base,
      permissions: [
        ...(base.permissions ?? []),
        { user: 'reader', destinations: '/topic/>', rights: ['create'] },
      ],
    });
    const r1 = await as(first, 'reader', 'r');
    await r1.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/topic/events',
      'activemq.subscriptionName': 'events',
    });
    r1.close();
    await r1.ended;
    const w = await as(first, 'writer');
    await w.sendSync('SEND', { destination: '/topic/events', persistent: 'true' }, 'while away');
    w.close();
    await first.close();

    const second = memoryBroker(base);
    const listed = await second.engine.destinations('/');
    assert.ok(listed.some((d) => d.durable?.name === 'events' && d.depth === 1));
    const r2 = await as(second, 'reader', 'r');
    await r2.sendSync('SUBSCRIBE', {
      id: '1',
      destination: '/topic/events',
      'activemq.subscriptionName': 'events',
    });
    assert.deepEqual(
      (await r2.messages(1)).map((m) => m.text),
      ['while away'],
    );
    await second.close();
  });
});
