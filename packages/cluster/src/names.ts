// How STOMP destinations map onto NATS subjects, streams and consumers.
//
// Subjects (P = the configured prefix; every name part is one or more escaped tokens):
//   P.q<k>.<vhost>.<queue>.<level>   a queue's messages, in work-queue stream P_Q<k>
//                                     (k = shard of the queue; level h, n or l: priority 5-9, 4, 0-3)
//   P.t.<vhost>.<seg>….<seg>.$        a topic's messages; durable subscriptions read them from the
//                                     interest stream P_T, live subscribers from core NATS
//   P.r.<vhost>.<address>             replies to a temporary queue's reply address (core NATS only)
//   P.c.<node>.<verb>                 requests to one node (is a durable subscription still held?)
//   P.l.<hash>                        a durable subscription's lease, in stream P_L
//   P.x                               committed transactions being applied, in stream P_TX
//
// Escaping (token): `[A-Za-z0-9_-]` stays; every other UTF-8 byte is `%HH` (upper-case hex); an
// empty token is `%`. NATS forbids whitespace and gives `.`, `*` and `>` meaning, and `$` starts
// system subjects; after escaping none of those can appear in a name, so every name maps to a
// distinct subject (tested as a property) and no name is ever refused or mixed up with another.
// A topic ends in the token `$` (never produced by escaping) so that STOMP's `a.>`, which also
// matches `a` itself, maps to NATS's `a.>` (one or more tokens) and still matches it.
//
// Stream and consumer names may not hold `.`, `*`, `>`, `/`, `\` or whitespace and should be
// short: they are the prefix plus a base32 hash of the name; the real name goes into the
// consumer's description (and the subject), where the admin API reads it back.
import { createHash } from 'node:crypto';

const HEX = '0123456789ABCDEF';
const encoder = new TextEncoder();
// ignoreBOM: a name may begin with U+FEFF, which the default decoder would drop.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function kept(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 95 || // _
    c === 45 // -
  );
}

