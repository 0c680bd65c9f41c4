// TLS hardening over real sockets on 127.0.0.1: minimum protocol version, cipher list, and
// client certificates mapped to users (whose permissions then apply). Certificates are made with
// openssl (tls-helpers.ts).
import assert from 'node:assert/strict';
import { ErrorCode } from '@stompede/core';
import { after, before, describe, test } from 'node:test';
import {
  type Broker,
  type BrokerOptions,
  type ListenerAddress,
  createBroker,
} from '@stompede/broker';
import { CertDir, tlsPeer, tlsSocket } from './tls-helpers.js';

const FAST = { N: 1024, r: 8, p: 1 };

let certs: CertDir;
before(() => {
  certs = new CertDir();
  certs.ca('ca');
  certs.ca('rogue');
  certs.leaf('server', 'ca', '/CN=localhost', true);
  certs.leaf('producer', 'ca', '/CN=producer/O=Stompede');
  certs.leaf('stranger', 'ca', '/CN=stranger');
  certs.leaf('mailed', 'ca', '/CN=Carol Consumer/emailAddress=carol@example.com');
  certs.leaf('forged', 'rogue', '/CN=producer');
});
after(() => {
  certs.remove();
});

const open: Broker[] = [];
after(async () => {
  await Promise.all(open.map((b) => b.close()));
});

/** A broker with one TLS listener on port 0 serving the CA-signed server certificate. */
async function tlsBroker(
  listener: Record<string, unknown> = {},
  options: BrokerOptions = {},
): Promise<ListenerAddress> {
  const broker = createBroker({
    errorLinger: 100,
    closeTimeout: 500,
    ...options,
    listeners: [
      {
        protocol: 'tls',
        port: 0,
        certFile: certs.path('server.pem'),
        keyFile: certs.path('server.key'),
        ...listener,
      },
    ],
  });
  open.push(broker);
  const [address] = (await broker.listen()) as [ListenerAddress];
  return address;
}

/** Client options: trust our CA, present `cert` (a name in the CertDir). */
function client(cert?: string): { ca: Buffer; cert?: Buffer; key?: Buffer } {
  return {
    ca: certs.read('ca.pem'),
    ...(cert === undefined
      ? {}
      : { cert: certs.read(`${cert}.pem`), key: certs.read(`${cert}.key`) }),
  };
}

/** TLS 1.0/1.1 are only offered by OpenSSL 3 at security level 0. */
const TLS11_ONLY = {
  minVersion: 'TLSv1.1',
  maxVersion: 'TLSv1.1',
  ciphers: 'DEFAULT@SECLEVEL=0',
} as const;

