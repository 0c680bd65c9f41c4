// Queues created by use (issue 21, item 2): with a store, a queue that a SEND or a SUBSCRIBE
// created exists until it is deleted, as a RabbitMQ durable queue or an ActiveMQ persistent
// destination does. It is recorded once (one QUEUE record when it is created, none per message),
// so after a restart, clean or not, a consumer with only the read right subscribes to it even
// when it was drained before shutdown. Without a store, an idle queue is only a name and is
// forgotten.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Broker, type BrokerOptions, createBroker, hashPassword } from '@stompede/broker';
import { inspectSegment } from '@stompede/broker/internal';
import { ErrorCode } from '@stompede/core';
import { tempDirs } from '../durable-helper.js';
import { connected, memoryBroker } from '../helper.js';

const newDir = tempDirs('stompede-by-use-');
const FAST = { N: 1024, r: 8, p: 1 };
const AUTH = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
const QUEUE_RECORD = 6;
const QUEUE_DELETE_RECORD = 7;

/** The writer may create queues by sending; the reader may only read. */
async function options(dataDir?: string): Promise<BrokerOptions> {
  const password = await hashPassword('pw', FAST);
  return {
    ...(dataDir === undefined ? {} : { dataDir }),
    users: { writer: { password }, reader: { password }, maker: { password } },
    permissions: [
      { user: 'writer', destinations: '/queue/>', rights: ['write', 'create'] },
      { user: 'reader', destinations: '/queue/>', rights: ['read'] },
      { user: 'maker', destinations: '/queue/>', rights: ['read', 'create'] },
    ],
  };
}

const as = (broker: Broker, user: string) =>
  connected(broker, { 'accept-version': '1.2', host: '/', login: user, passcode: 'pw' });

/** As after a crash: no clean-shutdown checkpoint, so recovery reads every record. */
function crashed(dir: string): void {
  rmSync(join(dir, 'journal', 'checkpoint'), { force: true });
}

/** The types of the QUEUE and QUEUE_DELETE records in the journal, in order. */
function queueRecords(dir: string): number[] {
  const out: number[] = [];
  const files = readdirSync(join(dir, 'journal'))
    .filter((f) => f.endsWith('.log'))
    .sort();
  for (const f of files) {
    for (const r of inspectSegment(join(dir, 'journal', f))) {
      if (r.type === QUEUE_RECORD || r.type === QUEUE_DELETE_RECORD) out.push(r.type);
    }
  }
  return out;
}

async function listed(broker: Broker, destination: string): Promise<unknown[][]> {
  return (await broker.engine.destinations('/'))
    .filter((d) => d.destination === destination)
    .map((d) => [d.depth, d.consumers, d.declared]);
}

/** Run `body` on `broker`, then close it, failing or not (a failure must not leave it running). */
async function on(broker: Broker, body: (b: Broker) => Promise<void>): Promise<void> {
  try {
    await body(broker);
  } finally {
    await broker.close();
  }
}

