// Slowing down repeated failed logins from one address: each failure doubles the wait before the
// next attempt from there is checked, up to a ceiling. The table is bounded: the least recently
// failing addresses are forgotten first, and entries expire.

/** Options of `LoginThrottle`. */
export interface LoginThrottleOptions {
  /** Milliseconds of delay after the first failure; doubled per further failure. Default 200. */
  readonly baseDelay?: number;
  /** Ceiling of the delay in milliseconds. Default 10000. */
  readonly maxDelay?: number;
  /** Addresses remembered at most. Default 10000. */
  readonly maxEntries?: number;
  /** Milliseconds after the last failure when an address is forgotten. Default 15 minutes. */
  readonly forgetAfter?: number;
}

interface Entry {
  failures: number;
  last: number;
}

/** Failure counts per address, and the delay they earn. */
export class LoginThrottle {
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly maxEntries: number;
  readonly forgetAfter: number;
  private readonly table = new Map<string, Entry>();

  constructor(
    options: LoginThrottleOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.baseDelay = options.baseDelay ?? 200;
    this.maxDelay = options.maxDelay ?? 10_000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.forgetAfter = options.forgetAfter ?? 15 * 60_000;
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.table.size;
  }

  /** Milliseconds to wait before checking a login from `address`. */
  delay(address: string): number {
    const e = this.table.get(address);
    if (e === undefined) return 0;
    if (this.now() - e.last > this.forgetAfter) {
      this.table.delete(address);
      return 0;
    }
    return Math.min(this.maxDelay, this.baseDelay * 2 ** Math.min(e.failures - 1, 30));
  }

  /** A login from `address` failed. */
  failure(address: string): void {
    const e = this.table.get(address);
    const failures = e === undefined ? 1 : e.failures + 1;
    // Re-insert so Map order is least recently failing first.
    this.table.delete(address);
    while (this.table.size >= this.maxEntries) {
      const oldest = this.table.keys().next().value;
      if (oldest === undefined) break;
      this.table.delete(oldest);
    }
    this.table.set(address, { failures, last: this.now() });
  }

  /** A login from `address` succeeded: forget its failures. */
  success(address: string): void {
    this.table.delete(address);
  }
}
