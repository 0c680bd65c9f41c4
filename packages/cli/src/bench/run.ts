// The load generator: producers send numbered, time-stamped messages on raw frames; consumers
// check every delivery (once, intact, from this run) and record its latency.
//
// Message layout: one header, `bench:RUN.P.SEQ.TS` (one lookup per delivery): RUN is this run's
// id (anything else on the destination is counted as foreign and ignored), P the producer index,
// SEQ 0, 1, 2, ... per producer and TS the send time in µs on this process's monotonic clock;
// the body is a fixed
// printable pattern whose first 12 bytes are replaced by the sequence number in decimal (bodies of
// 12 bytes or more), so a body that belongs to another message or was altered is detected.
import { performance } from 'node:perf_hooks';
import { type Frame, ackFrame, ackHeaders, encodeFrameBytes, subscribeFrame } from '@stompede/core';
import { Histogram } from './histogram.js';
import type { BenchOptions } from './options.js';
import { type Endpoint, Wire, parseEndpoint } from './wire.js';

/** Latency figures in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** What a run measured. */
export interface BenchSummary {
  readonly url: string;
  readonly transport: string;
  readonly options: {
    producers: number;
    consumers: number;
    size: number;
    rate: number;
    duration: number | undefined;
    count: number | undefined;
    ack: string;
    prefetch: number;
    consumeRate: number;
    /** Seconds at the start left out of the latency figures. */
    warmup: number;
    persistent: boolean;
    destination: string;
  };
  /** Seconds producers were sending. */
  readonly sendSeconds: number;
  /** Seconds from the first send to the last delivery. */
  readonly receiveSeconds: number;
  readonly sent: number;
  /** Deliveries of this run's messages (duplicates included). */
  readonly received: number;
  /** Deliveries expected: sent × consumers for a topic, sent for a queue (0 without consumers). */
  readonly expected: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly corrupted: number;
  /** Deliveries of messages from another run (ignored). */
  readonly foreign: number;
  /** Times a consumer stopped reading to keep to --consume-rate (0 without it). */
  readonly consumerPauses: number;
  /** ERROR frames and connection failures. */
  readonly errors: readonly string[];
  /** Messages sent per second. */
  readonly rateIn: number;
  /** Deliveries per second (over receiveSeconds). */
  readonly rateOut: number;
  readonly latencyMs: LatencySummary;
  /** True when nothing was lost, duplicated or corrupted and no error occurred. */
  readonly ok: boolean;
}

/** One line of progress. */
export interface BenchProgress {
  readonly elapsed: number;
  readonly rateIn: number;
  readonly rateOut: number;
  readonly sent: number;
  readonly received: number;
  readonly p50: number;
  readonly p99: number;
}

const SEQ_DIGITS = 12;

/** The body pattern for `size` bytes (printable ASCII). */
function pattern(size: number): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const body = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++)
    body[i] = alphabet.charCodeAt((i * 7 + (i >> 6)) % alphabet.length);
  return body;
}

/** Per-producer sets of received sequence numbers (a byte per number, grown on demand). */
class Seen {
  private readonly perProducer: Uint8Array[] = [];
  unique = 0;

  /** Record `seq` of producer `p`; false if it was already there. */
  add(p: number, seq: number): boolean {
    let bits = this.perProducer[p];
    if (bits === undefined || seq >= bits.length) {
      let size = bits?.length ?? 1024;
      while (size <= seq) size *= 2;
      const grown = new Uint8Array(size);
      if (bits !== undefined) grown.set(bits);
      this.perProducer[p] = bits = grown;
    }
    if (bits[seq] === 1) return false;
    bits[seq] = 1;
    this.unique++;
    return true;
  }
}

