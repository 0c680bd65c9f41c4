// Publishing into JetStream: a message counts as stored when its PubAck arrives (the stream's
// leader has it in a majority of replicas). A publish that times out or finds no stream leader
// (an election after a server died) is retried with the same `Nats-Msg-Id`, so the stream keeps
// it once, until the node's publish timeout; then the SEND gets an ERROR. Bytes in flight are
// counted: beyond the limit the node pauses its producers.
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/nats-core';
import type { PubAck } from '@nats-io/jetstream';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { describe, type NatsLink } from './link.js';

/** How long one attempt waits for its PubAck before the next try (ms). */
const ATTEMPT_TIMEOUT = 2000;
/** Pause between attempts that failed at once (no responders, no leader). */
const RETRY_PAUSE = 250;

/**
 * NATS header on a publish retried after an attempt timed out: that attempt may have been stored
 * too (see {@link Publisher.publish}), so whoever delivers this copy marks it as redelivered.
 */
export const RETRIED_HEADER = 'Stompede-Retried';

/** JetStream API errors that retrying cannot fix. */
const PERMANENT: Record<number, string> = {
  10054: 'the message is larger than the stream accepts',
  10077: 'the stream is full (maximum messages)',
  10047: 'the stream is full (maximum bytes)',
  10071: 'a concurrent update (wrong last sequence)',
  10164: 'a concurrent update (wrong last sequence)',
};

/** Publishes with retries and counts what is in flight. */
export class Publisher {
  private inflight = 0;
  private waiters: (() => void)[] = [];
  /** Publishes that failed for good, for metrics. */
  failures = 0;

  constructor(
    private readonly link: NatsLink,
    private readonly timeout: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** Bytes of publishes awaiting their PubAck. */
  get inflightBytes(): number {
    return this.inflight;
  }

  /** True while more than the limit is in flight. */
  get full(): boolean {
    return this.inflight >= this.maxInflightBytes;
  }

  /** Resolves once nothing is in flight. */
  async drained(): Promise<void> {
    while (this.inflight > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /** Resolves once the bytes in flight are below the limit. */
  room(): Promise<void> | undefined {
    if (!this.full) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Store `payload` on `subject` (with `msgId` as `Nats-Msg-Id` when given: retries and repeats
   * within the duplicate window are stored once). Rejects with a StompProtocolError when it cannot
   * be stored within the timeout or the stream refuses it.
   *
   * One case escapes the duplicate window on nats-server before 2.11: an attempt that times out
   * because the stream's leader died may still be committed by the next leader, which does not
   * know its id yet when the retry reaches it, so both are stored. Attempts after a timeout
   * therefore carry {@link RETRIED_HEADER}: such a copy is delivered as a redelivery.
   */
  async publish(subject: string, payload: Uint8Array, msgId?: string): Promise<PubAck> {
    const size = payload.length;
    this.inflight += size;
    try {
      return await this.attempts(subject, payload, msgId);
    } finally {
      this.inflight -= size;
      if (this.waiters.length > 0 && !this.full) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async attempts(subject: string, payload: Uint8Array, msgId?: string): Promise<PubAck> {
    const deadline = Date.now() + this.timeout;
    let hdrs: MsgHdrs | undefined;
    if (msgId !== undefined) {
      hdrs = natsHeaders();
      hdrs.set('Nats-Msg-Id', msgId);
    }
    let last = 'no attempt';
    let timedOut = false;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        return await this.link.js.publish(subject, payload, {
          timeout: Math.min(ATTEMPT_TIMEOUT, left),
          ...(hdrs === undefined ? {} : { headers: hdrs }),
        });
      } catch (err) {
        const code = apiCode(err);
        if (code !== undefined && PERMANENT[code] !== undefined) {
          this.failures++;
          throw new StompProtocolError(
            ErrorCode.LIMIT_EXCEEDED,
            `cannot store the message: ${PERMANENT[code]}`,
          );
        }
        last = describe(err);
        // Without a message id a retry could store the message twice.
        if (hdrs === undefined) break;
        if (/timeout/i.test(last)) {
          if (!timedOut) hdrs.set(RETRIED_HEADER, '1');
          timedOut = true;
        } else {
          await new Promise((r) => setTimeout(r, Math.min(RETRY_PAUSE * attempt, 1000)));
        }
      }
    }
    this.failures++;
    throw new StompProtocolError(
      ErrorCode.UNAVAILABLE,
      `the cluster could not store the message within ${String(this.timeout)} ms (${last}); ` +
        'it may or may not have been stored',
    );
  }
}

/**
 * True when a compare-and-set publish lost the race (`Nats-Expected-Last-Subject-Sequence` did
 * not match): 10071 names the current sequence; replicated streams on nats-server 2.11 and later
 * answer 10164, without it, when the subject has a write in flight.
 */
export function lostRace(err: unknown): boolean {
  const code = apiCode(err);
  return code === 10071 || code === 10164;
}

/** The JetStream API error code of `err`, if it is one. */
export function apiCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; api_error?: { err_code?: unknown } };
  const code = e.api_error?.err_code ?? e.code;
  return typeof code === 'number' ? code : undefined;
}
