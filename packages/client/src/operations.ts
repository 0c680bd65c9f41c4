// The client's operations and their one write path: every frame an application sends (SEND,
// SUBSCRIBE, UNSUBSCRIBE, ACK/NACK, BEGIN/COMMIT/ABORT, DISCONNECT) is checked, built by the
// session and written by #perform, whose fast path (no receipt, no signal: written at once) is
// the only one; awaited receipts are kept in the session with their waiters.
import {
  type BodyInit,
  type ClientSession,
  ErrorCode,
  type Frame,
  SessionState,
  StompConnectionError,
  StompError,
} from '@stompede/core';
import { ClientState, type StatusEvent } from './events.js';
import { frameOptions, sendFrameOptions } from './frame-options.js';
import { closedError, type Label, label, type Link, lostError } from './link.js';
import type { AckOptions, MessageImpl, MessageOwner } from './message.js';
import {
  type OperationOptions,
  type ResolvedOptions,
  resolveSubscribeOptions,
  type SendOptions,
  type SubscribeOptions,
} from './options.js';
import { type MessageHandler, SubscriptionImpl, type SubscriptionOwner } from './subscription.js';
import { type Transaction, TransactionImpl, type TransactionOwner } from './transaction.js';
import { abortError, type Deferred, deferred, waitFor, type WaitOptions, toError } from './util.js';

const DONE: Promise<void> = Promise.resolve();

/** What the operations need from their client. */
export interface OperationsHost {
  /** The current link, if any. */
  readonly link: Link | undefined;
  readonly state: ClientState;
  /** Resolves once the session is usable (connected, subscriptions replayed). */
  readonly ready: Promise<undefined>;
  readonly options: ResolvedOptions;
  emit(event: StatusEvent): void;
}

/** The operations of one client, over the session they build their frames with. */
export class Operations implements MessageOwner, SubscriptionOwner, TransactionOwner {
  #receipts = 0;
  #queuedBytes = 0;
  /** Operations waiting for the session to be usable: later ones take no fast path past them. */
  #waiting = 0;

  constructor(
    private readonly host: OperationsHost,
    readonly session: ClientSession<SubscriptionImpl, Deferred<undefined>>,
  ) {}

  /** Bytes of message bodies accepted by `send()` and not yet written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** The current link if the session is usable now, nobody waiting for it before us. */
  linkNow(): Link | undefined {
    const link = this.host.link;
    return this.#waiting === 0 &&
      this.host.state === ClientState.CONNECTED &&
      link?.connected === true &&
      !link.isDead()
      ? link
      : undefined;
  }

  /** The current link once the session is usable (waiting per `whileDisconnected`). */
  async whenReady(options: WaitOptions): Promise<Link> {
    this.#waiting++;
    try {
      for (;;) {
        const link = this.host.link;
        if (
          this.host.state === ClientState.CONNECTED &&
          link?.connected === true &&
          !link.isDead()
        ) {
          return link;
        }
        if (this.host.state === ClientState.CLOSING || this.host.state === ClientState.CLOSED) {
          throw closedError();
        }
        if (this.host.options.whileDisconnected === 'fail') {
          throw new StompConnectionError(ErrorCode.CONNECTION_LOST, 'not connected to a broker');
        }
        await waitFor(this.host.ready, 'waiting for the connection', {
          timeout: options.timeout ?? this.host.options.disconnectedTimeout,
          signal: options.signal,
        });
      }
    } finally {
      this.#waiting--;
    }
  }

  /**
   * Check that an operation can go out on `link` now, before its frame is built (the session
   * must be connected to build it); returns the receipt id to ask for, if the operation wants
   * one. Throws what the operation rejects with.
   */
  prepare(link: Link, options: OperationOptions, what: Label): string | undefined {
    if (options.signal?.aborted === true) throw abortError(options.signal, label(what));
    if (link.isDead()) throw link.death ?? lostError();
    if (this.host.link !== link || this.session.state !== SessionState.CONNECTED) {
      throw this.host.state === ClientState.CLOSING || this.host.state === ClientState.CLOSED
        ? closedError()
        : lostError();
    }
    return options.receipt === true ? `rcpt-${String(++this.#receipts)}` : undefined;
  }

