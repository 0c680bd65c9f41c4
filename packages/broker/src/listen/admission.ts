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

/** Milliseconds between two log lines about connections refused by the same limit. */
const REFUSAL_LOG_INTERVAL = 10_000;

/** A connection refused by a limit. */
export interface Refusal {
  readonly limit: 'maxConnections' | 'maxConnectionsPerAddress';
  readonly address: string;
  /** The ERROR frame's `message`. */
  readonly message: string;
  /** Whether to log it (at most one line per limit every 10 s). */
  readonly log: boolean;
  /** Refusals by the same limit since the last line logged, not logged themselves. */
  readonly suppressed: number;
}

/** Counts connections per address and refuses those over a limit. One per broker. */
export class Admission {
  private readonly perAddress = new Map<string, number>();
  private readonly refusalLog = new Map<Refusal['limit'], { at: number; suppressed: number }>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly errors: ErrorCounts,
  ) {}

  /**
   * May a stream from `address` be served, with `open` sessions open now? Undefined when it may;
   * when a limit is reached, an ERROR is written, the stream ended, and the refusal returned
   * (for the log).
   */
  admit(stream: Duplex, address: string, open: number): Refusal | undefined {
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    let limit: Refusal['limit'];
    let message: string;
    let detail: string;
    if (open >= maxConnections) {
      limit = 'maxConnections';
      message = `the broker has reached its limit of ${String(maxConnections)} connections (maxConnections)`;
      detail = `${String(open)} connections are open, the broker's limit (maxConnections).`;
    } else if (this.connectionsFrom(address) >= maxConnectionsPerAddress) {
      limit = 'maxConnectionsPerAddress';
      message = `too many connections from ${address}: the limit per address is ${String(maxConnectionsPerAddress)} (maxConnectionsPerAddress)`;
      detail =
        `${String(maxConnectionsPerAddress)} connections are open from ${address}, the broker's ` +
        'limit per address (maxConnectionsPerAddress). Behind a load balancer or a NAT every ' +
        'client shares one address.';
    } else {
      return undefined;
    }
    this.errors.refused(ErrorCode.LIMIT_EXCEEDED);
    stream.on('error', () => undefined);
    stream.end(
      encodeFrameBytes(
        errorFrame({
          message,
          code: ErrorCode.LIMIT_EXCEEDED,
          body: `${ErrorCode.LIMIT_EXCEEDED}: ${detail} An operator can raise ${limit} in the broker's configuration.`,
        }),
      ),
    );
    setTimeout(() => stream.destroy(), REFUSAL_LINGER).unref();
    // One log line per limit every REFUSAL_LOG_INTERVAL at most: a flood is summed up, not echoed.
    const now = Date.now();
    const last = this.refusalLog.get(limit);
    if (last !== undefined && now - last.at < REFUSAL_LOG_INTERVAL) {
      last.suppressed++;
      return { limit, address, message, log: false, suppressed: 0 };
    }
    this.refusalLog.set(limit, { at: now, suppressed: 0 });
    return { limit, address, message, log: true, suppressed: last?.suppressed ?? 0 };
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
