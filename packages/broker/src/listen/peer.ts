// The identity a TLS listener proved for a stream (a verified client certificate), handed to the
// broker's security layer without widening ConnectionInfo (which is spread into session logs).
import type { Duplex } from 'node:stream';

/** A verified client certificate. */
export interface ClientCertificate {
  /** The value of the listener's `clientCertUser` subject field; undefined when absent or multi-valued. */
  readonly user: string | undefined;
  /** The subject field it was read from (`CN`, …). */
  readonly field: string;
  /** SHA-256 fingerprint of the certificate. */
  readonly fingerprint256: string;
}

const identities = new WeakMap<Duplex, ClientCertificate>();

/** Record the verified certificate `stream` presented. */
export function setClientCertificate(stream: Duplex, cert: ClientCertificate): void {
  identities.set(stream, cert);
}

/** The verified certificate `stream` presented, if its listener maps certificates to users. */
export function clientCertificateOf(stream: Duplex): ClientCertificate | undefined {
  return identities.get(stream);
}
