// A full disk (issue 19 item 3), staged with an injected disk: a capacity the data directory may
// fill, reported by the free-space probe and enforced on every journal write (ENOSPC). Below the
// free-disk limit new persistent messages are refused with ERR_STOMP_DISK_FULL while removals go
// on and free space; a write that meets a full disk waits and is retried; zeros written ahead
// never make the disk look full; a start on a nearly full disk writes no new segment.
import assert from 'node:assert/strict';
import { existsSync, fstatSync, readdirSync, statSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode } from '@stompede/core';
import { LocalEngine, Message, Metrics } from '@stompede/broker';
import { JournalStore } from '@stompede/broker/internal';
import { connected, memoryBroker } from '../helper.js';
import { type LogLine, keptLogger, tempDirs } from '../durable-helper.js';

const newDir = tempDirs('stompede-diskfull-');
const KiB = 1024;
const Q = 'q\0/\0/queue/full';

/** A disk of `capacity` bytes holding the files under `dir`. */
class FakeDisk {
  writes = 0;
  refused = 0;

  constructor(
    readonly dir: string,
    public capacity: number,
  ) {}

  used(): number {
    let total = 0;
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else total += statSync(join(d, e.name)).size;
      }
    };
    if (existsSync(this.dir)) walk(this.dir);
    return total;
  }

  readonly free = (): number => Math.max(0, this.capacity - this.used());

  private write(fd: number, bufs: readonly Buffer[], position: number): number {
    let total = 0;
    for (const b of bufs) total += b.length;
    const growth = Math.max(0, position + total - fstatSync(fd).size);
    if (growth > this.free()) {
      this.refused++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    this.writes++;
    return writevSync(fd, bufs, position);
  }

  /** The journal's writes through this disk. */
  readonly io = {
    writevSync: (fd: number, bufs: readonly Buffer[], position: number): number =>
      this.write(fd, bufs, position),
    writev: (fd: number, bufs: readonly Buffer[], position: number): Promise<number> =>
      Promise.resolve().then(() => this.write(fd, bufs, position)),
    fdatasync: (): Promise<void> => Promise.resolve(),
  };
}

function message(size: number): Message {
  return new Message('/queue/full', ['persistent', 'true'], Buffer.alloc(size, 120), {
    persistent: true,
    priority: 4,
    expires: 0,
  });
}

function open(
  disk: FakeDisk,
  options: {
    limit: number;
    fsync?: boolean;
    segmentSize?: number;
    logs?: LogLine[];
    reserve?: number;
  },
): JournalStore {
  return new JournalStore({
    dir: disk.dir,
    logger: keptLogger(options.logs ?? []),
    fsync: options.fsync ?? false,
    segmentSize: options.segmentSize ?? 256 * KiB,
    diskFreeLimit: options.limit,
    diskCheckInterval: 60_000,
    diskReserve: options.reserve ?? 0,
    freeBytes: disk.free,
    io: disk.io,
    compactRate: 1e12,
  });
}

/** Whether `store.admit()` refuses, with the code. */
function refuses(store: JournalStore): boolean {
  try {
    store.admit();
    return false;
  } catch (err) {
    assert.equal((err as { code?: string }).code, ErrorCode.DISK_FULL);
    return true;
  }
}

/** Resolves with true when `p` settles within the current turns (it is not stuck). */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  return done;
}

