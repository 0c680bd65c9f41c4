// Certificates for the TLS tests, made with openssl in a temporary directory: a CA, a server
// certificate for 127.0.0.1 it signed, and client certificates with chosen subjects.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, type TLSSocket, connect } from 'node:tls';
import type { ListenerAddress } from '@stompede/broker';
import { Peer } from '../helper.js';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A temporary directory of certificates. */
export class CertDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'stompede-tls-'));
  private serial = 1;

  path(name: string): string {
    return join(this.dir, name);
  }

  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /** A self-signed CA: `NAME.pem`, `NAME.key`. */
  ca(name: string): void {
    openssl([
      'req',
      '-x509',
      ...EC,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      this.path(`${name}.key`),
      '-out',
      this.path(`${name}.pem`),
    ]);
  }

  /**
   * A certificate `NAME.pem` with key `NAME.key` signed by `ca`, with `subject` (`/CN=x/O=y`);
   * `server` adds subjectAltName IP:127.0.0.1.
   */
  leaf(name: string, ca: string, subject: string, server = false): void {
    openssl([
      'req',
      ...EC,
      '-subj',
      subject,
      '-keyout',
      this.path(`${name}.key`),
      '-out',
      this.path(`${name}.csr`),
    ]);
    const ext = this.path(`${name}.ext`);
    writeFileSync(
      ext,
      server
        ? 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
        : 'extendedKeyUsage=clientAuth\n',
    );
    openssl([
      'x509',
      '-req',
      '-in',
      this.path(`${name}.csr`),
      '-CA',
      this.path(`${ca}.pem`),
      '-CAkey',
      this.path(`${ca}.key`),
      '-set_serial',
      String(this.serial++),
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      this.path(`${name}.pem`),
    ]);
  }

  /** A self-signed certificate for 127.0.0.1, `NAME.pem` with key `NAME.key`, EC or RSA. */
  selfSigned(name: string, kind: 'ec' | 'rsa'): void {
    openssl([
      'req',
      '-x509',
      ...(kind === 'ec' ? EC : ['-newkey', 'rsa:2048', '-nodes']),
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      this.path(`${name}.key`),
      '-out',
      this.path(`${name}.pem`),
    ]);
  }

  /** SHA-256 fingerprint of `NAME.pem`, as Node prints it. */
  fingerprint(name: string): string {
    return new X509Certificate(this.read(`${name}.pem`)).fingerprint256;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Open a TLS connection (resolves once the handshake is done, rejects when it fails). */
export function tlsSocket(
  address: ListenerAddress,
  options: ConnectionOptions = {},
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: address.host, port: address.port, ...options }, () => {
      resolve(s);
    });
    s.once('error', reject);
    s.once('close', () => {
      reject(new Error('closed during the handshake'));
    });
  });
}

/** A STOMP peer over a TLS connection. */
export async function tlsPeer(
  address: ListenerAddress,
  options: ConnectionOptions = {},
): Promise<{ peer: Peer; socket: TLSSocket }> {
  const socket = await tlsSocket(address, options);
  return { peer: new Peer(socket), socket };
}