// µs since this module was loaded: small numbers, short headers.
const epoch = performance.now();
const nowUs = (): number => Math.round((performance.now() - epoch) * 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run the benchmark; `onProgress` is called once a second. */
export async function runBench(
  options: BenchOptions,
  onProgress?: (p: BenchProgress) => void,
): Promise<BenchSummary> {
  const endpoint: Endpoint = parseEndpoint(options.connection.url);
  const runId = Math.random().toString(36).slice(2, 8);
  const runPrefix = `${runId}.`;
  const errors: string[] = [];
  const addError = (message: string): void => {
    if (errors.length < 100) errors.push(message);
  };
  const latency = new Histogram();
  // Messages sent before this (µs, nowUs) are checked but left out of the latency figures.
  let measureFrom = 0;
  const interval = new Histogram();
  const shared = new Seen();
  const seens: Seen[] = [];
  let sent = 0;
  let received = 0;
  let duplicated = 0;
  let corrupted = 0;
  let foreign = 0;
  let consumerPauses = 0;
  let firstSend = 0;
  let lastReceive = 0;
  let stopping = false;
  const connect = {
    version: options.version,
    login: options.connection.login,
    passcode: options.connection.passcode,
    host: options.connection.vhost,
    timeout: options.connection.timeout,
    tls: options.connection.tls,
  };
  const wires: Wire[] = [];
  const open = async (role: string): Promise<Wire> => {
    const wire = await Wire.open(endpoint, connect);
    wires.push(wire);
    wire.onClose = (err) => {
      if (!stopping)
        addError(`${role}: connection closed${err === undefined ? '' : `: ${err.message}`}`);
    };
    return wire;
  };

  const body = pattern(options.size);
  const tail = body.subarray(Math.min(SEQ_DIGITS, options.size));
  const checkSeq = options.size >= SEQ_DIGITS;

  try {
    // ---- consumers first, so that nothing sent is missed ----
    const subscribed: Promise<boolean>[] = [];
    for (let c = 0; c < options.consumers; c++) {
      const wire = await open(`consumer ${String(c)}`);
      const seen = options.kind === 'topic' ? new Seen() : shared;
      seens.push(seen);
      const version = wire.version;
      const ackMode = options.ack;
      let acks: Uint8Array[] = [];
      let sinceAck = 0;
      // In client mode: the latest MESSAGE not yet acknowledged (one ACK covers it and those before).
      let lastUnacked: Frame | undefined;
      // Which headers name the message is core's rule per version (ackHeaders).
      const ack = (message: Frame): Uint8Array =>
        encodeFrameBytes(ackFrame(version, ackHeaders(message, version)), { version });
      wire.onFrame = (frame) => {
        if (frame.command === 'ERROR') {
          addError(`consumer ${String(c)}: ERROR ${frame.header('message') ?? ''}`);
          return;
        }
        if (frame.command !== 'MESSAGE') return;
        if (delivered++ === 0) firstDelivery = performance.now();
        if (ackMode === 'client-individual') {
          acks.push(ack(frame));
        } else if (ackMode === 'client') {
          lastUnacked = frame;
          if (++sinceAck >= options.ackEvery) {
            acks.push(ack(frame));
            sinceAck = 0;
            lastUnacked = undefined;
          }
        }
        const tag = frame.header('bench');
        if (tag?.startsWith(runPrefix) !== true) {
          foreign++;
          return;
        }
        const t = nowUs();
        received++;
        lastReceive = t;
        const d1 = tag.indexOf('.', runPrefix.length);
        const d2 = tag.indexOf('.', d1 + 1);
        const p = Number(tag.slice(runPrefix.length, d1));
        const seq = Number(tag.slice(d1 + 1, d2));
        const sentAt = Number(tag.slice(d2 + 1));
        const lat = t - sentAt;
        if (sentAt >= measureFrom) latency.record(lat);
        interval.record(lat);
        const b = frame.body;
        let intact = b.length === options.size;
        if (intact && checkSeq) {
          let n = 0;
          for (let i = 0; i < SEQ_DIGITS; i++) {
            const d = b[i]! - 48;
            if (d < 0 || d > 9) {
              n = -1;
              break;
            }
            n = n * 10 + d;
          }
          intact = n === seq;
        }
        if (intact) intact = tail.compare(b, b.length - tail.length, b.length) === 0;
        if (!intact || !Number.isSafeInteger(p) || !Number.isSafeInteger(seq) || p < 0 || seq < 0) {
          corrupted++;
          return;
        }
        if (!seen.add(p, seq)) duplicated++;
      };
      // --consume-rate: once this consumer is ahead of its schedule, stop reading the socket
      // until it is due again; what the broker does meanwhile (buffer, stop dispatching, block
      // other destinations?) is what a slow-consumer scenario measures.
      let delivered = 0;
      let firstDelivery = 0;
      let paused = false;
      const throttle = (): void => {
        const ahead =
          (delivered / options.consumeRate) * 1000 - (performance.now() - firstDelivery);
        if (ahead < 1) return;
        paused = true;
        consumerPauses++;
        wire.pause();
        setTimeout(() => {
          paused = false;
          wire.resume();
        }, ahead);
      };
      wire.onChunk = () => {
        if (acks.length > 0) {
          wire.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
          acks = [];
        }
        if (options.consumeRate > 0 && !paused) throttle();
      };
      const prefetch = String(options.prefetch);
      subscribed.push(
        wire.request((receipt) =>
          subscribeFrame(version, {
            destination: options.destination,
            id: '0',
            ack: ackMode,
            receipt,
            headers:
              options.prefetch > 0
                ? { 'prefetch-count': prefetch, 'activemq.prefetchSize': prefetch }
                : {},
          }),
        ),
      );
      // Flush a cumulative client ACK left over when the stream pauses.
      if (ackMode === 'client') {
        const timer = setInterval(() => {
          if (lastUnacked !== undefined && sinceAck > 0) {
            wire.write(ack(lastUnacked));
            sinceAck = 0;
            lastUnacked = undefined;
          }
        }, 50);
        timer.unref();
        wire.onClose = ((prev) => (err: Error | undefined) => {
          clearInterval(timer);
          prev(err);
        })(wire.onClose);
      }
    }
    const subs = await Promise.all(subscribed);
    if (subs.some((ok) => !ok)) addError('a SUBSCRIBE got no RECEIPT within 10 s');

    // ---- producers ----
    const producerWires: Wire[] = [];
    for (let p = 0; p < options.producers; p++)
      producerWires.push(await open(`producer ${String(p)}`));
    const start = performance.now();
    firstSend = nowUs();
    measureFrom = firstSend + Math.round(options.warmup * 1e6);
    const deadline =
      options.count === undefined ? start + (options.warmup + options.duration) * 1000 : Infinity;
    const perProducer = options.count ?? Infinity;
    let sendEnd = start;

    let progressTimer: NodeJS.Timeout | undefined;
    if (onProgress !== undefined) {
      let lastSent = 0;
      let lastReceived = 0;
      let lastTime = start;
      progressTimer = setInterval(() => {
        const now = performance.now();
        const dt = (now - lastTime) / 1000;
        onProgress({
          elapsed: (now - start) / 1000,
          rateIn: (sent - lastSent) / dt,
          rateOut: (received - lastReceived) / dt,
          sent,
          received,
          p50: interval.percentile(50) / 1000,
          p99: interval.percentile(99) / 1000,
        });
        interval.reset();
        lastSent = sent;
        lastReceived = received;
        lastTime = now;
      }, 1000);
    }

    const produce = async (p: number, wire: Wire): Promise<void> => {
      let head = `SEND\ndestination:${options.destination}\n`;
      if (options.persistent) head += 'persistent:true\n';

      const headBytes = Buffer.from(head, 'latin1');
      const lengthLine = `content-length:${String(options.size)}\n\n`;
      // A frame: head, "bench:RUN.P.SEQ.TS\n" (at most 128 bytes), lengthLine, body, NUL.
      const maxFrame = headBytes.length + 128 + lengthLine.length + options.size + 1;
      const batchBytes = Math.max(64 * 1024, maxFrame);
      let seq = 0;
      const writeBatch = (n: number): boolean => {
        const buf = Buffer.allocUnsafe(Math.min(batchBytes, n * maxFrame));
        let off = 0;
        let written = 0;
        const ts = nowUs();
        while (written < n && off + maxFrame <= buf.length) {
          off += headBytes.copy(buf, off);
          off += buf.write(
            `bench:${runPrefix}${String(p)}.${String(seq)}.${String(ts)}\n${lengthLine}`,
            off,
            'latin1',
          );
          const bodyStart = off;
          off += body.copy(buf, off);
          if (checkSeq) buf.write(String(seq).padStart(SEQ_DIGITS, '0'), bodyStart, 'latin1');
          buf[off++] = 0;
          seq++;
          written++;
        }
        sent += written;
        return wire.write(buf.subarray(0, off));
      };
      const framesPerBatch = Math.max(1, Math.floor(batchBytes / maxFrame));
      if (options.rate === 0) {
        while (!wire.closed && seq < perProducer && performance.now() < deadline) {
          const n = Math.min(framesPerBatch, perProducer - seq);
          if (!writeBatch(n)) await wire.drained();
          else await new Promise<void>((r) => setImmediate(r));
        }
      } else {
        const t0 = performance.now();
        while (!wire.closed && seq < perProducer) {
          const now = performance.now();
          if (now >= deadline) break;
          const due =
            Math.min(Math.floor(((now - t0) / 1000) * options.rate) + 1, perProducer) - seq;
          if (due > 0) {
            let left = due;
            let full = false;
            while (left > 0) {
              const n = Math.min(left, framesPerBatch);
              if (!writeBatch(n)) full = true;
              left -= n;
            }
            if (full) await wire.drained();
          }
          // Next message due at t0 + (seq) / rate.
          const wait = t0 + (seq / options.rate) * 1000 - performance.now();
          await sleep(Math.max(0, Math.min(wait, 50)));
        }
      }
      sendEnd = Math.max(sendEnd, performance.now());
    };
    await Promise.all(producerWires.map((wire, p) => produce(p, wire)));
    if (options.producers === 0) {
      // Consumers only: consume for the duration.
      await sleep(options.duration * 1000);
      sendEnd = performance.now();
    }

    // ---- wait for the rest ----
    const expected =
      options.consumers === 0 ? 0 : options.kind === 'topic' ? sent * options.consumers : sent;
    const uniqueNow = (): number =>
      options.kind === 'topic' ? seens.reduce((n, s) => n + s.unique, 0) : shared.unique;
    // Progress counts deliveries of other runs' messages too: a backlog left on the destination
    // (an interrupted run) is delivered first, and the broker is not stuck while it drains.
    let lastUnique = -1;
    let lastProgress = performance.now();
    while (uniqueNow() < expected && wires.some((w) => !w.closed)) {
      const u = uniqueNow() + foreign;
      if (u !== lastUnique) {
        lastUnique = u;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress > options.drainTimeout * 1000) break;
      await sleep(20);
    }
    clearInterval(progressTimer);
    stopping = true;
    await Promise.all(wires.map((w) => w.close()));

    const unique = uniqueNow();
    const sendSeconds = (sendEnd - start) / 1000;
    const receiveSeconds = received === 0 ? 0 : (lastReceive - firstSend) / 1e6;
    const ms = (us: number): number => Math.round(us) / 1000;
    const lost = Math.max(0, expected - unique);
    return {
      url: options.connection.url,
      transport: endpoint.transport,
      options: {
        producers: options.producers,
        consumers: options.consumers,
        size: options.size,
        rate: options.rate,
        duration: options.count === undefined ? options.duration : undefined,
        count: options.count,
        ack: options.ack,
        prefetch: options.prefetch,
        consumeRate: options.consumeRate,
        warmup: options.warmup,
        persistent: options.persistent,
        destination: options.destination,
      },
      sendSeconds,
      receiveSeconds,
      sent,
      received,
      expected,
      lost,
      duplicated,
      corrupted,
      foreign,
      consumerPauses,
      errors,
      rateIn: sendSeconds > 0 ? sent / sendSeconds : 0,
      rateOut: receiveSeconds > 0 ? received / receiveSeconds : 0,
      latencyMs: {
        p50: ms(latency.percentile(50)),
        p90: ms(latency.percentile(90)),
        p99: ms(latency.percentile(99)),
        p999: ms(latency.percentile(99.9)),
        max: ms(latency.max),
        mean: ms(latency.mean),
      },
      ok: lost === 0 && duplicated === 0 && corrupted === 0 && errors.length === 0,
    };
  } finally {
    stopping = true;
    for (const w of wires) if (!w.closed) w.destroy();
  }
}
