// A minimal STOMP peer over any Duplex, for tests that talk to a broker frame by frame: write
// frames or bytes, await frames, see when the other side ends.
import type { Duplex } from 'node:stream';
import { Frame, FrameParser, type HeadersInit, encodeFrameBytes } from '@stompede/core';

/** How long a peer waits for a frame or a condition before it fails the test (a guard). */
const DEADLINE_MS = 30_000;

/** A raw STOMP peer: write frames or bytes, await frames, see when the server ends. */
export class Peer {
  readonly frames: Frame[] = [];
  heartbeats = 0;
  private cursor = 0;
  private waiters: (() => void)[] = [];
  readonly ended: Promise<void>;
  endedFlag = false;
  parseError: unknown;

  constructor(readonly stream: Duplex) {
    const parser = new FrameParser(
      {
        onFrame: (f) => {
          this.frames.push(f);
          this.wake();
        },
        onHeartbeat: () => {
          this.heartbeats++;
          this.wake();
        },
      },
      { limits: { maxFrameSize: 1 << 30, maxBodySize: 1 << 29 } },
    );
    stream.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        this.parseError = err;
      }
    });
    stream.on('error', () => undefined);
    this.ended = new Promise((resolve) => {
      const done = (): void => {
        this.endedFlag = true;
        this.wake();
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Write a frame. */
  send(command: string, headers: HeadersInit = {}, body?: string | Uint8Array): void {
    this.stream.write(encodeFrameBytes(new Frame(command, headers, body)));
  }

  /** Write raw bytes or text. */
  raw(data: string | Uint8Array): void {
    this.stream.write(data);
  }

  /**
   * The next frame not yet taken (optionally of `command`; other commands are an error). Fails
   * when nothing comes within `deadlineMs` (a guard, so a test that goes wrong ends clearly).
   */
  async next(command?: string, deadlineMs = DEADLINE_MS): Promise<Frame> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const f = this.frames[this.cursor];
      if (f !== undefined) {
        this.cursor++;
        if (command !== undefined && f.command !== command) {
          throw new Error(
            `expected ${command}, got ${f.command} ${JSON.stringify(f.headerObject())} ${f.text}`,
          );
        }
        return f;
      }
      if (this.endedFlag) throw new Error(`stream ended while waiting for ${command ?? 'a frame'}`);
      await this.wait(command ?? 'a frame', deadline);
    }
  }

  /** The next frame, which must be an ERROR whose `code` header is `code`; returns it. */
  async error(code: string): Promise<Frame> {
    const f = await this.next('ERROR');
    const got = f.header('code');
    if (got !== code) {
      throw new Error(`expected an ERROR with code ${code}, got ${got ?? 'none'}: ${f.text}`);
    }
    return f;
  }

  /**
   * Wait until `predicate` holds (re-checked whenever something arrives); fails after
   * `deadlineMs`.
   */
  async until(predicate: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (!predicate()) {
      if (this.endedFlag) throw new Error('stream ended');
      await this.wait('a condition', deadline);
    }
  }

  /** Until something arrives (or the stream ends); rejects at `deadline` (a Date.now() time). */
  private wait(what: string, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          reject(new Error(`peer: nothing came before the deadline while waiting for ${what}`));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** CONNECT and return CONNECTED. */
  async connect(headers: HeadersInit = { 'accept-version': '1.2', host: '/' }): Promise<Frame> {
    this.send('CONNECT', headers);
    return this.next('CONNECTED');
  }

  /** Send a frame with a receipt and wait for the RECEIPT. */
  async sendSync(command: string, headers: Record<string, string>, body?: string): Promise<void> {
    const receipt = `r-${String(Math.random()).slice(2)}`;
    this.send(command, { ...headers, receipt }, body);
    for (;;) {
      const f = await this.next();
      if (f.command === 'RECEIPT' && f.header('receipt-id') === receipt) return;
      if (f.command === 'ERROR') throw new Error(`ERROR: ${f.header('message') ?? ''}`);
      // Keep other frames for the caller: put it back.
      this.unread(f);
    }
  }

  private held: Frame[] = [];
  private unread(f: Frame): void {
    this.held.push(f);
  }

  /** Frames skipped by sendSync, in order. */
  takeHeld(): Frame[] {
    const h = this.held;
    this.held = [];
    return h;
  }

  /** Messages received so far plus the next `n - so far`. */
  async messages(n: number): Promise<Frame[]> {
    const out: Frame[] = this.takeHeld().filter((f) => f.command === 'MESSAGE');
    while (out.length < n) out.push(await this.next('MESSAGE'));
    return out;
  }

  /** End our side (the broker then ends the session). */
  close(): void {
    this.stream.end();
  }
}
