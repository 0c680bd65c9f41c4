// What every rule of the engine conformance suite works with: the engine under test made fresh for
// the rule with the settings it needs, a clock the rule moves by hand, and probe consumers that
// record what they are given. Waits have deadlines (an engine that delivers asynchronously gets
// time; one that never delivers fails the rule instead of hanging it); nothing sleeps.
import { type TestContext, test } from 'node:test';
import type {
  Consumer,
  ConsumerHandle,
  Delivery,
  Engine,
  MaybePromise,
  SubscribeRequest,
} from '@stompede/broker';
import { Message } from '@stompede/broker';
import type { StompError } from '@stompede/core';

/** The settings an engine under test is made with (all sizes in bytes; 0 = no bound). */
export interface EngineConfig {
  /** The clock for expiry, in ms since the epoch: moved by the rules, never by real time. */
  readonly now: () => number;
  /** Deliveries after which a message is dead-lettered instead of requeued. */
  readonly maxDeliveries: number;
  /** Message data above which producers wait (non-durable topic backlogs are shed instead). */
  readonly memoryLimit: number;
  /** Messages a non-durable topic subscription keeps for a slow consumer (oldest dropped). */
  readonly maxTopicPending: number;
  /** Bytes a non-durable topic subscription keeps for a slow consumer (oldest dropped). */
  readonly maxTopicPendingBytes: number;
  /** Waiting bytes in memory beyond which a queue's producers wait. */
  readonly maxQueueBytes: number;
}

/** An engine made for one rule. */
export interface EngineUnderTest {
  readonly engine: Engine;
  /**
   * Close the engine and open a new one over the same storage (durable engines only: the
   * durability rules run only when it is given).
   */
  restart?(): Promise<Engine>;
  /**
   * True when a restart is the engine's and not its storage's: non-persistent messages held by
   * the storage stay (a cluster node's restart leaves JetStream, which holds every queue's
   * messages in one stream to keep their order, as it was).
   */
  readonly keepsNonPersistent?: boolean;
  /**
   * Resolves once the engine has done everything asked of it so far (deliveries pushed, counts
   * up to date). Default: two turns of the event loop, enough for an engine that works in
   * process; a networked engine waits for its round trips.
   */
  settle?(): Promise<void>;
  /** Release what the engine's storage holds (e.g. remove a temporary directory). */
  dispose?(): MaybePromise<void>;
}

/** Makes the engine under test, once per rule. */
export type EngineFactory = (config: EngineConfig) => MaybePromise<EngineUnderTest>;

let skippedRules: Readonly<Record<string, string>> = {};

/** Register rules with `skips` (rule name prefix → reason) in force; used by engineConformance. */
export function withSkippedRules(
  skips: Readonly<Record<string, string>>,
  register: () => void,
): void {
  skippedRules = skips;
  try {
    register();
  } finally {
    skippedRules = {};
  }
}

/** node:test's `test` for a conformance rule, skipped with its reason when the engine names it. */
export function rule(name: string, fn: (t: TestContext) => Promise<void>): void {
  const prefix = Object.keys(skippedRules).find((p) => name.startsWith(p));
  if (prefix === undefined) test(name, fn);
  else test(name, { skip: skippedRules[prefix] }, fn);
}

/** The groups of rules, which an engine may skip (naming its reason). */
export type RuleGroup =
  | 'queues'
  | 'acknowledgment'
  | 'priority'
  | 'expiry'
  | 'topics'
  | 'temporary'
  | 'durable'
  | 'transactions'
  | 'limits'
  | 'admin'
  | 'durability'
  | 'session';

/** How {@link engineConformance} runs. */
export interface ConformanceOptions {
  /** Groups to skip, each with the reason shown in the test report. */
  readonly skip?: Partial<Record<RuleGroup, string>>;
  /**
   * Single rules to skip, by the start of their name (e.g. `'[Engine acks] NACK with requeue'`),
   * each with the reason shown in the test report: a known difference or open bug of the engine,
   * named rather than hidden.
   */
  readonly skipRules?: Readonly<Record<string, string>>;
  /** The longest a rule waits for a delivery the engine owes, in ms. Default 5,000. */
  readonly deadlineMs?: number;
}

const DEFAULTS: Omit<EngineConfig, 'now'> = {
  maxDeliveries: 0,
  memoryLimit: 0,
  maxTopicPending: 0,
  maxTopicPendingBytes: 0,
  maxQueueBytes: 0,
};

/** A clock that moves only when told. */
export class ManualClock {
  time = Date.UTC(2030, 0, 1);
  readonly now = (): number => this.time;
  /** Move forward by `ms`. */
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A consumer that records its deliveries; its flow window is set by the rule. */
export class Probe implements Consumer {
  readonly deliveries: Delivery[] = [];
  /** Set by {@link Rule.subscribe}. */
  handle!: ConsumerHandle;
  /** False: the consumer takes nothing (a slow or stalled reader). */
  open = true;
  /** Most deliveries held unsettled (a prefetch window); acknowledgments through the probe free it. */
  window = Number.POSITIVE_INFINITY;
  /** Deliveries not settled through the probe (counted only for client acknowledgment). */
  outstanding = 0;
  detachedWith: StompError | undefined;
  private taken = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly autoAck: boolean,
    private readonly deadlineMs: number,
  ) {}