describe('TLS protocol version and ciphers', () => {
  test('[TLS minVersion] the default is TLSv1.2: a TLSv1.1-only client is refused, a TLSv1.2 one served', async () => {
    const address = await tlsBroker();
    await assert.rejects(tlsSocket(address, { ...client(), ...TLS11_ONLY }), (err: Error) => {
      assert.match(
        String((err as { code?: string }).code),
        /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/,
      );
      return true;
    });
    const { peer, socket } = await tlsPeer(address, { ...client(), maxVersion: 'TLSv1.2' });
    assert.equal(socket.getProtocol(), 'TLSv1.2');
    await peer.connect();
    peer.close();
  });

  test('[TLS minVersion] the same TLSv1.1 client is served when minVersion allows it (the refusal above is the version)', async () => {
    const address = await tlsBroker({ minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const { peer, socket } = await tlsPeer(address, { ...client(), ...TLS11_ONLY });
    assert.equal(socket.getProtocol(), 'TLSv1.1');
    await peer.connect();
    peer.close();
  });

  test('[TLS minVersion] TLSv1.3 refuses a TLSv1.2-only client', async () => {
    const address = await tlsBroker({ minVersion: 'TLSv1.3' });
    await assert.rejects(tlsSocket(address, { ...client(), maxVersion: 'TLSv1.2' }));
    const { peer, socket } = await tlsPeer(address, client());
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    peer.close();
  });

  test('[TLS ciphers] only the configured ciphers are negotiated; a client offering none is refused', async () => {
    const address = await tlsBroker({
      ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    const v13 = await tlsPeer(address, client());
    assert.equal(v13.socket.getProtocol(), 'TLSv1.3');
    assert.equal(v13.socket.getCipher().name, 'TLS_AES_128_GCM_SHA256');
    await v13.peer.connect();
    v13.peer.close();
    const v12 = await tlsPeer(address, { ...client(), maxVersion: 'TLSv1.2' });
    assert.equal(v12.socket.getCipher().name, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    v12.peer.close();
    await assert.rejects(
      tlsSocket(address, {
        ...client(),
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      }),
    );
    await assert.rejects(tlsSocket(address, { ...client(), ciphers: 'TLS_AES_256_GCM_SHA384' }));
  });

  test('[TLS options] bad minVersion, empty ciphers, clientCertUser without caFile are refused', () => {
    const base = { protocol: 'tls', port: 0, certFile: 'c.pem', keyFile: 'k.pem' } as const;
    const bad: Record<string, unknown>[] = [
      { minVersion: 'SSLv3' },
      { ciphers: ' ' },
      { clientCertUser: 'CN' },
      { clientCertUser: '', caFile: 'ca.pem' },
    ];
    for (const extra of bad) {
      assert.throws(
        () => createBroker({ listeners: [{ ...base, ...extra }] }),
        (err: Error) => (err as { code?: string }).code === 'ERR_STOMP_INVALID_ARGUMENT',
        JSON.stringify(extra),
      );
    }
  });
});

describe('TLS client certificates mapped to users', () => {
  const cert = { caFile: '', clientCertUser: 'CN' };
  before(() => {
    cert.caFile = certs.path('ca.pem');
  });
  /** producer: SEND to /queue/in (and create it) but not SUBSCRIBE; anonymous: read only. */
  async function secured(
    extra: BrokerOptions = {},
    listener: Record<string, unknown> = {},
  ): Promise<ListenerAddress> {
    const { hashPassword } = await import('@stompede/broker');
    return tlsBroker(
      { ...cert, ...listener },
      {
        users: {
          producer: {}, // no password: certificate only
          carol: { password: await hashPassword('c4rol', FAST) },
          'carol@example.com': { groups: ['mail'] },
        },
        permissions: [
          { user: 'producer', destinations: '/queue/in', rights: ['write', 'create'] },
          { user: 'anonymous', destinations: '>', rights: ['read', 'create'] },
          { group: 'mail', destinations: '/queue/mail', rights: 'all' },
        ],
        allowAnonymous: false,
        ...extra,
      },
    );
  }

  test('[TLS clientCertUser] the certificate CN is the user: it may SEND but not SUBSCRIBE', async () => {
    const address = await secured();
    const { peer } = await tlsPeer(address, client('producer'));
    await peer.connect();
    await peer.sendSync('SEND', { destination: '/queue/in' }, 'from a certificate');
    peer.send('SUBSCRIBE', { id: '1', destination: '/queue/in', receipt: 's' });
    const error = await peer.error(ErrorCode.FORBIDDEN);
    assert.match(
      error.header('message') ?? '',
      /user "producer" has no read permission on \/queue\/in/,
    );
    await peer.ended;
  });

  test('[TLS clientCertUser] a certificate naming no user is refused when anonymous access is not allowed', async () => {
    const address = await secured();
    const { peer } = await tlsPeer(address, client('stranger'));
    peer.send('CONNECT', { 'accept-version': '1.2', host: '/' });
    const error = await peer.error(ErrorCode.AUTHENTICATION_FAILED);
    assert.match(error.header('message') ?? '', /client certificate CN="stranger" is not a user/);
    assert.match(error.text, /ERR_STOMP_AUTHENTICATION_FAILED/);
    await peer.ended;
  });

  test('[TLS clientCertUser] with anonymous access allowed, such a certificate is an anonymous session', async () => {
    const address = await secured({ allowAnonymous: true });
    const { peer } = await tlsPeer(address, client('stranger'));
    await peer.connect();
    await peer.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/anon' });
    peer.send('SEND', { destination: '/queue/anon' }, 'x');
    const error = await peer.error(ErrorCode.FORBIDDEN);
    assert.match(error.header('message') ?? '', /anonymous clients have no write permission/);
  });

  test('[TLS clientCertUser] a login naming another user than the certificate is refused; the same user is accepted', async () => {
    const address = await secured();
    const a = (await tlsPeer(address, client('producer'))).peer;
    a.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'carol', passcode: 'c4rol' });
    assert.match(
      (await a.error(ErrorCode.AUTHENTICATION_FAILED)).header('message') ?? '',
      /"carol" is not the user of the client certificate \("producer"\)/,
    );
    const b = (await tlsPeer(address, client('producer'))).peer;
    await b.connect({ 'accept-version': '1.2', host: '/', login: 'producer', passcode: '' });
    await b.sendSync('SEND', { destination: '/queue/in' }, 'y');
    b.close();
  });

  test('[TLS clientCertUser] a certificate from another CA is refused; no certificate falls back to login/passcode', async () => {
    const address = await secured();
    const forged = (await tlsPeer(address, client('forged'))).peer;
    forged.send('CONNECT', { 'accept-version': '1.2', host: '/' });
    await forged.ended;
    assert.equal(forged.frames.length, 0);
    const none = (await tlsPeer(address, client())).peer;
    none.send('CONNECT', { 'accept-version': '1.2', host: '/' });
    assert.match(
      (await none.error(ErrorCode.AUTHENTICATION_FAILED)).header('message') ?? '',
      /authentication required/,
    );
    const carol = (await tlsPeer(address, client())).peer;
    await carol.connect({ 'accept-version': '1.2', host: '/', login: 'carol', passcode: 'c4rol' });
    carol.close();
  });

  test('[TLS clientCertUser] a user without password cannot log in with a passcode', async () => {
    const address = await secured();
    const p = (await tlsPeer(address, client())).peer;
    p.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'producer', passcode: '' });
    assert.match(
      (await p.error(ErrorCode.AUTHENTICATION_FAILED)).header('message') ?? '',
      /unknown login or wrong passcode/,
    );
  });

  test('[TLS clientCertUser] another subject field (emailAddress) can name the user', async () => {
    const address = await secured({}, { clientCertUser: 'emailAddress' });
    const { peer } = await tlsPeer(address, client('mailed'));
    await peer.connect();
    await peer.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/mail' });
    await peer.sendSync('SEND', { destination: '/queue/mail' }, 'post');
    const [m] = await peer.messages(1);
    assert.equal(m!.text, 'post');
    peer.close();
  });

  test('[TLS requireClientCert] with clientCertUser, a client without certificate is refused at the handshake', async () => {
    const address = await secured({}, { requireClientCert: true });
    const { peer } = await tlsPeer(address, client()).catch(() => ({ peer: undefined }));
    // TLS 1.3: the server checks the client certificate after the client's handshake ends.
    if (peer !== undefined) {
      peer.send('CONNECT', { 'accept-version': '1.2', host: '/' });
      await peer.ended;
      assert.equal(peer.frames.length, 0);
    }
    const ok = (await tlsPeer(address, client('producer'))).peer;
    await ok.connect();
    ok.close();
  });
});