/** Escape one name part as a single NATS subject token (see the header comment). */
export function encodeToken(text: string): string {
  if (text.length === 0) return '%';
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    if (!kept(text.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  let out = '';
  for (const b of encoder.encode(text)) {
    out += kept(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** The inverse of {@link encodeToken}; undefined for a token it cannot have produced. */
export function decodeToken(token: string): string | undefined {
  if (token === '%') return '';
  if (token.length === 0) return undefined;
  if (!token.includes('%')) {
    for (let i = 0; i < token.length; i++) if (!kept(token.charCodeAt(i))) return undefined;
    return token;
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= token.length) return undefined;
      const hi = HEX.indexOf(token[i + 1]!);
      const lo = HEX.indexOf(token[i + 2]!);
      if (hi < 0 || lo < 0) return undefined;
      const b = hi * 16 + lo;
      if (kept(b)) return undefined; // never escaped: not canonical
      bytes.push(b);
      i += 2;
    } else if (kept(c)) {
      bytes.push(c);
    } else {
      return undefined;
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Priority levels a queue has (see docs/cluster.md): `h` for priorities 5-9, `n` for 4 (the
 * default), `l` for 0-3.
 */
export const Level = { HIGH: 'h', NORMAL: 'n', LOW: 'l' } as const;
/** A priority level. */
export type Level = (typeof Level)[keyof typeof Level];

/** Every level, highest first. */
export const LEVELS: readonly Level[] = [Level.HIGH, Level.NORMAL, Level.LOW];

/** The level of a STOMP priority 0-9. */
export function levelOf(priority: number): Level {
  return priority >= 5 ? Level.HIGH : priority <= 3 ? Level.LOW : Level.NORMAL;
}

/** Queue addresses a node keeps (see Names.queue). */
const QUEUE_ADDRESSES = 4096;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function digest(parts: readonly string[]): Buffer {
  const hash = createHash('sha256');
  // Length-prefixed, so no two lists of parts hash the same input.
  for (const part of parts) hash.update(`${String(part.length)}:${part}`);
  return hash.digest();
}

/** True when NATS subject `subject` matches `filter` (`*`: one token; a last `>`: one or more). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** A short, name-safe hash of `parts` (base32 of SHA-256, 100 bits). */
export function nameHash(...parts: readonly string[]): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of digest(parts)) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 20) {
      out += BASE32[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
    if (out.length >= 20) break;
    value &= (1 << bits) - 1;
  }
  return out;
}

/** A prefix is one token of `[A-Za-z0-9_-]`, at most 32 characters. */
export function validPrefix(prefix: string): boolean {
  if (prefix.length === 0 || prefix.length > 32) return false;
  for (let i = 0; i < prefix.length; i++) if (!kept(prefix.charCodeAt(i))) return false;
  return true;
}

/** A queue as stored: where its messages go and which consumers read them. */
export interface QueueAddress {
  readonly stream: string;
  readonly shard: number;
  /** The subject of its messages at `level`. */
  subject(level: Level): string;
  /** The durable consumer reading `level`. */
  consumer(level: Level): string;
}

/** A parsed queue subject. */
export interface QueueSubject {
  readonly vhost: string;
  readonly queue: string;
  readonly level: Level;
}

/** Names for one cluster (one prefix, one number of queue shards). */
export class Names {
  /** The topic stream's subjects filter. */
  readonly topicSubjects: string;
  /** The topic (interest) stream. */
  readonly topicStream: string;
  /** The transaction outbox stream and its subjects. */
  readonly outboxStream: string;
  readonly outboxSubject: string;
  /** The stream of durable subscription leases (one message per subject: the holder). */
  readonly leaseStream: string;
  readonly leaseSubjects: string;
  /** Addresses of recently used queues: every SEND needs one, and each costs two SHA-256s. */
  private readonly queues = new Map<string, QueueAddress>();

  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {
    if (!validPrefix(prefix)) {
      throw new RangeError(`cluster prefix ${JSON.stringify(prefix)}: use 1-32 of [A-Za-z0-9_-]`);
    }
    if (!Number.isInteger(shards) || shards < 1 || shards > 64) {
      throw new RangeError(`queue shards ${String(shards)}: use an integer from 1 to 64`);
    }
    this.topicSubjects = `${prefix}.t.>`;
    this.topicStream = `${prefix}_T`;
    this.outboxStream = `${prefix}_TX`;
    this.outboxSubject = `${prefix}.x`;
    this.leaseStream = `${prefix}_L`;
    this.leaseSubjects = `${prefix}.l.>`;
  }

  /** The work-queue stream of shard `k`. */
  queueStream(k: number): string {
    return `${this.prefix}_Q${String(k)}`;
  }

  /** The subjects of shard `k`'s stream. */
  queueSubjects(k: number): string {
    return `${this.prefix}.q${String(k)}.>`;
  }

  /** Where queue `name` (after `/queue/`) of `vhost` lives. */
  queue(vhost: string, name: string): QueueAddress {
    const key = `${String(vhost.length)}:${vhost}${name}`;
    let addr = this.queues.get(key);
    if (addr === undefined) {
      // Bounded: a node sending to ever new queues starts over rather than growing.
      if (this.queues.size >= QUEUE_ADDRESSES) this.queues.clear();
      addr = this.address(vhost, name);
      this.queues.set(key, addr);
    }
    return addr;
  }

  private address(vhost: string, name: string): QueueAddress {
    const hash = nameHash('q', vhost, name);
    // The shard comes from the name, so every node agrees without asking.
    const shard = digest(['shard', vhost, name]).readUInt32BE(0) % this.shards;
    const base = `${this.prefix}.q${String(shard)}.${encodeToken(vhost)}.${encodeToken(name)}.`;
    const stream = this.queueStream(shard);
    return {
      stream,
      shard,
      subject: (level) => base + level,
      consumer: (level) => `q-${hash}-${level}`,
    };
  }

  /** Parse a queue subject; undefined when it is not one. */
  parseQueueSubject(subject: string): QueueSubject | undefined {
    const t = subject.split('.');
    if (t.length !== 5 || t[0] !== this.prefix || !/^q\d+$/.test(t[1]!)) return undefined;
    const vhost = decodeToken(t[2]!);
    const queue = decodeToken(t[3]!);
    const level = t[4];
    if (vhost === undefined || queue === undefined) return undefined;
    if (level !== Level.NORMAL && level !== Level.HIGH && level !== Level.LOW) return undefined;
    return { vhost, queue, level };
  }

  /** The subject of a message sent to topic `name` (after `/topic/`); wildcards are literal. */
  topicSubject(vhost: string, name: string): string {
    let out = `${this.prefix}.t.${encodeToken(vhost)}`;
    for (const segment of name.split('.')) out += '.' + encodeToken(segment);
    return out + '.$';
  }

  /**
   * The subject filter of a subscription to topic pattern `pattern`: `*` is one segment, `>` or
   * `#` the rest of the name (zero or more segments, so anything after it is ignored, as on a
   * single node).
   */
  topicFilter(vhost: string, pattern: string): string {
    let out = `${this.prefix}.t.${encodeToken(vhost)}`;
    for (const segment of pattern.split('.')) {
      if (segment === '>' || segment === '#') return out + '.>';
      out += '.' + (segment === '*' ? '*' : encodeToken(segment));
    }
    return out + '.$';
  }

  /** Parse a topic subject back to its vhost and topic name; undefined when it is not one. */
  parseTopicSubject(subject: string): { vhost: string; topic: string } | undefined {
    const t = subject.split('.');
    if (t.length < 5 || t[0] !== this.prefix || t[1] !== 't' || t[t.length - 1] !== '$') {
      return undefined;
    }
    const vhost = decodeToken(t[2]!);
    if (vhost === undefined) return undefined;
    const segments: string[] = [];
    for (let i = 3; i < t.length - 1; i++) {
      const s = decodeToken(t[i]!);
      if (s === undefined) return undefined;
      segments.push(s);
    }
    return { vhost, topic: segments.join('.') };
  }

  /** The durable consumer of a durable subscription. */
  durableConsumer(vhost: string, clientId: string, name: string): string {
    return `d-${nameHash('d', vhost, clientId, name)}`;
  }

  /** The lease subject of a durable subscription (its last message names the holder). */
  durableLease(vhost: string, clientId: string, name: string): string {
    return `${this.prefix}.l.${nameHash('d', vhost, clientId, name)}`;
  }

  /** The subject of replies to `address` (a reply address after `/reply-queue/`). */
  replySubject(vhost: string, address: string): string {
    return `${this.prefix}.r.${encodeToken(vhost)}.${encodeToken(address)}`;
  }

  /** Parse a reply subject; undefined when it is not one. */
  parseReplySubject(subject: string): { vhost: string; address: string } | undefined {
    const t = subject.split('.');
    if (t.length !== 4 || t[0] !== this.prefix || t[1] !== 'r') return undefined;
    const vhost = decodeToken(t[2]!);
    const address = decodeToken(t[3]!);
    return vhost === undefined || address === undefined ? undefined : { vhost, address };
  }

  /** The subject a node answers `verb` requests on. */
  control(node: string, verb: string): string {
    return `${this.prefix}.c.${node}.${verb}`;
  }
}
