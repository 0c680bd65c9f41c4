// Damage to the journal (issue 19 item 1): one damaged record costs only that record, whatever
// it is; a torn write at the end is cut and logged at info; what was lost is reported exactly
// (queue, seqs, message ids) and counted; a start through the checkpoint verifies the segments
// in the background; nothing piles up beside the journal; a journal of format 1 is migrated.
import assert from 'node:assert/strict';
import {
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { Message, Metrics } from '@stompede/broker';
import { JournalStore, inspectSegment } from '@stompede/broker/internal';
import { connected } from '../helper.js';
import {
  type LogLine,
  ackAll,
  drain,
  drainFrames,
  keptLogger,
  open,
  range,
  sendAll,
  take,
  tempDirs,
} from '../durable-helper.js';

const newDir = tempDirs('stompede-damage-');
const crc32 = (zlib as unknown as { crc32: (data: Uint8Array) => number }).crc32;

/** The segment files of `dir`, oldest first. */
function segments(dir: string): string[] {
  return readdirSync(join(dir, 'journal'))
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, 'journal', f));
}

/** Flip `n` bytes of `path` from `at`. */
function flip(path: string, at: number, n = 8): void {
  const bytes = readFileSync(path);
  for (let i = at; i < at + n; i++) bytes[i] = bytes[i]! ^ 0xa5;
  writeFileSync(path, bytes);
}

/** As after a crash: no clean-shutdown checkpoint, so recovery reads every record. */
function crashed(dir: string): void {
  rmSync(join(dir, 'journal', 'checkpoint'), { force: true });
}

const errors = (logs: readonly LogLine[]): LogLine[] => logs.filter((l) => l.level >= 50);
const problems = (logs: readonly LogLine[]): LogLine[] => logs.filter((l) => l.level >= 40);
function message(text: string): Message {
  return new Message('/queue/x', ['persistent', 'true'], Buffer.from(text), {
    persistent: true,
    priority: 4,
    expires: 0,
  });
}

function store(dir: string, logs: LogLine[] = []): JournalStore {
  return new JournalStore({ dir, logger: keptLogger(logs), fsync: false, compactRate: 1e12 });
}

/** A store on `dir` holding seqs 1..`stored` in queue `key`, of which 1..`removed` removed. */
async function storedThenRemoved(
  dir: string,
  key: string,
  stored: number,
  removed: number,
): Promise<JournalStore> {
  const a = store(dir);
  a.recover();
  for (let seq = 1; seq <= stored; seq++) a.enqueue(key, seq, message(`m${String(seq)}`));
  await a.sync();
  for (let seq = 1; seq <= removed; seq++) a.remove(seq);
  await a.sync();
  return a;
}

/**
 * The reproduction: 200 persistent messages, the first 100 acknowledged, a clean stop,
 * 8 bytes flipped in the record in the middle of the segment.
 */
async function reproduction(): Promise<{ dir: string; seq: number; id: string }> {
  const dir = newDir();
  const a = open(dir);
  const p = await connected(a.broker);
  await sendAll(p, '/queue/r', range(200));
  const got = await take(p, '/queue/r', 200);
  await ackAll(p, got.slice(0, 100));
  await a.broker.close();
  const [path] = segments(dir);
  const middle = statSync(path!).size / 2;
  const rec = inspectSegment(path!).find((r) => r.offset + r.length > middle)!;
  assert.equal(rec.type, 1, 'the middle record is an ENQUEUE');
  flip(path!, rec.payload + Math.floor((rec.length - 20) / 2));
  const id = got.find((f) => f.header('message-id')!.endsWith(`-${String(rec.seqs[0])}`));
  assert.ok(id, 'the damaged record is one of the 200');
  return { dir, seq: rec.seqs[0]!, id: id.header('message-id')! };
}

