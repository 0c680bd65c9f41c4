/**
 * Test helpers shared by the stompede packages (private; not published).
 * @packageDocumentation
 */
import { type Frame, FrameParser, type ParserOptions } from '@stompede/core';

const encoder = new TextEncoder();

/** UTF-8 bytes of a string: `bytes('SEND\n\n\0')`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** What a parser emitted: frames and heart-beats in order, or the error that stopped it. */
export interface ParseOutcome {
  readonly events: readonly (Frame | 'heartbeat')[];
  readonly frames: readonly Frame[];
  readonly heartbeats: number;
  readonly error: unknown;
}

/** Push `chunks` through a fresh parser and record everything it reports. */
export function parseChunks(
  chunks: Iterable<Uint8Array>,
  options: ParserOptions = {},
): ParseOutcome {
  const events: (Frame | 'heartbeat')[] = [];
  const frames: Frame[] = [];
  let heartbeats = 0;
  const parser = new FrameParser(
    {
      onFrame: (frame) => {
        events.push(frame);
        frames.push(frame);
      },
      onHeartbeat: () => {
        events.push('heartbeat');
        heartbeats++;
      },
    },
    options,
  );
  let error: unknown;
  try {
    for (const chunk of chunks) parser.push(chunk);
    parser.end();
  } catch (err) {
    error = err;
  }
  return { events, frames, heartbeats, error };
}

/** Split `data` at the given offsets (sorted or not, duplicates allowed). */
export function splitAt(data: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < data.length))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const cut of cuts) {
    parts.push(data.slice(from, cut));
    from = cut;
  }
  parts.push(data.slice(from));
  return parts;
}

/** Split `data` into one-byte chunks. */
export function byteByByte(data: Uint8Array): Uint8Array[] {
  return Array.from(data, (b) => Uint8Array.of(b));
}

/** A plain description of a frame, for deep equality in tests. */
export function describeFrame(frame: Frame): {
  command: string;
  headers: string[][];
  body: number[];
} {
  return {
    command: frame.command,
    headers: frame.headers.map(([k, v]) => [k, v]),
    body: Array.from(frame.body),
  };
}
export * from './fake-server.js';
export * from './fake-transport.js';
export * from './stomp-peer.js';
export * from './test-clock.js';
