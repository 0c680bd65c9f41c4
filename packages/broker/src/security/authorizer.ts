// Authorization: may this principal read (SUBSCRIBE), write (SEND) or create a destination, in
// this virtual host. Grants name a user or group, a virtual host, destination patterns and
// rights; a destination first used needs the create right too.
import {
  ErrorCode,
  type Frame,
  StompInvalidArgumentError,
  StompProtocolError,
} from '@stompede/core';
import { isTemporary } from '../destination.js';
import type { Engine } from '../engine.js';
import type { Principal } from './authenticator.js';
import { DestinationPattern } from './pattern.js';
import type { PermissionGrant, Right } from './types.js';

const READ = 1;
const WRITE = 2;
const CREATE = 4;
const ALL = READ | WRITE | CREATE;
const BITS: Readonly<Record<Right, number>> = { read: READ, write: WRITE, create: CREATE };

/** The rights a grant's bits stand for (the admin API shows them). */
export function rightsOf(bits: number): Right[] {
  return (Object.entries(BITS) as [Right, number][])
    .filter(([, b]) => (bits & b) !== 0)
    .map(([r]) => r);
}

/** One permission rule, validated. */
export interface Grant {
  readonly user: string | undefined;
  readonly group: string | undefined;
  readonly vhost: string;
  readonly patterns: readonly DestinationPattern[];
  /** Rights as bits. */
  readonly rights: number;
}

/** The authorization settings, validated (part of the broker's resolved options). */
export interface ResolvedAuthorization {
  /** Whether permissions are checked (false when no `permissions` are configured). */
  readonly enforced: boolean;
  readonly grants: readonly Grant[];
}

/** Validate the permission rules; grants without a vhost apply to `defaultVhost`. */
export function resolveAuthorization(
  permissions: readonly PermissionGrant[] | undefined,
  defaultVhost: string,
): ResolvedAuthorization {
  return Object.freeze({
    enforced: permissions !== undefined,
    grants: Object.freeze((permissions ?? []).map((g, i) => compileGrant(g, i, defaultVhost))),
  });
}

/** Checks rights on destinations, and remembers which destinations exist. One per broker. */
export class Authorizer {
  private readonly enforced: boolean;
  private readonly grants: readonly Grant[];
  /** Rights by principal, virtual host and destination (no key string built per frame). */
  private readonly rightsCache = new WeakMap<Principal, Map<string, Map<string, number>>>();
  private readonly known = new Map<string, Set<string>>();

  constructor(config: ResolvedAuthorization) {
    this.enforced = config.enforced;
    this.grants = config.grants;
  }

  /**
   * Check that `principal` may `right` (read for SUBSCRIBE, write for SEND) `destination` in
   * `vhost`, and create it when it is new; throws `ERR_STOMP_FORBIDDEN` naming the destination
   * and the missing right.
   */
  authorize(
    principal: Principal,
    vhost: string,
    right: 'read' | 'write',
    destination: string,
    frame: Frame,
  ): void {
    if (!this.enforced) return;
    // Temporary queues are private to their session; a reply address is for anyone to answer.
    if (isTemporary(destination)) return;
    const rights = this.rightsOf(principal, vhost, destination);
    const known = this.known.get(vhost);
    const isNew = (known === undefined || !known.has(destination)) && !isPattern(destination);
    if ((rights & BITS[right]) === 0 || (isNew && (rights & CREATE) === 0)) {
      const missing: string[] = [];
      if ((rights & BITS[right]) === 0) missing.push(right);
      if (isNew && (rights & CREATE) === 0) missing.push('create');
      const who = principal.anonymous
        ? 'anonymous clients have'
        : `user ${JSON.stringify(principal.user)} has`;
      throw new StompProtocolError(
        ErrorCode.FORBIDDEN,
        `${who} no ${missing.join(' and ')} permission on ${destination.slice(0, 200)}` +
          ` in virtual host ${JSON.stringify(vhost)}` +
          (missing.includes('create') ? ' (the destination does not exist yet)' : ''),
        { frame, header: 'destination' },
      );
    }
    if (isNew) this.remember(vhost, destination);
  }