describe('a full disk', () => {
  test('[Disk] below the free-disk limit new messages are refused with ERR_STOMP_DISK_FULL; removals go on and free space', async () => {
    const disk = new FakeDisk(newDir(), 2048 * KiB);
    const logs: LogLine[] = [];
    const store = open(disk, { limit: 512 * KiB, logs });
    store.recover();
    let seq = 0;
    // Fill up to the limit, checking admission before each message as the engine does.
    while (!refuses(store)) {
      store.enqueue(Q, ++seq, message(8 * KiB));
      await store.sync();
    }
    assert.ok(seq > 100, `stored ${String(seq)} messages first`);
    assert.ok(
      disk.free() < 512 * KiB && disk.free() > 256 * KiB,
      'refused at the limit, not at the end',
    );
    assert.ok(logs.some((l) => l.level === 40 && l.msg.includes('below the limit')));
    // Consumers go on: every acknowledgement is taken, durably, and the space comes back.
    for (let s = 1; s <= seq; s++) store.remove(s);
    await store.sync();
    store.checkDisk();
    assert.ok(!refuses(store), 'taken again once space is back');
    assert.ok(disk.free() > 1024 * KiB, `space freed: ${String(disk.free())} bytes free`);
    assert.ok(logs.some((l) => l.level === 30 && l.msg.includes('back above the limit')));
    await store.close();
  });

  test('[Disk] a write that meets a full disk waits, is retried once space is freed, and loses nothing', async () => {
    const disk = new FakeDisk(newDir(), 1024 * KiB);
    const logs: LogLine[] = [];
    // No limit: only the full disk stops it.
    const store = open(disk, { limit: 0, logs });
    store.recover();
    let seq = 0;
    let stuck: Promise<void> | undefined;
    while (stuck === undefined) {
      store.enqueue(Q, ++seq, message(16 * KiB));
      const p = store.sync();
      if (!(await settles(p))) stuck = p;
    }
    assert.ok(disk.refused > 0);
    assert.ok(refuses(store), 'new messages are refused while a write waits');
    assert.ok(logs.some((l) => l.msg.includes('the disk is full')));
    // Consuming the first messages frees their segments; the waiting write then goes.
    for (let s = 1; s < seq - 2; s++) store.remove(s);
    await stuck;
    await store.sync();
    store.checkDisk();
    assert.ok(!refuses(store));
    await store.close();
    // Everything receipted is there.
    const again = open(disk, { limit: 0 });
    const r = again.recover();
    assert.deepEqual([...r.queues[0]!.messages.seqs], [seq - 2, seq - 1, seq]);
    assert.equal(again.load([seq])[0]?.body.length, 16 * KiB);
    await again.close();
  });

  test('[Disk] the reserve: at a full disk it is released, so the write and every acknowledgement go on; messages stay refused until it is back', async () => {
    const disk = new FakeDisk(newDir(), 3072 * KiB);
    const logs: LogLine[] = [];
    const store = open(disk, { limit: 0, logs, reserve: 512 * KiB });
    store.recover();
    assert.ok(existsSync(join(disk.dir, 'RESERVE')), 'the reserve is written at start');
    let seq = 0;
    while (!refuses(store)) {
      store.enqueue(Q, ++seq, message(16 * KiB));
      assert.ok(await settles(store.sync()), `message ${String(seq)} does not wait`);
    }
    assert.ok(disk.refused > 0, 'a write met the full disk');
    assert.ok(logs.some((l) => l.msg.includes('reserve is released')));
    assert.ok(!existsSync(join(disk.dir, 'RESERVE')));
    // Each acknowledgement is durable on its own (a consumer waiting for each receipt).
    for (let s = 1; s <= seq; s++) {
      store.remove(s);
      assert.ok(await settles(store.sync()), `the removal of ${String(s)} does not wait`);
    }
    store.checkDisk();
    assert.ok(!refuses(store), 'taken again once the reserve is back');
    assert.ok(existsSync(join(disk.dir, 'RESERVE')));
    await store.close();
  });

  test('[Disk] zeros written ahead of the records never make the disk look full', async () => {
    const disk = new FakeDisk(newDir(), 1536 * KiB);
    // fsync on: segments are extended 1 MiB ahead of their records.
    const store = open(disk, { limit: 0, fsync: true, segmentSize: 64 * 1024 * KiB });
    store.recover();
    let seq = 0;
    // Up to 64 KiB short of the capacity: no write may wait.
    while (disk.capacity - disk.used() > 64 * KiB + 8 * KiB) {
      store.enqueue(Q, ++seq, message(8 * KiB));
      assert.ok(await settles(store.sync()), `message ${String(seq)} was written`);
    }
    assert.ok(!refuses(store));
    await store.close();
  });

  test('[Disk] zeros written ahead never take the disk below the limit unseen: refused with the limit still free', async () => {
    // Seen once on the 8 MiB tmpfs: refused with 0 bytes free. Zeros written 1 MiB ahead of the
    // records (fsync on) took space the free-space estimate did not count, so an extension could
    // eat the whole margin the limit keeps before any reading saw it. Every capacity here puts an
    // extension at a different distance from the limit.
    for (let capacity = 3 * 1024 * KiB; capacity < 4 * 1024 * KiB; capacity += 96 * KiB) {
      const disk = new FakeDisk(newDir(), capacity);
      const store = open(disk, { limit: 1024 * KiB, fsync: true, segmentSize: 64 * 1024 * KiB });
      store.recover();
      let seq = 0;
      while (!refuses(store)) {
        store.enqueue(Q, ++seq, message(32 * KiB));
        assert.ok(await settles(store.sync()), `message ${String(seq)} was written`);
      }
      assert.equal(disk.refused, 0, 'no write met a full disk');
      assert.ok(
        disk.free() > 1024 * KiB - 64 * KiB,
        `capacity ${String(capacity)}: refused with ${String(disk.free())} bytes free after ${String(seq)} messages`,
      );
      await store.close();
    }
  });

  test('[Disk] a start on a nearly full disk writes no new segment and takes acknowledgements', async () => {
    const disk = new FakeDisk(newDir(), 1024 * KiB);
    const first = open(disk, { limit: 0 });
    first.recover();
    let seq = 0;
    while (disk.free() > 40 * KiB) {
      first.enqueue(Q, ++seq, message(16 * KiB));
      await first.sync();
    }
    await first.close();
    const files = readdirSync(join(disk.dir, 'journal')).filter((f) => f.endsWith('.log'));
    disk.capacity = disk.used() + 2 * KiB; // nearly full
    const store = open(disk, { limit: 64 * KiB });
    const r = store.recover();
    assert.equal(r.queues[0]!.messages.length, seq);
    assert.deepEqual(
      readdirSync(join(disk.dir, 'journal')).filter((f) => f.endsWith('.log')),
      files,
      'no new segment',
    );
    assert.ok(refuses(store));
    store.remove(1);
    store.remove(2);
    assert.ok(await settles(store.sync()), 'acknowledgements are written');
    await store.close();
  });

  test('[Disk] over STOMP: a persistent SEND gets ERROR ERR_STOMP_DISK_FULL with its receipt-id; others go on', async () => {
    const dir = newDir();
    const disk = new FakeDisk(dir, 4096 * KiB);
    const metrics = new Metrics();
    const store = new JournalStore({
      dir,
      logger: keptLogger([]),
      fsync: false,
      diskFreeLimit: 1024 * KiB,
      diskCheckInterval: 60_000,
      freeBytes: disk.free,
      io: disk.io,
      counters: metrics,
    });
    const broker = memoryBroker({ engine: new LocalEngine({ store, metrics }) });
    const p = await connected(broker);
    await p.sendSync('SEND', { destination: '/queue/a', persistent: 'true' }, 'before');
    disk.capacity = disk.used() + 512 * KiB;
    store.checkDisk();
    // Not persistent: taken (memory only).
    await p.sendSync('SEND', { destination: '/queue/a' }, 'transient');
    p.send('SEND', { destination: '/queue/a', persistent: 'true', receipt: 'r9' }, 'refused');
    const error = await p.error(ErrorCode.DISK_FULL);
    assert.equal(error.header('receipt-id'), 'r9');
    assert.match(error.text, /ERR_STOMP_DISK_FULL/);
    assert.equal(metrics.snapshot().persistentSendsRefused, 1);
    assert.equal(metrics.snapshot().diskRefusing, 1);
    // A consumer still takes and acknowledges what is stored.
    const c = await connected(broker);
    c.send('SUBSCRIBE', { destination: '/queue/a', id: 's', ack: 'client-individual' });
    const got = await c.messages(2);
    assert.deepEqual(
      got.map((f) => f.text),
      ['before', 'transient'],
    );
    for (const f of got) await c.sendSync('ACK', { id: f.header('ack')! });
    // Space back: persistent SENDs are taken again.
    disk.capacity = 64 * 1024 * KiB;
    store.checkDisk();
    await c.sendSync('SEND', { destination: '/queue/b', persistent: 'true' }, 'after');
    await broker.close();
  });
});
