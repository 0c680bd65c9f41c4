// The journal's clean-shutdown checkpoint: a restart through it must give exactly what a scan of
// the segments gives, a checkpoint that no longer describes the segments must be refused (and
// the scan used), and it must be gone before the first write after it was used.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { pino } from 'pino';
import { Message } from '@stompede/broker';
import { JournalStore, SeqIndex, inspectSegment } from '@stompede/broker/internal';

type Recovery = ReturnType<JournalStore['recover']>;
// The checkpoint's checksum (Node 20.15+ has zlib.crc32).
const crc32 = (zlib as unknown as { crc32: (data: Uint8Array) => number }).crc32;

const root = mkdtempSync(join(tmpdir(), 'stompede-checkpoint-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
const newDir = (): string => join(root, String(++dirs));

const SEGMENT = 64 * 1024;

interface LogLine {
  level: number;
  msg: string;
  from?: string;
  reason?: string;
}

function open(dir: string, verifyOnStart = false): { store: JournalStore; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
  const store = new JournalStore({
    dir,
    logger,
    fsync: false,
    segmentSize: SEGMENT,
    compactRate: 1e12,
    verifyOnStart,
  });
  return { store, logs };
}

/** How the store was recovered ('checkpoint' or 'scan'), from its log. */
function recoveredFrom(logs: readonly LogLine[]): string | undefined {
  return logs.find((l) => l.msg.startsWith('journal recovered'))?.from;
}

function message(text: string, priority = 4, expires = 0): Message {
  return new Message('/queue/x', ['persistent', 'true'], Buffer.from(text), {
    persistent: true,
    priority,
    expires,
  });
}

const A = 'q\0/\0/queue/a';
const B = 'q\0/\0/queue/b';
const V = 'q\0other\0/queue/v';
const SUB = 's\0store\0k1\0a';
const SUB_DROPPED = 's\0store\0k2\0b';
const SUB_EMPTY = 's\0store\0k3\0c';

/** A comparable form of a recovery: queues sorted by key, every column as plain arrays. */
function normal(r: Recovery): unknown {
  return [...r.queues]
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map((q) => ({
      key: q.key,
      vhost: q.vhost,
      destination: q.destination,
      durable: q.durable,
      seqs: [...q.messages.seqs],
      priorities: [...q.messages.priorities],
      expires: [...q.messages.expires],
    }));
}

/**
 * A journal in the state tests need: three queues over two vhosts, priorities, expiry times, a
 * durable subscription with a backlog, one dropped and one empty, removed messages, and records
 * moved by compaction (64 KiB segments, a message pinned in the first one). Closed cleanly.
 */
async function build(dir: string, settle = true): Promise<{ bodies: Map<number, string> }> {
  const { store } = open(dir);
  store.recover();
  const bodies = new Map<number, string>();
  let seq = 0;
  const put = (key: string, text: string, priority = 4, expires = 0): number => {
    const s = ++seq;
    store.enqueue(key, s, message(text, priority, expires));
    bodies.set(s, text);
    return s;
  };
  store.defineSubscription(SUB, '/', 'k1', 'a', '/topic/t');
  store.defineSubscription(SUB_DROPPED, '/', 'k2', 'b', '/topic/t');
  store.defineSubscription(SUB_EMPTY, 'other', 'k3', 'c', '/topic/#');
  put(A, 'pinned', 9);
  const pad = 'x'.repeat(900);
  for (let round = 0; round < 30; round++) {
    const flow: number[] = [];
    for (let i = 0; i < 20; i++) flow.push(put(B, `flow ${String(round)} ${String(i)} ${pad}`));
    if (round % 5 === 0) put(A, `a ${String(round)}`, round % 10, round % 10 === 0 ? 0 : 4e12);
    put(V, `v ${String(round)}`, 4, round % 3 === 0 ? 5e12 + round : 0);
    put(SUB, `sub ${String(round)}`, 1);
    put(SUB_DROPPED, `dropped ${String(round)}`);
    await store.sync();
    // Consume most of the flow, every other one first (out of order).
    for (let i = 0; i < flow.length; i += 2) store.remove(flow[i]!);
    for (let i = 1; i < flow.length - 1; i += 2) store.remove(flow[i]!);
    if (round === 10) store.dropSubscription(SUB_DROPPED);
    await store.sync();
    // Without settling, the close stops compaction wherever it is.
    if (settle) await store.compacted();
  }
  await store.close();
  return { bodies };
}

/** The recovery of `dir` through a full scan, on a copy without the checkpoint. */
async function scanned(dir: string): Promise<unknown> {
  const copy = newDir();
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'journal', 'checkpoint'), { force: true });
  const { store, logs } = open(copy);
  const r = store.recover();
  assert.equal(recoveredFrom(logs), 'scan');
  await store.close();
  return normal(r);
}

