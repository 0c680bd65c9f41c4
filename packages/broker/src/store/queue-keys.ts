// Numbers for the queue keys of stored messages, so the index keeps a number per message rather
// than a string; a number is freed (and reused) when its last message goes, so the table stays
// proportional to the queues that hold stored messages.

/** A reference-counted table of queue keys. */
export class QueueKeys {
  private readonly keys: (string | undefined)[] = [];
  private readonly counts: number[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly free: number[] = [];

  /** The table of `keys` (by number; undefined = free) with their message counts. */
  static from(keys: readonly (string | undefined)[], counts: ArrayLike<number>): QueueKeys {
    const t = new QueueKeys();
    for (let q = 0; q < keys.length; q++) {
      const key = keys[q];
      const count = counts[q] ?? 0;
      if (key === undefined || count === 0 || t.numbers.has(key)) {
        t.keys.push(undefined);
        t.counts.push(0);
        t.free.push(q);
      } else {
        t.keys.push(key);
        t.counts.push(count);
        t.numbers.set(key, q);
      }
    }
    return t;
  }

  /** The number of `key`, counting one more message of it. */
  acquire(key: string): number {
    let q = this.numbers.get(key);
    if (q === undefined) {
      q = this.free.pop() ?? this.keys.length;
      this.keys[q] = key;
      this.counts[q] = 0;
      this.numbers.set(key, q);
    }
    this.counts[q]!++;
    return q;
  }

  /** One message of queue number `q` is gone. */
  release(q: number): void {
    const count = this.counts[q];
    if (count === undefined || count === 0) return;
    this.counts[q] = count - 1;
    if (count === 1) {
      this.numbers.delete(this.keys[q]!);
      this.keys[q] = undefined;
      this.free.push(q);
    }
  }

  /** Messages of queue number `q`. */
  count(q: number): number {
    return this.counts[q] ?? 0;
  }

  /** The key of number `q`. */
  key(q: number): string | undefined {
    return this.keys[q];
  }

  /** Every number, with its key (undefined = free). */
  get table(): readonly (string | undefined)[] {
    return this.keys;
  }
}
