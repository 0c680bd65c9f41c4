// The data directory's LOCK file: one broker per directory, and a lock left by a process that
// died (kill -9, a crash) does not keep the broker from starting again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { memoryBroker } from '../helper.js';

const root = mkdtempSync(join(tmpdir(), 'stompede-lock-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function dirWithLock(name: string, pid: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'LOCK'), `${String(pid)}\n`);
  return dir;
}

describe('data directory lock', () => {
  test('[Durability] a LOCK of a process that has exited is taken over', async () => {
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    const dir = dirWithLock('stale', exited);
    const broker = memoryBroker({ dataDir: dir });
    assert.equal(readFileSync(join(dir, 'LOCK'), 'utf8').trim(), String(process.pid));
    await broker.close();
  });

  test('[Durability] a LOCK of a running process is respected and named', () => {
    const dir = dirWithLock('live', process.ppid);
    assert.throws(() => memoryBroker({ dataDir: dir }), {
      code: 'ERR_STOMP_INVALID_ARGUMENT',
      message: new RegExp(`in use by process ${String(process.ppid)}`),
    });
  });

  test('[Durability] a garbled LOCK is treated as stale', async () => {
    const dir = join(root, 'garbled');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'LOCK'), 'not a pid');
    const broker = memoryBroker({ dataDir: dir });
    await broker.close();
  });
});
