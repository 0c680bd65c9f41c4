// Validation of the admin server's options.
import { StompInvalidArgumentError } from '@stompede/core';
import { InsecureConfigurationError } from '../security/errors.js';
import { type PasswordHash, parsePasswordHash } from '../security/password.js';
import { isLoopback } from '../listen/address.js';
import type { AdminOptions } from '../security/types.js';

/** Admin options after defaults and validation. */
export interface ResolvedAdminOptions {
  readonly host: string;
  readonly port: number;
  /** Basic-auth credentials; undefined: no authentication (loopback only). */
  readonly credentials: { readonly user: string; readonly hash: PasswordHash } | undefined;
  /** Milliseconds between the samples behind rates and charts. */
  readonly sampleInterval: number;
}

/** Default of `admin.sampleInterval`: RabbitMQ's management plugin samples every 5 s too. */
export const DEFAULT_SAMPLE_INTERVAL = 5000;

/** Validate `admin`; undefined when the admin server is off. */
export function resolveAdmin(admin: AdminOptions | undefined): ResolvedAdminOptions | undefined {
  if (admin === undefined) return undefined;
  const host = admin.host ?? '127.0.0.1';
  const port = admin.port ?? 61680;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new StompInvalidArgumentError('admin.port must be a port number (0-65535)');
  }
  if ((admin.user === undefined) !== (admin.password === undefined)) {
    throw new StompInvalidArgumentError('admin.user and admin.password go together');
  }
  const credentials =
    admin.user === undefined || admin.password === undefined
      ? undefined
      : { user: admin.user, hash: parsePasswordHash(admin.password, 'admin.password') };
  if (credentials === undefined && !isLoopback(host)) {
    throw new InsecureConfigurationError(
      `the admin server on ${host} (not loopback) needs admin.user and admin.password`,
    );
  }
  const sampleInterval = admin.sampleInterval ?? DEFAULT_SAMPLE_INTERVAL;
  if (!Number.isSafeInteger(sampleInterval) || sampleInterval < 10) {
    throw new StompInvalidArgumentError(
      'admin.sampleInterval must be a whole number of milliseconds, 10 or more',
    );
  }
  return Object.freeze({ host, port, credentials, sampleInterval });
}