  /**
   * Before a SEND or SUBSCRIBE is authorized: when only the create right would be missing for
   * its destination, new to this broker, ask the engine (one whose destinations other
   * processes create too, e.g. another cluster node, has {@link Engine.exists}) and remember the destination when it exists
   * there. Undefined when there is nothing to ask.
   */
  lookUp(
    principal: Principal,
    vhost: string,
    command: 'SEND' | 'SUBSCRIBE',
    frame: Frame,
    engine: Pick<Engine, 'exists'>,
  ): Promise<void> | undefined {
    if (engine.exists === undefined) return undefined;
    const destination = frame.header('destination');
    if (!this.enforced || destination === undefined || isTemporary(destination)) return undefined;
    if (isPattern(destination) || this.exists(vhost, destination)) return undefined;
    const rights = this.rightsOf(principal, vhost, destination);
    const right = command === 'SEND' ? WRITE : READ;
    if ((rights & right) === 0 || (rights & CREATE) !== 0) return undefined;
    return Promise.resolve(engine.exists(vhost, destination)).then((found) => {
      if (found) this.remember(vhost, destination);
    });
  }

  /** Whether `destination` was created (first used) in `vhost`, as far as permissions go. */
  exists(vhost: string, destination: string): boolean {
    return this.known.get(vhost)?.has(destination) ?? false;
  }

  /** Record that `destination` exists (e.g. it survived a restart): using it needs no create right. */
  remember(vhost: string, destination: string): void {
    let known = this.known.get(vhost);
    if (known === undefined) {
      known = new Set();
      this.known.set(vhost, known);
    }
    known.add(destination);
  }

  /** Forget that `destination` exists: the next use needs the create right again. */
  forget(vhost: string, destination: string): void {
    this.known.get(vhost)?.delete(destination);
  }

  /** The rights a principal has on a destination (for tests and the admin API). */
  rights(principal: Principal, vhost: string, destination: string): Right[] {
    const bits = this.enforced ? this.rightsOf(principal, vhost, destination) : ALL;
    return (['read', 'write', 'create'] as const).filter((r) => (bits & BITS[r]) !== 0);
  }

  /** The rights `principal` has on `destination` in `vhost`, as bits. */
  private rightsOf(principal: Principal, vhost: string, destination: string): number {
    let byVhost = this.rightsCache.get(principal);
    if (byVhost === undefined) {
      byVhost = new Map();
      this.rightsCache.set(principal, byVhost);
    }
    let cache = byVhost.get(vhost);
    if (cache === undefined) {
      cache = new Map();
      byVhost.set(vhost, cache);
    }
    const hit = cache.get(destination);
    if (hit !== undefined) return hit;
    let rights = 0;
    for (const g of this.grants) {
      if (g.vhost !== '*' && g.vhost !== vhost) continue;
      if (g.user !== undefined && g.user !== '*' && g.user !== principal.user) continue;
      if (g.group !== undefined && !principal.groups.has(g.group)) continue;
      if (g.patterns.some((p) => p.covers(destination))) rights |= g.rights;
    }
    if (cache.size >= 10_000) cache.clear();
    cache.set(destination, rights);
    return rights;
  }
}

function isPattern(destination: string): boolean {
  if (!destination.startsWith('/topic/')) return false;
  for (const s of destination.slice(7).split('.'))
    if (s === '*' || s === '>' || s === '#') return true;
  return false;
}

function compileGrant(g: PermissionGrant, i: number, defaultVhost: string): Grant {
  const where = `permissions[${String(i)}]`;
  if (typeof g !== 'object') throw new StompInvalidArgumentError(`${where} must be a mapping`);
  if ((g.user === undefined) === (g.group === undefined)) {
    throw new StompInvalidArgumentError(`${where} needs exactly one of user and group`);
  }
  const list = typeof g.destinations === 'string' ? [g.destinations] : g.destinations;
  if (!Array.isArray(list) || list.length === 0) {
    throw new StompInvalidArgumentError(`${where}.destinations must name one or more patterns`);
  }
  const patterns = (list as readonly unknown[]).map((p) => {
    if (typeof p !== 'string') {
      throw new StompInvalidArgumentError(`${where}.destinations must be strings`);
    }
    try {
      return new DestinationPattern(p);
    } catch (err) {
      throw new StompInvalidArgumentError(`${where}: ${(err as Error).message}`);
    }
  });
  let rights = 0;
  if (g.rights === 'all') rights = ALL;
  else if (Array.isArray(g.rights)) {
    for (const r of g.rights as readonly unknown[]) {
      const bit = typeof r === 'string' ? BITS[r as Right] : undefined;
      if (bit === undefined) {
        throw new StompInvalidArgumentError(
          `${where}.rights: ${JSON.stringify(r)} is not one of read, write, create`,
        );
      }
      rights |= bit;
    }
  }
  if (rights === 0) {
    throw new StompInvalidArgumentError(
      `${where}.rights must list read, write or create, or be "all"`,
    );
  }
  return Object.freeze({
    user: g.user,
    group: g.group,
    vhost: g.vhost ?? defaultVhost,
    patterns: Object.freeze(patterns),
    rights,
  });
}
