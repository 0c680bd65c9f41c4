// `stompede passwd`, the security keys of the config file, and a refused insecure start.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parsePasswordHash, verifyPassword } from '@stompede/broker';
import { parse } from 'yaml';
import { parseConfig } from '../../dist/config/load.js';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

function run(
  args: string[],
  input = '',
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], {
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('stompede passwd', () => {
  it('[Passwords] prints a salted scrypt hash of the first line of a pipe', async () => {
    const r = run(['passwd', '--cost', '1024'], 'open sesame\nignored\n');
    assert.equal(r.status, 0, r.stderr);
    const hash = r.stdout.trim();
    assert.match(hash, /^scrypt\$1024\$8\$1\$/);
    assert.doesNotMatch(r.stdout, /sesame/);
    assert.equal(await verifyPassword('open sesame', parsePasswordHash(hash)), true);
    const again = run(['passwd', '--cost', '1024'], 'open sesame\n').stdout.trim();
    assert.notEqual(again, hash, 'salted');
  });

  it('[Passwords] an empty password or a bad cost is refused', () => {
    assert.equal(run(['passwd'], '\n').status, 1);
    assert.equal(run(['passwd', '--cost', '1000'], 'x\n').status, 2);
  });
});

describe('security configuration', () => {
  it('[Config] security keys are accepted and passed to the broker', () => {
    const config = parseConfig(
      [
        'allowAnonymous: false',
        'maxConnections: 100',
        'maxConnectionsPerAddress: 10',
        'users:',
        '  alice:',
        '    password: "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="',
        '    groups: [ops]',
        'permissions:',
        '  - group: ops',
        '    destinations: ">"',
        '    rights: all',
        'admin:',
        '  port: 0',
      ].join('\n'),
      'broker.yaml',
    );
    assert.equal(config.allowAnonymous, false);
    assert.deepEqual(config.admin, { port: 0 });
    assert.equal(config.permissions?.length, 1);
  });

  it('[Config] a plain-text password is refused with its key and line', () => {
    assert.throws(
      () => parseConfig('port: 1\nusers:\n  bob:\n    password: hunter2\n', 'broker.yaml'),
      (err: Error) =>
        err.message.startsWith('broker.yaml:4: users.bob.password must be a password hash') &&
        !err.message.includes('hunter2'),
    );
    assert.throws(
      () => parseConfig('users:\n  bob:\n    pasword: x\n', 'b.yaml'),
      /b\.yaml:3: users\.bob\.pasword is not a setting/,
    );
    assert.throws(() => parseConfig('admin:\n  prot: 1\n', 'b.yaml'), /b\.yaml:2: admin\.prot/);
    assert.throws(
      () => parseConfig('permissions:\n  - user: a\n    right: all\n', 'b.yaml'),
      /b\.yaml:3: permissions\[0\]\.right is not a setting/,
    );
  });

  it('[Security defaults] a non-loopback --host without users or --allow-anonymous exits 2 and says why', () => {
    const r = run(['broker', '--host', '0.0.0.0', '--port', '0', '--ws-port', '0', '--in-memory']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /0\.0\.0\.0.*allowAnonymous/);
  });

  it('[Security defaults] --print-config shows --allow-anonymous and --admin-port', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stompede-'));
    const file = join(dir, 'b.yaml');
    writeFileSync(file, 'maxConnections: 5\n');
    const r = run([
      'broker',
      '--config',
      file,
      '--allow-anonymous',
      '--admin-port',
      '0',
      '--in-memory',
      '--print-config',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const effective = parse(r.stdout) as Record<string, unknown>;
    assert.equal(effective.maxConnections, 5);
    assert.equal(effective.allowAnonymous, true);
    assert.deepEqual(effective.admin, { port: 0 });
    assert.equal(effective.dataDir, false);
  });
});
