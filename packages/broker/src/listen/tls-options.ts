// Validation of a TLS listener's hardening options (called by resolveOptions).
import { StompInvalidArgumentError } from '@stompede/core';
import type { TlsListenerOptions } from './listener-options.js';

/** Protocol versions a TLS listener may require at least. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** Throw naming `where` when `l`'s minVersion, ciphers or clientCertUser is unusable. */
export function checkTls(l: TlsListenerOptions, where: string): void {
  if (l.minVersion !== undefined && !(TLS_VERSIONS as readonly string[]).includes(l.minVersion)) {
    throw new StompInvalidArgumentError(
      `${where}.minVersion must be one of ${TLS_VERSIONS.join(', ')}`,
    );
  }
  if (l.ciphers !== undefined && (typeof l.ciphers !== 'string' || l.ciphers.trim() === '')) {
    throw new StompInvalidArgumentError(`${where}.ciphers must be an OpenSSL cipher list`);
  }
  if (l.clientCertUser !== undefined) {
    if (typeof l.clientCertUser !== 'string' || !/^[A-Za-z][A-Za-z0-9.]*$/.test(l.clientCertUser)) {
      throw new StompInvalidArgumentError(
        `${where}.clientCertUser must name a certificate subject field, such as CN`,
      );
    }
    if (l.caFile === undefined) {
      throw new StompInvalidArgumentError(
        `${where}.clientCertUser needs caFile: the CA that signs client certificates`,
      );
    }
  }
}
