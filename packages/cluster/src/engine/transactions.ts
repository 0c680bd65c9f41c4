// COMMIT in cluster mode: all of a transaction's SENDs and ACKs happen, or none does.
//
// JetStream 2.9 has no multi-message atomic write, so a COMMIT first stores the whole transaction
// as one message in the outbox stream (P_TX, replicated like the rest): once its PubAck arrives
// the transaction is decided. The node then applies it: every SEND published with the message id
// `<transaction>.<n>`, every ACK/NACK published to its delivery's reply subject, dead-letter
// copies first; then the outbox record is deleted and the RECEIPT sent. If the node dies while
// applying, any other node finds the record (all nodes pull the outbox's shared consumer, and
// leave a record alone while it is younger than `replayAfter`) and applies it again: JetStream's
// duplicate window drops the SENDs already stored, and an ACK of a settled delivery is a no-op.
//
// What a crash can still do (docs/cluster.md says it too): the client gets no RECEIPT and cannot
// tell whether the transaction happened; a replay later than the duplicate window (no node up for
// two minutes) stores its SENDs again; live topic subscribers may see a replayed SEND twice;
// messages for temporary queues and local live subscribers are node-local and die with it.
// A transaction larger than the servers' payload limit is applied without an outbox, one
// operation after another (logged).
import type { Msg } from '@nats-io/nats-core';
import type { MaybePromise, Message, TxOp } from '@stompede/broker';
import { StompProtocolError, ErrorCode } from '@stompede/core';
import { AckVerb, ackConfirmed, parseAckSubject, sendAck, sendNakDelay } from '../nats/ack.js';
import type { PullChannel, PullSink } from '../nats/puller.js';
import type { NodeContext, Route } from './context.js';
import { BridgedConsumer } from './local-bridge.js';
import { StoredSubscription } from './stored-subscription.js';

/** A stored publication of a transaction. */
export interface TxPublish {
  readonly subject: string;
  readonly msgId: string;
  /** Core NATS (a reply to another node's temporary queue), else JetStream. */
  readonly core: boolean;
  readonly payload: Uint8Array;
}

/** A settlement of a stored delivery. */
interface TxSettle {
  readonly reply: string;
  readonly verb: 'ack' | 'nak';
  /** With it: store this dead-letter copy first, then ACK. */
  readonly deadLetter?: TxPublish;
}

/** A decided transaction, as the outbox keeps it. */
interface TxRecord {
  readonly node: string;
  /** ms since the epoch, on the node that committed it. */
  readonly created: number;
  readonly publishes: readonly TxPublish[];
  readonly settles: readonly TxSettle[];
}

/** A dead-letter copy's route, or undefined when the message's dead letters are dropped. */
export type DeadLetterRoute = (
  vhost: string,
  message: Message,
  id: string,
) => TxPublish | undefined;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Commits transactions and replays those a dead node left half-applied. */
export class Transactions {
  private seq = 0;
  private channel: PullChannel | undefined;
  private warnedLarge = false;
  /** Records younger than this are left to the node that wrote them. */
  private readonly replayAfter: number;

  constructor(
    private readonly ctx: NodeContext,
    private readonly route: (vhost: string, session: string, message: Message) => Route | undefined,
    private readonly deadLetterRoute: DeadLetterRoute,
  ) {
    this.replayAfter = 2 * ctx.options.publishTimeout;
  }

  /** Start watching the outbox for records to replay. */
  start(): void {
    const sink: PullSink = {
      onMessage: (msg) => {
        void this.replay(msg);
      },
      onEnded: () => {
        this.pull();
      },
    };
    this.channel = this.ctx.puller.channel(sink);
    this.pull();
  }

  stop(): void {
    this.channel?.close();
  }

