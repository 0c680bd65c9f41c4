// Publishing into JetStream: a message counts as stored when its PubAck arrives (the stream's
// leader has it in a majority of replicas). A publish that times out or finds no stream leader
// (an election after a server died) is retried with the same `Nats-Msg-Id`, so the stream keeps
// it once, until the node's publish timeout; then the SEND gets an ERROR. Bytes in flight are
// counted: beyond the limit the node pauses its producers.
//
// The PubAcks come back on one subscription of the node's, `<root>.<attempt>`, rather than
// through the client library's request(): that builds two Error objects (stack traces) and a
// timer per request, a sixth of a producing node's CPU per message.
import { type Msg, type MsgHdrs, headers as natsHeaders } from '@nats-io/nats-core';
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

/** How one attempt ended. */
type Outcome =
  | { readonly ack: PubAck }
  | { readonly timedOut: true }
  | { readonly failed: string; readonly code?: number };

/** What a PubAck's JSON holds. */
interface PubAckJson {
  readonly stream?: string;
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly domain?: string;
  readonly error?: {
    readonly err_code?: number;
    readonly code?: number;
    readonly description?: string;
  };
}

const decoder = new TextDecoder();

/** Publishes with retries and counts what is in flight. */
export class Publisher {
  private inflight = 0;
  private waiters: (() => void)[] = [];
  /** Attempts waiting for their PubAck, by the last token of their reply subject. */
  private readonly attempts = new Map<number, (outcome: Outcome) => void>();
  private nextAttempt = 0;
  /** Publishes that failed for good, for metrics. */
  failures = 0;

  constructor(
    private readonly link: NatsLink,
    private readonly timeout: number,
    private readonly maxInflightBytes: number,
    /** Reply subjects of the PubAcks: `<root>.<attempt>` (a root of this node's own). */
    private readonly root: string,
  ) {
    // Closed with the connection (its drain).
    link.nc.subscribe(`${root}.*`, {
      callback: (_err, msg) => {
        this.answer(msg);
      },
    });
  }

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
      return await this.store(subject, payload, msgId);
    } finally {
      this.inflight -= size;
      if (this.waiters.length > 0 && !this.full) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async store(subject: string, payload: Uint8Array, msgId?: string): Promise<PubAck> {
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
      const outcome = await this.attempt(subject, payload, hdrs, Math.min(ATTEMPT_TIMEOUT, left));
      if ('ack' in outcome) return outcome.ack;
      if ('failed' in outcome) {
        const permanent = outcome.code === undefined ? undefined : PERMANENT[outcome.code];
        if (permanent !== undefined) {
          this.failures++;
          throw new StompProtocolError(
            ErrorCode.LIMIT_EXCEEDED,
            `cannot store the message: ${permanent}`,
          );
        }
        last = outcome.failed;
      } else {
        last = 'timeout';
      }
      // Without a message id a retry could store the message twice.
      if (hdrs === undefined) break;
      if ('timedOut' in outcome) {
        if (!timedOut) hdrs.set(RETRIED_HEADER, '1');
        timedOut = true;
      } else {
        await new Promise((r) => setTimeout(r, Math.min(RETRY_PAUSE * attempt, 1000)));
      }
    }
    this.failures++;
    throw new StompProtocolError(
      ErrorCode.UNAVAILABLE,
      `the cluster could not store the message within ${String(this.timeout)} ms (${last}); ` +
        'it may or may not have been stored',
    );
  }

  /** Publish once and wait up to `ms` for the PubAck. */
  private attempt(
    subject: string,
    payload: Uint8Array,
    hdrs: MsgHdrs | undefined,
    ms: number,
  ): Promise<Outcome> {
    const id = ++this.nextAttempt;
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        this.attempts.delete(id);
        resolve({ timedOut: true });
      }, ms);
      this.attempts.set(id, (outcome) => {
        clearTimeout(timer);
        this.attempts.delete(id);
        resolve(outcome);
      });
      try {
        this.link.nc.publish(subject, payload, {
          reply: `${this.root}.${String(id)}`,
          ...(hdrs === undefined ? {} : { headers: hdrs }),
        });
      } catch (err) {
        // Closed, or over the connection's payload limit.
        this.attempts.get(id)?.({ failed: describe(err) });
      }
    });
  }

  /** A PubAck, an API error or a status (503: no stream takes the subject, or no leader yet). */
  private answer(msg: Msg): void {
    const id = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const settle = this.attempts.get(id);
    if (settle === undefined) return; // timed out already
    const status = msg.headers?.code ?? 0;
    if (status !== 0) {
      settle({ failed: status === 503 ? 'no responders' : `status ${String(status)}` });
      return;
    }
    let json: PubAckJson;
    try {
      json = JSON.parse(decoder.decode(msg.data)) as PubAckJson;
    } catch {
      settle({ failed: 'an unreadable PubAck' });
      return;
    }
    if (json.error !== undefined) {
      const code = json.error.err_code ?? json.error.code;
      settle({
        failed: json.error.description ?? 'a JetStream error',
        ...(code === undefined ? {} : { code }),
      });
      return;
    }
    if (typeof json.stream !== 'string' || json.stream === '' || typeof json.seq !== 'number') {
      settle({ failed: 'an invalid PubAck' });
      return;
    }
    settle({
      ack: {
        stream: json.stream,
        seq: json.seq,
        duplicate: json.duplicate === true,
        ...(json.domain === undefined ? {} : { domain: json.domain }),
      },
    });
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
