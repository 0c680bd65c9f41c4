// Connection admission: the broker-wide and per-address connection limits, checked when a
// listener accepts a stream. A refused stream gets an ERROR and is closed.
import type { Duplex } from 'node:stream';
import { ErrorCode, encodeFrameBytes, errorFrame } from '@stompede/core';
import type { ErrorCounts } from '../metrics.js';

/** Limits on connections. */
export interface AdmissionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

/** Milliseconds a refused stream has to read its ERROR before it is destroyed. */
const REFUSAL_LINGER = 1000;

/** Counts connections per address and refuses those over a limit. One per broker. */
export class Admission {
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly errors: ErrorCounts,
  ) {}

  /**
   * May a stream from `address` be served, with `open` sessions open now? False (and an ERROR
   * written, the stream ended) when a limit is reached.
   */
  admit(stream: Duplex, address: string, open: number): boolean {
    let reason: string | undefined;
    if (open >= this.limits.maxConnections) {
      reason = `the broker has reached its limit of ${String(this.limits.maxConnections)} connections`;
    } else if (this.connectionsFrom(address) >= this.limits.maxConnectionsPerAddress) {
      reason = `too many connections from ${address} (limit ${String(this.limits.maxConnectionsPerAddress)})`;
    }
    if (reason === undefined) return true;
    this.errors.refused(ErrorCode.LIMIT_EXCEEDED);
    stream.on('error', () => undefined);
    stream.end(
      encodeFrameBytes(
        errorFrame({
          message: reason,
          code: ErrorCode.LIMIT_EXCEEDED,
          body: `${ErrorCode.LIMIT_EXCEEDED}: ${reason}`,
        }),
      ),
    );
    setTimeout(() => stream.destroy(), REFUSAL_LINGER).unref();
    return false;
  }

  /** A session from `address` opened. */
  opened(address: string): void {
    this.perAddress.set(address, this.connectionsFrom(address) + 1);
  }

  /** A session from `address` closed. */
  closed(address: string): void {
    const n = this.connectionsFrom(address) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }

  /** Connections open from `address` now. */
  connectionsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }
}
