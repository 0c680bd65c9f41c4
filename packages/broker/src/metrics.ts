// Broker counters, and ERROR frames counted by code. Each counter is a private number that only
// its counting method moves (one increment, inlined on the hot path); everyone else reads it.
import type { StoreCounters } from './store/state.js';

/** ERROR frames sent, and connections refused, by error code. */
export class ErrorCounts {
  readonly #byCode = new Map<string, number>();
  readonly #refusedByCode = new Map<string, number>();

  /** ERROR frames by code. */
  get byCode(): ReadonlyMap<string, number> {
    return this.#byCode;
  }

  /** Connections refused at accept (connection limits, WebSocket origins), by code. */
  get refusedByCode(): ReadonlyMap<string, number> {
    return this.#refusedByCode;
  }

  /** An ERROR with `code` was sent. */
  count(code: string): void {
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
  }

  /** A connection was refused. */
  refused(code: string): void {
    this.#refusedByCode.set(code, (this.#refusedByCode.get(code) ?? 0) + 1);
    this.count(code);
  }

  /** Total connections refused. */
  get refusedTotal(): number {
    let n = 0;
    for (const v of this.#refusedByCode.values()) n += v;
    return n;
  }
}

/**
 * Broker counters, read as properties (or all at once with {@link Metrics.snapshot}) and moved
 * only by the methods that say what happened; an engine counts what it does with the
 * `message...` methods.
 */
export class Metrics implements StoreCounters {
  /** ERROR frames and refused connections by error code. */
  readonly errors = new ErrorCounts();
  #connectionsOpened = 0;
  #connectionsClosed = 0;
  #framesIn = 0;
  #framesOut = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #heartbeatsIn = 0;
  #heartbeatsOut = 0;
  #messagesPublished = 0;
  #messagesEnqueued = 0;
  #messagesDelivered = 0;
  #messagesRedelivered = 0;
  #messagesAcked = 0;
  #messagesNacked = 0;
  #messagesRequeued = 0;
  #messagesDeadLettered = 0;
  #messagesDropped = 0;
  #errorsSent = 0;
  #producersPaused = 0;
  #journalDamagedRecords = 0;
  #journalMessagesLost = 0;
  #diskFreeBytes = -1;
  #diskRefusing = 0;
  #persistentSendsRefused = 0;
  #queuesRefused = 0;

  /** Connections accepted since start. */
  get connectionsOpened(): number {
    return this.#connectionsOpened;
  }

  /** Connections ended since start. */
  get connectionsClosed(): number {
    return this.#connectionsClosed;
  }

  /** Frames received (heart-beats excluded). */
  get framesIn(): number {
    return this.#framesIn;
  }

  /** Frames sent (heart-beats excluded). */
  get framesOut(): number {
    return this.#framesOut;
  }

  /** Bytes received. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** Bytes sent (STOMP bytes handed to the transport: frames and heart-beats). */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  /** Heart-beats received. */
  get heartbeatsIn(): number {
    return this.#heartbeatsIn;
  }

  /** Heart-beats sent. */
  get heartbeatsOut(): number {
    return this.#heartbeatsOut;
  }

  /** Messages published: SEND frames (at COMMIT for a transaction's) and the admin API's. */
  get messagesPublished(): number {
    return this.#messagesPublished;
  }

  /** Messages accepted into a queue or subscription (one per stored copy). */
  get messagesEnqueued(): number {
    return this.#messagesEnqueued;
  }

  /** MESSAGE frames sent. */
  get messagesDelivered(): number {
    return this.#messagesDelivered;
  }

  /** MESSAGE frames that were redeliveries (the message was delivered before). */
  get messagesRedelivered(): number {
    return this.#messagesRedelivered;
  }

  /** Deliveries settled by ACK or in auto mode. */
  get messagesAcked(): number {
    return this.#messagesAcked;
  }

  /** Deliveries NACKed. */
  get messagesNacked(): number {
    return this.#messagesNacked;
  }

  /** Deliveries put back in their queue (NACK, unsubscribe, disconnect). */
  get messagesRequeued(): number {
    return this.#messagesRequeued;
  }

  /** Messages moved to a dead-letter queue. */
  get messagesDeadLettered(): number {
    return this.#messagesDeadLettered;
  }

  /** Messages dropped (topic with no subscriber excluded): slow topic subscribers, vanished temp queues. */
  get messagesDropped(): number {
    return this.#messagesDropped;
  }

  /** ERROR frames sent. */
  get errorsSent(): number {
    return this.#errorsSent;
  }

  /** Times a producer's socket was paused because the memory limit was reached. */
  get producersPaused(): number {
    return this.#producersPaused;
  }

  /** Damaged journal records found (at recovery, by the background verification, or by a read). */
  get journalDamagedRecords(): number {
    return this.#journalDamagedRecords;
  }

  /** Stored messages lost to journal damage. */
  get journalMessagesLost(): number {
    return this.#journalMessagesLost;
  }

  /** Free bytes of the data directory's disk at the last reading (-1: no store, or not read). */
  get diskFreeBytes(): number {
    return this.#diskFreeBytes;
  }

  /** 1 while persistent messages are refused for lack of disk space, else 0. */
  get diskRefusing(): number {
    return this.#diskRefusing;
  }

