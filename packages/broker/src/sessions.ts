// The broker's open sessions, as the admin API lists them. (Bytes sent are counted where they are
// written, by each session's Outbox, so that sessions that came and went between two scrapes count.)
import type { Connection } from './session/connection.js';

/** The open sessions of one broker. */
export class Sessions implements Iterable<Connection> {
  private readonly open = new Set<Connection>();

  /** Sessions open now. */
  get size(): number {
    return this.open.size;
  }

  [Symbol.iterator](): Iterator<Connection> {
    return this.open.values();
  }

  /** Register `conn`. */
  add(conn: Connection): void {
    this.open.add(conn);
  }

  /** `conn` released everything: it is no longer listed. */
  remove(conn: Connection): void {
    this.open.delete(conn);
  }

  /** The session with this id, if open. */
  byId(id: string): Connection | undefined {
    for (const c of this.open) if (c.id === id) return c;
    return undefined;
  }
}
