// Where a connection came from: what the listener reported (transport, remote address) and the
// identity a TLS listener proved for the stream (a verified client certificate), handed to the
// broker's security layer without widening ConnectionInfo (which is spread into session logs).
import type { Duplex } from 'node:stream';
import { addressOf } from './address.js';

/** Where a connection came from (for logs). */
export interface ConnectionInfo {
  /** `tcp`, `tls`, `ws` or whatever the caller of `handle()` says. */
  readonly transport?: string;
  /** The peer's address. */
  readonly remoteAddress?: string;
}

/** A verified client certificate. */
export interface ClientCertificate {
  /** The value of the listener's `clientCertUser` subject field; undefined when absent or multi-valued. */
  readonly user: string | undefined;
  /** The subject field it was read from (`CN`, …). */
  readonly field: string;
  /** SHA-256 fingerprint of the certificate. */
  readonly fingerprint256: string;
}

/** Everything known about a connection's other end when it is accepted. */
export interface Peer {
  /** What the listener reported. */
  readonly info: ConnectionInfo;
  /** The address part of `info.remoteAddress` (`local` for in-memory streams). */
  readonly address: string;
  /** The verified client certificate, on listeners that map certificates to users. */
  readonly cert: ClientCertificate | undefined;
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

/** What is known of the other end of `stream`, accepted with `info`. */
export function peerOf(stream: Duplex, info: ConnectionInfo): Peer {
  return Object.freeze({
    info,
    address: addressOf(info.remoteAddress),
    cert: clientCertificateOf(stream),
  });
}
