// Broker counters: plain numbers incremented on the hot path, and ERROR frames counted by code.
import type { StoreCounters } from './store/state.js';

/** ERROR frames sent, and connections refused, by error code. */
export class ErrorCounts {
  /** ERROR frames by code. */
  readonly byCode = new Map<string, number>();
  /** Connections refused at accept (connection limits, WebSocket origins), by code. */
  readonly refusedByCode = new Map<string, number>();

  /** An ERROR with `code` was sent. */
  count(code: string): void {
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
  }

  /** A connection was refused. */
  refused(code: string): void {
    this.refusedByCode.set(code, (this.refusedByCode.get(code) ?? 0) + 1);
    this.count(code);
  }

  /** Total connections refused. */
  get refusedTotal(): number {
    let n = 0;
    for (const v of this.refusedByCode.values()) n += v;
    return n;
  }
}

/** Broker counters. Plain numbers, incremented on the hot path; read with {@link Metrics.snapshot}. */
export class Metrics implements StoreCounters {
  /** ERROR frames and refused connections by error code. */
  readonly errors = new ErrorCounts();
  /** Connections accepted since start. */
  connectionsOpened = 0;
  /** Connections ended since start. */
  connectionsClosed = 0;
  /** Frames received (heart-beats excluded). */
  framesIn = 0;
  /** Frames sent (heart-beats excluded). */
  framesOut = 0;
  /** Bytes received. */
  bytesIn = 0;
  /** Bytes sent (STOMP bytes handed to the transport: frames and heart-beats). */
  bytesOut = 0;
  /** Heart-beats received. */
  heartbeatsIn = 0;
  /** Heart-beats sent. */
  heartbeatsOut = 0;
  /** Messages published: SEND frames (at COMMIT for a transaction's) and the admin API's. */
  messagesPublished = 0;
  /** Messages accepted into a queue or subscription (one per stored copy). */
  messagesEnqueued = 0;
  /** MESSAGE frames sent. */
  messagesDelivered = 0;
  /** MESSAGE frames that were redeliveries (the message was delivered before). */
  messagesRedelivered = 0;
  /** Deliveries settled by ACK or in auto mode. */
  messagesAcked = 0;
  /** Deliveries NACKed. */
  messagesNacked = 0;
  /** Deliveries put back in their queue (NACK, unsubscribe, disconnect). */
  messagesRequeued = 0;
  /** Messages moved to a dead-letter queue. */
  messagesDeadLettered = 0;
  /** Messages dropped (topic with no subscriber excluded): slow topic subscribers, vanished temp queues. */
  messagesDropped = 0;
  /** ERROR frames sent. */
  errorsSent = 0;
  /** Times a producer's socket was paused because the memory limit was reached. */
  producersPaused = 0;
  /** Damaged journal records found (at recovery, by the background verification, or by a read). */
  journalDamagedRecords = 0;
  /** Stored messages lost to journal damage. */
  journalMessagesLost = 0;
  /** Free bytes of the data directory's disk at the last reading (-1: no store, or not read). */
  diskFreeBytes = -1;
  /** 1 while persistent messages are refused for lack of disk space, else 0. */
  diskRefusing = 0;
  /** Persistent messages refused for lack of disk space (ERR_STOMP_DISK_FULL). */
  persistentSendsRefused = 0;

  /** Connections open now. */
  get connectionsActive(): number {
    return this.connectionsOpened - this.connectionsClosed;
  }

  /** A copy of every counter. */
  snapshot(): MetricsSnapshot {
    return {
      connectionsOpened: this.connectionsOpened,
      connectionsClosed: this.connectionsClosed,
      connectionsActive: this.connectionsActive,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      heartbeatsIn: this.heartbeatsIn,
      heartbeatsOut: this.heartbeatsOut,
      messagesPublished: this.messagesPublished,
      messagesEnqueued: this.messagesEnqueued,
      messagesDelivered: this.messagesDelivered,
      messagesRedelivered: this.messagesRedelivered,
      messagesAcked: this.messagesAcked,
      messagesNacked: this.messagesNacked,
      messagesRequeued: this.messagesRequeued,
      messagesDeadLettered: this.messagesDeadLettered,
      messagesDropped: this.messagesDropped,
      errorsSent: this.errorsSent,
      producersPaused: this.producersPaused,
      journalDamagedRecords: this.journalDamagedRecords,
      journalMessagesLost: this.journalMessagesLost,
      diskFreeBytes: this.diskFreeBytes,
      diskRefusing: this.diskRefusing,
      persistentSendsRefused: this.persistentSendsRefused,
    };
  }
}

/** The counters at one moment. */
export interface MetricsSnapshot {
  readonly connectionsOpened: number;
  readonly connectionsClosed: number;
  readonly connectionsActive: number;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly heartbeatsIn: number;
  readonly heartbeatsOut: number;
  readonly messagesPublished: number;
  readonly messagesEnqueued: number;
  readonly messagesDelivered: number;
  readonly messagesRedelivered: number;
  readonly messagesAcked: number;
  readonly messagesNacked: number;
  readonly messagesRequeued: number;
  readonly messagesDeadLettered: number;
  readonly messagesDropped: number;
  readonly errorsSent: number;
  readonly producersPaused: number;
  readonly journalDamagedRecords: number;
  readonly journalMessagesLost: number;
  readonly diskFreeBytes: number;
  readonly diskRefusing: number;
  readonly persistentSendsRefused: number;
}
