// The TLS and WebSocket security keys of the config file (tls.minVersion, tls.ciphers,
// tls.clientCertUser, ws.allowedOrigins) and their flags: values checked, errors naming key and line.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../dist/config/load.js';
import { CliError } from '../../dist/cli-error.js';
import { effectiveConfig } from '../../dist/subcommands/broker.js';
import { settingsHelp } from '../../dist/config/effective.js';
import { originAllowed, originPolicy } from '@stompede/broker/internal';

function failure(text: string): string {
  try {
    parseConfig(text, 'broker.yaml');
  } catch (err) {
    assert.ok(err instanceof CliError, `not a CliError: ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

const TLS = 'tls:\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\n';

describe('config file: TLS hardening and WebSocket origins', () => {
  it('reads tls.minVersion, tls.ciphers, tls.clientCertUser and ws.allowedOrigins', () => {
    const config = parseConfig(
      TLS +
        '  minVersion: TLSv1.3\n  ciphers: TLS_AES_128_GCM_SHA256\n  clientCertUser: CN\n' +
        'ws:\n  allowedOrigins: ["https://app.example.com", "*"]\n',
      '/etc/stompede/broker.yaml',
    );
    // Relative paths are relative to the file.
    assert.deepEqual(config.tls, {
      cert: '/etc/stompede/c.pem',
      key: '/etc/stompede/k.pem',
      ca: '/etc/stompede/ca.pem',
      minVersion: 'TLSv1.3',
      ciphers: 'TLS_AES_128_GCM_SHA256',
      clientCertUser: 'CN',
    });
    assert.deepEqual(config.ws, { allowedOrigins: ['https://app.example.com', '*'] });
  });

  it('names the key and line of a bad value', () => {
    assert.match(
      failure(TLS + '  minVersion: SSLv3\n'),
      /^broker\.yaml:5: tls\.minVersion must be one of TLSv1, TLSv1\.1, TLSv1\.2, TLSv1\.3/,
    );
    assert.match(failure(TLS + '  ciphers: ""\n'), /^broker\.yaml:5: tls\.ciphers must be/);
    assert.match(
      failure(TLS + '  clientCertUser: "C N"\n'),
      /^broker\.yaml:5: tls\.clientCertUser must name a certificate subject field/,
    );
    assert.match(
      failure('tls:\n  cert: c.pem\n  key: k.pem\n  clientCertUser: CN\n'),
      /^broker\.yaml:4: tls\.clientCertUser needs tls\.ca/,
    );
    assert.match(
      failure('ws:\n  allowedOrigins: https://app.example.com\n'),
      /^broker\.yaml:2: ws\.allowedOrigins must be a list/,
    );
    assert.match(
      failure(
        'ws:\n  allowedOrigins:\n    - https://ok.example\n    - https://app.example.com/path\n',
      ),
      /^broker\.yaml:4: ws\.allowedOrigins\[1\] must be "\*" or an origin/,
    );
    assert.match(failure(TLS + '  minversion: TLSv1.2\n'), /did you mean minVersion\?/);
  });

  it('accepts a user without password (certificate only)', () => {
    const config = parseConfig('users:\n  sensor:\n    groups: [devices]\n', 'broker.yaml');
    assert.deepEqual(config.users, { sensor: { groups: ['devices'] } });
  });
});

describe('stompede broker flags: TLS hardening and WebSocket origins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-tls-config-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('[WebSocket Origin] --help says what the code accepts by default', () => {
    const help = settingsHelp().replace(/\s+/g, ' ');
    assert.match(
      help,
      /default: clients without Origin, pages from the broker's own host:port, and on a loopback listener pages from any loopback origin\)/,
    );
    const lan = originPolicy(undefined, '0.0.0.0');
    const loopback = originPolicy(undefined, '127.0.0.1');
    // Clients without Origin.
    assert.equal(originAllowed(lan, undefined, 'broker.lan:15674'), true);
    // Pages from the broker's own host:port (and only those, off loopback).
    assert.equal(originAllowed(lan, 'http://broker.lan:15674', 'broker.lan:15674'), true);
    assert.equal(originAllowed(lan, 'http://broker.lan:8080', 'broker.lan:15674'), false);
    assert.equal(originAllowed(lan, 'http://localhost:5173', 'broker.lan:15674'), false);
    // On a loopback listener, any loopback origin; nothing else.
    assert.equal(originAllowed(loopback, 'http://localhost:5173', '127.0.0.1:15674'), true);
    assert.equal(originAllowed(loopback, 'https://app.example.com', '127.0.0.1:15674'), false);
  });

  it('--tls-min-version, --tls-ciphers, --tls-client-cert-user, --ws-allowed-origin', async () => {
    const merged = await effectiveConfig(
      [
        '--tls-cert',
        'c.pem',
        '--tls-key',
        'k.pem',
        '--tls-ca',
        'ca.pem',
        '--tls-client-cert-user',
        'CN',
        '--tls-min-version',
        'TLSv1.3',
        '--tls-ciphers',
        'TLS_AES_128_GCM_SHA256',
        '--ws-allowed-origin',
        'https://a.example',
        '--ws-allowed-origin',
        'https://b.example:8443',
      ],
      {},
    );
    assert.ok(merged !== 'help');
    const { config } = merged;
    // Paths given as flags are relative to the working directory.
    assert.deepEqual(config.tls, {
      port: 61614,
      cert: resolve('c.pem'),
      key: resolve('k.pem'),
      ca: resolve('ca.pem'),
      // Certificates map to users; clients without one may still log in.
      requireClientCert: false,
      minVersion: 'TLSv1.3',
      ciphers: 'TLS_AES_128_GCM_SHA256',
      clientCertUser: 'CN',
    });
    assert.deepEqual(config.ws, {
      port: 15674,
      path: '/ws',
      allowedOrigins: ['https://a.example', 'https://b.example:8443'],
    });
  });

  it('flags override the file and keep its other TLS keys', async () => {
    const file = join(dir, 'broker.yaml');
    writeFileSync(
      file,
      TLS + '  minVersion: TLSv1.3\n  clientCertUser: CN\nws:\n  allowedOrigins: ["*"]\n',
    );
    const merged = await effectiveConfig(
      ['--config', file, '--tls-ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
      {},
    );
    assert.ok(merged !== 'help');
    const { config } = merged;
    assert.ok(config.tls !== undefined);
    assert.equal(config.tls.minVersion, 'TLSv1.3');
    assert.equal(config.tls.clientCertUser, 'CN');
    assert.equal(config.tls.ciphers, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    assert.deepEqual(config.ws !== false && config.ws.allowedOrigins, ['*']);
  });

  it('refuses bad values', async () => {
    const tls = ['--tls-cert', 'c.pem', '--tls-key', 'k.pem'];
    for (const [args, message] of [
      [[...tls, '--tls-min-version', 'TLSv9'], /--tls-min-version must be one of/],
      [
        [...tls, '--tls-client-cert-user', 'CN'],
        /--tls-client-cert-user needs tls\.ca \(--tls-ca\)/,
      ],
      [['--ws-allowed-origin', 'example.com'], /--ws-allowed-origin must be "\*" or an origin/],
    ] as const) {
      await assert.rejects(effectiveConfig(args, {}), (err: Error) => {
        assert.ok(err instanceof CliError);
        assert.match(err.message, message);
        return true;
      });
    }
  });
});