  /** Apply `ops` as one transaction. */
  async commit(
    vhost: string,
    sessionId: string,
    ops: readonly TxOp[],
    awaitDurable: boolean,
  ): Promise<void> {
    const ctx = this.ctx;
    const publishes: TxPublish[] = [];
    const settles: TxSettle[] = [];
    const local: (() => MaybePromise<void>)[] = [];
    const txId = `tx.${ctx.nodeId}.${String(++this.seq)}`;
    // Refused before anything happens: a settlement of a delivery this engine did not make.
    for (const op of ops) {
      if (
        op.kind !== 'publish' &&
        !(op.consumer instanceof StoredSubscription) &&
        !(op.consumer instanceof BridgedConsumer)
      ) {
        throw new StompProtocolError(
          ErrorCode.INVALID_STATE,
          'the transaction settles a delivery this engine did not make; nothing was committed',
        );
      }
    }
    for (const op of ops) {
      if (op.kind === 'publish') {
        const r = this.route(vhost, sessionId, op.message);
        if (r === undefined) continue;
        ctx.metrics.messageEnqueued();
        if (r.kind === 'local') local.push(() => r.send());
        else {
          publishes.push({
            subject: r.subject,
            // A producer's idempotency key wins; otherwise the transaction names its SENDs.
            msgId: r.msgId.startsWith('k.') ? r.msgId : `${txId}.${String(publishes.length)}`,
            // Live topic messages too are stored here: the PubAck confirms them, replays dedupe.
            core: r.kind === 'core',
            payload: r.payload,
          });
        }
        continue;
      }
      const handle = op.consumer;
      const requeue = op.kind === 'nack' && op.requeue;
      if (!(handle instanceof StoredSubscription)) {
        local.push(() =>
          op.kind === 'ack' ? handle.ack(op.ackKey, false) : handle.nack(op.ackKey, requeue, false),
        );
        continue;
      }
      const d = handle.claim(op.ackKey);
      if (d === undefined) continue;
      if (op.kind === 'ack') {
        ctx.metrics.messageAcked();
        settles.push({ reply: d.reply, verb: 'ack' });
        continue;
      }
      ctx.metrics.messageNacked();
      const max = ctx.maxDeliveries;
      if (requeue && !(max > 0 && d.deliveryCount >= max)) {
        settles.push({ reply: d.reply, verb: 'nak' });
        continue;
      }
      const copy = this.deadLetterRoute(vhost, d.message, `${d.stream}.${String(d.streamSeq)}`);
      settles.push(
        copy === undefined
          ? { reply: d.reply, verb: 'ack' }
          : { reply: d.reply, verb: 'ack', deadLetter: copy },
      );
    }
    const record: TxRecord = { node: ctx.nodeId, created: Date.now(), publishes, settles };
    let outboxSeq = 0;
    if (publishes.length > 0 && publishes.length + settles.length >= 2) {
      const bytes = encodeRecord(record);
      if (bytes.length <= ctx.link.status().maxPayload - 1024) {
        try {
          outboxSeq = (await ctx.publisher.publish(ctx.names.outboxSubject, bytes, txId)).seq;
        } catch (err) {
          // Not decided: nothing happened. The claimed deliveries go back to their queues.
          for (const s of settles) sendAck(ctx.link.nc, s.reply, AckVerb.NAK);
          throw err;
        }
      } else if (!this.warnedLarge) {
        this.warnedLarge = true;
        ctx.warn(
          `a transaction of ${String(bytes.length)} bytes is over the NATS payload limit: ` +
            'applied without the outbox (a node crash while applying it can apply part of it)',
        );
      }
    }
    await this.apply(record, awaitDurable);
    for (const f of local) await f();
    if (outboxSeq > 0) {
      ctx.link.jsm.streams
        .deleteMessage(ctx.names.outboxStream, outboxSeq, false)
        .catch((err: unknown) => {
          ctx.warn(`removing applied transaction ${txId} from the outbox failed`, err);
        });
    }
  }

  /** Publish a record's SENDs, then settle its deliveries. */
  private async apply(record: TxRecord, confirm: boolean): Promise<void> {
    const ctx = this.ctx;
    const stored: Promise<unknown>[] = [];
    for (const p of record.publishes) {
      if (p.core) ctx.link.nc.publish(p.subject, p.payload);
      else stored.push(ctx.publisher.publish(p.subject, p.payload, p.msgId));
    }
    await Promise.all(stored);
    const settled: Promise<unknown>[] = [];
    for (const s of record.settles) {
      settled.push(this.settle(s, confirm));
    }
    await Promise.all(settled);
  }

