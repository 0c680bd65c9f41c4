// The memory of unfinished frames, broker-wide and per address (issue 19.4): a peer that sends
// most of a large frame and stops holds that memory for as long as its connection lives, so ten
// such peers must not hold ten times the frame size limit. Each connection reports what its
// parser holds after every chunk; the connection that takes the total or its address's share over
// a limit gets an ERROR, and what it held is given back when it goes.

/** Limits on bytes held in unfinished frames (0: no limit). */
export interface PartialFrameLimits {
  /** Across every connection. */
  readonly total: number;
  /** Across the connections from one address. */
  readonly perAddress: number;
}

/** Bytes held in unfinished frames, across connections. */
export class PartialFrames {
  private held = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(readonly limits: PartialFrameLimits) {}

  /** Bytes held now, across every connection. */
  get total(): number {
    return this.held;
  }

  /** Bytes held now by connections from `address`. */
  heldBy(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /**
   * `address` now holds `delta` bytes more (or fewer). Returns the limit that is broken after the
   * change, or `undefined`; the change is made either way (the caller gives it back on close).
   */
  change(address: string, delta: number): 'total' | 'perAddress' | undefined {
    this.held += delta;
    const mine = (this.byAddress.get(address) ?? 0) + delta;
    if (mine === 0) this.byAddress.delete(address);
    else this.byAddress.set(address, mine);
    if (delta <= 0) return undefined;
    if (this.limits.total > 0 && this.held > this.limits.total) return 'total';
    if (this.limits.perAddress > 0 && mine > this.limits.perAddress) return 'perAddress';
    return undefined;
  }
}
