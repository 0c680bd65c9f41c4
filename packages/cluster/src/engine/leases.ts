// One attachment per durable subscription, cluster-wide. The holder is recorded as the last
// message on the subscription's lease subject (stream P_L keeps one per subject), written with
// JetStream's compare-and-set (`Nats-Expected-Last-Subject-Sequence`), so two nodes cannot both
// take a free lease. A node that finds the lease held asks the holder node whether the holder
// session still has it: a dead node has no responder (NATS answers "no responders" at once), so a
// client failing over from a crashed node attaches again within a round trip, not after a
// timeout; a live node answers from its own table.
import type { Msg } from '@nats-io/nats-core';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { lostRace } from '../nats/publisher.js';
import { retrying, transient, unavailable } from '../nats/retry.js';
import type { NodeContext } from './context.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The control verb a holder node answers. */
const VERB = 'lease';

interface Holder {
  readonly node: string;
  readonly session: string;
}

/** The node's durable subscription leases. */
export class Leases {
  /** Leases this node holds: lease subject → the sequence of its record. */
  private readonly held = new Map<string, number>();

  constructor(private readonly ctx: NodeContext) {
    const nc = ctx.link.nc;
    nc.subscribe(ctx.names.control(ctx.nodeId, VERB), {
      callback: (_err, msg) => {
        this.answer(msg);
      },
    });
  }

  /**
   * Take the lease `subject` for `session`, or throw `ERR_STOMP_INVALID_STATE` when another live
   * attachment holds it.
   */
  async acquire(subject: string, session: string, name: string): Promise<void> {
    const ctx = this.ctx;
    const action = `attaching durable subscription ${JSON.stringify(name)}`;
    const deadline = Date.now() + ctx.options.publishTimeout;
    while (Date.now() < deadline) {
      const current = await retrying(action, ctx.options.publishTimeout, () => this.read(subject));
      if (current.holder !== undefined && (await this.alive(subject, current.holder))) {
        throw new StompProtocolError(
          ErrorCode.INVALID_STATE,
          `durable subscription ${JSON.stringify(name)} is already active`,
        );
      }
      const record: Holder = { node: ctx.nodeId, session };
      try {
        const ack = await ctx.link.js.publish(subject, encoder.encode(JSON.stringify(record)), {
          expect: { lastSubjectSequence: current.seq },
          timeout: ctx.options.publishTimeout,
        });
        this.held.set(subject, ack.seq);
        return;
      } catch (err) {
        // Someone else wrote the lease between our read and write (or our write timed out and
        // may have been stored): look again.
        if (!lostRace(err) && !transient(err)) throw unavailable(action, err);
      }
    }
    throw new StompProtocolError(
      ErrorCode.INVALID_STATE,
      `durable subscription ${JSON.stringify(name)} is contended; try again`,
    );
  }

  /** Give the lease `subject` back (if this node still holds it). */
  async release(subject: string): Promise<void> {
    const seq = this.held.get(subject);
    if (seq === undefined) return;
    this.held.delete(subject);
    try {
      await this.ctx.link.js.publish(subject, new Uint8Array(0), {
        expect: { lastSubjectSequence: seq },
        timeout: this.ctx.options.publishTimeout,
      });
    } catch (err) {
      // Taken over meanwhile, or NATS is away: the next holder finds no live session.
      if (!lostRace(err)) this.ctx.warn(`releasing lease ${subject} failed`, err);
    }
  }

  /** True while this node holds `subject`. */
  holds(subject: string): boolean {
    return this.held.has(subject);
  }

  private async read(subject: string): Promise<{ seq: number; holder: Holder | undefined }> {
    const ctx = this.ctx;
    const stored = await ctx.link.jsm.streams.getMessage(ctx.names.leaseStream, {
      last_by_subj: subject,
    });
    if (stored === null) return { seq: 0, holder: undefined };
    if (stored.data.length === 0) return { seq: stored.seq, holder: undefined };
    try {
      return { seq: stored.seq, holder: JSON.parse(decoder.decode(stored.data)) as Holder };
    } catch {
      return { seq: stored.seq, holder: undefined };
    }
  }

  /** Does `holder` still hold `subject`? Its node answers; a dead node cannot. */
  private async alive(subject: string, holder: Holder): Promise<boolean> {
    const ctx = this.ctx;
    if (holder.node === ctx.nodeId) return this.held.has(subject);
    try {
      const reply = await ctx.link.nc.request(
        ctx.names.control(holder.node, VERB),
        encoder.encode(subject),
        { timeout: 2000 },
      );
      return decoder.decode(reply.data) === 'held';
    } catch (err) {
      // No responders: the node is gone. A timeout: it is alive but not answering; keep its
      // lease rather than risk two attachments.
      return !/no responders/i.test(String(err));
    }
  }

  private answer(msg: Msg): void {
    const subject = decoder.decode(msg.data);
    msg.respond(encoder.encode(this.held.has(subject) ? 'held' : 'free'));
  }
}
