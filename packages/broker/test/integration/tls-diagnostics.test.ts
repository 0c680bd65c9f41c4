// A TLS listener explains itself: an unusable certificate, key or CA file is named with what is
// wrong with it (not OpenSSL's bare text), a cipher list that cannot serve TLS 1.2 with the
// certificate's key type is reported at start, and a failed handshake is logged at info level
// with its reason. Certificates are made with openssl (tls-helpers.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type Broker, createBroker, type TlsListenerOptions } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { pino } from 'pino';
import { CertDir, tlsSocket } from './tls-helpers.js';

let certs: CertDir;
before(() => {
  certs = new CertDir();
  certs.selfSigned('ec', 'ec');
  certs.selfSigned('rsa', 'rsa');
  writeFileSync(certs.path('garbage.pem'), 'not a certificate\n');
});
after(() => {
  certs.remove();
});

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  hint?: string;
  remoteAddress?: string;
}

/** A broker with one TLS listener and a logger whose lines the test reads. */
async function start(listener: Partial<TlsListenerOptions>): Promise<{
  broker: Broker;
  logs: LogLine[];
  port: number;
}> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const broker = createBroker({
    logger: pino({ level: 'info' }, sink),
    listeners: [
      {
        protocol: 'tls',
        port: 0,
        certFile: certs.path('rsa.pem'),
        keyFile: certs.path('rsa.key'),
        ...listener,
      },
    ],
  });
  const [address] = await broker.listen();
  return { broker, logs, port: address!.port };
}

async function refusal(listener: Partial<TlsListenerOptions>): Promise<Error> {
  const broker = createBroker({
    listeners: [{ protocol: 'tls', port: 0, certFile: '', keyFile: '', ...listener }],
  });
  try {
    await broker.listen();
  } catch (err) {
    return err as Error;
  } finally {
    await broker.close();
  }
  assert.fail('the listener started');
}

describe('TLS listener diagnostics', () => {
  test('[TLS files] an unusable file is named, with what is wrong and the error code', async () => {
    const ec = { certFile: certs.path('ec.pem'), keyFile: certs.path('ec.key') };
    const cases: [Partial<TlsListenerOptions>, RegExp][] = [
      [{ ...ec, certFile: certs.path('garbage.pem') }, /garbage\.pem is not a PEM certificate/],
      [{ ...ec, keyFile: certs.path('garbage.pem') }, /garbage\.pem is not a PEM private key/],
      [
        { ...ec, keyFile: certs.path('rsa.key') },
        /rsa\.key is not the key of the certificate .*ec\.pem/,
      ],
      [{ ...ec, caFile: certs.path('garbage.pem') }, /garbage\.pem is not a PEM CA certificate/],
      [
        { ...ec, certFile: certs.path('missing.pem') },
        /cannot read the TLS certificate file .*missing\.pem: ENOENT/,
      ],
      [{ ...ec, ciphers: 'NO-SUCH-CIPHER' }, /ciphers "NO-SUCH-CIPHER": no cipher match/],
    ];
    for (const [listener, message] of cases) {
      const err = await refusal(listener);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /^error:[0-9A-F]+:/);
      assert.equal((err as { code?: string }).code, ErrorCode.INVALID_ARGUMENT);
    }
  });

  test('[TLS ciphers] an ECDSA-only TLS 1.2 list with an RSA certificate is reported at start, and its handshakes are logged at info', async () => {
    const { broker, logs, port } = await start({
      ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    try {
      const warning = logs.find((l) => l.level === 40);
      assert.match(warning?.msg ?? '', /no TLS 1\.2 cipher for this certificate's RSA key/);
      // A TLS 1.2 client: no cipher in common.
      await assert.rejects(
        tlsSocket(
          { protocol: 'tls', host: '127.0.0.1', port, url: '' },
          { rejectUnauthorized: false, maxVersion: 'TLSv1.2' },
        ),
      );
      await waitFor(() => logs.some((l) => l.msg === 'tls handshake failed'));
      const failed = logs.find((l) => l.msg === 'tls handshake failed')!;
      assert.equal(failed.level, 30, 'info');
      assert.match(failed.reason ?? '', /no shared cipher/);
      assert.match(failed.hint ?? '', /ECDHE-RSA-/);
      assert.match(failed.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);
      // TLS 1.3 still works.
      const s = await tlsSocket(
        { protocol: 'tls', host: '127.0.0.1', port, url: '' },
        { rejectUnauthorized: false },
      );
      s.destroy();
    } finally {
      await broker.close();
    }
  });

  test('[TLS ciphers] the documented list (security.md) serves TLS 1.2 with an RSA or an EC certificate', async () => {
    const ciphers =
      'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256';
    for (const name of ['rsa', 'ec']) {
      const { broker, logs, port } = await start({
        ciphers,
        certFile: certs.path(`${name}.pem`),
        keyFile: certs.path(`${name}.key`),
      });
      try {
        assert.equal(logs.filter((l) => l.level >= 40).length, 0, JSON.stringify(logs));
        const s = await tlsSocket(
          { protocol: 'tls', host: '127.0.0.1', port, url: '' },
          { rejectUnauthorized: false, maxVersion: 'TLSv1.2' },
        );
        assert.equal(s.getProtocol(), 'TLSv1.2');
        s.destroy();
      } finally {
        await broker.close();
      }
    }
  });
});

/** Poll `check` until it holds (the log line follows the client's failure by a few ticks). */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
