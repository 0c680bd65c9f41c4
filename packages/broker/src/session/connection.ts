// One client connection: frames processed strictly in order (a handler that returns a promise
// holds the frames behind it and pauses the socket), the session as its handlers use it, and
// what it writes. Its states and the ways it ends are lifecycle.ts's (the base class), input the
// reader's (reader.ts: the parser and the bounds on unfinished frames), output the outbox's
// (outbox.ts), heart-beats heartbeat.ts's, subscriptions and transactions state.ts's, ERROR
// frames stomp-error.ts's; command handlers (handlers/) see this class only through the Session
// interface (session.ts).
import type { Duplex } from 'node:stream';
import {
  ErrorCode,
  type Frame,
  type StompVersion,
  type StompError,
  StompProtocolError,
  connectedFrame,
  encodeFrame,
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
import type { ConnectionContext } from './context.js';
import { HeartBeats } from './heartbeat.js';
import { ConnectionLifecycle, ConnectionState, lifecycleOf } from './lifecycle.js';
import { Outbox } from './outbox.js';
import { paceBody } from './gc-pacing.js';
import { FrameReader } from './reader.js';
import type { Session, SessionTerms } from './session.js';
import { SessionState } from './state.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';
import type { AckIndex } from './ack-index.js';
import { errorFrameFor, toStompError } from './stomp-error.js';

let sessionCounter = 0;
const sessionPrefix = Math.random().toString(36).slice(2, 8);

/** A STOMP session over one byte stream. Created by {@link Broker.handle}. */
export class Connection extends ConnectionLifecycle implements Session, SubscriptionOwner {
  /** The session id sent in CONNECTED. */
  readonly id: string;
  readonly peer: Peer;
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly authenticator: Authenticator;
  /** When the connection was accepted (ms since the epoch). */
  readonly connectedAt = Date.now();

  private negotiated: NegotiatedHeartBeats = NO_HEARTBEATS;
  private readonly counted: Traffic = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  private versionSpoken: StompVersion = '1.0';
  private vhostName: string;
  private clientKey = '';
  private who: Principal = ANONYMOUS;
  /** Replaced once CONNECT settles the version (its rules are the version's). */
  private sessionState: SessionState;
  private readonly ctx: ConnectionContext<Connection>;
  private readonly metrics: Metrics;
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

  constructor(stream: Duplex, ctx: ConnectionContext<Connection>, peer: Peer) {
    super(stream, ctx.clock, ctx.options);
    this.id = `${sessionPrefix}-${String(++sessionCounter)}`;
    this.ctx = ctx;
    this.peer = peer;
    this.options = ctx.options;
    this.engine = ctx.engine;
    this.authenticator = ctx.authenticator;
    this.metrics = ctx.metrics;
    this.vhostName = ctx.options.defaultVhost;
    this.sessionState = new SessionState('1.0', ctx.options);
    this.outbox = new Outbox(stream, ctx.clock, ctx.metrics, this);
    this.reader = new FrameReader(
      this,
      ctx.options,
      ctx.clock,
      ctx.metrics,
      ctx.partialFrames,
      peer.address,
    );
    const s = stream as Duplex & { setNoDelay?: (on: boolean) => unknown };
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    // Shared listeners that find the session by its stream (lifecycle.ts): no closures each.
    stream.on('data', onStreamData);
    stream.on('drain', onStreamDrain);
    this.metrics.connectionOpened();
    this.debug('connection opened');
  }

  protected streamClosed(): void {
    this.ctx.onStreamClosed(this);
  }

  /** @internal The reader's: a complete frame, processed in order by pump(). */
  frameRead(frame: Frame): void {
    this.metrics.frameReceived();
    this.counted.framesIn++;
    paceBody(frame.bodyLength);
    this.inbox.push(frame);
  }

  /** @internal The reader's: a heart-beat EOL. */
  heartbeatRead(): void {
    this.metrics.heartbeatReceived();
  }

  /** @internal The reader's: a frame did not arrive in time. */
  readTimedOut(err: StompError): void {
    this.fail(err);
  }

  /** @internal The outbox's: a write filled the stream's buffer (until 'drain'). */
  outboxBlocked(): void {
    this.canWrite = false;
  }

  /** Negotiated heart-beats in ms (0: none): what the broker sends, what it expects. */
  get heartBeat(): NegotiatedHeartBeats {
    return this.negotiated;
  }

  /** This connection's traffic, for the admin API (SENDs in, MESSAGEs out). */
  get traffic(): Readonly<Traffic> {
    return this.counted;
  }

  /** Bytes sent on this connection (frames and heart-beats), as its outbox counts them. */
  get bytesOut(): number {
    return this.outbox.bytesWritten;
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
  protected debug(obj: object | string, msg?: string): void {
    if (!this.ctx.logger.isLevelEnabled('debug')) return;
    if (typeof obj === 'string') this.log.debug(obj);
    else this.log.debug(obj, msg);
  }

  /** False while the stream's write buffer is full (consumers wait for 'drain'). */
  get writable(): boolean {
    return this.canWrite;
  }

  // ---- reading ----

  /** @internal The stream's 'data'. */
  onData(chunk: Buffer): void {
    this.counted.bytesIn += chunk.length;
    if (this.ending || this.parseError !== undefined) return;
    this.parseError = this.reader.push(chunk);
    this.pump();
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = true;
    while (this.inboxHead < this.inbox.length && !this.ending) {
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
            if (!this.ending) {
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
    if (this.parseError !== undefined && !this.ending) {
      this.fail(this.parseError);
    }
  }

  private process(frame: Frame): MaybePromise<void> {
    const command = frame.command;
    if (this.lifecycleState === ConnectionState.NEW) return handleConnect(this, frame);
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
    // A destination another cluster node made is looked up before the permission check.
    const lookup =
      this.engine.exists === undefined || (command !== 'SEND' && command !== 'SUBSCRIBE')
        ? undefined
        : this.ctx.authorizer.lookUp(this.who, this.vhostName, command, frame, this.engine);
    return lookup === undefined ? handler(this, frame) : lookup.then(() => handler(this, frame));
  }

  /** After a frame was processed: its receipt, and the end of the session after DISCONNECT. */
  private finish(frame: Frame, receipt: string | undefined): void {
    if (this.ending) return;
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
    if (!this.markConnected()) return;
    const { version, heartBeat } = terms;
    this.versionSpoken = version;
    this.reader.setVersion(version);
    this.sessionState = new SessionState(version, this.options);
    this.vhostName = terms.vhost;
    this.clientKey = terms.clientId;
    this.who = terms.principal;
    this.canWrite = !this.outbox.blocked;
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
          this.metrics.heartbeatSent();
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
    this.negotiated = hb;
    this.debug({ version, vhost: terms.vhost, heartBeat: hb }, 'session connected');
  }

  authorize(right: 'read' | 'write', destination: string, frame: Frame): void {
    this.ctx.authorizer.authorize(this.who, this.vhostName, right, destination, frame);
  }

  publish(message: Message, awaitDurable: boolean): MaybePromise<void> {
    this.metrics.messagePublished();
    this.counted.messagesIn++;
    return this.engine.publish(this.vhostName, this.id, message, awaitDurable);
  }

  countPublished(n: number): void {
    this.metrics.messagePublished(n);
    this.counted.messagesIn += n;
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
    this.metrics.frameSent();
    this.counted.framesOut++;
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
    this.metrics.messageDelivered(deliveryCount);
    this.counted.framesOut++;
    this.counted.messagesOut++;
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

  /** @internal The stream's 'drain'. */
  onDrain(): void {
    if (!this.outbox.drained()) return;
    this.canWrite = this.lifecycleState === ConnectionState.CONNECTED;
    for (const sub of this.sessionState.subscriptions.values()) {
      if (!this.writable) break;
      sub.handle?.resume();
    }
  }

  // ---- ending (the ways to end are lifecycle.ts's) ----

  /**
   * Send an ERROR for `err` (with `receipt-id` when `frame` asked for a receipt), then close
   * once it is flushed. Frames after the offending one are not processed.
   */
  fail(err: unknown, frame?: Frame): void {
    if (this.ending) return;
    const e = toStompError(err);
    this.debug({ code: e.code, command: frame?.command }, e.message);
    this.metrics.errors.count(e.code);
    this.sendError(errorFrameFor(e, frame));
  }

  /** Send an ERROR frame and close after it. */
  private sendError(frame: Frame): void {
    if (this.ending) return;
    this.metrics.errorSent();
    this.sendFrame(frame);
    this.shutdown();
  }

  protected flushOutput(): void {
    this.outbox.flush();
  }

  /** Free the session's resources: subscriptions (unacked requeued), transactions, temp queues. */
  protected release(): void {
    if (this.released) return;
    this.released = true;
    this.canWrite = false;
    this.markEnding();
    this.heartBeats?.stop();
    this.reader.release();
    this.inbox = [];
    this.inboxHead = 0;
    this.sessionState.release((err) => {
      this.log.warn({ err }, 'detach failed');
    });
    this.engine.sessionClosed(this.vhostName, this.id);
    this.metrics.connectionClosed();
    this.debug('connection closed');
    this.ctx.onClosed(this);
  }
}

/** Negotiated heart-beats in ms (0: none): what the broker sends, what it expects. */
export interface NegotiatedHeartBeats {
  readonly send: number;
  readonly receive: number;
}

const NO_HEARTBEATS: NegotiatedHeartBeats = Object.freeze({ send: 0, receive: 0 });

/** A connection's traffic counters (SENDs in, MESSAGEs out). */
export interface Traffic {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  messagesIn: number;
  messagesOut: number;
}

function onStreamData(this: Duplex, chunk: Buffer | string): void {
  const c = lifecycleOf(this);
  if (c instanceof Connection) c.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
}
function onStreamDrain(this: Duplex): void {
  const c = lifecycleOf(this);
  if (c instanceof Connection) c.onDrain();
}
