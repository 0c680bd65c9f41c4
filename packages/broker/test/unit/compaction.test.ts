// Journal compaction: a message that is never consumed must not keep every later segment on
// disk. The live records of the oldest segment are copied forward and it is deleted; a crash
// between the copy and the delete leaves two copies, of which recovery keeps one.
import assert from 'node:assert/strict';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { Message } from '@stompede/broker';
import { JournalStore } from '@stompede/broker/internal';

const root = mkdtempSync(join(tmpdir(), 'stompede-compact-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;

const SEGMENT = 64 * 1024;
const logger = pino({ level: 'silent' });

function open(dir: string): JournalStore {
  return new JournalStore({ dir, logger, fsync: false, segmentSize: SEGMENT, compactRate: 1e12 });
}

function message(text: string): Message {
  return new Message('/queue/x', ['persistent', 'true'], Buffer.from(text), {
    persistent: true,
    priority: 4,
    expires: 0,
  });
}

function journalFiles(dir: string): string[] {
  return readdirSync(join(dir, 'journal'))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

function journalBytes(dir: string): number {
  let total = 0;
  for (const f of journalFiles(dir)) total += statSync(join(dir, 'journal', f)).size;
  return total;
}

const body = 'x'.repeat(1000);
const A = 'q\0/\0/queue/a';
const B = 'q\0/\0/queue/b';

/** Enqueue and consume `n` messages of queue `b` (a steady flow), then let compaction finish. */
async function flow(store: JournalStore, seq: { n: number }, n: number): Promise<void> {
  const seqs = [];
  for (let i = 0; i < n; i++) {
    const s = ++seq.n;
    store.enqueue(B, s, message(`${String(s)}:${body}`));
    seqs.push(s);
  }
  await store.sync();
  for (const s of seqs) store.remove(s);
  await store.sync();
  await store.compacted();
}

function contents(store: JournalStore): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const q of store.recover().queues) out.set(q.destination!, [...q.messages.seqs]);
  return out;
}

describe('journal compaction', () => {
  test('[Durability] disk use stays bounded with a pinned message and a steady flow', async () => {
    const dir = join(root, String(++dirs));
    const store = open(dir);
    store.recover();
    const seq = { n: 0 };
    const pinned = ++seq.n;
    store.enqueue(A, pinned, message('pinned'));
    let most = 0;
    for (let round = 0; round < 60; round++) {
      await flow(store, seq, 100);
      most = Math.max(most, journalBytes(dir));
    }
    // 6,000 messages of 1 KiB went through 64 KiB segments: without compaction ~95 would stay.
    assert.ok(most <= 4 * SEGMENT, `journal grew to ${String(most)} bytes`);
    assert.ok(journalFiles(dir).length <= 3, journalFiles(dir).join(' '));
    // The pinned message was moved (its first segment is gone), and the index follows it.
    assert.ok(!journalFiles(dir).includes('0000000001.log'), journalFiles(dir).join(' '));
    assert.equal(Buffer.from(store.load([pinned])[0]!.body).toString(), 'pinned');
    await store.close();

    const again = open(dir);
    assert.deepEqual(contents(again), new Map([['/queue/a', [1]]]));
    await again.close();
  });

  test('[Durability] a crash between copy and delete: recovery keeps one copy of each message', async () => {
    const dir = join(root, String(++dirs));
    const store = open(dir);
    store.recover();
    const seq = { n: 0 };
    const kept: number[] = [];
    // Several live messages spread over the first segments, among consumed ones.
    for (let round = 0; round < 4; round++) {
      const s = ++seq.n;
      store.enqueue(A, s, message(`live ${String(s)}`));
      kept.push(s);
      await flow(store, seq, 12);
    }
    const before = new Map(
      journalFiles(dir).map((f) => [f, readFileSync(join(dir, 'journal', f))]),
    );
    for (let round = 0; round < 20; round++) await flow(store, seq, 100);
    await store.close();
    const deleted = [...before.keys()].filter((f) => !journalFiles(dir).includes(f));
    assert.ok(deleted.includes('0000000001.log'), `deleted: ${deleted.join(' ')}`);
    // Segments are deleted oldest-first: the state at a crash just before the deletes is today's
    // files plus the deleted ones, whose live records now also exist as copies.
    for (const f of deleted) writeFileSync(join(dir, 'journal', f), before.get(f)!);

    const again = open(dir);
    assert.deepEqual(contents(again), new Map([['/queue/a', kept]]));
    // And compaction resumes: the restored segments hold nothing live any more.
    await again.compacted();
    for (const f of deleted) assert.ok(!journalFiles(dir).includes(f), `${f} still there`);
    await again.close();
    const third = open(dir);
    assert.deepEqual(contents(third), new Map([['/queue/a', kept]]));
    await third.close();
  });

  test('[Durability] a live record damaged on disk since recovery: compaction drops it alone and reports it', async () => {
    const dir = join(root, String(++dirs));
    const lines: string[] = [];
    const store = new JournalStore({
      dir,
      logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
      fsync: false,
      segmentSize: SEGMENT,
      compactRate: 1e12,
    });
    store.recover();
    const seq = { n: 0 };
    const pinned = [++seq.n, ++seq.n, ++seq.n];
    for (const s of pinned) store.enqueue(A, s, message(`pinned-${String(s)}`));
    await flow(store, seq, 20);
    // A bit flips in the second pinned message's body, in the oldest segment.
    const first = join(dir, 'journal', '0000000001.log');
    const at = readFileSync(first).indexOf('pinned-2');
    assert.ok(at > 0);
    const fd = openSync(first, 'r+');
    writeSync(fd, Buffer.from('Q'), 0, 1, at);
    closeSync(fd);
    for (let round = 0; round < 10; round++) await flow(store, seq, 100);
    assert.ok(!journalFiles(dir).includes('0000000001.log'), journalFiles(dir).join(' '));
    const loaded = store.load(pinned);
    assert.deepEqual(
      loaded.map((m) => (m === undefined ? undefined : Buffer.from(m.body).toString())),
      ['pinned-1', undefined, 'pinned-3'],
    );
    assert.ok(
      lines.some((l) => l.includes('found by compaction')),
      `logged: ${lines.join('')}`,
    );
    // The engine drops what it cannot read: its removal is recorded like any other.
    store.remove(pinned[1]!);
    await store.close();
    const again = open(dir);
    assert.deepEqual(contents(again), new Map([['/queue/a', [1, 3]]]));
    await again.close();
  });

  test('[Durability] a live record larger than a compaction read is moved whole', async () => {
    const dir = join(root, String(++dirs));
    const store = open(dir);
    store.recover();
    const seq = { n: 0 };
    await flow(store, seq, 10);
    const big = ++seq.n;
    const text = 'b'.repeat(1536 * 1024);
    store.enqueue(A, big, message(text));
    const small = ++seq.n;
    store.enqueue(A, small, message('after the big one'));
    const before = journalFiles(dir);
    for (let round = 0; round < 40; round++) await flow(store, seq, 100);
    for (const f of before) assert.ok(!journalFiles(dir).includes(f), `${f} still there`);
    const [a, b] = store.load([big, small]);
    assert.equal(Buffer.from(a!.body).toString(), text);
    assert.equal(Buffer.from(b!.body).toString(), 'after the big one');
    await store.close();
    const again = open(dir);
    assert.deepEqual(contents(again), new Map([['/queue/a', [big, small]]]));
    await again.close();
  });
});
