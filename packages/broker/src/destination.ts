// Destination names: which kind a name is, topic wildcard matching, and the naming rules every
// engine and the admin API share (dead-letter queues, reply addresses of temporary queues).
import { ErrorCode, StompProtocolError } from '@stompede/core';

/** Kinds of destination the broker serves. */
export const DestinationKind = {
  QUEUE: 'queue',
  TOPIC: 'topic',
  TEMP_QUEUE: 'temp-queue',
  REPLY_QUEUE: 'reply-queue',
} as const;
/** A destination kind. */
export type DestinationKind = (typeof DestinationKind)[keyof typeof DestinationKind];

/** A parsed destination. */
export interface ParsedDestination {
  readonly kind: DestinationKind;
  /** The name after the prefix. */
  readonly name: string;
}

const PREFIXES: readonly (readonly [string, DestinationKind])[] = [
  ['/queue/', DestinationKind.QUEUE],
  ['/topic/', DestinationKind.TOPIC],
  ['/temp-queue/', DestinationKind.TEMP_QUEUE],
  ['/reply-queue/', DestinationKind.REPLY_QUEUE],
];

// Destinations parsed lately: a SEND's destination is parsed by the handler and again by the
// engine, and producers send to few destinations. Bounded: cleared when full.
const parsed = new Map<string, ParsedDestination>();
const PARSED_MAX = 1024;

/** Parse a destination, or throw `ERR_STOMP_INVALID_HEADER_VALUE` naming the accepted forms. */
export function parseDestination(destination: string, header = 'destination'): ParsedDestination {
  const cached = parsed.get(destination);
  if (cached !== undefined) return cached;
  for (const [prefix, kind] of PREFIXES) {
    if (destination.startsWith(prefix) && destination.length > prefix.length) {
      const result: ParsedDestination = { kind, name: destination.slice(prefix.length) };
      if (parsed.size >= PARSED_MAX) parsed.clear();
      parsed.set(destination, result);
      return result;
    }
  }
  throw new StompProtocolError(
    ErrorCode.INVALID_HEADER_VALUE,
    `unknown destination ${JSON.stringify(destination.slice(0, 200))}: use /queue/NAME, ` +
      '/topic/NAME, /temp-queue/NAME or a /reply-queue/ address',
    { header },
  );
}

/** True when a topic name (after `/topic/`) holds a wildcard segment: `*`, `>` or `#`. */
export function isWildcard(name: string): boolean {
  for (const segment of name.split('.')) {
    if (segment === '*' || segment === '>' || segment === '#') return true;
  }
  return false;
}

/**
 * A compiled topic pattern: `.`-separated segments, where `*` matches exactly one segment and
 * `>` or `#` matches the rest (zero or more segments).
 */
export class TopicPattern {
  private readonly segments: readonly string[];

  constructor(pattern: string) {
    this.segments = pattern.split('.');
  }

  /** True when `topic` (after `/topic/`) matches. */
  matches(topic: string): boolean {
    const parts = topic.split('.');
    const segs = this.segments;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      if (seg === '>' || seg === '#') return true;
      if (i >= parts.length) return false;
      if (seg !== '*' && seg !== parts[i]) return false;
    }
    return parts.length === segs.length;
  }
}

/** The header a dead-lettered copy carries: the destination its original was published to. */
export const ORIGINAL_DESTINATION = 'original-destination';

/**
 * The dead-letter queue of messages published to `destination`: `/queue/DLQ.<name>` for a queue
 * or a topic. Undefined for temporary queues, reply addresses and dead-letter queues themselves:
 * their dead messages are dropped.
 */
export function deadLetterQueue(destination: string): string | undefined {
  let name: string;
  if (destination.startsWith('/queue/')) name = destination.slice(7);
  else if (destination.startsWith('/topic/')) name = destination.slice(7);
  else return undefined;
  return name.length === 0 || name.startsWith('DLQ.') ? undefined : `/queue/DLQ.${name}`;
}

/**
 * The address other sessions use to reach `sessionId`'s `/temp-queue/<name>` (what a `reply-to`
 * header naming a temporary queue is rewritten to): `/reply-queue/<sessionId>/<name>`.
 */
export function replyAddress(sessionId: string, name: string): string {
  return `/reply-queue/${sessionId}/${name}`;
}

/**
 * The session that owns a reply address, from its name after `/reply-queue/` (see
 * {@link replyAddress}); '' when the name has no owner part.
 */
export function replyOwner(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? '' : name.slice(0, slash);
}

/** True for a session's private destinations: `/temp-queue/` names and `/reply-queue/` addresses. */
export function isTemporary(destination: string): boolean {
  return destination.startsWith('/temp-queue/') || destination.startsWith('/reply-queue/');
}

/** The name under which listings and counters show every temporary queue together. */
export const TEMPORARY = '(temporary)';

/** The name destinations past an engine's counting bound are counted under, together. */
export const OTHER = '(other)';
