// Connecting: walks the failover schedule (announcing each retry, sleeping between attempts, the
// sleep cut short by close() or the caller's signal), opens a transport per attempt and waits for
// the STOMP handshake on it, under `connectTimeout`. The client does the handshake itself (it
// owns the session and reads the link); the connector owns the attempts.
import {
  type BrokerAddress,
  ErrorCode,
  type FailoverSchedule,
  StompConnectionError,
  StompServerError,
  StompTimeoutError,
  type StompVersion,
} from '@stompede/core';
import type { StatusEvent } from './events.js';
import { closedError, type Link } from './link.js';
import type { TransportFactory, Transport } from './transport.js';
import { abortError, sleep, toError, waitFor } from './util.js';

/** What the connector needs from its client. */
export interface ConnectorHost {
  /** Start the STOMP connection on a new transport (CONNECT written, reading): its link. */
  attach(broker: BrokerAddress, transport: Transport): Link;
  /** An attempt on `link` failed with `error`: drop it. */
  detach(link: Link, error: Error): void;
  /** Report a status event. */
  emit(event: StatusEvent): void;
}

/** The options the connector uses. */
export interface ConnectorOptions {
  readonly connectTimeout: number;
  readonly versions: readonly StompVersion[];
}

/** The attempts to connect of one client, over its whole life. */
export class Connector {
  constructor(
    private readonly factory: TransportFactory,
    private readonly schedule: FailoverSchedule,
    private readonly options: ConnectorOptions,
    /** Aborts when the client closes: every attempt and sleep ends at once. */
    private readonly lifetime: AbortSignal,
  ) {}

  /**
   * Connect: try the brokers as the schedule says until one completes the handshake, and return
   * its link. `afterLoss` is true when a connection was lost (every attempt is then announced
   * with a `reconnecting` event; on the first connect, every retry is). Rejects with the
   * broker's error when one answers CONNECT with ERROR (never retried), `ERR_STOMP_ABORTED` when
   * `signal` aborts (at once, even while sleeping between attempts),
   * `ERR_STOMP_CONNECTION_CLOSED` when the client closes, and when the schedule gives up, with
   * the last attempt's failure: `ERR_STOMP_TIMEOUT` when it timed out, else
   * `ERR_STOMP_CONNECTION_REFUSED`.
   */
  async connect(
    host: ConnectorHost,
    signal: AbortSignal | undefined,
    afterLoss: boolean,
  ): Promise<Link> {
    let lastError: Error | undefined;
    for (let step = this.schedule.next(); step !== undefined; step = this.schedule.next()) {
      if (afterLoss || step.attempt > 0) {
        host.emit({
          type: 'reconnecting',
          broker: step.broker,
          attempt: afterLoss ? step.attempt + 1 : step.attempt,
          delay: step.delay,
        });
      }
      if (step.delay > 0) {
        try {
          await sleep(step.delay, [this.lifetime, signal]);
        } catch (err) {
          throw this.#stopped(signal) ?? err;
        }
      }
      try {
        const link = await this.#attempt(host, step.broker, signal);
        this.schedule.connected(step.broker);
        return link;
      } catch (err) {
        // A broker that answers CONNECT with ERROR rejects us (login, vhost): never retried.
        if (err instanceof StompServerError) throw err;
        const stopped = this.#stopped(signal);
        if (stopped !== undefined) throw stopped;
        lastError = toError(err);
        host.emit({ type: 'error', error: lastError });
      }
    }
    const brokers = this.schedule.brokers.map((b) => b.uri).join(', ');
    if (lastError instanceof StompTimeoutError) {
      throw new StompTimeoutError(`could not connect to ${brokers}: ${lastError.message}`, {
        cause: lastError,
      });
    }
    throw new StompConnectionError(
      ErrorCode.CONNECTION_REFUSED,
      `could not connect to ${brokers}`,
      lastError === undefined ? {} : { cause: lastError },
    );
  }

  /** Why connecting must stop now, if it must: the client closed, or the caller aborted. */
  #stopped(signal: AbortSignal | undefined): Error | undefined {
    if (this.lifetime.aborted) return closedError();
    if (signal?.aborted === true) return abortError(signal, 'connect');
    return undefined;
  }

  /** Open a transport to `broker` and complete the STOMP handshake on it. */
  async #attempt(
    host: ConnectorHost,
    broker: BrokerAddress,
    signal: AbortSignal | undefined,
  ): Promise<Link> {
    const attempt = new AbortController();
    const abort = (): void => {
      attempt.abort();
    };
    this.lifetime.addEventListener('abort', abort, { once: true });
    let link: Link | undefined;
    const run = async (): Promise<Link> => {
      const transport = await this.factory(broker, {
        signal: attempt.signal,
        versions: this.options.versions,
      });
      if (attempt.signal.aborted) {
        transport.destroy();
        throw closedError();
      }
      link = host.attach(broker, transport);
      await link.handshake.promise;
      return link;
    };
    try {
      return await waitFor(
        run(),
        `connecting to ${broker.uri}`,
        { timeout: this.options.connectTimeout, signal },
        abort,
      );
    } catch (err) {
      if (link !== undefined)
        host.detach(link, err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      this.lifetime.removeEventListener('abort', abort);
    }
  }
}