describe('clean-shutdown checkpoint', () => {
  test('[Recovery] the index dumped and rebuilt holds the same entries, queues, priorities and expiry', () => {
    const index = new SeqIndex();
    const live = new Map<number, [number, number, number, number, number, number]>();
    // 20,000 entries over several chunks, three in four removed in a pattern that tidies and
    // merges chunks; expiry times in some chunks only.
    for (let seq = 1; seq <= 20000; seq++) {
      const e: [number, number, number, number, number, number] = [
        1 + (seq % 7),
        16 + seq * 3,
        100 + (seq % 50),
        seq % 13,
        seq % 10,
        seq > 9000 && seq < 9100 ? 1e12 + seq : 0,
      ];
      index.add(seq * 2, e[0], e[1], e[2], e[3], e[4], e[5]);
      live.set(seq * 2, e);
    }
    for (let seq = 1; seq <= 20000; seq++) {
      if (seq % 4 !== 0 || (seq > 12000 && seq < 16000)) {
        index.remove(index.find(seq * 2));
        live.delete(seq * 2);
      }
    }
    const copy = SeqIndex.unpack(index.pack(), 50000);
    assert.equal(copy.size, live.size);
    assert.equal(copy.maxSeq, 50000);
    const seen: [number, number, number][] = [];
    copy.each((seq, meta, expires) => seen.push([seq, meta, expires]));
    assert.deepEqual(
      seen,
      [...live].map(([seq, e]) => [seq, e[3] * 16 + e[4], e[5]]),
    );
    for (const [seq, e] of live) {
      const pos = copy.find(seq);
      assert.deepEqual(
        [copy.seg(pos), copy.off(pos), copy.len(pos), copy.queue(pos)],
        [e[0], e[1], e[2], e[3]],
      );
    }
    // New seqs continue above the top it was given.
    assert.throws(() => {
      copy.add(49999, 1, 0, 1);
    }, RangeError);
    copy.add(50001, 1, 0, 1);
    assert.equal(copy.size, live.size + 1);
  });

  test('[Recovery] a restart through the checkpoint gives exactly what a scan gives', async () => {
    const dir = newDir();
    const { bodies } = await build(dir);
    assert.ok(existsSync(join(dir, 'journal', 'checkpoint')), 'a clean close writes it');
    // Compaction moved records: the first segment, which held the pinned message, is gone.
    assert.ok(!existsSync(join(dir, 'journal', '0000000001.log')));
    const expected = await scanned(dir);

    const { store, logs } = open(dir);
    const r = store.recover();
    assert.equal(recoveredFrom(logs), 'checkpoint');
    assert.deepEqual(normal(r), expected);
    // The dropped subscription stays dropped; the empty one is there; expiry and priority kept.
    const keys = r.queues.map((q) => q.key);
    assert.ok(!keys.includes(SUB_DROPPED));
    assert.ok(keys.includes(SUB_EMPTY));
    const a = r.queues.find((q) => q.key === A)!;
    assert.equal(a.messages.priorities[0], 9);
    assert.ok([...a.messages.expires].includes(4e12));
    // Every message reads back from where the restored index says it is.
    const all = r.queues.flatMap((q) => [...q.messages.seqs]);
    const loaded = store.load(all);
    assert.deepEqual(
      loaded.map((m) => (m === undefined ? undefined : Buffer.from(m.body).toString())),
      all.map((s) => bodies.get(s)),
    );
    await store.close();
  });

  test('[Recovery] closed while compaction runs: the checkpoint still gives what a scan gives', async () => {
    const dir = newDir();
    await build(dir, false);
    const expected = await scanned(dir);
    const { store, logs } = open(dir);
    const r = store.recover();
    assert.equal(recoveredFrom(logs), 'checkpoint');
    assert.deepEqual(normal(r), expected);
    const all = r.queues.flatMap((q) => [...q.messages.seqs]);
    assert.ok(store.load(all).every((m) => m !== undefined));
    // Compaction resumes from the restored index and loses nothing.
    await store.compacted();
    await store.close();
    const { store: again } = open(dir);
    assert.deepEqual(normal(again.recover()), expected);
    await again.close();
  });

  test('[Recovery] after a checkpoint restart, consumption and new writes survive the next restarts', async () => {
    const dir = newDir();
    await build(dir);
    const { store, logs } = open(dir);
    const r = store.recover();
    assert.equal(recoveredFrom(logs), 'checkpoint');
    // Used once: gone (durably) before the recovery's first write.
    assert.ok(!existsSync(join(dir, 'journal', 'checkpoint')));
    const v = r.queues.find((q) => q.key === V)!;
    const consumed = [v.messages.seqs[0]!, v.messages.seqs[1]!];
    for (const s of consumed) store.remove(s);
    const fresh = r.maxSeq + 1;
    store.enqueue(V, fresh, message('fresh', 7, 6e12));
    await store.sync();
    // A kill -9 now: the files as they are, no checkpoint.
    const crashed = newDir();
    cpSync(dir, crashed, { recursive: true });
    await store.close();

    const expect = (x: Recovery): void => {
      const q = x.queues.find((y) => y.key === V)!;
      assert.deepEqual([...q.messages.seqs], [...v.messages.seqs.subarray(2), fresh]);
      assert.equal(q.messages.priorities[q.messages.length - 1], 7);
      assert.equal(q.messages.expires[q.messages.length - 1], 6e12);
    };
    const afterCrash = open(crashed);
    const c = afterCrash.store.recover();
    assert.equal(recoveredFrom(afterCrash.logs), 'scan');
    expect(c);
    await afterCrash.store.close();

    const again = open(dir);
    const d = again.store.recover();
    assert.equal(recoveredFrom(again.logs), 'checkpoint');
    expect(d);
    assert.deepEqual(normal(d), normal(c));
    await again.store.close();
  });

  test('[Recovery] a checkpoint that no longer matches the segments is refused; the scan is right', async () => {
    const base = newDir();
    await build(base);
    const expected = await scanned(base);
    const segments = readdirSync(join(base, 'journal'))
      .filter((f) => f.endsWith('.log'))
      .sort();
    const withData = segments.find((f) => statSync(join(base, 'journal', f)).size > 8192)!;
    const newest = segments.at(-1)!;
    const cases: [string, RegExp, (journal: string) => void][] = [
      [
        'a segment appended to after it',
        /changed size/,
        (j) => {
          appendFileSync(join(j, newest), readFileSync(join(j, newest)).subarray(16));
        },
      ],
      [
        'a segment cut short',
        /changed size/,
        (j) => {
          truncateSync(join(j, withData), statSync(join(j, withData)).size - 100);
        },
      ],
      [
        'a segment replaced by one of the same size',
        /other bytes/,
        (j) => {
          const bytes = readFileSync(join(j, withData));
          const last = bytes.length - 1;
          bytes[last] = bytes[last]! ^ 1;
          writeFileSync(join(j, withData), bytes);
        },
      ],
      [
        'a segment added',
        /segments on disk/,
        (j) => {
          writeFileSync(join(j, '0000009999.log'), Buffer.alloc(0));
        },
      ],
      [
        'a bit flipped in the checkpoint',
        /checksum/,
        (j) => {
          const bytes = readFileSync(join(j, 'checkpoint'));
          bytes[100] = bytes[100]! ^ 0x20;
          writeFileSync(join(j, 'checkpoint'), bytes);
        },
      ],
      [
        'a checkpoint cut short',
        /length/,
        (j) => {
          const path = join(j, 'checkpoint');
          truncateSync(path, statSync(path).size - 8);
        },
      ],
      [
        'a checkpoint of another format version',
        /format version 0/,
        (j) => {
          const path = join(j, 'checkpoint');
          const bytes = readFileSync(path);
          bytes.writeUInt32LE(0, 8);
          bytes.writeUInt32LE(crc32(bytes.subarray(0, bytes.length - 8)), bytes.length - 8);
          writeFileSync(path, bytes);
        },
      ],
    ];
    for (const [what, reason, spoil] of cases) {
      const dir = newDir();
      cpSync(base, dir, { recursive: true });
      spoil(join(dir, 'journal'));
      const { store, logs } = open(dir);
      const r = store.recover();
      assert.equal(recoveredFrom(logs), 'scan', what);
      const refused = logs.find((l) => l.msg.includes('checkpoint is not used'));
      assert.ok(refused, `${what}: the refusal is logged`);
      assert.match(refused.reason ?? '', reason, what);
      assert.ok(!existsSync(join(dir, 'journal', 'checkpoint')), `${what}: it is deleted`);
      // Same queues, except where the spoiling itself lost records.
      if (!/cut short|replaced/.test(what) || /checkpoint/.test(what)) {
        assert.deepEqual(normal(r), expected, what);
      }
      await store.close();
    }
  });

  test('[Recovery] verifyOnStart reads every record even with a matching checkpoint', async () => {
    const dir = newDir();
    await build(dir);
    const expected = await scanned(dir);
    const { store, logs } = open(dir, true);
    const r = store.recover();
    assert.equal(recoveredFrom(logs), 'scan');
    assert.deepEqual(normal(r), expected);
    assert.ok(!existsSync(join(dir, 'journal', 'checkpoint')));
    await store.close();
  });

  test('[Recovery] a record damaged after a clean stop is found when it is read', async () => {
    const dir = newDir();
    await build(dir);
    const { store: first } = open(dir);
    const r0 = first.recover();
    await first.close();
    // Flip a bit in the body of a live message early in a segment (its tail, which the
    // checkpoint covers, is left alone): the checkpoint still matches, so only reading the
    // record finds it.
    const live = new Set(r0.queues.flatMap((q) => [...q.messages.seqs]));
    const journal = join(dir, 'journal');
    let spoiled = false;
    for (const name of readdirSync(journal).filter((f) => f.endsWith('.log'))) {
      const path = join(journal, name);
      const bytes = readFileSync(path);
      for (const rec of inspectSegment(path)) {
        // An ENQUEUE (type 1) record of a live seq, outside the tail the checkpoint covers.
        if (
          rec.type === 1 &&
          live.has(rec.seqs[0]!) &&
          rec.offset + rec.length < bytes.length - 4096
        ) {
          const at = rec.offset + rec.length - 1; // the body's last byte
          bytes[at] = bytes[at]! ^ 0x10;
          writeFileSync(path, bytes);
          spoiled = true;
          break;
        }
      }
      if (spoiled) break;
    }
    assert.ok(spoiled, 'a live record outside the segments’ tails');

    const { store, logs } = open(dir);
    const r = store.recover();
    assert.equal(recoveredFrom(logs), 'checkpoint');
    assert.deepEqual(normal(r), normal(r0));
    const all = r.queues.flatMap((q) => [...q.messages.seqs]);
    const loaded = store.load(all);
    const lost = loaded.filter((m) => m === undefined).length;
    assert.equal(lost, 1, 'exactly the damaged record is lost');
    assert.ok(logs.some((l) => l.level >= 50 && l.msg.includes('checksum')));
    await store.close();
  });
});
