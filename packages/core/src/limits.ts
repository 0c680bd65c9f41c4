import { StompInvalidArgumentError } from './errors.js';

/** Size limits the parser enforces. Every violation is a typed error raised before buffering. */
export interface ParserLimits {
  /** Largest frame (command, headers and body) in bytes. */
  readonly maxFrameSize: number;
  /** Largest body in bytes. */
  readonly maxBodySize: number;
  /** Largest command and headers block in bytes. */
  readonly maxHeaderBytes: number;
  /** Longest single header line (or command line) in bytes. */
  readonly maxHeaderLineLength: number;
  /** Most headers in one frame. */
  readonly maxHeaders: number;
}

const MiB = 1024 * 1024;

/**
 * Defaults: generous enough for real traffic (16 MiB bodies with room to spare, long JWT
 * passcodes), small enough that a hostile peer cannot make a process allocate without bound.
 */
export const DEFAULT_LIMITS: ParserLimits = Object.freeze({
  maxFrameSize: 64 * MiB + 256 * 1024,
  maxBodySize: 64 * MiB,
  maxHeaderBytes: 256 * 1024,
  maxHeaderLineLength: 64 * 1024,
  maxHeaders: 1000,
});

/** Merge user limits over the defaults, rejecting anything that is not a positive integer. */
export function resolveLimits(limits: Partial<ParserLimits> | undefined): ParserLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  // A broker hands the same frozen limits to every connection's parser: merge them once, not
  // once per connection. (A frozen object cannot change, so its merged copy cannot go stale.)
  const known = RESOLVED.get(limits);
  if (known !== undefined) return known;
  const merged: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS)) {
    const value = (limits as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new StompInvalidArgumentError(`limits.${key} must be a positive integer`);
    }
    merged[key] = value;
  }
  for (const key of Object.keys(limits)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new StompInvalidArgumentError(`limits.${key} is not a parser limit`);
    }
  }
  const resolved = Object.freeze(merged as unknown as ParserLimits);
  if (Object.isFrozen(limits)) RESOLVED.set(limits, resolved);
  return resolved;
}

const RESOLVED = new WeakMap<Partial<ParserLimits>, ParserLimits>();