  /** Persistent messages refused for lack of disk space (ERR_STOMP_DISK_FULL). */
  get persistentSendsRefused(): number {
    return this.#persistentSendsRefused;
  }

  /** Queues not created because their virtual host was at its limit (maxQueues). */
  get queuesRefused(): number {
    return this.#queuesRefused;
  }

  /** Connections open now. */
  get connectionsActive(): number {
    return this.#connectionsOpened - this.#connectionsClosed;
  }

  /** A connection was accepted. */
  connectionOpened(): void {
    this.#connectionsOpened++;
  }

  /** A connection ended. */
  connectionClosed(): void {
    this.#connectionsClosed++;
  }

  /** A frame was received. */
  frameReceived(): void {
    this.#framesIn++;
  }

  /** A frame other than MESSAGE was sent (a MESSAGE: {@link Metrics.messageDelivered}). */
  frameSent(): void {
    this.#framesOut++;
  }

  /** A heart-beat was received. */
  heartbeatReceived(): void {
    this.#heartbeatsIn++;
  }

  /** A heart-beat was sent. */
  heartbeatSent(): void {
    this.#heartbeatsOut++;
  }

  /** A message was accepted into a queue or subscription (each stored copy counts). */
  messageEnqueued(): void {
    this.#messagesEnqueued++;
  }

  /** A delivery was settled by ACK or in auto mode. */
  messageAcked(): void {
    this.#messagesAcked++;
  }

  /** A delivery was NACKed. */
  messageNacked(): void {
    this.#messagesNacked++;
  }

  /** A delivery was put back in its queue (NACK, unsubscribe, disconnect). */
  messageRequeued(): void {
    this.#messagesRequeued++;
  }

  /** A message was moved to a dead-letter queue. */
  messageDeadLettered(): void {
    this.#messagesDeadLettered++;
  }

  /** A message was dropped: a slow topic subscriber's oldest, a vanished temp queue's (not a topic message nobody subscribed to). */
  messageDropped(): void {
    this.#messagesDropped++;
  }

  /** An ERROR frame is being sent (count the frame with {@link Metrics.frameSent} too). */
  errorSent(): void {
    this.#errorsSent++;
  }

  /** A producer's socket was paused because the memory limit was reached. */
  producerPaused(): void {
    this.#producersPaused++;
  }

  /** A persistent message was refused for lack of disk space. */
  persistentSendRefused(): void {
    this.#persistentSendsRefused++;
  }

  /** A queue was not created: its virtual host was at its limit (maxQueues). */
  queueRefused(): void {
    this.#queuesRefused++;
  }

  /** `n` messages (default 1) were published: SEND frames (a transaction's at COMMIT), the admin API's. */
  messagePublished(n = 1): void {
    this.#messagesPublished += n;
  }

  /**
   * A MESSAGE frame was sent: a delivery, and a frame sent; a redelivery when `deliveryCount`
   * is over 1 (the message was delivered before).
   */
  messageDelivered(deliveryCount: number): void {
    this.#messagesDelivered++;
    this.#framesOut++;
    if (deliveryCount > 1) this.#messagesRedelivered++;
  }

  /** `n` bytes were received. */
  bytesReceived(n: number): void {
    this.#bytesIn += n;
  }

  /** `n` bytes were handed to a transport. */
  bytesSent(n: number): void {
    this.#bytesOut += n;
  }

  /** Journal damage was found: `records` damaged records, losing `messagesLost` stored messages. */
  journalDamaged(records: number, messagesLost: number): void {
    this.#journalDamagedRecords += records;
    this.#journalMessagesLost += messagesLost;
  }

  /** The data directory's disk was read: `freeBytes` free (-1: unknown); `refusing` persistent messages or not. */
  diskRead(freeBytes: number, refusing: boolean): void {
    this.#diskFreeBytes = freeBytes;
    this.#diskRefusing = refusing ? 1 : 0;
  }

  /** A copy of every counter. */
  snapshot(): MetricsSnapshot {
    return {
      connectionsOpened: this.#connectionsOpened,
      connectionsClosed: this.#connectionsClosed,
      connectionsActive: this.connectionsActive,
      framesIn: this.#framesIn,
      framesOut: this.#framesOut,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      heartbeatsIn: this.#heartbeatsIn,
      heartbeatsOut: this.#heartbeatsOut,
      messagesPublished: this.#messagesPublished,
      messagesEnqueued: this.#messagesEnqueued,
      messagesDelivered: this.#messagesDelivered,
      messagesRedelivered: this.#messagesRedelivered,
      messagesAcked: this.#messagesAcked,
      messagesNacked: this.#messagesNacked,
      messagesRequeued: this.#messagesRequeued,
      messagesDeadLettered: this.#messagesDeadLettered,
      messagesDropped: this.#messagesDropped,
      errorsSent: this.#errorsSent,
      producersPaused: this.#producersPaused,
      journalDamagedRecords: this.#journalDamagedRecords,
      journalMessagesLost: this.#journalMessagesLost,
      diskFreeBytes: this.#diskFreeBytes,
      diskRefusing: this.#diskRefusing,
      persistentSendsRefused: this.#persistentSendsRefused,
      queuesRefused: this.#queuesRefused,
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
  readonly queuesRefused: number;
}
