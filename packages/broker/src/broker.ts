// The broker: owns the engine, the sessions and the listeners.
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@stompede/core';
import { Connection } from './session/connection.js';
import type { ConnectionContext } from './session/context.js';
import type { DestinationInfo, Engine } from './engine.js';
import { LocalEngine } from './engine/local.js';
import { JournalStore } from './store/journal.js';
import type { CertificateReload, Listener, ListenerAddress } from './listen/listener.js';
import { listenTcp } from './listen/tcp.js';
import { listenTls } from './listen/tls.js';
import { listenWs } from './listen/ws.js';
import { addressOf } from './listen/address.js';
import { Admission } from './listen/admission.js';
import { type ConnectionInfo, peerOf } from './listen/peer.js';
import { type ErrorCounts, Metrics } from './metrics.js';
import { brokerView } from './admin/broker-view.js';
import { type AdminServer, startAdmin } from './admin/server.js';
import { type BrokerOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { Authenticator } from './security/authenticator.js';
import { Authorizer } from './security/authorizer.js';
import { Sessions } from './sessions.js';
import { PartialFrames } from './session/partial-frames.js';

/** A STOMP broker. Create one with {@link createBroker}. */
export class Broker {
  /** The resolved options. */
  readonly options: ResolvedOptions;
  /** The message store and router. */
  readonly engine: Engine;
  /** Counters (BrokerOptions.metrics, or new ones). */
  readonly metrics: Metrics;
  /** The open sessions. */
  readonly sessions = new Sessions();
  /** Checks CONNECT credentials. */
  readonly authenticator: Authenticator;
  /** Checks rights on destinations. */
  readonly authorizer: Authorizer;
  private readonly admission: Admission;
  private readonly partialFrames: PartialFrames;
  private listeners: Listener[] = [];
  private closing: Promise<void> | undefined;
  private adminServer: AdminServer | undefined;
  private connectionContext: ConnectionContext<Connection> | undefined;

  /**
   * With `dataDir`, the store is opened and recovered here (synchronously): the broker starts
   * with every persistent message it held.
   */
  constructor(options: BrokerOptions = {}) {
    this.options = resolveOptions(options);
    this.metrics = this.options.metrics ?? new Metrics();
    const o = this.options;
    const p = o.persistence;
    this.engine =
      o.engine ??
      new LocalEngine({
        memoryLimit: o.memoryLimit,
        maxDeliveries: o.maxDeliveries,
        maxTopicPending: o.maxTopicPending,
        maxTopicPendingBytes: o.maxTopicPendingBytes,
        maxQueueBytes: o.maxQueueBytes,
        maxQueues: o.maxQueues,
        logger: o.logger,
        metrics: this.metrics,
        now: () => o.clock.now(),
        ...(o.dataDir === undefined
          ? {}
          : {
              store: new JournalStore({
                dir: o.dataDir,
                logger: o.logger,
                fsync: p.fsync,
                segmentSize: p.segmentSize,
                verifyOnStart: p.verifyOnStart,
                diskFreeLimit: p.diskFreeLimit,
                diskCheckInterval: p.diskCheckInterval,
                counters: this.metrics,
              }),
              persistAll: p.persistAll,
              ...(p.pageOutBytes === undefined ? {} : { pageOutBytes: p.pageOutBytes }),
            }),
      });
    this.authenticator = new Authenticator(o.security);
    this.authorizer = new Authorizer(o.security);
    // Deleted elsewhere (another cluster node): the next use needs the create right again.
    this.engine.onDeleted?.((vhost, destination) => {
      this.authorizer.forget(vhost, destination);
    });
    this.admission = new Admission(o, this.metrics.errors);
    this.partialFrames = new PartialFrames({
      total: o.maxPartialFrameBytes,
      perAddress: o.maxPartialFrameBytesPerAddress,
    });
    // Queues and durable subscriptions that survived a restart exist: using them needs the
    // read or write right only, not create (an engine may answer later; listen() waits for it).
    const existing = this.engine.destinations();
    if (existing instanceof Promise) {
      this.recovered = existing.then(
        (list) => {
          this.remember(list);
        },
        (err: unknown) => {
          // Not fatal: such destinations then need the create right until they are used.
          this.options.logger.warn({ err }, "could not list the engine's destinations");
        },
      );
    } else {
      this.remember(existing);
    }
  }

  /** Settles once the destinations the engine already had are known to the permission checks. */
  private readonly recovered: Promise<void> | undefined;

  private remember(list: readonly DestinationInfo[]): void {
    for (const d of list) {
      if (d.destination.startsWith('/')) this.authorizer.remember(d.vhost, d.destination);
    }
  }

  /** The admin server's URL, once {@link Broker.listen} started it. */
  get adminUrl(): string | undefined {
    return this.adminServer?.url;
  }

  /** @internal The admin server's API (for tests that take samples themselves). */
  get adminApi(): AdminServer['api'] | undefined {
    return this.adminServer?.api;
  }

  /** ERROR frames and refused connections by error code. */
  get errorCounts(): ErrorCounts {
    return this.metrics.errors;
  }

  /** Open connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /**
   * Serve a STOMP session over any byte stream: a socket, a TLS socket, a WebSocket stream, or
   * one end of an in-memory `duplexPair()`.
   */
  handle(stream: Duplex, info: ConnectionInfo = {}): Connection {
    if (this.closing !== undefined) {
      stream.destroy();
      throw new Error('the broker is closing');
    }
    const peer = peerOf(stream, info);
    const conn = new Connection(stream, (this.connectionContext ??= this.makeContext()), peer);
    this.sessions.add(conn);
    this.admission.opened(peer.address);
    return conn;
  }

  /** What every connection shares (one object for all: an idle connection holds no copy). */
  private makeContext(): ConnectionContext<Connection> {
    return {
      options: this.options,
      engine: this.engine,
      metrics: this.metrics,
      logger: this.options.logger,
      clock: this.options.clock,
      authenticator: this.authenticator,
      authorizer: this.authorizer,
      partialFrames: this.partialFrames,
      onClosed: (conn) => {
        this.sessions.remove(conn);
      },
      onStreamClosed: (conn) => {
        this.admission.closed(conn.peer.address);
      },
    };
  }

  /** Open every configured listener; resolves to their addresses (actual ports included). */
  async listen(): Promise<ListenerAddress[]> {
    await this.recovered;
    const accept = (stream: Duplex, info: ConnectionInfo): void => {
      if (this.closing !== undefined) {
        stream.destroy();
        return;
      }
      const address = addressOf(info.remoteAddress);
      const refused = this.admission.admit(stream, address, this.sessions.size);
      if (refused === undefined) this.handle(stream, info);
      else if (refused.log) {
        const { limit, suppressed } = refused;
        this.options.logger.warn(
          { limit, address, suppressed },
          `connection refused: ${refused.message}`,
        );
      }
    };
    const log = this.options.logger;
    try {
      for (const l of this.options.listeners) {
        switch (l.protocol) {
          case 'tcp':
            this.listeners.push(await listenTcp(l, accept, log));
            break;
          case 'tls':
            this.listeners.push(await listenTls(l, accept, log));
            break;
          case 'ws':
            this.listeners.push(
              await listenWs(l, accept, log, this.options.limits.maxFrameSize, () => {
                this.errorCounts.refused(ErrorCode.FORBIDDEN);
              }),
            );
            break;
        }
      }
      const admin = this.options.admin;
      if (admin !== undefined && this.adminServer === undefined) {
        const view = brokerView(
          this,
          () => this.closing === undefined && (this.engine.ready?.() ?? true),
        );
        this.adminServer = await startAdmin(admin, view, log, this.options.clock);
      }
    } catch (err) {
      await Promise.all(this.listeners.map((x) => x.close()));
      this.listeners = [];
      throw err;
    }
    return this.addresses();
  }

  /**
   * Re-read every TLS listener's certificate, key and CA files (as on SIGHUP). New handshakes use
   * them; open connections are not touched. A listener whose new files are unusable keeps the
   * ones it had (logged, and `reloaded: false`). Never rejects.
   */
  async reloadCertificates(): Promise<CertificateReload[]> {
    const out: CertificateReload[] = [];
    for (const l of this.listeners) if (l.reload !== undefined) out.push(await l.reload());
    return out;
  }

  /** The addresses of the open listeners. */
  addresses(): ListenerAddress[] {
    return this.listeners.map((l) => l.address);
  }

  /**
   * Graceful shutdown: stop accepting, let sessions flush and end (unacknowledged messages are
   * requeued), destroy those still open after `closeTimeout`, then close the engine. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const stopping = Promise.all(this.listeners.map((l) => l.close()));
    const sessions = [...this.sessions];
    for (const s of sessions) s.shutdown();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(sessions.map((s) => s.closed)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeout);
      }),
    ]);
    clearTimeout(timer);
    for (const s of sessions) s.destroy();
    await stopping;
    await this.adminServer?.close();
    this.listeners = [];
    await this.engine.close();
  }

  /** `await using broker = createBroker()` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Create a broker. Call {@link Broker.listen} to open its listeners, or hand it streams with
 * {@link Broker.handle}.
 *
 * @example
 * ```ts
 * const broker = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }] });
 * const [tcp] = await broker.listen();
 * ```
 */
export function createBroker(options: BrokerOptions = {}): Broker {
  return new Broker(options);
}
