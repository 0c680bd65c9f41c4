// Salted password hashes with scrypt (node:crypto), in a self-describing text format:
//   scrypt$N$r$p$SALT$HASH      (SALT and HASH in base64, HASH 32 bytes)
// The cost parameters travel with each hash, so they can be raised without invalidating old ones.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { StompInvalidArgumentError } from '@stompede/core';

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. Default 16384 (2^14). */
  readonly N: number;
  /** Block size. Default 8. */
  readonly r: number;
  /** Parallelism. Default 1. */
  readonly p: number;
}

/** The default cost: about 16 MiB and tens of milliseconds per hash. */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 16384, r: 8, p: 1 });

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

/** A parsed hash. */
export interface PasswordHash extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      {
        N: params.N,
        r: params.r,
        p: params.p,
        maxmem: 256 * params.N * params.r * params.p + (1 << 20),
      },
      (err, key) => {
        if (err === null) resolve(key);
        else reject(err);
      },
    );
  });
}

/** Hash `password` with a fresh random salt; returns `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  checkParams(params, 'params');
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params);
  return `scrypt$${String(params.N)}$${String(params.r)}$${String(params.p)}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function checkParams(params: ScryptParams, where: string): void {
  const { N, r, p } = params;
  // Bounded so that a configuration cannot make one login cost seconds or gigabytes.
  if (!Number.isSafeInteger(N) || N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0) {
    throw new StompInvalidArgumentError(`${where}: N must be a power of two from 2 to 2^20`);
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) {
    throw new StompInvalidArgumentError(`${where}: r must be an integer from 1 to 32`);
  }
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) {
    throw new StompInvalidArgumentError(`${where}: p must be an integer from 1 to 16`);
  }
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parse a stored hash, or throw `ERR_STOMP_INVALID_ARGUMENT` saying what is wrong (never echoing
 * the value, which might be a plain-text password pasted by mistake).
 */
export function parsePasswordHash(text: string, where = 'password'): PasswordHash {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    throw new StompInvalidArgumentError(
      `${where} must be a hash "scrypt$N$r$p$salt$hash" (make one with: stompede passwd), not a plain-text password`,
    );
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  checkParams(params, where);
  if (!B64.test(salt) || !B64.test(hash)) {
    throw new StompInvalidArgumentError(`${where}: salt and hash must be base64`);
  }
  const s = Buffer.from(salt, 'base64');
  const h = Buffer.from(hash, 'base64');
  if (s.length < 8 || h.length < 16) {
    throw new StompInvalidArgumentError(`${where}: salt or hash too short`);
  }
  return { ...params, salt: s, hash: h };
}

/** True when `password` matches `stored`. Takes the same time whether or not it matches. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const key = await derive(password, stored.salt, stored);
  const expected = stored.hash;
  // Key and hash lengths differ only for hashes made elsewhere; compare equal-length buffers.
  if (key.length !== expected.length) {
    timingSafeEqual(key, key);
    return false;
  }
  return timingSafeEqual(key, expected);
}

/** A hash no password matches, with `params`: verified against when a login names no user. */
export function dummyHash(params: ScryptParams = DEFAULT_SCRYPT): PasswordHash {
  return { ...params, salt: randomBytes(SALT_LENGTH), hash: randomBytes(KEY_LENGTH) };
}
