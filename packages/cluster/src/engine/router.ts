// Where a publication goes: a queue's work-queue stream, a topic's subject (stored for durable
// subscriptions when persistent), this node's local engine (temporary queues), or another node's
// reply subject. Also the message id that makes JetStream store a retried or repeated SEND once.
import {
  type Engine,
  type MaybePromise,
  type Message,
  DestinationKind,
  ORIGINAL_DESTINATION,
  deadLetterQueue,
  encodeMessage,
  parseDestination,
} from '@stompede/broker';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { levelOf, nameHash } from '../names.js';
import type { NodeContext, Route } from './context.js';
import type { Replies } from './replies.js';
import type { TxPublish } from './transactions.js';

/** The SEND header that makes a publication idempotent (see docs/cluster.md). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Routes publications. */
export class Router {
  private publishSeq = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly local: Engine,
    private readonly replies: Replies,
    /** Treat every message as persistent. */
    private readonly persistAll: boolean,
  ) {}

  /**
   * Where `message` goes and how; undefined when it is dropped at once (expired). Transactions
   * record stored and core routes in their outbox and replay them (transactions.ts).
   */
  route(vhost: string, sessionId: string, message: Message): Route | undefined {
    const ctx = this.ctx;
    if (this.persistAll) message = message.asPersistent();
    const dest = parseDestination(message.destination);
    if (message.expires > 0 && message.expires <= ctx.clock()) {
      ctx.metrics.messageDropped();
      return undefined;
    }
    switch (dest.kind) {
      case DestinationKind.QUEUE: {
        const addr = ctx.names.queue(vhost, dest.name);
        return {
          kind: 'stored',
          subject: addr.subject(levelOf(message.priority)),
          payload: this.payload(message),
          msgId: this.messageId(vhost, message),
        };
      }
      case DestinationKind.TOPIC: {
        const subject = ctx.names.topicSubject(vhost, dest.name);
        // Persistent: stored for durable subscriptions (the PubAck says so); live ones get it too.
        return {
          kind: message.persistent ? 'stored' : 'live',
          subject,
          payload: this.payload(message),
          msgId: this.messageId(vhost, message),
        };
      }
      case DestinationKind.TEMP_QUEUE:
        return {
          kind: 'local',
          send: () => promiseOf(this.local.publish(vhost, sessionId, message)),
        };
      default: {
        // A reply address: this node's, or carried to the node of its session.
        if (this.replies.isLocal(vhost, message.destination)) {
          return {
            kind: 'local',
            send: () => promiseOf(this.local.publish(vhost, sessionId, message)),
          };
        }
        // At most once, as a temporary queue is: it dies with its session and node.
        return {
          kind: 'core',
          subject: ctx.names.replySubject(vhost, dest.name),
          payload: this.payload(message),
          msgId: this.messageId(vhost, message),
        };
      }
    }
  }

  /** The message as stored, checked against the servers' payload limit. */
  private payload(message: Message): Uint8Array {
    const payload = encodeMessage(message);
    const max = this.ctx.link.status().maxPayload - 1024;
    if (payload.length > max) {
      throw new StompProtocolError(
        ErrorCode.BODY_TOO_LARGE,
        `message of ${String(payload.length)} bytes is over the cluster's limit of ` +
          `${String(max)} (NATS max_payload less 1 KiB for headers)`,
        { header: 'content-length' },
      );
    }
    return payload;
  }

  /** The JetStream message id of a publication: the producer's idempotency key, or a fresh one. */
  private messageId(vhost: string, message: Message): string {
    const headers = message.headers;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === IDEMPOTENCY_HEADER) {
        return `k.${nameHash(vhost, message.destination, headers[i + 1] ?? '')}`;
      }
    }
    return `${this.ctx.nodeId}.${String(++this.publishSeq)}`;
  }

  /** Where the dead-letter copy of `message` goes; undefined when it is dropped instead. */
  deadLetterRoute(vhost: string, message: Message, id: string): TxPublish | undefined {
    const dlq = deadLetterQueue(message.destination);
    if (dlq === undefined) return undefined;
    const copy = message.redirect(dlq, [ORIGINAL_DESTINATION, message.destination]);
    const addr = this.ctx.names.queue(vhost, dlq.slice('/queue/'.length));
    return {
      subject: addr.subject(levelOf(copy.priority)),
      msgId: `dlq.${id}`,
      core: false,
      payload: encodeMessage(copy),
    };
  }

  /** Store a dead-letter copy of `message` (once per `id`). */
  async deadLetter(vhost: string, message: Message, id: string): Promise<void> {
    const route = this.deadLetterRoute(vhost, message, id);
    if (route === undefined) {
      this.ctx.metrics.messageDropped();
      return;
    }
    await this.ctx.publisher.publish(route.subject, route.payload, route.msgId);
  }
}

/** Start a publication along `route`; the promise settles when it is stored or handed on. */
export function send(ctx: NodeContext, route: Route): Promise<void> | undefined {
  switch (route.kind) {
    case 'stored':
      return ctx.publisher.publish(route.subject, route.payload, route.msgId).then(() => undefined);
    case 'live':
    case 'core': {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', route.msgId);
      ctx.link.nc.publish(route.subject, route.payload, { headers: h });
      return undefined;
    }
    case 'local':
      return route.send();
  }
}

function promiseOf(result: MaybePromise<void>): Promise<void> | undefined {
  return result instanceof Promise ? result : undefined;
}
