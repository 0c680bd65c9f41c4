// Which `nats-server` the launcher runs (the demo, the tests, CI, the crash script and the
// benchmarks; production runs its own). The release we test against is built once from the Go
// module proxy into the user's cache when Go is installed: nats-server before 2.11 can store a
// retried publish twice across a leader election (docs/cluster.md), and Debian bookworm ships
// 2.9.10. Without Go, a `nats-server` on the PATH (or Debian's package) is used, with a warning
// when it is that old.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The nats-server release the cluster is tested with (built from the Go module proxy). */
export const NATS_SERVER_VERSION = 'v2.15.3';
const MODULE = 'github.com/nats-io/nats-server/v2';
/** The first release whose replicas deduplicate deterministically (nats-server PR 6415). */
const DEDUPE_FIXED: readonly number[] = [2, 11, 0];
/** A build lock older than this is a dead builder's. */
const STALE_LOCK_MS = 10 * 60_000;

/** Where the tested release is cached: `$XDG_CACHE_HOME/stompede/nats-server-VERSION/`. */
export function natsServerCachePath(): string {
  const cache = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  return join(cache, 'stompede', `nats-server-${NATS_SERVER_VERSION}`, 'nats-server');
}

/**
 * Find a `nats-server` binary; throws with advice when there is none.
 *
 * In order: `binary`, then `$NATS_SERVER` (either must run); the cached tested release; with
 * `install`, that release built with Go when `go` runs (once, about a minute); `nats-server` on
 * the PATH; with `install` and root, Debian's package. A server older than 2.11 gets a warning
 * on stderr (once per process).
 */
export function ensureNatsServer(binary?: string, install = true): string {
  const given = binary ?? process.env['NATS_SERVER'];
  if (given !== undefined && given !== '') {
    if (runs(given)) return warnIfOld(given);
    throw new Error(`cannot run ${JSON.stringify(given)} (given as the nats-server binary)`);
  }
  const cached = natsServerCachePath();
  if (runs(cached)) return cached;
  if (install && runs('go', ['version']) && build(cached)) return cached;
  if (runs('nats-server')) return warnIfOld('nats-server');
  if (install && process.getuid?.() === 0 && runs('apt-get', ['-v'])) {
    // Debian bookworm ships 2.9.10; update the lists only when the package is unknown.
    const apt = (args: string[]): boolean =>
      spawnSync('apt-get', args, {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status === 0;
    if (!apt(['install', '-y', '-qq', 'nats-server'])) {
      apt(['update', '-qq']);
      apt(['install', '-y', '-qq', 'nats-server']);
    }
    if (runs('nats-server')) return warnIfOld('nats-server');
  }
  throw new Error(
    `cannot find nats-server: install Go (the launcher then builds nats-server ` +
      `${NATS_SERVER_VERSION} once), or NATS server 2.11 or later ` +
      '(https://github.com/nats-io/nats-server/releases; Debian: apt-get install nats-server, ' +
      'an older 2.9.10), or point $NATS_SERVER at the binary',
  );
}

/** The version `bin --version` prints, as numbers (empty when it prints none). */
export function natsServerVersion(bin: string): number[] {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
  return m === null ? [] : m.slice(1).map(Number);
}

/** True when `bin` is a nats-server before 2.11, with the clustered dedupe gap. */
export function hasDedupeGap(bin: string): boolean {
  const v = natsServerVersion(bin);
  if (v.length === 0) return false;
  for (let i = 0; i < DEDUPE_FIXED.length; i++) {
    if (v[i] !== DEDUPE_FIXED[i]) return (v[i] ?? 0) < (DEDUPE_FIXED[i] ?? 0);
  }
  return false;
}

let warned = false;
function warnIfOld(bin: string): string {
  if (!warned && hasDedupeGap(bin)) {
    warned = true;
    process.stderr.write(
      `stompede: ${bin} is nats-server ${natsServerVersion(bin).join('.')}: before 2.11 a SEND ` +
        'retried across a leader election can be stored twice (docs/cluster.md); ' +
        `${NATS_SERVER_VERSION} is the tested release\n`,
    );
  }
  return bin;
}

/**
 * Build the tested release into `target` with `go install`. Concurrent builders (test files run
 * in parallel) wait for the one holding the lock; each build goes to its own directory and is
 * renamed into place, so a half-written binary is never run.
 */
function build(target: string): boolean {
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (runs(target)) return true;
      const age = lockAge(lock);
      if (age === undefined || age > STALE_LOCK_MS || Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    if (runs(target)) return true;
    process.stderr.write(
      `stompede: building nats-server ${NATS_SERVER_VERSION} with Go, once (into ${dir})\n`,
    );
    const out = mkdtempSync(join(dirname(dir), 'build-'));
    try {
      const r = spawnSync('go', ['install', `${MODULE}@${NATS_SERVER_VERSION}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, GOBIN: out, CGO_ENABLED: '0' },
      });
      const built = join(out, 'nats-server');
      if (r.status !== 0 || !existsSync(built)) {
        process.stderr.write(`stompede: building nats-server failed: ${r.stderr.trim()}\n`);
        return false;
      }
      renameSync(built, target);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    return runs(target);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockAge(lock: string): number | undefined {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return undefined;
  }
}

function runs(bin: string, args = ['--version']): boolean {
  const r = spawnSync(bin, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}
