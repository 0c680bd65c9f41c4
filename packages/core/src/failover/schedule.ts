/**
 * The failover schedule: which broker to try next and how long to wait first. No I/O, no timers:
 * the transport asks {@link FailoverSchedule.next}, waits `delay` ms, tries `broker`, and reports
 * success with {@link FailoverSchedule.connected}.
 *
 * The sequence is the one Python stompest's `StompFailoverTransport` yields for the same options
 * (with delays in ms instead of seconds); see {@link FailoverSchedule} for the algorithm.
 */
import type { BrokerAddress } from './broker.js';
import type { FailoverOptions } from './options.js';
import { type FailoverUri, parseFailoverUri } from './uri.js';

/** Host names {@link FailoverOptions.priorityBackup} treats as local unless told otherwise. */
const DEFAULT_LOCAL_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

/** Injectable environment of a {@link FailoverSchedule}. */
export interface FailoverScheduleOptions {
  /**
   * Source of uniform random numbers in `[0, 1)`, used to shuffle the brokers
   * (`randomize=true`) and for the jitter (`reconnectDelayJitter > 0`), and for nothing else.
   * Default `Math.random`. Inject a seeded one for reproducible tests.
   */
  readonly random?: () => number;
  /**
   * Host names that count as local for `priorityBackup` (compared case-insensitively). Default
   * `localhost`, `127.0.0.1` and `::1`. stompest also counts the machine's own host name and
   * address, which a browser cannot know: a Node transport may add them here.
   */
  readonly localHosts?: Iterable<string>;
}

/** One step of a failover schedule: wait `delay` ms, then try `broker`. */
export interface FailoverAttempt {
  /** The broker to try. */
  readonly broker: BrokerAddress;
  /** How long to wait before trying, in ms (`0` for the first try of a sequence). */
  readonly delay: number;
  /**
   * `0` for the first try of a connect sequence, `n` for its `n`-th reconnect attempt (the
   * number compared with `startupMaxReconnectAttempts` / `maxReconnectAttempts`).
   */
  readonly attempt: number;
  /** True while no connection has succeeded yet (the startup limit applies). */
  readonly startup: boolean;
}

/**
 * An I/O-free failover schedule over the brokers of a failover URI.
 *
 * A *connect sequence* starts when the schedule is created, after {@link FailoverSchedule.connected}, and after
 * {@link FailoverSchedule.restart}. Within a sequence, with `attempt` counting from 0:
 * - The brokers are walked in passes. At the start of every pass the list is shuffled when
 *   `randomize` is set (Fisher–Yates, one `random()` call per position from the last down to the
 *   second), then, when `priorityBackup` is set, local brokers are moved to the front (stable).
 * - In the first pass after a connection was lost, the broker it was made to (the one passed to
 *   {@link FailoverSchedule.connected}) is tried last, as ActiveMQ's failover transport does: a
 *   broker that stopped answering heart-beats may still accept TCP connections, and would cost a
 *   whole connect timeout before any other broker is tried.
 * - Attempt 0 has delay 0. Attempt `k ≥ 1` has delay
 *   `min(d + random() * reconnectDelayJitter, maxReconnectDelay)` where `d` starts at
 *   `initialReconnectDelay` and is multiplied by `backOffMultiplier` after every reconnect
 *   attempt when `useExponentialBackOff` is set (`random()` is called only when the jitter is
 *   not 0).
 * - The limit is `startupMaxReconnectAttempts` until a connection succeeded, then
 *   `maxReconnectAttempts`; `-1` means no limit. {@link FailoverSchedule.next} returns `undefined` (give up) once
 *   `attempt` would exceed the limit, and keeps doing so until {@link FailoverSchedule.connected} or
 *   {@link FailoverSchedule.restart}.
 *
 * These are stompest's rules, with two differences: the default of
 * `startupMaxReconnectAttempts` (see {@link FailoverOptions.startupMaxReconnectAttempts}), and
 * the broker just lost tried last (ActiveMQ's rule).
 *
 * @example
 * ```ts
 * const schedule = new FailoverSchedule('failover:(tcp://a:61613,ssl://b:61614)?randomize=false');
 * for (let step = schedule.next(); step !== undefined; step = schedule.next()) {
 *   await sleep(step.delay);
 *   if (await tryConnect(step.broker)) { schedule.connected(step.broker); break; }
 * }
 * ```
 */
export class FailoverSchedule implements Iterable<FailoverAttempt> {
  /** The brokers, as parsed. */
  readonly brokers: readonly BrokerAddress[];
  /** The options in force. */
  readonly options: FailoverOptions;

