// Self-signed certificates for the CLI's TLS tests, made with openssl: valid for 127.0.0.1 and
// localhost, so a client that trusts the certificate itself (--tls-ca) verifies the broker.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Key algorithms a test may want: cipher lists differ between them (ECDHE-ECDSA vs ECDHE-RSA). */
export type KeyKind = 'ec' | 'rsa';

/** Write `NAME.pem` and `NAME.key` into `dir`; returns their paths. */
export function selfSigned(
  dir: string,
  name: string,
  kind: KeyKind = 'ec',
): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const newkey =
    kind === 'ec'
      ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
      : ['-newkey', 'rsa:2048'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newkey,
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
