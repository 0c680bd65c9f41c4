// What the broker shares with each of its connections: its settings and services, and the hook
// that takes a closed connection out of its registry.
import type { Logger } from 'pino';
import type { Engine } from '../engine.js';
import type { Metrics } from '../metrics.js';
import type { ResolvedOptions } from '../options.js';
import type { Authenticator } from '../security/authenticator.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Clock } from './clock.js';
import type { PartialFrames } from './partial-frames.js';

/** What the broker shares with its connections. */
export interface ConnectionContext {
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  /** The broker's budget for bytes held in unfinished frames. */
  readonly partialFrames: PartialFrames;
  /** Called once when the connection has released everything. */
  readonly onClosed: () => void;
}
