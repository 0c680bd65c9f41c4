// Permissions across nodes (issue 16): a queue made on one node (by use, by a subscription, or
// created as an operator does) is known to every other node's permission check, so a client
// there that may read or write it but not create it is served without a restart. Two stompede
// nodes (real processes) on a three-server JetStream cluster, real clients with logins.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBroker, hashPassword } from '@stompede/broker';
import { type Client, connect } from '@stompede/client/node';
import { ErrorCode } from '@stompede/core';
import { engineOn, natsCluster, natsMissing, startNodes, until } from '../helper.js';

const skip = natsMissing();

describe('permissions across nodes', { skip }, () => {
  let nats: Awaited<ReturnType<typeof natsCluster>>;
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let a: string;
  let b: string;
  let password: string;
  const USERS = () => ({ owner: { password }, reader: { password }, writer: { password } });
  const PERMISSIONS = [
    { user: 'owner', destinations: '/queue/>', rights: 'all' as const },
    { user: 'reader', destinations: '/queue/>', rights: ['read' as const] },
    { user: 'writer', destinations: '/queue/>', rights: ['write' as const] },
  ];
  const clients: Client[] = [];
  const as = async (url: string, login: string): Promise<Client> => {
    const c = await connect(url, { login, passcode: 'pw' });
    clients.push(c);
    return c;
  };

  before(async () => {
    nats = await natsCluster();
    password = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    cluster = await startNodes(nats, 2, { users: USERS(), permissions: PERMISSIONS });
    [a, b] = cluster.urls as [string, string];
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster.dispose();
    await nats.dispose();
  });

  test('[Cluster permissions] a queue made by a SEND on node A: a read-only consumer on node B is served', async () => {
    const owner = await as(a, 'owner');
    await owner.send('/queue/made.by.send', 'hello', { receipt: true });
    const reader = await as(b, 'reader');
    const sub = await reader.subscribe('/queue/made.by.send', { receipt: true });
    assert.equal((await sub.receive({ timeout: 10_000 }))!.text, 'hello');
    await sub.unsubscribe();
  });

  test('[Cluster permissions] a queue made by a subscription on node A: a write-only producer on node B is served', async () => {
    const owner = await as(a, 'owner');
    const sub = await owner.subscribe('/queue/made.by.subscribe', { receipt: true });
    const writer = await as(b, 'writer');
    await writer.send('/queue/made.by.subscribe', 'from B', { receipt: true });
    assert.equal((await sub.receive({ timeout: 10_000 }))!.text, 'from B');
    await sub.unsubscribe();
  });

  test('[Cluster permissions] a queue created as an operator does (admin create) elsewhere: node B serves its read-only consumer', async () => {
    // The admin API's create is the engine's createDestination; here on a third engine.
    const engine = await engineOn(nats);
    try {
      assert.equal(await engine.createDestination('/', '/queue/made.by.admin'), true);
    } finally {
      await engine.close();
    }
    const reader = await as(b, 'reader');
    const sub = await reader.subscribe('/queue/made.by.admin', { receipt: true });
    const owner = await as(a, 'owner');
    await owner.send('/queue/made.by.admin', 'created', { receipt: true });
    assert.equal((await sub.receive({ timeout: 10_000 }))!.text, 'created');
    await sub.unsubscribe();
  });

  test('[Cluster permissions] a queue that exists on no node is still refused with ERR_STOMP_FORBIDDEN', async () => {
    const reader = await as(b, 'reader');
    await assert.rejects(
      reader.subscribe('/queue/made.nowhere', { receipt: true }),
      (err: { code?: string; message?: string }) => {
        assert.equal(err.code, ErrorCode.FORBIDDEN);
        assert.match(err.message ?? '', /no create permission/);
        return true;
      },
    );
  });

  test('[Cluster permissions] a queue deleted on another node needs the create right again here', async () => {
    // This node in process, to see when its permission check has heard of the delete.
    const broker = createBroker({
      engine: await engineOn(nats),
      listeners: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      users: USERS(),
      permissions: PERMISSIONS,
      errorLinger: 100,
      closeTimeout: 500,
    });
    try {
      const here = `tcp://127.0.0.1:${String((await broker.listen())[0]!.port)}`;
      const owner = await as(a, 'owner');
      await owner.send('/queue/made.then.deleted', 'x', { receipt: true });
      const reader = await as(here, 'reader');
      const sub = await reader.subscribe('/queue/made.then.deleted', { receipt: true });
      assert.equal((await sub.receive({ timeout: 10_000 }))!.text, 'x');
      await sub.unsubscribe();
      assert.ok(broker.authorizer.exists('/', '/queue/made.then.deleted'));
      const other = await engineOn(nats);
      try {
        await other.deleteDestination('/', '/queue/made.then.deleted');
      } finally {
        await other.close();
      }
      await until(
        () => !broker.authorizer.exists('/', '/queue/made.then.deleted'),
        10_000,
        'the delete reached this node',
      );
      await assert.rejects(
        reader.subscribe('/queue/made.then.deleted', { receipt: true }),
        (err: { code?: string }) => err.code === ErrorCode.FORBIDDEN,
      );
    } finally {
      await broker.close();
    }
  });
});
