// The node's one connection to NATS: opened with a bounded, visible wait at start, then
// reconnecting by itself forever (the client library replays subscriptions). Its state is what
// the admin API and metrics show as "NATS connection".
import { readFileSync } from 'node:fs';
import {
  type ConnectionOptions,
  type NatsConnection,
  credsAuthenticator,
} from '@nats-io/nats-core';
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { ResolvedClusterOptions } from '../options.js';

/** What the node's NATS connection is doing. */
export const LinkState = {
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
} as const;
/** A {@link LinkState}. */
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

/** The connection as the admin API shows it. */
export interface LinkStatus {
  readonly state: LinkState;
  /** The server connected to (`host:port`), while connected. */
  readonly server: string | undefined;
  /** The server's version. */
  readonly version: string | undefined;
  readonly reconnects: number;
  /** The last error the connection reported. */
  readonly lastError: string | undefined;
  /** Largest message the servers accept, in bytes. */
  readonly maxPayload: number;
}

/** Something the link reports (for the node's log). */
export type LinkEvent =
  | { readonly type: 'waiting'; readonly attempt: number; readonly error: string }
  | { readonly type: 'disconnected' | 'reconnected'; readonly server: string }
  | { readonly type: 'error'; readonly error: string };

/** The NATS connection, JetStream client and manager of a node. */
export class NatsLink {
  private stateNow: LinkState = LinkState.CONNECTED;
  private reconnects = 0;
  private lastError: string | undefined;
  private readonly reconnectHooks: (() => void)[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly js: JetStreamClient,
    private readonly onEvent: (event: LinkEvent) => void,
  ) {
    void this.watch();
  }

  /**
   * Connect, retrying until `options.connectTimeout`; then wait (within the same deadline) until
   * JetStream answers. Throws an Error that says which servers were tried and why they failed.
   */
  static async open(
    options: ResolvedClusterOptions,
    onEvent: (event: LinkEvent) => void = () => undefined,
  ): Promise<NatsLink> {
    const deadline = Date.now() + options.connectTimeout;
    const base: ConnectionOptions = {
      servers: [...options.servers],
      name: options.nodeName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      timeout: 2000,
      // A dead server is noticed within pingInterval × maxPingOut.
      pingInterval: 5000,
      maxPingOut: 2,
      // No Error (stack trace) built ahead for every request, in case it fails: a failure's own
      // error still says what went wrong.
      noAsyncTraces: true,
      ...authOptions(options),
    };
    let attempt = 0;
    let nc: NatsConnection | undefined;
    for (;;) {
      attempt++;
      try {
        nc = await connect(base);
        break;
      } catch (err) {
        const error = describe(err);
        if (Date.now() >= deadline) {
          throw new Error(
            `cannot connect to NATS at ${options.servers.join(',')} within ` +
              `${String(options.connectTimeout)} ms (${String(attempt)} attempts): ${error}`,
          );
        }
        onEvent({ type: 'waiting', attempt, error });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const jsm = await waitForJetStream(nc, deadline, onEvent);
    return new NatsLink(nc, jsm, jsm.jetstream(), onEvent);
  }

  /** The connection's state now. */
  get state(): LinkState {
    return this.stateNow;
  }

  /** For the admin API. */
  status(): LinkStatus {
    const info = this.nc.info;
    return {
      state: this.stateNow,
      server: this.stateNow === LinkState.CONNECTED ? this.nc.getServer() : undefined,
      version: info?.version,
      reconnects: this.reconnects,
      lastError: this.lastError,
      maxPayload: info?.max_payload ?? 1024 * 1024,
    };
  }

  /** Call `hook` after every reconnection (pull requests of the old connection are gone). */
  onReconnect(hook: () => void): void {
    this.reconnectHooks.push(hook);
  }

  /** Close the connection (pending publishes are flushed first). */
  async close(): Promise<void> {
    if (this.stateNow === LinkState.CLOSED) return;
    this.stateNow = LinkState.CLOSED;
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      switch (s.type) {
        case 'disconnect':
          if (this.stateNow !== LinkState.CLOSED) this.stateNow = LinkState.RECONNECTING;
          this.onEvent({ type: 'disconnected', server: s.server });
          break;
        case 'reconnect':
          this.stateNow = LinkState.CONNECTED;
          this.reconnects++;
          this.onEvent({ type: 'reconnected', server: s.server });
          for (const hook of this.reconnectHooks) hook();
          break;
        case 'error':
          this.lastError = describe(s.error);
          this.onEvent({ type: 'error', error: this.lastError });
          break;
        case 'close':
          this.stateNow = LinkState.CLOSED;
          break;
        default:
          break;
      }
    }
  }
}

/** The connection options that authenticate (and encrypt) a node's connections to NATS. */
export function authOptions(options: ResolvedClusterOptions): Partial<ConnectionOptions> {
  const out: Partial<ConnectionOptions> = {};
  const { auth, tls } = options;
  if (auth.user !== undefined) {
    out.user = auth.user;
    if (auth.password !== undefined) out.pass = auth.password;
  }
  if (auth.token !== undefined) out.token = auth.token;
  if (auth.credsFile !== undefined) {
    out.authenticator = credsAuthenticator(readFileSync(auth.credsFile));
  }
  if (tls !== undefined) {
    out.tls = {
      ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }),
      ...(tls.certFile === undefined ? {} : { certFile: tls.certFile }),
      ...(tls.keyFile === undefined ? {} : { keyFile: tls.keyFile }),
    };
  }
  return out;
}

async function waitForJetStream(
  nc: NatsConnection,
  deadline: number,
  onEvent: (event: LinkEvent) => void,
): Promise<JetStreamManager> {
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2000 });
      await jsm.getAccountInfo();
      return jsm;
    } catch (err) {
      const error = describe(err);
      if (Date.now() >= deadline) {
        await nc.close();
        throw new Error(`NATS is up but JetStream does not answer: ${error}`);
      }
      onEvent({ type: 'waiting', attempt, error: `JetStream: ${error}` });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** An error's message, for logs. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Resolves once the server has what `nc` sent so far, or after `ms` when it cannot tell (NATS
 * away: a flush would wait for the reconnection); never rejects.
 */
export async function flushWithin(nc: NatsConnection, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    nc.flush().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
