// A TLS listener's files and handshakes explained in an operator's words: which file is unusable
// and why (OpenSSL's own text names none), a cipher list that cannot serve TLS 1.2 with the
// certificate's key type, and why a client's handshake failed.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { getCiphers } from 'node:tls';
import { StompInvalidArgumentError } from '@stompede/core';
import type { TlsListenerOptions } from './listener-options.js';

/** OpenSSL's reason without its `error:0480006C:PEM routines::` prefix. */
function reasonOf(err: unknown): string {
  const e = err as { reason?: unknown; message?: unknown };
  if (typeof e.reason === 'string' && e.reason !== '') return e.reason;
  return String(e.message ?? err).replace(/^error:[0-9A-Fa-f]+:[^:]*:[^:]*:/, '');
}

function invalid(message: string, cause: unknown): StompInvalidArgumentError {
  return new StompInvalidArgumentError(message, { cause });
}

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : reasonOf(err);
    throw invalid(`cannot read the TLS ${what} file ${path}: ${why}`, err);
  }
}

/** The listener's certificate, key and CA files, read and checked one by one. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** The certificate's key type: `rsa`, `ec`, `ed25519`… */
  readonly keyType: string | undefined;
}

/**
 * Read and check the files of `options`; a problem throws an ERR_STOMP_INVALID_ARGUMENT error that
 * names the file and says what is wrong with it.
 */
export async function readTlsFiles(options: TlsListenerOptions): Promise<TlsFiles> {
  const [cert, key, ca] = await Promise.all([
    read(options.certFile, 'certificate'),
    read(options.keyFile, 'key'),
    options.caFile === undefined ? undefined : read(options.caFile, 'CA'),
  ]);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw invalid(`${options.certFile} is not a PEM certificate (${reasonOf(err)})`, err);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    const reason = reasonOf(err);
    const hint = /passphrase|decrypt|interrupted/i.test(reason)
      ? ': keys protected by a passphrase are not supported'
      : '';
    throw invalid(`${options.keyFile} is not a PEM private key (${reason})${hint}`, err);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw invalid(
      `${options.keyFile} is not the key of the certificate ${options.certFile} (they do not match)`,
      undefined,
    );
  }
  if (ca !== undefined && options.caFile !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw invalid(`${options.caFile} is not a PEM CA certificate (${reasonOf(err)})`, err);
    }
  }
  return { cert, key, ca, keyType: x509.publicKey.asymmetricKeyType };
}

/** An error of createSecureContext() after the files were checked: the cipher list's. */
export function contextProblem(options: TlsListenerOptions, err: unknown): Error {
  const reason = reasonOf(err);
  if (options.ciphers !== undefined && /cipher/i.test(reason)) {
    return invalid(`ciphers ${JSON.stringify(options.ciphers)}: ${reason}`, err);
  }
  return invalid(`TLS listener (${options.certFile}, ${options.keyFile}): ${reason}`, err);
}

const KNOWN = new Set(getCiphers().map((c) => c.toUpperCase()));

/**
 * Why `ciphers` cannot serve TLS 1.2 clients with a certificate of `keyType`, or undefined. Only
 * lists of plain cipher names are judged (an alias such as `HIGH` or `!aNULL` could mean
 * anything); TLS 1.3 suites (`TLS_…`) do not depend on the key type.
 */
export function cipherKeyMismatch(
  ciphers: string | undefined,
  minVersion: string,
  keyType: string | undefined,
): string | undefined {
  if (ciphers === undefined || minVersion === 'TLSv1.3') return undefined;
  if (keyType !== 'rsa' && keyType !== 'ec') return undefined;
  const tls12 = ciphers
    .split(/[:, ]+/)
    .filter((c) => c !== '' && !c.startsWith('TLS_'))
    .map((c) => c.toUpperCase());
  if (tls12.length === 0 || tls12.some((c) => !KNOWN.has(c))) return undefined;
  const suits = (c: string): boolean =>
    keyType === 'ec' ? c.includes('ECDSA') : !/ECDSA|PSK|SRP|DSS|ADH|AECDH/.test(c);
  if (tls12.some(suits)) return undefined;
  const kind = keyType === 'ec' ? 'EC' : 'RSA';
  const example =
    keyType === 'ec' ? 'ECDHE-ECDSA-AES128-GCM-SHA256' : 'ECDHE-RSA-AES128-GCM-SHA256';
  return (
    `ciphers has no TLS 1.2 cipher for this certificate's ${kind} key: TLS 1.2 clients will ` +
    `fail the handshake (no shared cipher); add e.g. ${example}, or set minVersion: TLSv1.3`
  );
}

const HANDSHAKE_HINTS: Readonly<Record<string, string>> = {
  ERR_SSL_NO_SHARED_CIPHER:
    "the client offered none of the listener's ciphers (a TLS 1.2 cipher must also suit the certificate's key: ECDHE-RSA-… for RSA, ECDHE-ECDSA-… for EC)",
  ERR_SSL_UNSUPPORTED_PROTOCOL: "the client's TLS versions are all below the listener's minVersion",
  ERR_SSL_NO_PROTOCOLS_AVAILABLE:
    "the client's TLS versions are all below the listener's minVersion",
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    'the listener requires a client certificate (requireClientCert) and the client sent none',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not TLS: a plain STOMP or HTTP client on the TLS port?',
  ERR_SSL_HTTP_REQUEST: 'not TLS: an HTTP client on the TLS port',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the client does not trust the listener's certificate",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the client refused the listener's certificate",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "the client refused the listener's certificate",
};

/**
 * What a failed handshake says to an operator: the reason, a hint, and whether it is worth an
 * info-level line (a peer that hung up mid-handshake, such as a port probe, is not).
 */
export function handshakeFailure(err: unknown): {
  reason: string;
  hint?: string;
  notable: boolean;
} {
  const code = (err as { code?: unknown }).code;
  const reason = reasonOf(err);
  const hint = typeof code === 'string' ? HANDSHAKE_HINTS[code] : undefined;
  const notable = !(code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(reason));
  return { reason, ...(hint === undefined ? {} : { hint }), notable };
}
