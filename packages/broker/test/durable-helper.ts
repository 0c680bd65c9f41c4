// Helpers of the durable-message tests: temporary data directories, a broker whose log lines
// are kept, and a peer's sends, takes, acks and drains.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { pino } from 'pino';
import type { Frame } from '@stompede/core';
import type { Broker, BrokerOptions } from '@stompede/broker';
import { type Peer, memoryBroker } from './helper.js';

/** A maker of fresh directories under one temporary root, removed after the test file. */
export function tempDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });
  let dirs = 0;
  return () => join(root, String(++dirs));
}

/** A parsed log line. */
export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A pino logger keeping its lines in `logs`. */
export function keptLogger(logs: LogLine[]): pino.Logger {
  return pino(
    { level: 'info' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
}

/** A broker on `dataDir` whose log lines are kept. */
export function open(
  dataDir: string,
  options: BrokerOptions = {},
): { broker: Broker; logs: LogLine[] } {
  const logs: LogLine[] = [];
  return { broker: memoryBroker({ dataDir, logger: keptLogger(logs), ...options }), logs };
}

/** Send each body to `destination` with a receipt (persistent unless `headers` say otherwise). */
export async function sendAll(
  peer: Peer,
  destination: string,
  bodies: readonly string[],
  headers: Record<string, string> = { persistent: 'true' },
): Promise<void> {
  for (const body of bodies) await peer.sendSync('SEND', { destination, ...headers }, body);
}

/** Subscribe with client-individual acks and take `n` messages. */
export async function take(peer: Peer, destination: string, n: number, id = 's'): Promise<Frame[]> {
  peer.send('SUBSCRIBE', { destination, id, ack: 'client-individual' });
  return peer.messages(n);
}

/** ACK each frame, with a receipt. */
export async function ackAll(peer: Peer, frames: readonly Frame[]): Promise<void> {
  for (const f of frames) await peer.sendSync('ACK', { id: f.header('ack')! });
}

/** What is left in `destination`: drained until a marker sent last comes back. */
export async function drain(peer: Peer, destination: string): Promise<string[]> {
  return (await drainFrames(peer, destination)).map((f) => f.text);
}

/** The same, as frames. */
export async function drainFrames(peer: Peer, destination: string): Promise<Frame[]> {
  peer.send('SUBSCRIBE', { destination, id: 'drain', ack: 'auto' });
  peer.send('SEND', { destination }, '#end');
  const out: Frame[] = [];
  for (;;) {
    const f = await peer.next('MESSAGE');
    if (f.text === '#end') return out;
    out.push(f);
  }
}

/** `m0`, `m1`, ... */
export const range = (n: number, prefix = 'm'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i)}`);
