// Queues an operator creates (issue 21, item 2): created through the admin API they exist while
// empty and unused, and survive a restart (clean or not) through a QUEUE record of the journal,
// re-recorded at the start of every segment, kept by the checkpoint, covered by the damage checks;
// deleted, they are gone after a restart too.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type Broker,
  type BrokerOptions,
  Message,
  Metrics,
  createBroker,
  hashPassword,
} from '@stompede/broker';
import { JournalStore, inspectSegment } from '@stompede/broker/internal';
import { ErrorCode } from '@stompede/core';
import { type LogLine, keptLogger, tempDirs } from '../durable-helper.js';
import { connected, memoryBroker } from '../helper.js';

const newDir = tempDirs('stompede-created-');
const FAST = { N: 1024, r: 8, p: 1 };
const AUTH = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
const QUEUE_RECORD = 6;
const KEY = 'q\0/\0/queue/made';

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** Nobody has the create right: a queue exists only because the operator created it. */
async function options(dataDir: string): Promise<BrokerOptions> {
  const password = await hashPassword('pw', FAST);
  return {
    dataDir,
    users: { writer: { password }, reader: { password } },
    permissions: [
      { user: 'writer', destinations: '/queue/>', rights: ['write'] },
      { user: 'reader', destinations: '/queue/>', rights: ['read'] },
    ],
  };
}

const as = (broker: Broker, user: string) =>
  connected(broker, { 'accept-version': '1.2', host: '/', login: user, passcode: 'pw' });

/** A broker listening only for the admin API (user `ops`). */
async function withAdmin(opts: BrokerOptions): Promise<Broker> {
  const broker = createBroker({
    ...opts,
    listeners: [],
    admin: { port: 0, user: 'ops', password: await hashPassword('s3cret', FAST) },
  });
  await broker.listen();
  return broker;
}

/** As after a crash: no clean-shutdown checkpoint, so recovery reads every record. */
function crashed(dir: string): void {
  rmSync(join(dir, 'journal', 'checkpoint'), { force: true });
}

function segments(dir: string): string[] {
  return readdirSync(join(dir, 'journal'))
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, 'journal', f));
}

function message(text: string): Message {
  return new Message('/queue/x', ['persistent', 'true'], Buffer.from(text), {
    persistent: true,
    priority: 4,
    expires: 0,
  });
}

function store(dir: string, logs: LogLine[] = [], segmentSize?: number): JournalStore {
  return new JournalStore({
    dir,
    logger: keptLogger(logs),
    fsync: false,
    compactRate: 1e12,
    ...(segmentSize === undefined ? {} : { segmentSize }),
  });
}

/**
 * A journal on `dir` where queue /queue/made was created, then 5 messages `body` stored in
 * /queue/x (records after it: damage there is not a torn write at the end), stopped cleanly;
 * then bytes of the QUEUE record's key flipped.
 */
async function createdThenDamaged(dir: string, body: string): Promise<void> {
  const a = store(dir);
  a.recover();
  a.defineQueue(KEY);
  for (let seq = 1; seq <= 5; seq++) a.enqueue('q\0/\0/queue/x', seq, message(body));
  await a.close();
  const [path] = segments(dir);
  const rec = inspectSegment(path!).find((r) => r.type === QUEUE_RECORD);
  assert.ok(rec, 'the QUEUE record is in the journal');
  const bytes = readFileSync(path!);
  for (let i = rec.payload + 2; i < rec.payload + 6; i++) bytes[i] = bytes[i]! ^ 0xa5;
  writeFileSync(path!, bytes);
}

const errors = (logs: readonly LogLine[]): LogLine[] => logs.filter((l) => l.level >= 50);

