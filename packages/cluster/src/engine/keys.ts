// Ack keys: the numbers that name a node's unsettled deliveries (Delivery.ackKey), whose digits
// end each message-id. A session finds a delivery by them, so they must be unique among the node's
// unsettled deliveries; and the message-id of a stored message should be the same on every node
// and on every redelivery, so they are computed from where the message is stored.
//
// A key is n × M + slot, M = shards + 3, below 10^15 (the 15 digits a session reads):
//   slot 0…shards-1   a queue message: n = its sequence in work-queue stream `slot`
//   slot shards       a delivery of the node's local engine (temporary queues, live topic
//                     subscriptions): n = the local engine's own key
//   slot shards+1     a durable subscription's message: n = its sequence in the topic stream
//                     (the id prefix names the subscription, so copies for two subscriptions
//                     have distinct ids)
//   slot shards+2     spare: a fresh number, when the computed key is taken (the same stored
//                     message unsettled twice on one node, e.g. a topic message held by two
//                     durable subscriptions at once); that delivery's id is then not stable.
// With 3 shards, sequences up to 1.6 × 10^14 fit: 50 years at 100,000 messages a second.

/** The largest key a session reads (15 decimal digits). */
const KEY_LIMIT = 1e15;

/** Computes and checks ack keys for one node. */
export class KeySpace {
  private readonly m: number;
  private spareNext = 0;

  constructor(readonly shards: number) {
    this.m = shards + 3;
  }

  /** The key of queue message `seq` of shard `shard`. */
  queue(seq: number, shard: number): number {
    return this.fit(seq * this.m + shard);
  }

  /** The key of a local engine delivery with key `local`. */
  local(local: number): number {
    return this.fit(local * this.m + this.shards);
  }

  /** The local engine key inside `key`, or -1 when `key` is not a local one. */
  localOf(key: number): number {
    return key % this.m === this.shards ? (key - this.shards) / this.m : -1;
  }

  /** The key of topic-stream message `seq` delivered to a durable subscription. */
  durable(seq: number): number {
    return this.fit(seq * this.m + this.shards + 1);
  }

  /** A fresh key (see the header comment). */
  spare(): number {
    this.spareNext++;
    return this.fit(this.spareNext * this.m + this.shards + 2);
  }

  private fit(key: number): number {
    if (key >= KEY_LIMIT) {
      // Beyond 15 digits: wrap the spare counter and use it; the id is then not stable.
      this.spareNext = 0;
      return this.spare();
    }
    return key;
  }
}