  /**
   * Write `frame` (built by the session with `receipt`) on `link`, then wait for its RECEIPT
   * when it asked for one. `options.timeout` bounds the whole operation (default:
   * `writeTimeout` for the write, `receiptTimeout` for the receipt). `bytes` of message bodies
   * count as queued (`sendBufferLimit`) until the frame is written.
   */
  perform(
    link: Link,
    frame: Frame,
    receipt: string | undefined,
    options: OperationOptions,
    what: Label,
    bytes = 0,
  ): Promise<void> {
    if (receipt !== undefined || options.signal !== undefined) {
      return this.#performSlow(link, frame, receipt, options, what, bytes);
    }
    // The fast path: the frame is written at once when nothing is queued on the link (no
    // promise, no timer), else queued like any other, and counted as queued only then.
    const pending = link.send(frame, what, {
      timeout: options.timeout ?? this.host.options.writeTimeout,
    });
    if (pending === undefined) return DONE;
    if (bytes === 0) return pending;
    this.#queuedBytes += bytes;
    return pending.finally(() => {
      this.#queuedBytes -= bytes;
    });
  }

  async #performSlow(
    link: Link,
    frame: Frame,
    receipt: string | undefined,
    options: OperationOptions,
    description: Label,
    bytes: number,
  ): Promise<void> {
    const what = label(description);
    let waiter: Deferred<undefined> | undefined;
    if (receipt !== undefined) {
      waiter = deferred<undefined>();
      this.session.expectReceipt(receipt, waiter);
    }
    const started = Date.now();
    this.#queuedBytes += bytes;
    try {
      await link.write(frame, what, {
        timeout: options.timeout ?? this.host.options.writeTimeout,
        signal: options.signal,
      });
    } catch (err) {
      if (receipt !== undefined) this.session.forgetReceipt(receipt);
      throw err;
    } finally {
      this.#queuedBytes -= bytes;
    }
    if (waiter === undefined || receipt === undefined) return;
    const timeout =
      options.timeout === undefined
        ? this.host.options.receiptTimeout
        : Math.max(0, options.timeout - (Date.now() - started));
    await waitFor(
      waiter.promise,
      `the RECEIPT for ${what}`,
      { timeout, signal: options.signal },
      () => this.session.forgetReceipt(receipt),
    );
  }

  // ---- operations ---------------------------------------------------------------------------

  send(
    destination: string,
    body: BodyInit,
    options: SendOptions = {},
    tx?: TransactionImpl,
  ): Promise<void> {
    const size = typeof body === 'string' ? body.length : body.byteLength;
    if (this.#queuedBytes > 0 && this.#queuedBytes + size > this.host.options.sendBufferLimit) {
      return Promise.reject(
        new StompError(
          ErrorCode.LIMIT_EXCEEDED,
          `send to ${destination}: ${String(this.#queuedBytes)} bytes are already queued ` +
            `(sendBufferLimit ${String(this.host.options.sendBufferLimit)}); await earlier sends`,
        ),
      );
    }
    // A transaction's frames go on its own connection (it is open there only).
    const link = tx === undefined ? this.linkNow() : tx.link;
    if (link === undefined) return this.#sendLater(destination, body, options, size);
    return this.#sendOn(link, destination, body, options, tx, size);
  }

  async #sendLater(
    destination: string,
    body: BodyInit,
    options: SendOptions,
    size: number,
  ): Promise<void> {
    this.#queuedBytes += size;
    let link: Link;
    try {
      link = await this.whenReady(options);
    } finally {
      this.#queuedBytes -= size;
    }
    await this.#sendOn(link, destination, body, options, undefined, size);
  }

  #sendOn(
    link: Link,
    destination: string,
    body: BodyInit,
    options: SendOptions,
    tx: TransactionImpl | undefined,
    size: number,
  ): Promise<void> {
    const what = `SEND to ${destination}`;
    try {
      const receipt = this.prepare(link, options, what);
      const frame = this.session.send(
        sendFrameOptions(destination, body, options, tx?.id, receipt),
      );
      return this.perform(link, frame, receipt, options, what, size);
    } catch (err) {
      return Promise.reject(toError(err));
    }
  }

  async subscribe(
    destination: string,
    options: SubscribeOptions = {},
    handler?: MessageHandler,
  ): Promise<SubscriptionImpl> {
    const { ack, buffer, headers } = resolveSubscribeOptions(options, this.host.options);
    const link = this.linkNow() ?? (await this.whenReady(options));
    const what = `SUBSCRIBE to ${destination}`;
    const receipt = this.prepare(link, options, what);
    const id = options.id ?? this.session.nextSubscriptionId();
    const sub = new SubscriptionImpl(this, id, destination, ack, buffer);
    const frame = this.session.subscribe(
      { destination, ack, headers, id, ...(receipt === undefined ? {} : { receipt }) },
      sub,
    );
    try {
      await this.perform(link, frame, receipt, options, what);
    } catch (err) {
      // The broker may hold the subscription (e.g. a receipt timed out): take it back.
      await sub.unsubscribe().catch(() => undefined);
      throw err;
    }
    if (handler !== undefined) {
      sub.run(handler, (error) => {
        this.host.emit({ type: 'error', error: toError(error) });
      });
    }
    return sub;
  }

  /** Called by {@link SubscriptionImpl.unsubscribe}. */
  async unsubscribe(sub: SubscriptionImpl, options: OperationOptions): Promise<void> {
    if (this.session.subscription(sub.id)?.data !== sub) return;
    const link = this.host.link;
    if (
      link?.connected !== true ||
      link.isDead() ||
      this.session.state !== SessionState.CONNECTED ||
      this.host.state === ClientState.CLOSING
    ) {
      // Nothing to tell a broker now (it dropped the subscription with the connection): it is
      // just not replayed on the next connection.
      this.session.forget(sub.id);
      return;
    }
    const what = `UNSUBSCRIBE ${sub.id}`;
    const receipt = this.prepare(link, options, what);
    const frame = this.session.unsubscribe(sub.id, frameOptions(undefined, receipt));
    await this.perform(link, frame, receipt, options, what);
  }

  /** Called by {@link MessageImpl.ack} and {@link MessageImpl.nack}. */
  acknowledge(command: 'ACK' | 'NACK', message: MessageImpl, options: AckOptions): Promise<void> {
    const link = this.host.link;
    if (link?.generation !== message.generation || !link.connected || link.isDead()) {
      return Promise.reject(
        new StompConnectionError(
          ErrorCode.STALE_MESSAGE,
          `cannot ${command} message ${message.messageId}: it came over an earlier connection ` +
            '(the broker redelivers unacknowledged messages)',
          { frame: message.frame },
        ),
      );
    }
    if (command === 'NACK' && link.version === '1.0') {
      return Promise.reject(
        new StompError(ErrorCode.UNSUPPORTED_VERSION, 'NACK does not exist in STOMP 1.0', {
          frame: message.frame,
        }),
      );
    }
    const transaction =
      typeof options.transaction === 'string' ? options.transaction : options.transaction?.id;
    // The label is built only if needed (a wait that fails): it decodes a header.
    const what = (): string => `${command} ${message.messageId}`;
    try {
      const receipt = this.prepare(link, options, what);
      const o = frameOptions(transaction, receipt);
      const frame =
        command === 'ACK'
          ? this.session.ack(message.frame, o)
          : this.session.nack(message.frame, o);
      return this.perform(link, frame, receipt, options, what);
    } catch (err) {
      return Promise.reject(toError(err));
    }
  }

  async begin(options: OperationOptions & { readonly id?: string } = {}): Promise<TransactionImpl> {
    const link = this.linkNow() ?? (await this.whenReady(options));
    const receipt = this.prepare(link, options, 'BEGIN');
    const frame = this.session.begin(options.id, frameOptions(undefined, receipt));
    const tx = new TransactionImpl(this, frame.header('transaction') ?? '', link);
    await this.perform(link, frame, receipt, options, 'BEGIN');
    return tx;
  }

  async transaction<T>(
    work: (tx: Transaction) => Promise<T> | T,
    options: OperationOptions = {},
  ): Promise<T> {
    const tx = await this.begin(options);
    let result: T;
    try {
      result = await work(tx);
    } catch (err) {
      if (tx.state === 'open') await tx.abort().catch(() => undefined);
      throw err;
    }
    await tx.commit(options);
    return result;
  }

  /** Called by {@link TransactionImpl.commit} and {@link TransactionImpl.abort}. */
  async finishTransaction(
    tx: TransactionImpl,
    command: 'COMMIT' | 'ABORT',
    options: OperationOptions,
  ): Promise<void> {
    const what = `${command} ${tx.id}`;
    const receipt = this.prepare(tx.link, options, what);
    const o = frameOptions(undefined, receipt);
    const frame =
      command === 'COMMIT' ? this.session.commit(tx.id, o) : this.session.abort(tx.id, o);
    await this.perform(tx.link, frame, receipt, options, what);
  }

  /** Send DISCONNECT on `link` and wait for its receipt (`close()`). */
  async disconnect(link: Link, options: OperationOptions): Promise<void> {
    const receipt = this.prepare(link, options, 'DISCONNECT');
    const frame = this.session.disconnect(frameOptions(undefined, receipt));
    await this.perform(link, frame, receipt, options, 'DISCONNECT');
  }
}