  readonly #random: () => number;
  readonly #localHosts: ReadonlySet<string>;
  #everConnected = false;
  #connectedTo: BrokerAddress | undefined;
  #limit = 0;
  #attempt = -1;
  #reconnectDelay = 0;
  #order: BrokerAddress[] = [];
  #index = 0;
  /** Passes started in this sequence. */
  #passes = 0;
  #gaveUp = false;

  /**
   * @param uri - A failover URI string (parsed with {@link parseFailoverUri}) or a parsed one.
   * @param options - Injectable random source and local host names.
   * @throws {@link StompInvalidUriError} when `uri` is a malformed string.
   */
  constructor(uri: FailoverUri | string, options: FailoverScheduleOptions = {}) {
    const parsed = typeof uri === 'string' ? parseFailoverUri(uri) : uri;
    this.brokers = parsed.brokers;
    this.options = parsed.options;
    this.#random = options.random ?? Math.random;
    this.#localHosts = new Set(
      [...(options.localHosts ?? DEFAULT_LOCAL_HOSTS)].map((h) => h.toLowerCase()),
    );
    this.#begin();
  }

  /** True until {@link FailoverSchedule.connected} is first called: the startup limit applies. */
  get startup(): boolean {
    return !this.#everConnected;
  }

  /** The broker last passed to {@link FailoverSchedule.connected}, if any. */
  get connectedTo(): BrokerAddress | undefined {
    return this.#connectedTo;
  }

  /** The next broker to try and the delay before trying it, or `undefined` to give up. */
  next(): FailoverAttempt | undefined {
    if (this.#gaveUp || this.brokers.length === 0) return undefined;
    const attempt = this.#attempt + 1;
    if (attempt > 0 && this.#limit !== -1 && attempt > this.#limit) {
      this.#gaveUp = true;
      return undefined;
    }
    this.#attempt = attempt;
    if (this.#index >= this.#order.length) {
      this.#order = this.#pass();
      this.#index = 0;
      this.#passes++;
    }
    const broker = this.#order[this.#index++]!;
    let delay = 0;
    if (attempt > 0) {
      const { reconnectDelayJitter, maxReconnectDelay, useExponentialBackOff, backOffMultiplier } =
        this.options;
      const jitter = reconnectDelayJitter > 0 ? this.#random() * reconnectDelayJitter : 0;
      delay = Math.max(0, Math.min(this.#reconnectDelay + jitter, maxReconnectDelay));
      if (useExponentialBackOff) this.#reconnectDelay *= backOffMultiplier;
    }
    return { broker, delay, attempt, startup: !this.#everConnected };
  }

  /**
   * Report a successful connection. Resets the backoff and starts a new connect sequence for when
   * this connection is lost, governed by `maxReconnectAttempts` instead of the startup limit.
   */
  connected(broker?: BrokerAddress): void {
    this.#everConnected = true;
    this.#connectedTo = broker;
    this.#begin();
  }

  /**
   * Start a new connect sequence without a successful connection in between (e.g. the user
   * connects again after the schedule gave up): the startup limit applies if no connection ever
   * succeeded, `maxReconnectAttempts` otherwise.
   */
  restart(): void {
    this.#begin();
  }

  /** Iterates {@link FailoverSchedule.next} until it gives up. */
  *[Symbol.iterator](): Iterator<FailoverAttempt> {
    for (let step = this.next(); step !== undefined; step = this.next()) yield step;
  }

  #begin(): void {
    const { initialReconnectDelay, maxReconnectAttempts, startupMaxReconnectAttempts } =
      this.options;
    this.#limit = this.#everConnected ? maxReconnectAttempts : startupMaxReconnectAttempts;
    this.#reconnectDelay = initialReconnectDelay;
    this.#attempt = -1;
    this.#order = [];
    this.#index = 0;
    this.#passes = 0;
    this.#gaveUp = false;
  }

  /** The broker order of one pass through the list. */
  #pass(): BrokerAddress[] {
    const order = this.#shuffled();
    const lost = this.#passes === 0 ? this.#connectedTo : undefined;
    const at = lost === undefined ? -1 : order.findIndex((b) => b.uri === lost.uri);
    if (at >= 0) order.push(...order.splice(at, 1));
    return order;
  }

  /** The brokers, shuffled with `randomize` and local ones first with `priorityBackup`. */
  #shuffled(): BrokerAddress[] {
    const order = [...this.brokers];
    if (this.options.randomize) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.min(i, Math.floor(this.#random() * (i + 1)));
        const swap = order[i]!;
        order[i] = order[j]!;
        order[j] = swap;
      }
    }
    if (this.options.priorityBackup) {
      const local = order.filter((b) => this.#localHosts.has(b.host.toLowerCase()));
      const remote = order.filter((b) => !this.#localHosts.has(b.host.toLowerCase()));
      return [...local, ...remote];
    }
    return order;
  }
}
