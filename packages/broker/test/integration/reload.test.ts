// Certificate reload (Broker.reloadCertificates, called by `stompede broker` on SIGHUP): open
// connections survive, new ones get the new certificate, and unusable new files are logged and
// the old ones kept.
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type Broker, type ListenerAddress, createBroker } from '@stompede/broker';
import { pino } from 'pino';
import { CertDir, tlsPeer } from './tls-helpers.js';

describe('TLS certificate reload', () => {
  let certs: CertDir;
  let broker: Broker;
  let address: ListenerAddress;
  const logs: { msg: string; level: number }[] = [];
  const install = (name: string): void => {
    copyFileSync(certs.path(`${name}.pem`), certs.path('live.pem'));
    copyFileSync(certs.path(`${name}.key`), certs.path('live.key'));
  };
  const fingerprintSeen = async (): Promise<string> => {
    const { peer, socket } = await tlsPeer(address, { ca: certs.read('ca.pem') });
    const fp = socket.getPeerCertificate().fingerprint256;
    peer.close();
    return fp;
  };

  before(async () => {
    certs = new CertDir();
    certs.ca('ca');
    certs.leaf('old', 'ca', '/CN=old.localhost', true);
    certs.leaf('new', 'ca', '/CN=new.localhost', true);
    install('old');
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line !== '') logs.push(JSON.parse(line) as { msg: string; level: number });
        }
        cb();
      },
    });
    broker = createBroker({
      logger: pino({ level: 'info' }, sink),
      closeTimeout: 500,
      listeners: [
        { protocol: 'tcp', port: 0 },
        {
          protocol: 'tls',
          port: 0,
          certFile: certs.path('live.pem'),
          keyFile: certs.path('live.key'),
        },
      ],
    });
    [, address] = (await broker.listen()) as [ListenerAddress, ListenerAddress];
  });
  after(async () => {
    await broker.close();
    certs.remove();
  });

  test('[TLS reload] a long-lived connection survives a reload; new connections see the new certificate', async () => {
    assert.equal(await fingerprintSeen(), certs.fingerprint('old'));
    const { peer: longLived, socket } = await tlsPeer(address, { ca: certs.read('ca.pem') });
    await longLived.connect();
    await longLived.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/reload' });

    install('new');
    const results = await broker.reloadCertificates();
    assert.deepEqual(results, [
      { url: address.url, reloaded: true, fingerprint256: certs.fingerprint('new') },
    ]);
    assert.equal(await fingerprintSeen(), certs.fingerprint('new'));

    // The old session still works, over the certificate it was made with.
    assert.equal(socket.getPeerCertificate().fingerprint256, certs.fingerprint('old'));
    await longLived.sendSync('SEND', { destination: '/queue/reload' }, 'still here');
    const [m] = await longLived.messages(1);
    assert.equal(m!.text, 'still here');
    assert.equal(broker.connections, 1);
    longLived.close();
    await longLived.ended;
  });

  test('[TLS reload] an unreadable, invalid or mismatched new file is logged and the certificate in use kept', async () => {
    install('new');
    await broker.reloadCertificates();
    const inUse = certs.fingerprint('new');

    writeFileSync(certs.path('live.pem'), 'not a certificate\n');
    let [r] = await broker.reloadCertificates();
    assert.equal(r!.reloaded, false);
    assert.equal(typeof r!.error, 'string');
    assert.equal(r!.fingerprint256, inUse);
    assert.equal(await fingerprintSeen(), inUse);

    // The old certificate with the new key: they do not match.
    copyFileSync(certs.path('old.pem'), certs.path('live.pem'));
    [r] = await broker.reloadCertificates();
    assert.equal(r!.reloaded, false);
    assert.equal(await fingerprintSeen(), inUse);

    copyFileSync(certs.path('new.pem'), certs.path('live.pem'));
    writeFileSync(certs.path('live.key'), '');
    [r] = await broker.reloadCertificates();
    assert.equal(r!.reloaded, false);
    assert.equal(await fingerprintSeen(), inUse);

    const failures = logs.filter((l) => l.msg.startsWith('certificate reload failed'));
    assert.equal(failures.length, 3);
    assert.ok(failures.every((l) => l.level === 50)); // error

    // Good files again: reloaded.
    install('old');
    [r] = await broker.reloadCertificates();
    assert.equal(r!.reloaded, true);
    assert.equal(await fingerprintSeen(), certs.fingerprint('old'));
  });

  test('[TLS reload] a broker without TLS listeners reloads nothing', async () => {
    const plain = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }] });
    await plain.listen();
    assert.deepEqual(await plain.reloadCertificates(), []);
    await plain.close();
  });
});