  private async settle(s: TxSettle, confirm: boolean): Promise<void> {
    const ctx = this.ctx;
    if (s.deadLetter !== undefined) {
      const dl = s.deadLetter;
      await ctx.publisher.publish(dl.subject, dl.payload, dl.msgId);
      ctx.metrics.messageDeadLettered();
    }
    if (s.verb === 'nak') {
      ctx.metrics.messageRequeued();
      sendAck(ctx.link.nc, s.reply, AckVerb.NAK);
    } else if (confirm) {
      try {
        await ackConfirmed(ctx.link.nc, s.reply, ctx.options.publishTimeout);
      } catch (err) {
        throw new StompProtocolError(
          ErrorCode.UNAVAILABLE,
          `the cluster did not confirm an ACK of the transaction (${String(err)})`,
        );
      }
    } else {
      sendAck(ctx.link.nc, s.reply, AckVerb.ACK);
    }
  }

  private pull(): void {
    const ch = this.channel;
    if (ch === undefined || ch.closed || ch.pending > 0) return;
    ch.pull(this.ctx.names.outboxStream, 'apply', 1);
  }

  /** An outbox record reached this node: replay it if its node had time enough to apply it. */
  private async replay(msg: Msg): Promise<void> {
    const ctx = this.ctx;
    const reply = msg.reply ?? '';
    const info = parseAckSubject(reply);
    if (info === undefined) return;
    let record: TxRecord;
    try {
      record = decodeRecord(msg.data);
    } catch (err) {
      ctx.warn(`dropping an unreadable outbox record ${String(info.streamSeq)}`, err);
      sendAck(ctx.link.nc, reply, AckVerb.TERM);
      return;
    }
    const age = Date.now() - record.created;
    if (age < this.replayAfter) {
      sendNakDelay(ctx.link.nc, reply, this.replayAfter - age + 100);
      return;
    }
    try {
      await this.apply(record, true);
      sendAck(ctx.link.nc, reply, AckVerb.ACK);
      ctx.warn(
        `replayed transaction ${String(info.streamSeq)} of node ${record.node} ` +
          `(${String(record.publishes.length)} SENDs, ${String(record.settles.length)} ACK/NACKs)`,
      );
    } catch (err) {
      ctx.warn(`replaying transaction ${String(info.streamSeq)} failed; retrying later`, err);
      sendNakDelay(ctx.link.nc, reply, 1000);
    }
  }
}

// Layout: [u32 length of the JSON head][JSON head][payloads, in head order].
interface Head {
  readonly node: string;
  readonly created: number;
  readonly publishes: readonly Omit<TxPublish, 'payload'>[];
  readonly settles: readonly (Omit<TxSettle, 'deadLetter'> & {
    deadLetter?: Omit<TxPublish, 'payload'>;
  })[];
  /** Payload lengths, publishes then dead-letter copies. */
  readonly lengths: readonly number[];
}

function encodeRecord(record: TxRecord): Uint8Array {
  const payloads: Uint8Array[] = [];
  const strip = (p: TxPublish): Omit<TxPublish, 'payload'> => {
    payloads.push(p.payload);
    return { subject: p.subject, msgId: p.msgId, core: p.core };
  };
  const publishes = record.publishes.map(strip);
  const settles = record.settles.map((s) =>
    s.deadLetter === undefined
      ? { reply: s.reply, verb: s.verb }
      : { reply: s.reply, verb: s.verb, deadLetter: strip(s.deadLetter) },
  );
  const head: Head = {
    node: record.node,
    created: record.created,
    publishes,
    settles,
    lengths: payloads.map((p) => p.length),
  };
  const json = encoder.encode(JSON.stringify(head));
  let size = 4 + json.length;
  for (const p of payloads) size += p.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(json.length, 0);
  out.set(json, 4);
  let off = 4 + json.length;
  for (const p of payloads) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function decodeRecord(bytes: Uint8Array): TxRecord {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = buf.readUInt32LE(0);
  const head = JSON.parse(decoder.decode(buf.subarray(4, 4 + n))) as Head;
  let off = 4 + n;
  let i = 0;
  const take = (p: Omit<TxPublish, 'payload'>): TxPublish => {
    const len = head.lengths[i++] ?? 0;
    const payload = buf.subarray(off, off + len);
    off += len;
    return { ...p, payload };
  };
  const publishes = head.publishes.map(take);
  const settles = head.settles.map((s) =>
    s.deadLetter === undefined
      ? { reply: s.reply, verb: s.verb }
      : { reply: s.reply, verb: s.verb, deadLetter: take(s.deadLetter) },
  );
  return { node: head.node, created: head.created, publishes, settles };
}
