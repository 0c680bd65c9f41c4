// One client connection: frames processed strictly in order (a handler that returns a promise
// holds the frames behind it and pauses the socket), and the connection's lifecycle, from the
// CONNECT timeout to the four ways it ends. Input is the reader's job (reader.ts: the parser and
// the bounds on unfinished frames), output the outbox's (outbox.ts), heart-beats heartbeat.ts's,
// subscriptions and transactions state.ts's; command handlers (handlers/) see this class only
// through the Session interface (session.ts).
import type { Duplex } from 'node:stream';
import {
  ErrorCode,
  type Frame,
  type StompVersion,
  type StompError,
  StompProtocolError,
  connectedFrame,
  encodeFrame,
  errorFrame,
  receiptFrame,
  validateClientFrame,
} from '@stompede/core';
import type { Logger } from 'pino';
import type { Engine, MaybePromise } from '../engine.js';
import { HANDLERS, handleConnect } from '../handlers/index.js';
import type { Peer } from '../listen/peer.js';
import { type Message } from '../message.js';
import { checkWritable, withoutUnwritable } from '../encode.js';
import { writeMessage } from '../message-writer.js';
import type { Metrics } from '../metrics.js';
import type { ResolvedOptions } from '../options.js';
import { ANONYMOUS, type Authenticator, type Principal } from '../security/authenticator.js';
import type { Clock, TimerHandle } from './clock.js';
import type { ConnectionContext } from './context.js';
import { HeartBeats } from './heartbeat.js';
import { ConnectionState } from './lifecycle.js';
import { Outbox } from './outbox.js';
import { FrameReader } from './reader.js';
import type { Session, SessionTerms } from './session.js';
import { SessionState } from './state.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';
import type { AckIndex } from './ack-index.js';
import { toStompError } from './stomp-error.js';

let sessionCounter = 0;
const sessionPrefix = Math.random().toString(36).slice(2, 8);

