// Which nats-server the launcher runs: the one given (as an argument or $NATS_SERVER) must run;
// a server before 2.11 is known to have the clustered dedupe gap (docs/cluster.md). Fake
// binaries (shell scripts printing a version) stand in for real servers.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureNatsServer, hasDedupeGap } from '@stompede/cluster';

const dir = mkdtempSync(join(tmpdir(), 'stompede-nats-binary-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fake(name: string, version: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "nats-server: ${version}"\n`);
  chmodSync(path, 0o755);
  return path;
}

test('servers before 2.11 have the dedupe gap; 2.11 and later do not', () => {
  assert.equal(hasDedupeGap(fake('a', 'v2.9.10')), true);
  assert.equal(hasDedupeGap(fake('b', 'v2.10.29')), true);
  assert.equal(hasDedupeGap(fake('c', 'v2.11.0')), false);
  assert.equal(hasDedupeGap(fake('d', 'v2.15.3')), false);
  assert.equal(hasDedupeGap(fake('e', 'v3.0.0')), false);
  assert.equal(hasDedupeGap(fake('f', 'a development build')), false, 'unknown: no claim');
});

test('a binary given as the argument is used as given, and must run', () => {
  const given = fake('given', 'v2.15.3');
  assert.equal(ensureNatsServer(given, false), given);
  assert.throws(() => ensureNatsServer(join(dir, 'missing'), false), /cannot run .*missing/);
});

test('$NATS_SERVER names the binary when no argument does', () => {
  const before = process.env['NATS_SERVER'];
  const given = fake('from-env', 'v2.15.3');
  process.env['NATS_SERVER'] = given;
  try {
    assert.equal(ensureNatsServer(undefined, false), given);
  } finally {
    if (before === undefined) delete process.env['NATS_SERVER'];
    else process.env['NATS_SERVER'] = before;
  }
});
