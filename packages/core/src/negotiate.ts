// Protocol negotiation: the version both peers speak, and the heart-beat periods each side keeps.
// Pure functions; the spec sections are "Protocol Negotiation" and "Heart-beating" (1.1, 1.2).
import { ErrorCode, StompProtocolError } from './errors.js';
import { SUPPORTED_VERSIONS, type StompVersion, isStompVersion } from './version.js';

/**
 * A `heart-beat` header's two numbers, in milliseconds: what the sender of the frame can send
 * (0 = none) and what it would like to receive (0 = none).
 */
export type HeartBeat = readonly [canSend: number, wantReceive: number];

/** The heart-beat periods one side keeps once both `heart-beat` headers are known. */
export interface NegotiatedHeartBeat {
  /** Milliseconds between the beats (or frames) this side must send; 0 = it sends none. */
  readonly send: number;
  /**
   * Milliseconds within which this side expects data from the peer; 0 = it checks nothing. Allow
   * an error margin before declaring the peer dead, as the spec asks.
   */
  readonly receive: number;
}

/** `heart-beat:0,0`: no beats either way (also what a missing header means). */
export const NO_HEART_BEAT: HeartBeat = Object.freeze([0, 0] as const);

// Order in which versions rank, lowest first.
const RANK: Readonly<Record<StompVersion, number>> = { '1.0': 0, '1.1': 1, '1.2': 2 };

/**
 * The version a session will speak: the highest version in a CONNECT frame's `accept-version`
 * header that is also in `supported`. A missing header means a client that speaks only 1.0.
 * Entries are comma separated; spaces around them are tolerated and unknown versions (`2.0`)
 * ignored. Returns `undefined` when there is no common version (the server must then answer
 * with an ERROR frame and close).
 *
 * @param acceptVersion - the `accept-version` header, or `undefined` when the frame has none
 * @param supported - versions this side speaks; default every version this library speaks
 */
export function negotiateVersion(
  acceptVersion: string | undefined,
  supported: readonly StompVersion[] = SUPPORTED_VERSIONS,
): StompVersion | undefined {
  const offered = acceptVersion === undefined ? ['1.0'] : acceptVersion.split(',');
  let best: StompVersion | undefined;
  for (const entry of offered) {
    const version = entry.trim();
    if (!isStompVersion(version) || !supported.includes(version)) continue;
    if (best === undefined || RANK[version] > RANK[best]) best = version;
  }
  return best;
}

/**
 * The versions in an `accept-version` header that this library knows, highest first (a missing
 * header means `['1.0']`).
 */
export function acceptedVersions(acceptVersion: string | undefined): StompVersion[] {
  const offered = acceptVersion === undefined ? ['1.0'] : acceptVersion.split(',');
  const known = new Set<StompVersion>();
  for (const entry of offered) {
    const version = entry.trim();
    if (isStompVersion(version)) known.add(version);
  }
  return [...known].sort((a, b) => RANK[b] - RANK[a]);
}

/**
 * The `accept-version` value offering `versions`: lowest first, as the spec's examples
 * ("incrementing" versions), without duplicates.
 */
export function formatAcceptVersion(versions: readonly StompVersion[]): string {
  return [...new Set(versions)].sort((a, b) => RANK[a] - RANK[b]).join(',');
}

/**
 * Parse a `heart-beat` header value, `<cx>,<cy>`: two non-negative integers in milliseconds. A
 * missing header is `[0, 0]`. Spaces around either number are tolerated (some clients send
 * `10000, 10000`).
 *
 * @throws StompProtocolError `ERR_STOMP_INVALID_HEARTBEAT` for anything else: one number, three,
 * a sign, a fraction, an empty part, or a value beyond `Number.MAX_SAFE_INTEGER`.
 */
export function parseHeartBeat(value: string | undefined): HeartBeat {
  if (value === undefined) return NO_HEART_BEAT;
  const comma = value.indexOf(',');
  if (comma >= 0 && value.indexOf(',', comma + 1) < 0) {
    const canSend = parseMillis(value.slice(0, comma));
    const wantReceive = parseMillis(value.slice(comma + 1));
    if (canSend !== undefined && wantReceive !== undefined) return [canSend, wantReceive];
  }
  throw new StompProtocolError(
    ErrorCode.INVALID_HEARTBEAT,
    `invalid heart-beat header ${JSON.stringify(value)}: expected two non-negative integers ` +
      'separated by a comma, e.g. "10000,10000"',
    { header: 'heart-beat' },
  );
}

function parseMillis(text: string): number | undefined {
  const digits = text.trim();
  if (digits.length === 0) return undefined;
  for (let i = 0; i < digits.length; i++) {
    const code = digits.charCodeAt(i);
    if (code < 48 || code > 57) return undefined;
  }
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The `heart-beat` header value for `heartBeat`. Throws for negative or non-integer numbers. */
export function formatHeartBeat(heartBeat: HeartBeat): string {
  checkHeartBeat(heartBeat);
  return `${heartBeat[0]},${heartBeat[1]}`;
}

/** Throw `ERR_STOMP_INVALID_HEARTBEAT` unless both numbers are non-negative safe integers. */
function checkHeartBeat(heartBeat: HeartBeat): void {
  const [canSend, wantReceive] = heartBeat;
  if (
    !Number.isSafeInteger(canSend) ||
    !Number.isSafeInteger(wantReceive) ||
    canSend < 0 ||
    wantReceive < 0
  ) {
    throw new StompProtocolError(
      ErrorCode.INVALID_HEARTBEAT,
      `invalid heart-beat [${String(canSend)}, ${String(wantReceive)}]: both numbers must be ` +
        'non-negative integers (milliseconds)',
      { header: 'heart-beat' },
    );
  }
}

/**
 * The heart-beat periods this side keeps, by the spec's rule: beats flow in a direction only if
 * the sender can send them and the receiver wants them, every MAX of the two periods.
 *
 * @param local - what this side put in its own `heart-beat` header
 * @param remote - what the peer put in its `heart-beat` header (see {@link parseHeartBeat})
 */
export function negotiateHeartBeat(local: HeartBeat, remote: HeartBeat): NegotiatedHeartBeat {
  const [localSend, localReceive] = local;
  const [remoteSend, remoteReceive] = remote;
  return {
    send: localSend === 0 || remoteReceive === 0 ? 0 : Math.max(localSend, remoteReceive),
    receive: localReceive === 0 || remoteSend === 0 ? 0 : Math.max(localReceive, remoteSend),
  };
}
