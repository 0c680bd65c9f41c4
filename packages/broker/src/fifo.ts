/** A FIFO queue over a growable array with a moving head: O(1) push and shift, no per-item node. */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items held. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The item `i` places from the head (0 = head). */
  at(i: number): T | undefined {
    return this.items[this.head + i];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove every item, returning them in order. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}

/** Number of priority levels: 0 (lowest) to 9 (highest). */
export const PRIORITIES = 10;

/**
 * FIFO per priority level: {@link PriorityFifo.shift} takes the oldest item of the highest
 * non-empty level. With one level in use it costs one array look-up more than a {@link Fifo}.
 */
export class PriorityFifo<T> {
  private readonly lanes: (Fifo<T> | undefined)[] = [];
  /** The highest level that may be non-empty. */
  private top = -1;
  private size = 0;

  /** Items held. */
  get length(): number {
    return this.size;
  }

  /** Append `item` at `priority` (0..9). */
  push(item: T, priority: number): void {
    let lane = this.lanes[priority];
    if (lane === undefined) {
      lane = new Fifo<T>();
      this.lanes[priority] = lane;
    }
    lane.push(item);
    if (priority > this.top) this.top = priority;
    this.size++;
  }

  /** The level the next item comes from (undefined when empty). */
  head(): Fifo<T> | undefined {
    while (this.top >= 0) {
      const lane = this.lanes[this.top];
      if (lane !== undefined && lane.length > 0) return lane;
      this.top--;
    }
    return undefined;
  }

  peek(): T | undefined {
    return this.head()?.peek();
  }

  shift(): T | undefined {
    const lane = this.head();
    if (lane === undefined) return undefined;
    this.size--;
    return lane.shift();
  }

  /** Remove every item, returning them highest level first. */
  drain(): T[] {
    const out: T[] = [];
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const lane = this.lanes[p];
      if (lane !== undefined) for (const item of lane.drain()) out.push(item);
    }
    this.size = 0;
    this.top = -1;
    return out;
  }

  /** Every item, level by level (for maintenance walks, not the hot path). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const lane = this.lanes[p];
      if (lane === undefined) continue;
      for (let i = 0; i < lane.length; i++) yield lane.at(i)!;
    }
  }
}