  ready(): boolean {
    return this.open && this.outstanding < this.window;
  }

  deliver(delivery: Delivery): void {
    this.deliveries.push(delivery);
    if (!this.autoAck) this.outstanding++;
    this.wake();
  }

  detached(reason: StompError): void {
    this.detachedWith = reason;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next `n` deliveries not yet taken (waiting for them up to the deadline). */
  async take(n: number): Promise<Delivery[]> {
    const deadline = Date.now() + this.deadlineMs;
    while (this.deliveries.length < this.taken + n) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `expected ${String(n)} more deliveries, got ${String(this.deliveries.length - this.taken)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = this.deliveries.slice(this.taken, this.taken + n);
    this.taken += n;
    return out;
  }

  /** Bodies of the next `n` deliveries, as text. */
  async texts(n: number): Promise<string[]> {
    return (await this.take(n)).map(text);
  }

  /** Deliveries not yet taken. */
  get pending(): number {
    return this.deliveries.length - this.taken;
  }

  /** Acknowledge `d` through the handle (and free its window slot). */
  ack(d: Delivery, awaitDurable?: boolean): MaybePromise<void> {
    this.outstanding--;
    return this.handle.ack(d.ackKey, awaitDurable);
  }

  /** Reject `d` through the handle (and free its window slot). */
  nack(d: Delivery, requeue: boolean): MaybePromise<void> {
    this.outstanding--;
    return this.handle.nack(d.ackKey, requeue);
  }

  /** Reopen (after `open = false` or a full window) and tell the engine. */
  resume(): void {
    this.open = true;
    this.handle.resume();
  }
}

/** A message's body as text. */
export function text(d: Delivery | { readonly message: Message }): string {
  return Buffer.from(d.message.body).toString();
}

/** The value of header `name` of a delivered message. */
export function header(d: Delivery, name: string): string | undefined {
  const h = d.message.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

/** What one rule works with. */
export class Rule {
  constructor(
    /** The engine (replaced by {@link Rule.restart}). */
    public engine: Engine,
    readonly clock: ManualClock,
    private readonly made: EngineUnderTest,
    readonly deadlineMs: number,
  ) {}

  /** A message to `destination`, published now by the rule's clock. */
  message(destination: string, body: string, headers: Record<string, string> = {}): Message {
    return new Message(
      destination,
      Object.entries(headers).flat(),
      Buffer.from(body),
      undefined,
      this.clock.now(),
    );
  }

  /** Publish a message from session `s1` (or `session`); resolves when the engine settles it. */
  async publish(
    destination: string,
    body: string,
    headers: Record<string, string> = {},
    session = 's1',
  ): Promise<void> {
    await this.engine.publish('/', session, this.message(destination, body, headers));
  }

  /** Attach a probe; `autoAck` unless `ack: 'client'`. */
  async subscribe(
    destination: string,
    options: {
      ack?: 'auto' | 'client';
      session?: string;
      durable?: { clientId: string; name: string };
      window?: number;
      vhost?: string;
    } = {},
  ): Promise<Probe> {
    const autoAck = options.ack !== 'client';
    const probe = new Probe(autoAck, this.deadlineMs);
    if (options.window !== undefined) probe.window = options.window;
    const request: SubscribeRequest = {
      vhost: options.vhost ?? '/',
      sessionId: options.session ?? 's1',
      destination,
      autoAck,
      ...(options.durable === undefined ? {} : { durable: options.durable }),
    };
    probe.handle = await this.engine.subscribe(request, probe);
    return probe;
  }

  /** True when the engine under test can be restarted over its storage (it is durable). */
  get canRestart(): boolean {
    return this.made.restart !== undefined;
  }

  /** See {@link EngineUnderTest.keepsNonPersistent}. */
  get keepsNonPersistent(): boolean {
    return this.made.keepsNonPersistent === true;
  }

  /** Wait until the engine has done what it was asked. */
  settle(): Promise<void> {
    return this.made.settle?.() ?? turns(2);
  }

  /** Restart a durable engine over the same storage. */
  async restart(): Promise<Engine> {
    this.engine = await this.made.restart!();
    return this.engine;
  }
}

/** `n` turns of the event loop. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Make an engine for one rule, run the rule, release the engine whatever happens. */
export async function withEngine(
  factory: EngineFactory,
  options: ConformanceOptions,
  config: Partial<Omit<EngineConfig, 'now'>>,
  body: (rule: Rule) => Promise<void>,
): Promise<void> {
  const clock = new ManualClock();
  const made = await factory({ ...DEFAULTS, ...config, now: clock.now });
  const rule = new Rule(made.engine, clock, made, options.deadlineMs ?? 5000);
  try {
    await body(rule);
  } finally {
    await rule.engine.close();
    await made.dispose?.();
  }
}

/** A rule-registering function of one group: `run` makes the engine for one rule. */
export type Group = (
  run: (
    config: Partial<Omit<EngineConfig, 'now'>>,
    body: (rule: Rule) => Promise<void>,
  ) => Promise<void>,
) => void;
