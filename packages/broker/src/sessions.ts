// The broker's open sessions, and what the admin API reads about them: where each came from, who
// it is, and the bytes written to it (counted on, once a session has closed).
import type { Duplex } from 'node:stream';
import type { Connection } from './session/connection.js';

/** Bytes written to `stream`, when the transport counts them (TCP, TLS). */
function bytesOf(stream: Duplex): number {
  const n = (stream as { bytesWritten?: unknown }).bytesWritten;
  return typeof n === 'number' ? n : 0;
}

/** The open sessions of one broker. */
export class Sessions implements Iterable<Connection> {
  private readonly open = new Map<Connection, Duplex>();
  private closedBytes = 0;

  /** Sessions open now. */
  get size(): number {
    return this.open.size;
  }

  [Symbol.iterator](): Iterator<Connection> {
    return this.open.keys();
  }

  /** Register `conn`, served over `stream`. */
  add(conn: Connection, stream: Duplex): void {
    this.open.set(conn, stream);
  }

  /** `conn` released everything: it is no longer listed (its bytes count once it has closed). */
  remove(conn: Connection): void {
    const stream = this.open.get(conn);
    if (stream === undefined) return;
    this.open.delete(conn);
    void conn.closed.then(() => {
      this.closedBytes += bytesOf(stream);
    });
  }

  /** The session with this id, if open. */
  byId(id: string): Connection | undefined {
    for (const c of this.open.keys()) if (c.id === id) return c;
    return undefined;
  }

  /** Bytes written to `conn` (0 once it is closed, or on a transport that does not count). */
  bytesWrittenTo(conn: Connection): number {
    const stream = this.open.get(conn);
    return stream === undefined ? 0 : bytesOf(stream);
  }

  /** Bytes written to every session since the broker started. */
  bytesWritten(): number {
    let n = this.closedBytes;
    for (const stream of this.open.values()) n += bytesOf(stream);
    return n;
  }
}
