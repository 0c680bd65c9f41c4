// A full disk for real (issue 19 item 3): the data directory on an 8 MiB tmpfs. Persistent
// SENDs are refused with ERR_STOMP_DISK_FULL below the free-disk limit, consumers still
// acknowledge, the space comes back and SENDs are taken again without a restart, and a start on
// the nearly full disk works. Mounting needs root (CI runs as root); elsewhere the test is
// skipped and says why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Broker } from '@stompede/broker';
import { type Peer, connected } from '../helper.js';
import { open } from '../durable-helper.js';

const KiB = 1024;
const MiB = 1024 * KiB;
let mount: string | undefined;
let why: string | undefined;

before(() => {
  if (process.getuid?.() !== 0) {
    why = 'mounting a tmpfs needs root (CI runs as root)';
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stompede-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    mount = dir;
  } catch (err) {
    why = `cannot mount a tmpfs here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
    rmdirSync(dir);
  }
});

after(() => {
  if (mount === undefined) return;
  try {
    execFileSync('umount', [mount], { stdio: 'pipe' });
  } catch {
    // still busy (a failed test left a file open): detach it now, it goes once closed
    execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
  }
  rmdirSync(mount);
});

const free = (): number => {
  const s = statfsSync(mount!);
  return s.bavail * s.bsize;
};

function broker(dataDir: string): { broker: Broker; logs: { level: number; msg: string }[] } {
  return open(dataDir, { persistence: { diskFreeLimit: 1 * MiB, diskCheckInterval: 100 } });
}

/** Send 32 KiB persistent messages with receipts until one is refused; how many were taken. */
async function fill(b: Broker): Promise<{ taken: number; error: string }> {
  const body = 'x'.repeat(32 * KiB);
  const p = await connected(b);
  for (let taken = 0; ; taken++) {
    p.send(
      'SEND',
      { destination: '/queue/fill', persistent: 'true', receipt: `r${String(taken)}` },
      body,
    );
    const f = await p.next();
    if (f.command === 'ERROR') {
      assert.equal(f.header('receipt-id'), `r${String(taken)}`);
      return { taken, error: f.text };
    }
    assert.equal(f.command, 'RECEIPT');
    assert.ok(taken < 1000, 'refused before the disk is full');
  }
}

async function consumeAll(p: Peer, n: number): Promise<void> {
  p.send('SUBSCRIBE', { destination: '/queue/fill', id: 'c', ack: 'client-individual' });
  const got = await p.messages(n);
  for (const f of got) await p.sendSync('ACK', { id: f.header('ack')! });
}

describe('a full disk, for real (8 MiB tmpfs)', () => {
  test('[Disk] refused below the limit with ERR_STOMP_DISK_FULL; ACKs free the space; SENDs resume by themselves', async (t) => {
    if (mount === undefined) {
      t.skip(why);
      return;
    }
    const dataDir = join(mount, 'a');
    const { broker: b, logs } = broker(dataDir);
    t.after(() => b.close());
    const { taken, error } = await fill(b);
    assert.match(error, /ERR_STOMP_DISK_FULL/);
    assert.ok(taken > 150, `${String(taken)} messages of 32 KiB were taken before`);
    // Seen once under heavy load (a landing run): refused with 0 bytes free, cause unknown; the
    // message says what the broker saw, so a recurrence can be traced.
    assert.ok(
      free() > 256 * KiB && free() < 2 * MiB,
      `refused with ${String(free())} bytes free after ${String(taken)} messages (${error}); ` +
        `the broker read ${String(b.metrics.snapshot().diskFreeBytes)} free; its warnings: ` +
        JSON.stringify(logs.filter((l) => l.level >= 40).map((l) => l.msg)),
    );
    assert.equal(b.metrics.snapshot().diskRefusing, 1);
    assert.ok(logs.some((l) => l.level === 40 && l.msg.includes('below the limit')));
    // Every acknowledgement is taken while the disk is short, and frees it.
    await consumeAll(await connected(b), taken);
    // (1 MiB of it is the reserve: see durability.md)
    assert.ok(free() > 5 * MiB, `space came back: ${String(free())} bytes free`);
    assert.equal(b.metrics.snapshot().diskRefusing, 0);
    const p = await connected(b);
    await p.sendSync('SEND', { destination: '/queue/after', persistent: 'true' }, 'taken again');
    await b.close();
  });

  test('[Disk] a start on the nearly full disk works: same messages, no new segment, ACKs taken', async (t) => {
    if (mount === undefined) {
      t.skip(why);
      return;
    }
    const dataDir = join(mount, 'b');
    const first = broker(dataDir);
    t.after(() => first.broker.close());
    const { taken } = await fill(first.broker);
    await first.broker.close();
    const segments = readdirSync(join(dataDir, 'journal')).filter((f) => f.endsWith('.log'));
    const again = broker(dataDir);
    t.after(() => again.broker.close());
    assert.deepEqual(
      again.logs.filter((l) => l.level >= 50),
      [],
    );
    assert.deepEqual(
      readdirSync(join(dataDir, 'journal')).filter((f) => f.endsWith('.log')),
      segments,
    );
    await consumeAll(await connected(again.broker), taken);
    await again.broker.close();
  });
});
