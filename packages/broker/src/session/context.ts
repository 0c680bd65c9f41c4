// What the broker shares with all of its connections (one object): its settings and services, and
// the hooks that take a closed connection out of its registry and its address's count.
import type { Logger } from 'pino';
import type { Engine } from '../engine.js';
import type { Metrics } from '../metrics.js';
import type { ResolvedOptions } from '../options.js';
import type { Authenticator } from '../security/authenticator.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Clock } from './clock.js';
import type { PartialFrames } from './partial-frames.js';

/** What the broker shares with its connections (`C`: the connection type its hooks are given). */
export interface ConnectionContext<C> {
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  /** The broker's budget for bytes held in unfinished frames. */
  readonly partialFrames: PartialFrames;
  /** Called once when a connection has released everything. */
  readonly onClosed: (conn: C) => void;
  /** Called once when a connection's stream has closed (after {@link onClosed}). */
  readonly onStreamClosed: (conn: C) => void;
}