describe('queues an operator created', () => {
  for (const how of ['a clean stop', 'a crash'] as const) {
    test(`[Restart] a created queue, empty at shutdown, is listed and usable after ${how}`, async () => {
      const dir = newDir();
      const opts = await options(dir);
      const first = await withAdmin(opts);
      const url = `${first.adminUrl!}/api/destinations/create`;
      assert.deepEqual(await post(url, { destination: '/queue/made' }), {
        status: 200,
        json: { created: true },
      });
      assert.deepEqual(await post(url, { destination: '/queue/made' }), {
        status: 200,
        json: { created: false },
      });
      // Usable at once without the create right, and kept when its consumer leaves.
      const r1 = await as(first, 'reader');
      await r1.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/made' });
      r1.close();
      await r1.ended;
      assert.ok(
        (await first.engine.destinations('/')).some((d) => d.destination === '/queue/made'),
      );
      await first.close();
      if (how === 'a crash') crashed(dir);

      const second = memoryBroker(opts);
      const listed = await second.engine.destinations('/');
      assert.deepEqual(
        listed
          .filter((d) => d.destination === '/queue/made')
          .map((d) => [d.depth, d.consumers, d.declared]),
        [[0, 0, true]],
      );
      const r = await as(second, 'reader');
      await r.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/made' });
      const w = await as(second, 'writer');
      await w.sendSync('SEND', { destination: '/queue/made', persistent: 'true' }, 'job 1');
      assert.deepEqual(
        (await r.messages(1)).map((m) => m.text),
        ['job 1'],
      );
      await second.close();
    });
  }

  test('[Restart] a created queue deleted through the admin API is gone after a restart', async () => {
    const dir = newDir();
    const opts = await options(dir);
    const first = await withAdmin(opts);
    const base = first.adminUrl!;
    assert.equal(
      (await post(`${base}/api/destinations/create`, { destination: '/queue/made' })).status,
      200,
    );
    const w = await as(first, 'writer');
    await w.sendSync('SEND', { destination: '/queue/made', persistent: 'true' }, 'left');
    assert.deepEqual(
      await post(`${base}/api/destinations/delete`, { destination: '/queue/made' }),
      {
        status: 200,
        json: { purged: 1 },
      },
    );
    await first.close();

    for (const how of ['a clean stop', 'a crash']) {
      if (how === 'a crash') crashed(dir);
      const second = memoryBroker(opts);
      const listed = await second.engine.destinations('/');
      assert.ok(!listed.some((d) => d.destination === '/queue/made'), `gone after ${how}`);
      const r = await as(second, 'reader');
      r.send('SUBSCRIBE', { id: '1', destination: '/queue/made', receipt: 'x' });
      assert.match((await r.next('ERROR')).text, new RegExp(ErrorCode.FORBIDDEN));
      await second.close();
    }
  });

  test('[Admin actions] only queues can be created', async () => {
    const broker = await withAdmin({});
    const r = await post(`${broker.adminUrl!}/api/destinations/create`, {
      destination: '/topic/prices',
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, ErrorCode.INVALID_ARGUMENT);
    await broker.close();
  });

  test('[Recovery] a created queue outlives the segments it was created in', async () => {
    const dir = newDir();
    const a = store(dir, [], 64 * 1024);
    a.recover();
    a.defineQueue(KEY);
    // Enough traffic through another queue for several segments, all consumed: the segment of
    // the QUEUE record is deleted, its copies at the start of each new segment stay.
    for (let seq = 1; seq <= 300; seq++) {
      a.enqueue('q\0/\0/queue/x', seq, message('x'.repeat(1000)));
      if (seq % 10 === 0) {
        await a.sync();
        for (let s = seq - 9; s <= seq; s++) a.remove(s);
      }
    }
    await a.sync();
    assert.ok(
      !segments(dir).some((p) => p.endsWith('0000000001.log')),
      'the first segment is gone',
    );
    await a.close();
    for (const how of ['the checkpoint', 'a scan']) {
      if (how === 'a scan') crashed(dir);
      const b = store(dir);
      const made = b.recover().queues.filter((q) => q.key === KEY);
      assert.deepEqual(
        made.map((q) => [q.vhost, q.destination, q.declared, q.messages.length]),
        [['/', '/queue/made', true, 0]],
        `recovered from ${how}`,
      );
      await b.close();
    }
  });

  test('[Recovery] a damaged QUEUE record is reported like other damage', async () => {
    const dir = newDir();
    await createdThenDamaged(dir, 'm');
    crashed(dir);
    const logs: LogLine[] = [];
    const counters = new Metrics();
    const b = new JournalStore({ dir, logger: keptLogger(logs), fsync: false, counters });
    const r = b.recover();
    // What it said is unread: reported with its place, counted, and the rest recovered.
    const report = errors(logs).find((l) => l.msg.startsWith('journal: damaged records'));
    assert.ok(report, 'an error reports the damage');
    assert.equal(report.segment, 1);
    assert.equal(report.unknownRecords, 1);
    assert.match(report.msg, /creation or deletion unread/);
    assert.equal(counters.journalDamagedRecords, 1);
    assert.ok(!r.queues.some((q) => q.key === KEY));
    assert.equal(r.queues.find((q) => q.key === 'q\0/\0/queue/x')?.messages.length, 5);
    await b.close();
  });

  test('[Recovery] damage to a QUEUE record found by the background verification is repaired', async () => {
    const dir = newDir();
    // Larger messages after it, so that the damage is outside the last 4 KiB the checkpoint checks.
    await createdThenDamaged(dir, 'x'.repeat(1000));
    // The checkpoint still knows the queue; the verification finds the damage and says the
    // creation again, so that a later scan rebuilds the same.
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    assert.ok(b.recover().queues.some((q) => q.key === KEY && q.declared === true));
    await b.verified();
    assert.ok(errors(logs).some((l) => l.foundBy === 'verification'));
    await b.close();
    crashed(dir);
    const logs2: LogLine[] = [];
    const c = store(dir, logs2);
    assert.ok(c.recover().queues.some((q) => q.key === KEY && q.declared === true));
    assert.deepEqual(errors(logs2), []);
    assert.ok(logs2.some((l) => l.known === true));
    await c.close();
  });
});
