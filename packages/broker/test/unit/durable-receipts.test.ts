// What a RECEIPT promises about persistent messages: a SEND or ACK waits for the journal only
// when it asks for a receipt, and the RECEIPT of a COMMIT or DISCONNECT covers everything before
// it (one journal sync, not one per frame).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Broker } from '@stompede/broker';
import { connected, memoryBroker } from '../helper.js';

const root = mkdtempSync(join(tmpdir(), 'stompede-receipts-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/**
 * A durable broker whose engine records how publishes and commits were awaited and counts
 * flushes.
 */
function spied(dir: string): {
  broker: Broker;
  awaited: boolean[];
  commits: { ops: number; awaitDurable: boolean }[];
  flushes: () => number;
} {
  const broker = memoryBroker({ dataDir: dir });
  const engine = broker.engine;
  const awaited: boolean[] = [];
  const commits: { ops: number; awaitDurable: boolean }[] = [];
  let flushes = 0;
  const commit = engine.commit.bind(engine);
  engine.commit = (vhost, session, ops, awaitDurable) => {
    commits.push({ ops: ops.length, awaitDurable: awaitDurable ?? true });
    return commit(vhost, session, ops, awaitDurable);
  };
  const publish = engine.publish.bind(engine);
  engine.publish = (vhost, session, message, awaitDurable) => {
    awaited.push(awaitDurable ?? true);
    return publish(vhost, session, message, awaitDurable);
  };
  const flush = engine.flush!.bind(engine);
  engine.flush = async () => {
    await flush();
    flushes++;
  };
  return { broker, awaited, commits, flushes: () => flushes };
}

describe('durability of receipts', () => {
  test('[Durability] only a receipted SEND waits for the journal; DISCONNECT with a receipt flushes it', async () => {
    const dir = join(root, 'send');
    const a = spied(dir);
    const p = await connected(a.broker);
    for (let i = 0; i < 20; i++) {
      p.send('SEND', { destination: '/queue/d', persistent: 'true' }, `m${String(i)}`);
    }
    p.send('SEND', { destination: '/queue/d', persistent: 'true', receipt: 'r' }, 'last');
    await p.next('RECEIPT');
    assert.deepEqual(a.awaited, [...Array<boolean>(20).fill(false), true]);
    p.send('DISCONNECT', { receipt: 'bye' });
    assert.equal((await p.next('RECEIPT')).header('receipt-id'), 'bye');
    assert.equal(a.flushes(), 1, 'the DISCONNECT receipt waited for one journal sync');
    await p.ended;
    await a.broker.close();

    const b = memoryBroker({ dataDir: dir });
    const q = await connected(b);
    q.send('SUBSCRIBE', { id: '0', destination: '/queue/d' });
    const bodies = (await q.messages(21)).map((f) => f.text);
    assert.deepEqual(bodies, [...Array.from({ length: 20 }, (_, i) => `m${String(i)}`), 'last']);
    q.close();
    await b.close();
  });

  test('[Durability] a COMMIT with a receipt hands the engine the whole transaction, to make durable at once', async () => {
    const a = spied(join(root, 'commit'));
    const p = await connected(a.broker);
    p.send('BEGIN', { transaction: 't' });
    for (let i = 0; i < 10; i++) {
      p.send('SEND', { destination: '/queue/t', persistent: 'true', transaction: 't' }, 'x');
    }
    p.send('COMMIT', { transaction: 't', receipt: 'c' });
    assert.equal((await p.next('RECEIPT')).header('receipt-id'), 'c');
    assert.deepEqual(a.awaited, []);
    assert.deepEqual(a.commits, [{ ops: 10, awaitDurable: true }]);
    p.close();
    await a.broker.close();
  });
});