describe('journal damage', () => {
  for (const how of ['verifyOnStart', 'a crash'] as const) {
    test(`[Recovery] one damaged record costs that record only, reported exactly (restart with ${how})`, async () => {
      const { dir, seq, id } = await reproduction();
      if (how === 'a crash') crashed(dir);
      const b = open(dir, how === 'verifyOnStart' ? { persistence: { verifyOnStart: true } } : {});
      const q = await connected(b.broker);
      const left = await drainFrames(q, '/queue/r');
      const texts = left.map((f) => f.text);
      // No acknowledged message comes back; every live one does but the damaged one.
      const lostText =
        texts.length === 99
          ? range(200)
              .slice(100)
              .find((t) => !texts.includes(t))
          : undefined;
      assert.equal(texts.length, 99, `99 live messages come back, got ${String(texts.length)}`);
      assert.ok(lostText !== undefined);
      assert.deepEqual(
        texts,
        range(200)
          .slice(100)
          .filter((t) => t !== lostText),
      );
      assert.ok(!left.some((f) => f.header('message-id') === id));
      // Reported: which queue, how many, which seq and id.
      const report = errors(b.logs).find(
        (l) => Array.isArray(l.lost) && (l.lost as unknown[]).length > 0,
      );
      assert.ok(report, 'an error names the loss');
      assert.deepEqual(report.lost, [
        { vhost: '/', queue: '/queue/r', messages: 1, seqs: [seq], ids: [id] },
      ]);
      assert.equal(b.broker.metrics.snapshot().journalMessagesLost, 1);
      await b.broker.close();
      // Reported once: the next scan knows it (warn), loses nothing more.
      crashed(dir);
      const c = open(dir);
      assert.deepEqual(errors(c.logs), []);
      assert.ok(c.logs.some((l) => l.level === 40 && l.known === true));
      const r = await connected(c.broker);
      assert.deepEqual(await drain(r, '/queue/r'), []);
      await c.broker.close();
    });
  }

  test('[Recovery] a damaged REMOVE record undoes only the acknowledgements it cannot tell', async () => {
    const dir = newDir();
    const a = await storedThenRemoved(dir, 'q\0/\0/queue/x', 20, 10);
    a.enqueue('q\0/\0/queue/x', 21, message('after'));
    await a.close();
    crashed(dir);
    const [path] = segments(dir);
    const rem = inspectSegment(path!).find((r) => r.type === 2)!;
    assert.deepEqual(
      rem.seqs,
      range(10).map((_, i) => i + 1),
    );
    // Flip the 4th seq (its 8 bytes) of the record.
    flip(path!, rem.payload + 5 + 12 * 3, 8);
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    const r = b.recover();
    const live = r.queues.flatMap((q) => [...q.messages.seqs]);
    assert.deepEqual(live, [4, ...range(11).map((_, i) => i + 11)]);
    const report = errors(logs).find((l) => l.unreadableAcks !== undefined)!;
    assert.equal(report.unreadableAcks, 1);
    assert.equal(report.messagesLost, 0);
    await b.close();
  });

  for (const how of ['verifyOnStart', 'the checkpoint (which no longer matches)'] as const) {
    test(`[Recovery] after a clean stop, damage to the last record is damage, not a torn write (restart with ${how})`, async () => {
      const dir = newDir();
      const a = await storedThenRemoved(dir, 'q\0/\0/queue/x', 20, 10);
      await a.close();
      const [path] = segments(dir);
      const rem = inspectSegment(path!).at(-1)!;
      assert.equal(rem.type, 2, 'the last record is the REMOVE');
      flip(path!, rem.payload + 5 + 12 * 3, 8);
      const logs: LogLine[] = [];
      const counters = new Metrics();
      const b = new JournalStore({
        dir,
        logger: keptLogger(logs),
        fsync: false,
        compactRate: 1e12,
        verifyOnStart: how === 'verifyOnStart',
        counters,
      });
      const r = b.recover();
      assert.deepEqual(
        r.queues.flatMap((q) => [...q.messages.seqs]),
        [4, ...range(10).map((_, i) => i + 11)],
      );
      assert.ok(!logs.some((l) => l.msg.includes('torn write')), 'synced, so not torn');
      const report = errors(logs).find((l) => l.unreadableAcks !== undefined)!;
      assert.equal(report.unreadableAcks, 1);
      assert.equal(counters.journalDamagedRecords, 1);
      await b.close();
    });
  }

  test('[Recovery] records a clean stop synced and now missing (the segment cut short) are reported', async () => {
    const dir = newDir();
    const a = await storedThenRemoved(dir, 'q\0/\0/queue/x', 20, 0);
    await a.close();
    const [path] = segments(dir);
    const recs = inspectSegment(path!);
    const cutAt = recs.at(-2)!.offset;
    const size = statSync(path!).size;
    writeFileSync(path!, readFileSync(path!).subarray(0, cutAt));
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    const r = b.recover();
    assert.deepEqual(
      r.queues.flatMap((q) => [...q.messages.seqs]),
      range(18).map((_, i) => i + 1),
    );
    const report = errors(logs).find((l) => l.unknownBytes !== undefined)!;
    assert.ok(report, 'the missing bytes are reported as damage');
    assert.equal(report.offset, cutAt);
    assert.equal(report.unknownBytes, size - cutAt);
    await b.close();
  });

  test('[Recovery] a segment a clean stop listed and deleted since is reported missing', async () => {
    const dir = newDir();
    const logs0: LogLine[] = [];
    const a = new JournalStore({
      dir,
      logger: keptLogger(logs0),
      fsync: false,
      compactRate: 1e12,
      segmentSize: 8 * 1024,
    });
    a.recover();
    for (let seq = 1; seq <= 30; seq++) a.enqueue('q\0/\0/queue/x', seq, message('x'.repeat(1000)));
    await a.close();
    const files = segments(dir);
    assert.ok(files.length >= 3, `several segments (${String(files.length)})`);
    const second = inspectSegment(files[1]!).flatMap((r) => r.seqs);
    rmSync(files[1]!);
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    const r = b.recover();
    const live = r.queues.flatMap((q) => [...q.messages.seqs]);
    assert.deepEqual(
      live,
      range(30)
        .map((_, i) => i + 1)
        .filter((seq) => !second.includes(seq)),
    );
    const report = errors(logs).find((l) => l.msg.includes('is missing'))!;
    assert.ok(report, 'the missing segment is reported');
    assert.equal(report.segment, 2);
    await b.close();
  });

  test('[Recovery] a torn REMOVE after a crash: the acknowledgements it still tells stand, the others are counted', async () => {
    const dir = newDir();
    const a = await storedThenRemoved(dir, 'q\0/\0/queue/x', 20, 10);
    await a.close();
    crashed(dir);
    const [path] = segments(dir);
    const rem = inspectSegment(path!).at(-1)!;
    assert.equal(rem.type, 2, 'the last record is the REMOVE');
    flip(path!, rem.payload + 5 + 12 * 3, 8);
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    const r = b.recover();
    assert.deepEqual(
      r.queues.flatMap((q) => [...q.messages.seqs]),
      [4, ...range(10).map((_, i) => i + 11)],
    );
    assert.deepEqual(problems(logs), []);
    const torn = logs.find((l) => l.level === 30 && l.msg.includes('torn write'))!;
    assert.ok(torn, 'cut as a torn write, at info');
    assert.equal(torn.unreadableAcks, 1);
    await b.close();
  });

  test('[Recovery] a torn last write is cut and logged at info; nothing is copied aside', async () => {
    const dir = newDir();
    const a = open(dir);
    const p = await connected(a.broker);
    await sendAll(p, '/queue/d', range(50));
    await a.broker.close();
    crashed(dir);
    const [path] = segments(dir);
    const size = statSync(path!).size;
    writeFileSync(path!, readFileSync(path!).subarray(0, size - 10));
    const b = open(dir);
    assert.deepEqual(problems(b.logs), []);
    const torn = b.logs.find((l) => l.level === 30 && l.msg.includes('torn write'));
    assert.ok(torn, 'the torn write is logged at info');
    const q = await connected(b.broker);
    assert.deepEqual(await drain(q, '/queue/d'), range(49));
    await b.broker.close();
    crashed(dir);
    const c = open(dir);
    assert.ok(!c.logs.some((l) => l.msg.includes('torn write')), 'cut once');
    await c.broker.close();
    assert.deepEqual(
      readdirSync(join(dir, 'journal')).filter((f) => f.includes('damaged')),
      [],
    );
  });

  test('[Recovery] zeros after the last record (preallocated, then killed) are the clean end', async () => {
    const dir = newDir();
    const a = open(dir);
    await sendAll(await connected(a.broker), '/queue/d', range(50));
    await a.broker.close();
    crashed(dir);
    const [path] = segments(dir);
    writeFileSync(path!, Buffer.concat([readFileSync(path!), Buffer.alloc(64 * 1024)]));
    const b = open(dir);
    assert.deepEqual(problems(b.logs), []);
    assert.ok(!b.logs.some((l) => l.msg.includes('torn')));
    assert.deepEqual(await drain(await connected(b.broker), '/queue/d'), range(50));
    await b.broker.close();
  });

  test('[Recovery] zeros then other bytes at the end are a torn write (pages written out of order)', async () => {
    const dir = newDir();
    const a = open(dir);
    await sendAll(await connected(a.broker), '/queue/d', range(50));
    await a.broker.close();
    crashed(dir);
    const [path] = segments(dir);
    const junk = Buffer.alloc(4096);
    junk[4000] = 7;
    const before = statSync(path!).size;
    writeFileSync(path!, Buffer.concat([readFileSync(path!), junk]));
    const b = open(dir);
    assert.deepEqual(problems(b.logs), []);
    assert.ok(b.logs.some((l) => l.level === 30 && l.msg.includes('torn write')));
    assert.deepEqual(await drain(await connected(b.broker), '/queue/d'), range(50));
    await b.broker.close();
    assert.ok(statSync(path!).size <= before + 1024, 'the junk was cut');
  });

  test('[Recovery] a damaged segment header: the other copy holds, or the records tell the salt', async () => {
    for (const at of [0, 16]) {
      const dir = newDir();
      const a = open(dir);
      await sendAll(await connected(a.broker), '/queue/h', range(30));
      await a.broker.close();
      crashed(dir);
      flip(segments(dir)[0]!, at, 8);
      const b = open(dir);
      assert.deepEqual(errors(b.logs), []);
      assert.deepEqual(await drain(await connected(b.broker), '/queue/h'), range(30));
      await b.broker.close();
    }
  });

  test('[Recovery] garbage and empty segment files never crash the broker; garbage is moved aside', async () => {
    const dir = newDir();
    const a = open(dir);
    await sendAll(await connected(a.broker), '/queue/g', range(5));
    await a.broker.close();
    writeFileSync(join(dir, 'journal', '0000000100.log'), Buffer.from('not a journal at all'));
    writeFileSync(join(dir, 'journal', '0000000101.log'), Buffer.alloc(0));
    const b = open(dir);
    const error = errors(b.logs).find((l) => l.msg.includes('unreadable header'));
    assert.ok(error, 'the garbage is reported');
    assert.ok(existsSync(join(dir, 'journal', '0000000100.log.damaged')));
    assert.ok(!existsSync(join(dir, 'journal', '0000000101.log')));
    assert.deepEqual(await drain(await connected(b.broker), '/queue/g'), range(5));
    await b.broker.close();
  });

  test('[Recovery] a segment zeroed in the middle of the journal is damage, reported and moved aside', async () => {
    const dir = newDir();
    const a = new JournalStore({
      dir,
      logger: keptLogger([]),
      fsync: false,
      segmentSize: 64 * 1024,
    });
    a.recover();
    for (let seq = 1; seq <= 300; seq++) a.enqueue('q\0/\0/queue/z', seq, message('y'.repeat(500)));
    await a.close();
    crashed(dir);
    const files = segments(dir);
    assert.ok(files.length >= 3);
    const first = inspectSegment(files[0]!).map((r) => r.seqs[0]);
    writeFileSync(files[0]!, Buffer.alloc(statSync(files[0]!).size));
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    const r = b.recover();
    assert.ok(errors(logs).some((l) => l.msg.includes('unreadable header')));
    assert.ok(existsSync(`${files[0]!}.damaged`));
    const live = [...r.queues[0]!.messages.seqs];
    assert.equal(live.length, 300 - first.filter((s) => s !== undefined).length);
    await b.close();
  });

  test('[Recovery] crash after crash with torn tails: no copies pile up beside the journal', async () => {
    const dir = newDir();
    for (let round = 0; round < 4; round++) {
      const a = open(dir);
      await sendAll(await connected(a.broker), '/queue/t', [`r${String(round)}`]);
      await a.broker.close();
      crashed(dir);
      const path = segments(dir).at(-1)!;
      writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('torn-bytes')]));
    }
    const b = open(dir);
    assert.deepEqual(await drain(await connected(b.broker), '/queue/t'), ['r0', 'r1', 'r2', 'r3']);
    await b.broker.close();
    assert.deepEqual(
      readdirSync(join(dir, 'journal')).filter((f) => !/^\d{10}\.log$|^checkpoint$/.test(f)),
      [],
    );
  });

  test('[Recovery] the background verification ends with a summary: what it read, no damage', async () => {
    const dir = newDir();
    const a = await storedThenRemoved(dir, 'q\0/\0/queue/v', 10, 5);
    await a.close();
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    b.recover();
    assert.ok(logs.some((l) => l.msg.startsWith('journal: background verification started')));
    await b.verified();
    const done = logs.find((l) => l.msg.startsWith('journal: background verification done'))!;
    assert.equal(done.level, 30);
    assert.equal(done.segments, 1);
    assert.equal(done.damaged, 0);
    assert.ok((done.bytes as number) > 0);
    assert.deepEqual(problems(logs), []);
    await b.close();
  });

  test('[Recovery] after a checkpoint start, damage is found in the background and does not wait for a crash', async () => {
    const dir = newDir();
    const a = await storedThenRemoved(dir, 'q\0/\0/queue/v', 10, 5);
    // More after it, so that the damage is outside the last 4 KiB the checkpoint checks.
    for (let seq = 11; seq <= 20; seq++)
      a.enqueue('q\0/\0/queue/w', seq, message('x'.repeat(1000)));
    await a.close();
    // Damage the REMOVE record's head: which seqs it removed cannot be told at all.
    const [path] = segments(dir);
    const rem = inspectSegment(path!).find((r) => r.type === 2)!;
    flip(path!, rem.payload, 4);
    const logs: LogLine[] = [];
    const b = store(dir, logs);
    const r = b.recover();
    assert.ok(logs.some((l) => l.from === 'checkpoint'));
    assert.deepEqual(
      [...r.queues.find((q) => q.key === 'q\0/\0/queue/v')!.messages.seqs],
      [6, 7, 8, 9, 10],
    );
    await b.verified();
    assert.ok(errors(logs).some((l) => l.foundBy === 'verification'));
    const done = logs.find((l) => l.msg.startsWith('journal: background verification done'))!;
    assert.equal(done.level, 40, 'its summary is a warning when it found damage');
    assert.equal(done.damaged, 1);
    assert.equal(done.segments, 1);
    await b.close();
    // A crash now: the scan meets the damage, known, and the removals said again.
    crashed(dir);
    const logs2: LogLine[] = [];
    const c = store(dir, logs2);
    const r2 = c.recover();
    assert.deepEqual(
      [...r2.queues.find((q) => q.key === 'q\0/\0/queue/v')!.messages.seqs],
      [6, 7, 8, 9, 10],
    );
    assert.deepEqual(errors(logs2), []);
    assert.ok(logs2.some((l) => l.known === true));
    await c.close();
  });

  test('[Recovery] a journal of format 1 is read and migrated to format 2', async () => {
    const dir = newDir();
    mkdirSync(join(dir, 'journal'), { recursive: true });
    // Format 1: 'STMPJRN1' + u32 number + 4 zeros; records [u32 length][u32 CRC-32][payload].
    const record = (payload: Buffer): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt32LE(payload.length, 0);
      head.writeUInt32LE(crc32(payload), 4);
      return Buffer.concat([head, payload]);
    };
    const str = (s: string): Buffer => {
      const b = Buffer.from(s);
      const n = Buffer.alloc(4);
      n.writeUInt32LE(b.length);
      return Buffer.concat([n, b]);
    };
    const enqueue = (seq: number, body: string): Buffer => {
      const fixed = Buffer.alloc(18);
      fixed[0] = 1;
      fixed.writeDoubleLE(seq, 1);
      fixed[9] = 4;
      fixed.writeDoubleLE(0, 10);
      const headers = Buffer.alloc(4);
      headers.writeUInt32LE(0);
      return record(
        Buffer.concat([fixed, str('q\0/\0/queue/old'), str('/queue/old'), headers, str(body)]),
      );
    };
    const remove = Buffer.alloc(13);
    remove[0] = 2;
    remove.writeUInt32LE(1, 1);
    remove.writeDoubleLE(2, 5);
    const header = Buffer.alloc(16);
    Buffer.from('STMPJRN1', 'latin1').copy(header);
    header.writeUInt32LE(1, 8);
    writeFileSync(
      join(dir, 'journal', '0000000001.log'),
      Buffer.concat([
        header,
        enqueue(1, 'one'),
        enqueue(2, 'two'),
        enqueue(3, 'three'),
        record(remove),
      ]),
    );
    const logs: LogLine[] = [];
    const a = store(dir, logs);
    const r = a.recover();
    assert.deepEqual(errors(logs), []);
    assert.deepEqual(
      r.queues.flatMap((q) => [...q.messages.seqs]),
      [1, 3],
    );
    await a.compacted();
    await a.sync();
    assert.ok(!existsSync(join(dir, 'journal', '0000000001.log')), 'the format-1 segment is gone');
    assert.deepEqual(
      a.load([1, 3]).map((m) => m?.body.toString()),
      ['one', 'three'],
    );
    await a.close();
    const b = store(dir);
    const again = b.recover();
    assert.deepEqual(
      again.queues.flatMap((q) => [...q.messages.seqs]),
      [1, 3],
    );
    assert.deepEqual(
      b.load([1, 3]).map((m) => m?.body.toString()),
      ['one', 'three'],
    );
    await b.close();
  });
});