describe('queues created by use', () => {
  for (const how of ['a clean stop', 'a crash'] as const) {
    test(`[Restart] a queue a SEND created, drained before shutdown, takes a read-only SUBSCRIBE after ${how}`, async () => {
      const dir = newDir();
      const opts = await options(dir);
      const first = memoryBroker(opts);
      const w = await as(first, 'writer');
      // Not persistent: the queue is kept, not because of its messages.
      await w.sendSync('SEND', { destination: '/queue/used' }, 'job 1');
      const r = await as(first, 'reader');
      await r.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/used' });
      assert.deepEqual(
        (await r.messages(1)).map((m) => m.text),
        ['job 1'],
      );
      r.close();
      await r.ended;
      // Empty and unused, and kept.
      assert.deepEqual(await listed(first, '/queue/used'), [[0, 0, true]]);
      await first.close();
      if (how === 'a crash') crashed(dir);

      await on(memoryBroker(opts), async (second) => {
        assert.deepEqual(await listed(second, '/queue/used'), [[0, 0, true]]);
        const r2 = await as(second, 'reader');
        await r2.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/used' });
        const w2 = await as(second, 'writer');
        await w2.sendSync('SEND', { destination: '/queue/used' }, 'job 2');
        assert.deepEqual(
          (await r2.messages(1)).map((m) => m.text),
          ['job 2'],
        );
      });
    });
  }

  test('[Restart] a queue a SUBSCRIBE created (create right) exists after a crash', async () => {
    const dir = newDir();
    const opts = await options(dir);
    const first = memoryBroker(opts);
    const m = await as(first, 'maker');
    // Its RECEIPT comes once the queue's record is durable.
    await m.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/waiting' });
    await first.close();
    crashed(dir);
    await on(memoryBroker(opts), async (second) => {
      assert.deepEqual(await listed(second, '/queue/waiting'), [[0, 0, true]]);
      const r = await as(second, 'reader');
      await r.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/waiting' });
    });
  });

  test('[Journal] one QUEUE record per queue, not per message; a QUEUE_DELETE when an operator deletes it', async () => {
    const dir = newDir();
    const opts = await options(dir);
    const broker = createBroker({
      ...opts,
      listeners: [],
      admin: { port: 0, user: 'ops', password: await hashPassword('s3cret', FAST) },
    });
    await broker.listen();
    await on(broker, async () => {
      const w = await as(broker, 'writer');
      for (let i = 0; i < 50; i++) {
        await w.sendSync(
          'SEND',
          { destination: '/queue/busy', persistent: 'true' },
          `m${String(i)}`,
        );
      }
      await broker.engine.flush?.();
      assert.deepEqual(queueRecords(dir), [QUEUE_RECORD]);
      // Created already, by use: the admin API's create says so.
      const post = async (path: string) =>
        (
          await fetch(`${broker.adminUrl!}${path}`, {
            method: 'POST',
            headers: { authorization: AUTH, 'content-type': 'application/json' },
            body: JSON.stringify({ destination: '/queue/busy' }),
          })
        ).json();
      assert.deepEqual(await post('/api/destinations/create'), { created: false });
      assert.deepEqual(await post('/api/destinations/delete'), { purged: 50 });
      // The next use creates it again (the writer has the create right).
      await w.sendSync('SEND', { destination: '/queue/busy' }, 'again');
      await broker.engine.flush?.();
      assert.deepEqual(queueRecords(dir), [QUEUE_RECORD, QUEUE_DELETE_RECORD, QUEUE_RECORD]);
    });
  });

  test('[Restart] a queue deleted after its use is gone after a restart: the next use needs create', async () => {
    const dir = newDir();
    const opts = await options(dir);
    const first = memoryBroker(opts);
    const w = await as(first, 'writer');
    await w.sendSync('SEND', { destination: '/queue/short', persistent: 'true' }, 'left');
    assert.equal(await first.engine.deleteDestination('/', '/queue/short'), 1);
    await first.close();
    crashed(dir);
    await on(memoryBroker(opts), async (second) => {
      assert.deepEqual(await listed(second, '/queue/short'), []);
      const r = await as(second, 'reader');
      r.send('SUBSCRIBE', { id: '1', destination: '/queue/short', receipt: 'x' });
      assert.match((await r.next('ERROR')).text, new RegExp(ErrorCode.FORBIDDEN));
    });
  });

  test('without a store, an idle queue created by use is forgotten', async () => {
    const broker = memoryBroker(await options());
    const w = await as(broker, 'writer');
    await w.sendSync('SEND', { destination: '/queue/passing' }, 'one');
    const r = await as(broker, 'reader');
    await r.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/passing' });
    await r.messages(1);
    r.close();
    await r.ended;
    // Listed by its traffic counts only: not kept.
    assert.deepEqual(await listed(broker, '/queue/passing'), [[0, 0, undefined]]);
    // The permission checks still know it (until it is deleted): reading needs no create.
    const r2 = await as(broker, 'reader');
    await r2.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/passing' });
    await broker.close();
  });
});