/** A STOMP session over one byte stream. Created by {@link Broker.handle}. */
export class Connection implements Session, SubscriptionOwner {
  /** The session id sent in CONNECTED. */
  readonly id: string;
  readonly peer: Peer;
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly authenticator: Authenticator;
  /** Resolves once the stream has closed and everything is released. */
  readonly closed: Promise<void>;
  /** When the connection was accepted (ms since the epoch). */
  readonly connectedAt = Date.now();
  /** Negotiated heart-beats in ms (0: none): what the broker sends, what it expects. */
  heartBeat: { readonly send: number; readonly receive: number } = { send: 0, receive: 0 };
  /** This connection's traffic, for the admin API (SENDs in, MESSAGEs out). */
  readonly traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, messagesIn: 0, messagesOut: 0 };
  /** Bytes sent on this connection (frames and heart-beats), as its outbox counts them. */
  get bytesOut(): number {
    return this.outbox.bytesWritten;
  }

  private lifecycle: ConnectionState = ConnectionState.NEW;
  private versionSpoken: StompVersion = '1.0';
  private vhostName: string;
  private clientKey = '';
  private who: Principal = ANONYMOUS;
  /** Replaced once CONNECT settles the version (its rules are the version's). */
  private sessionState: SessionState;
  private readonly stream: Duplex;
  private readonly ctx: ConnectionContext;
  private readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly reader: FrameReader;
  private readonly outbox: Outbox;
  private logger: Logger | undefined;
  private inbox: Frame[] = [];
  private inboxHead = 0;
  private busy = false;
  private parseError: StompError | undefined;
  private endRequested = false;
  private released = false;
  /** Connected, and the stream's write buffer has room (read on every delivery). */
  private canWrite = false;
  private heartBeats: HeartBeats | undefined;
  private connectTimer: TimerHandle | undefined;
  private lingerTimer: TimerHandle | undefined;
  private resolveClosed!: () => void;

  constructor(stream: Duplex, ctx: ConnectionContext, peer: Peer) {
    this.id = `${sessionPrefix}-${String(++sessionCounter)}`;
    this.stream = stream;
    this.ctx = ctx;
    this.peer = peer;
    this.options = ctx.options;
    this.engine = ctx.engine;
    this.authenticator = ctx.authenticator;
    this.metrics = ctx.metrics;
    this.clock = ctx.clock;
    this.vhostName = ctx.options.defaultVhost;
    this.sessionState = new SessionState('1.0', ctx.options);
    this.outbox = new Outbox(stream, ctx.clock, ctx.metrics, () => {
      this.canWrite = false;
    });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.reader = new FrameReader(
      {
        frame: (frame) => {
          this.metrics.framesIn++;
          this.traffic.framesIn++;
          this.inbox.push(frame);
        },
        heartbeat: () => {
          this.metrics.heartbeatsIn++;
        },
        timedOut: (err) => {
          this.fail(err);
        },
      },
      ctx.options,
      ctx.clock,
      ctx.metrics,
      ctx.partialFrames,
      peer.address,
    );
    const s = stream as Duplex & { setNoDelay?: (on: boolean) => unknown };
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    stream.on('data', (chunk: Buffer | string) => {
      this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.on('drain', () => {
      this.onDrain();
    });
    stream.on('end', () => {
      this.onEnd();
    });
    stream.on('error', (err) => {
      this.debug({ err }, 'stream error');
      this.release();
      stream.destroy();
    });
    stream.on('close', () => {
      this.onClose();
    });
    this.connectTimer = this.clock.setTimer(() => {
      this.connectTimer = undefined;
      if (this.lifecycle === ConnectionState.NEW) {
        this.debug('no CONNECT in time: dropping the connection');
        this.destroy();
      }
    }, ctx.options.connectTimeout);
    this.metrics.connectionsOpened++;
    this.debug('connection opened');
  }

  /** Where the connection is in its life. */
  get lifecycleState(): ConnectionState {
    return this.lifecycle;
  }

  get version(): StompVersion {
    return this.versionSpoken;
  }

  get vhost(): string {
    return this.vhostName;
  }

  get clientId(): string {
    return this.clientKey;
  }

  get principal(): Principal {
    return this.who;
  }

  get state(): SessionState {
    return this.sessionState;
  }

  /** The session's subscriptions deliver on the connection itself. */
  get output(): SubscriptionOwner {
    return this;
  }

  get acks(): AckIndex<Subscription> {
    return this.sessionState.acks;
  }

  /** This session's logger (a child of the broker's, created on first use). */
  get log(): Logger {
    return (this.logger ??= this.ctx.logger.child({ session: this.id, ...this.peer.info }));
  }

  /**
   * Log at debug level, making the child logger only when debug is on: an idle connection's
   * memory is counted in bytes, and a pino child costs ~600 (measured).
   */
  private debug(obj: object | string, msg?: string): void {
    if (!this.ctx.logger.isLevelEnabled('debug')) return;
    if (typeof obj === 'string') this.log.debug(obj);
    else this.log.debug(obj, msg);
  }

  /** False while the stream's write buffer is full (consumers wait for 'drain'). */
  get writable(): boolean {
    return this.canWrite;
  }

  // ---- reading ----

  private onData(chunk: Buffer): void {
    this.traffic.bytesIn += chunk.length;
    if (this.lifecycle >= ConnectionState.CLOSING || this.parseError !== undefined) return;
    this.parseError = this.reader.push(chunk);
    this.pump();
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = true;
    while (this.inboxHead < this.inbox.length && this.lifecycle < ConnectionState.CLOSING) {
      const frame = this.inbox[this.inboxHead]!;
      this.inboxHead++;
      const receipt = frame.header('receipt');
      let result: MaybePromise<void>;
      try {
        // A receipt that its RECEIPT could not carry is refused before the frame takes effect.
        if (receipt !== undefined) checkWritable(receipt, 'receipt', this.versionSpoken, frame);
        result = this.process(frame);
      } catch (err) {
        this.busy = false;
        this.fail(err, frame);
        return;
      }
      if (result instanceof Promise) {
        this.stream.pause();
        this.reader.hold();
        result.then(
          () => {
            this.busy = false;
            this.finish(frame, receipt);
            if (this.lifecycle < ConnectionState.CLOSING) {
              this.stream.resume();
              this.reader.resume();
            }
            this.pump();
          },
          (err: unknown) => {
            this.busy = false;
            this.fail(err, frame);
          },
        );
        return;
      }
      this.finish(frame, receipt);
    }
    this.inbox.length = 0;
    this.inboxHead = 0;
    this.busy = false;
    if (this.parseError !== undefined && this.lifecycle < ConnectionState.CLOSING) {
      this.fail(this.parseError);
    }
  }

  private process(frame: Frame): MaybePromise<void> {
    const command = frame.command;
    if (this.lifecycle === ConnectionState.NEW) return handleConnect(this, frame);
    if (command === 'CONNECT' || command === 'STOMP') {
      throw new StompProtocolError(
        ErrorCode.UNEXPECTED_FRAME,
        `${command} frame on a session that is already connected`,
        { frame },
      );
    }
    // Each handler reads its frame with core's interpreter for the command, which applies the
    // version's rules in the same pass.
    const handler = HANDLERS[command];
    if (handler === undefined) {
      // Not a client command: core's rule names what it is.
      validateClientFrame(frame, this.versionSpoken);
      throw new StompProtocolError(ErrorCode.UNEXPECTED_FRAME, `unexpected ${command} frame`, {
        frame,
      });
    }
    return handler(this, frame);
  }

  /** After a frame was processed: its receipt, and the end of the session after DISCONNECT. */
  private finish(frame: Frame, receipt: string | undefined): void {
    if (this.lifecycle >= ConnectionState.CLOSING) return;
    if (receipt !== undefined && frame.command !== 'CONNECT' && frame.command !== 'STOMP') {
      this.sendFrame(receiptFrame(receipt));
    }
    if (this.endRequested) {
      this.debug('DISCONNECT');
      this.shutdown();
    }
  }

  // ---- the session, as handlers use it ----

  accept(terms: SessionTerms): void {
    // The session may have ended (an ERROR, a timeout) while the login was checked.
    if (this.lifecycle !== ConnectionState.NEW) return;
    const { version, heartBeat } = terms;
    this.versionSpoken = version;
    this.reader.setVersion(version);
    this.sessionState = new SessionState(version, this.options);
    this.vhostName = terms.vhost;
    this.clientKey = terms.clientId;
    this.who = terms.principal;
    this.lifecycle = ConnectionState.CONNECTED;
    this.canWrite = !this.outbox.blocked;
    this.clock.clearTimer(this.connectTimer);
    this.connectTimer = undefined;
    const {
      header,
      negotiated: hb,
      timers,
    } = HeartBeats.start(
      this.clock,
      {
        lastWrite: () => this.outbox.lastWrite,
        lastRead: () => this.reader.lastRead,
        beat: () => {
          this.metrics.heartbeatsOut++;
          this.outbox.writeHeartBeat();
        },
        silent: (idle) => {
          this.debug({ idle }, 'heart-beat timeout: closing');
          this.destroy();
        },
      },
      version,
      this.options.heartbeat,
      heartBeat,
      this.options.heartbeatGrace,
    );
    this.sendFrame(
      connectedFrame({
        version,
        session: this.id,
        server: this.options.serverName,
        heartBeat: header,
      }),
    );
    this.heartBeats = timers;
    this.heartBeat = hb;
    this.debug({ version, vhost: terms.vhost, heartBeat: hb }, 'session connected');
  }

  authorize(right: 'read' | 'write', destination: string, frame: Frame): void {
    this.ctx.authorizer.authorize(this.who, this.vhostName, right, destination, frame);
  }

  publish(message: Message, awaitDurable: boolean): MaybePromise<void> {
    this.metrics.messagesPublished++;
    this.traffic.messagesIn++;
    return this.engine.publish(this.vhostName, this.id, message, awaitDurable);
  }

  countPublished(n: number): void {
    this.metrics.messagesPublished += n;
    this.traffic.messagesIn += n;
  }

  refuse(error: Frame): void {
    this.sendError(error);
  }

  endAfterFrame(): void {
    this.endRequested = true;
  }

  // ---- writing ----

  /** Send a frame in the session's version. */
  sendFrame(frame: Frame): void {
    const version = this.versionSpoken;
    let chunks: Uint8Array[];
    try {
      chunks = encodeFrame(frame, { version });
    } catch (err) {
      // A header the version cannot carry is left out, as MESSAGE frames do (encode.ts).
      const fixed = withoutUnwritable(frame, version);
      this.log.warn({ err, command: frame.command, left: fixed.left }, 'headers left out');
      chunks = encodeFrame(fixed.frame, { version });
    }
    this.metrics.framesOut++;
    this.traffic.framesOut++;
    this.outbox.writeFrame(chunks);
  }

  writeMessage(
    prefix: Uint8Array,
    idPrefix: string,
    ackKey: number,
    ack: boolean,
    deliveryCount: number,
    message: Message,
  ): void {
    this.metrics.framesOut++;
    this.metrics.messagesDelivered++;
    if (deliveryCount > 1) this.metrics.messagesRedelivered++;
    this.traffic.framesOut++;
    this.traffic.messagesOut++;
    writeMessage(
      this.outbox,
      this.versionSpoken,
      prefix,
      idPrefix,
      ackKey,
      ack,
      deliveryCount,
      message,
    );
    this.outbox.endFrame();
  }

  private onDrain(): void {
    if (!this.outbox.drained()) return;
    this.canWrite = this.lifecycle === ConnectionState.CONNECTED;
    for (const sub of this.sessionState.subscriptions.values()) {
      if (!this.writable) break;
      sub.handle?.resume();
    }
  }

  // ---- ending ----

  /**
   * Send an ERROR for `err` (with `receipt-id` when `frame` asked for a receipt), then close
   * once it is flushed. Frames after the offending one are not processed.
   */
  fail(err: unknown, frame?: Frame): void {
    if (this.lifecycle >= ConnectionState.CLOSING) return;
    const e = toStompError(err);
    this.debug({ code: e.code, command: frame?.command }, e.message);
    this.metrics.errors.count(e.code);
    // A frame too malformed to be processed may still have had its receipt header read.
    const receiptId = frame?.header('receipt') ?? e.receipt;
    this.sendError(
      errorFrame({
        message: e.message.slice(0, 1024),
        code: e.code,
        ...(receiptId === undefined ? {} : { receiptId }),
        body:
          `${e.code}: ${e.message}` +
          (frame === undefined ? '' : `\n\nwhile processing a ${frame.command} frame`),
      }),
    );
  }

  /** Send an ERROR frame and close after it. */
  private sendError(frame: Frame): void {
    if (this.lifecycle >= ConnectionState.CLOSING) return;
    this.metrics.errorsSent++;
    this.sendFrame(frame);
    this.shutdown();
  }

  /** Graceful end: release the session, flush what is queued, end the stream. Idempotent. */
  shutdown(): void {
    if (this.lifecycle >= ConnectionState.CLOSING) return;
    this.lifecycle = ConnectionState.CLOSING;
    this.inbox = [];
    this.inboxHead = 0;
    this.release();
    // Keep reading (and discarding) so the peer is not reset before it reads our last frames,
    // also when a frame was waiting (e.g. a SEND the engine pushed back on).
    if (this.busy) this.stream.resume();
    this.outbox.flush();
    this.stream.end();
    this.lingerTimer = this.clock.setTimer(() => {
      this.destroy();
    }, this.options.errorLinger);
  }

  /** Abrupt end: nothing more is flushed than what the stream takes at once. */
  destroy(): void {
    this.release();
    const stream = this.stream;
    if (stream.destroyed) return;
    // end() first so in-memory peers (which destroy() does not reach) see the end of the stream.
    if (!stream.writableEnded) {
      this.outbox.flush();
      stream.end();
    }
    setImmediate(() => stream.destroy());
  }

  private onEnd(): void {
    // The peer finished sending: nothing more will come, so end our side too.
    if (this.lifecycle < ConnectionState.CLOSING) this.lifecycle = ConnectionState.CLOSING;
    this.release();
    if (!this.stream.writableEnded) {
      this.outbox.flush();
      this.stream.end();
    }
    if (this.stream.writableFinished) this.stream.destroy();
    else this.stream.once('finish', () => this.stream.destroy());
  }

  private onClose(): void {
    this.lifecycle = ConnectionState.CLOSED;
    this.release();
    this.clock.clearTimer(this.lingerTimer);
    this.resolveClosed();
  }

  /** Free the session's resources: subscriptions (unacked requeued), transactions, temp queues. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.canWrite = false;
    if (this.lifecycle < ConnectionState.CLOSING) this.lifecycle = ConnectionState.CLOSING;
    this.clock.clearTimer(this.connectTimer);
    this.heartBeats?.stop();
    this.reader.release();
    this.inbox = [];
    this.inboxHead = 0;
    this.sessionState.release((err) => {
      this.log.warn({ err }, 'detach failed');
    });
    this.engine.sessionClosed(this.vhostName, this.id);
    this.metrics.connectionsClosed++;
    this.debug('connection closed');
    this.ctx.onClosed();
  }
}
