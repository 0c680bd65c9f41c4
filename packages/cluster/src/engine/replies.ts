// Replies to temporary queues across nodes. A temporary queue lives in the local engine of the
// node its session is on; when the session hands out its reply address (a `reply-to` header
// rewritten to `/reply-queue/<session>/<name>`), that node subscribes to the address's subject,
// so a reply sent on any node is carried by NATS to it alone (at most once, as a temporary queue
// is: it dies with its session). Session ids carry a random part per broker process, so they are
// distinct across nodes.
import type { Msg, Subscription } from '@nats-io/nats-core';
import { type Engine, decodeMessage } from '@stompede/broker';
import type { NodeContext } from './context.js';

/** The node's reply addresses. */
export class Replies {
  /** `vhost\0address` → the subscription carrying its replies. */
  private readonly subs = new Map<string, Subscription>();
  /** vhost\0session → its addresses' keys. */
  private readonly bySession = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly local: Engine,
  ) {}

  /** The reply address of `session`'s temporary queue `name`, now reachable from any node. */
  address(vhost: string, session: string, name: string): string {
    const address = this.local.replyAddress(vhost, session, name);
    const key = `${vhost}\0${address}`;
    if (!this.subs.has(key)) {
      const subject = this.ctx.names.replySubject(vhost, address.slice('/reply-queue/'.length));
      this.subs.set(
        key,
        this.ctx.link.nc.subscribe(subject, {
          callback: (_err, msg) => {
            this.receive(vhost, msg);
          },
        }),
      );
      const sk = `${vhost}\0${session}`;
      let keys = this.bySession.get(sk);
      if (keys === undefined) {
        keys = new Set();
        this.bySession.set(sk, keys);
      }
      keys.add(key);
    }
    return address;
  }

  /** True when `address` is one of this node's (its replies go to the local engine). */
  isLocal(vhost: string, address: string): boolean {
    return this.subs.has(`${vhost}\0${address}`);
  }

  /** The session ended: its addresses reach nothing any more. */
  sessionClosed(vhost: string, session: string): void {
    const sk = `${vhost}\0${session}`;
    for (const key of this.bySession.get(sk) ?? []) {
      this.subs.get(key)?.unsubscribe();
      this.subs.delete(key);
    }
    this.bySession.delete(sk);
  }

  private receive(vhost: string, msg: Msg): void {
    try {
      const message = decodeMessage(msg.data);
      message.own();
      void Promise.resolve(this.local.publish(vhost, '', message, false)).catch((err: unknown) => {
        this.ctx.warn(`delivering a reply to ${message.destination} failed`, err);
      });
    } catch (err) {
      this.ctx.warn(`dropping an unreadable reply on ${msg.subject}`, err);
    }
  }
}
