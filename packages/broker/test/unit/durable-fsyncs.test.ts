// One fdatasync per persistent message at most (issue 17 item 2), and the rule behind the
// RECEIPT of a persistent SEND: it means the message is safe, i.e. delivered and acknowledged,
// or on disk. A message consumed in the task that stored it (an auto-ack consumer was waiting)
// is taken back from the journal's pending write: neither it nor its REMOVE reaches the disk.
// A REMOVE nothing waits for rides with the next write. The journal's file writes go through a
// counting WriteIO; "crashes" open a copy of the data directory as the disk holds it.
import assert from 'node:assert/strict';
import { cpSync, fdatasync, rmSync, writev, writevSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { LocalEngine, Message } from '@stompede/broker';
import { JournalStore } from '@stompede/broker/internal';
import { connected, memoryBroker } from '../helper.js';
import { keptLogger, tempDirs } from '../durable-helper.js';

const newDir = tempDirs('stompede-fsyncs-');
const Q = 'q\0/\0/queue/a';
const syncFile = promisify(fdatasync);
const writeAt = promisify(writev);

/** Real file writes, counted; `hold` makes the next fdatasync wait until it is released. */
class CountingIO {
  syncs = 0;
  private held: (() => void) | undefined;
  private holding = false;

  readonly io = {
    writevSync: (fd: number, bufs: readonly Buffer[], position: number): number =>
      writevSync(fd, bufs, position),
    writev: async (fd: number, bufs: readonly Buffer[], position: number): Promise<number> =>
      (await writeAt(fd, bufs as Buffer[], position)).bytesWritten,
    fdatasync: async (fd: number): Promise<void> => {
      this.syncs++;
      if (this.holding) {
        this.holding = false;
        const held = new Promise<void>((resolve) => (this.held = resolve));
        this.reached?.();
        await held;
      }
      await syncFile(fd);
    },
  };

  private reached: (() => void) | undefined;

  /** The next fdatasync waits for {@link release}; resolves once it is waiting. */
  hold(): Promise<void> {
    this.holding = true;
    return new Promise<void>((resolve) => (this.reached = resolve));
  }

  release(): void {
    this.held?.();
    this.held = undefined;
  }
}

function message(text: string): Message {
  return new Message('/queue/a', ['persistent', 'true'], Buffer.from(text), {
    persistent: true,
    priority: 4,
    expires: 0,
  });
}

function openStore(dir: string, disk = new CountingIO()): JournalStore {
  return new JournalStore({ dir, io: disk.io, fsync: true, logger: keptLogger([]) });
}

/** The bodies a store on a copy of `dir` (as the disk holds it now: a crash) recovers. */
async function afterCrash(dir: string): Promise<string[]> {
  const copy = newDir();
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'));
  const store = openStore(copy);
  const seqs = store.recover().queues.flatMap((q) => [...q.messages.seqs]);
  const bodies = store.load(seqs).map((m) => Buffer.from(m!.body).toString());
  await store.close();
  return bodies;
}

/** A store on a fresh directory, recovered (nothing), its writes counted. */
function freshStore(): { dir: string; disk: CountingIO; store: JournalStore } {
  const dir = newDir();
  const disk = new CountingIO();
  const store = openStore(dir, disk);
  store.recover();
  return { dir, disk, store };
}

describe('one fdatasync per persistent message at most', () => {
  test('[Durability] a message consumed before it was written costs no write and no fdatasync, and a crash does not bring it back', async () => {
    const { dir, disk, store } = freshStore();
    store.enqueue(Q, 1, message('kept'));
    await store.sync();
    const synced = disk.syncs;
    // Stored and consumed in one task: what an auto-ack consumer does.
    store.enqueue(Q, 2, message('taken at once'));
    store.remove(2);
    await store.sync();
    assert.equal(disk.syncs, synced, 'no fdatasync for it');
    assert.equal(store.pendingBytes, 0);
    assert.deepEqual(await afterCrash(dir), ['kept']);
    await store.close();
  });

  test('[Durability] a REMOVE nothing waits for rides with the next message: one fdatasync each', async () => {
    const { dir, disk, store } = freshStore();
    store.enqueue(Q, 1, message('one'));
    await store.sync();
    const synced = disk.syncs;
    store.remove(1); // acknowledged later, without a receipt
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(disk.syncs, synced, 'the REMOVE alone started no write');
    store.enqueue(Q, 2, message('two'));
    await store.sync();
    assert.equal(disk.syncs, synced + 1, 'message two and the REMOVE of one: one fdatasync');
    assert.deepEqual(await afterCrash(dir), ['two']);
    await store.close();
  });

  test('[Durability] a REMOVE someone waits for (an ACK with a receipt) is made durable at once', async () => {
    const { dir, store } = freshStore();
    store.enqueue(Q, 1, message('one'));
    await store.sync();
    store.remove(1);
    await store.sync();
    assert.deepEqual(await afterCrash(dir), []);
    await store.close();
  });

  test('[Durability] a record taken back while an earlier write is in flight still releases its waiters', async () => {
    const { dir, disk, store } = freshStore();
    const held = disk.hold();
    store.enqueue(Q, 1, message('one'));
    const first = store.sync();
    await held; // the write of one is in flight
    store.enqueue(Q, 2, message('two'));
    const second = store.sync();
    store.remove(2); // consumed (acknowledged) before its write started
    disk.release();
    await first;
    await second;
    assert.deepEqual(await afterCrash(dir), ['one']);
    await store.close();
  });

  test('[Durability] a consumed record that is not the last one appended is written, with its REMOVE', async () => {
    const { dir, store } = freshStore();
    store.enqueue(Q, 1, message('one'));
    store.enqueue(Q, 2, message('two'));
    store.remove(1); // not the last record appended: written, with a REMOVE
    await store.sync();
    assert.deepEqual(await afterCrash(dir), ['two']);
    await store.close();
  });
});

describe('RECEIPT of a persistent SEND: delivered and acknowledged, or on disk', () => {
  /** A broker on a fresh journal, whose first segment is written (its header costs a sync). */
  async function durableBroker(): Promise<{
    b: ReturnType<typeof memoryBroker>;
    disk: CountingIO;
    dir: string;
  }> {
    const dir = newDir();
    const disk = new CountingIO();
    const b = memoryBroker({ engine: new LocalEngine({ store: openStore(dir, disk) }) });
    const first = await connected(b);
    await first.sendSync('SEND', { destination: '/queue/other', persistent: 'true' }, 'first');
    first.close();
    return { b, disk, dir };
  }
  const send = (i: number): [string, Record<string, string>, string] => [
    'SEND',
    { destination: '/queue/a', persistent: 'true' },
    `m${String(i)}`,
  ];

  test('[Durability] one in flight, no consumer: one fdatasync per message, each on disk at its RECEIPT', async () => {
    const { b, disk, dir } = await durableBroker();
    const producer = await connected(b);
    const before = disk.syncs;
    for (let i = 0; i < 5; i++) {
      await producer.sendSync(...send(i));
      assert.equal((await afterCrash(dir)).at(-1), `m${String(i)}`, 'on disk at its RECEIPT');
    }
    assert.equal(disk.syncs - before, 5);
    await b.close();
  });

  test('[Durability] one in flight, an auto-ack consumer attached: RECEIPTs without fdatasync, and nothing to recover', async () => {
    const { b, disk, dir } = await durableBroker();
    const consumer = await connected(b);
    await consumer.sendSync('SUBSCRIBE', { destination: '/queue/a', id: 's', ack: 'auto' });
    const producer = await connected(b);
    const before = disk.syncs;
    for (let i = 0; i < 5; i++) await producer.sendSync(...send(i));
    assert.equal(disk.syncs - before, 0);
    assert.deepEqual(
      (await consumer.messages(5)).map((f) => Buffer.from(f.body).toString()),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
    assert.deepEqual(await afterCrash(dir), ['first']);
    await b.close();
  });

  test('[Durability] one in flight, a client-individual consumer: at most one fdatasync per message; unacknowledged ones survive a crash', async () => {
    const { b, disk, dir } = await durableBroker();
    const consumer = await connected(b);
    await consumer.sendSync('SUBSCRIBE', {
      destination: '/queue/a',
      id: 's',
      ack: 'client-individual',
    });
    const producer = await connected(b);
    const before = disk.syncs;
    for (let i = 0; i < 6; i++) {
      await producer.sendSync(...send(i));
      const [m] = await consumer.messages(1);
      // Every other one acknowledged, without a receipt: its REMOVE rides with a later write.
      if (i % 2 === 0) consumer.send('ACK', { id: m!.header('ack')! });
    }
    assert.ok(disk.syncs - before <= 6, `${String(disk.syncs - before)} fdatasyncs for 6 messages`);
    const live = await afterCrash(dir);
    for (const body of ['m1', 'm3', 'm5']) assert.ok(live.includes(body), `${body} survives`);
    await b.close();
  });
});

describe('a large body is written from where it is', () => {
  const large = (seed: number): Buffer =>
    Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31 + seed) & 0xff));
  const largeMessage = (seed: number): Message =>
    new Message('/queue/a', ['persistent', 'true'], large(seed), {
      persistent: true,
      priority: 4,
      expires: 0,
    });

  test('[Durability] its record survives a crash intact, and reads back before and after it is written', async () => {
    const { dir, store } = freshStore();
    store.enqueue(Q, 1, largeMessage(1));
    store.enqueue(Q, 2, message('small'));
    store.enqueue(Q, 3, largeMessage(3));
    // Not yet written: read from the pending pieces.
    const pending = store.load([1, 3]);
    assert.ok(Buffer.from(pending[0]!.body).equals(large(1)));
    assert.ok(Buffer.from(pending[1]!.body).equals(large(3)));
    await store.sync();
    const copy = newDir();
    cpSync(dir, copy, { recursive: true });
    rmSync(join(copy, 'LOCK'));
    const again = openStore(copy);
    const seqs = again.recover().queues.flatMap((q) => [...q.messages.seqs]);
    assert.deepEqual(seqs, [1, 2, 3]);
    const bodies = again.load(seqs).map((m) => Buffer.from(m!.body));
    assert.ok(bodies[0]!.equals(large(1)) && bodies[2]!.equals(large(3)));
    assert.equal(bodies[1]!.toString(), 'small');
    await again.close();
    await store.close();
  });

  test('[Durability] consumed before it was written, it is taken back whole', async () => {
    const { dir, disk, store } = freshStore();
    store.enqueue(Q, 1, message('kept'));
    await store.sync();
    const synced = disk.syncs;
    store.enqueue(Q, 2, largeMessage(2));
    store.remove(2);
    await store.sync();
    assert.equal(disk.syncs, synced);
    assert.equal(store.pendingBytes, 0);
    store.enqueue(Q, 3, message('after'));
    await store.sync();
    assert.deepEqual(await afterCrash(dir), ['kept', 'after']);
    await store.close();
  });
});
