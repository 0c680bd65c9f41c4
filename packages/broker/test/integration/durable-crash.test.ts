// Crash tests: a broker in a child process is killed with SIGKILL while a producer sends
// persistent messages with receipts and a consumer acknowledges with receipts. After a restart on
// the same data directory every receipted, unacknowledged message is delivered (in order,
// redelivered), and no message whose ACK was receipted comes back. Every other round ends with a
// clean stop (SIGTERM), which writes the journal's checkpoint: the next round starts from it and is
// then killed, so a crash after a checkpoint-based restart is covered too.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Frame } from '@stompede/core';
import { Peer } from '../helper.js';

const fixture = fileURLToPath(new URL('../fixtures/durable-broker.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'stompede-crash-'));
const children = new Set<ChildProcess>();
after(() => {
  // A failed assertion must not leave a broker running (it would keep this process alive).
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly exited: Promise<void>;
}

async function start(dataDir: string, segmentSize?: number): Promise<Child> {
  const args = segmentSize === undefined ? [] : [String(segmentSize)];
  const proc = spawn(process.execPath, [fixture, dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(proc);
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      children.delete(proc);
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(Number(text.slice(0, nl)));
    });
    proc.once('exit', (code) => {
      reject(new Error(`broker exited with ${String(code)}`));
    });
  });
  return { proc, port, exited };
}

async function client(port: number): Promise<Peer> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const peer = new Peer(socket);
  await peer.connect();
  return peer;
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run frames of `peer` through `onFrame` until the stream ends. */
async function pumpFrames(peer: Peer, onFrame: (f: Frame) => void): Promise<void> {
  try {
    for (;;) onFrame(await peer.next());
  } catch {
    // the broker was killed
  }
}

const QUEUE = '/queue/crash';
/** Receipts a round waits for before its random kill time starts (5 rounds: over 100 sent). */
const RECEIPTS_BEFORE_KILL = 24;
/** How long a round may take to get them: a broker that stores nothing fails the round. */
const RECEIPTS_DEADLINE_MS = 30_000;

interface Scenario {
  readonly dir: string;
  readonly seed: number;
  /** Journal segment size (small: compaction runs while the broker is killed). */
  readonly segmentSize?: number;
  /** Bytes of padding after each message's number. */
  readonly pad: number;
  /** The consumer's prefetch-count (0: unlimited, so unacknowledged messages do not stall it). */
  readonly prefetch: number;
  /** SENDs awaiting their RECEIPT. */
  readonly inflight: number;
  /** The broker is killed this many ms, plus up to 300, after a round's first receipts. */
  readonly run: number;
}

/** The number a message body starts with. */
function idOf(f: Frame): string {
  const text = f.text;
  const sp = text.indexOf(' ');
  return sp < 0 ? text : text.slice(0, sp);
}

describe('crash recovery', () => {
  test('[Durability] SIGKILL at random points loses no receipted, unacknowledged message', async () => {
    await crashRounds({ dir: 'data', seed: 20240611, pad: 0, prefetch: 20, inflight: 16, run: 60 });
  });

  test('[Durability] SIGKILL during compaction loses and duplicates nothing', async () => {
    // 64 KiB segments and 1 KiB bodies; a fifth of the messages stay unacknowledged, pinning
    // old segments, so compaction copies them forward while the broker is being killed.
    await crashRounds({
      dir: 'compact',
      seed: 7,
      segmentSize: 64 * 1024,
      pad: 1000,
      prefetch: 0,
      inflight: 64,
      run: 700,
    });
  });
});

async function crashRounds(s: Scenario): Promise<void> {
  {
    const dataDir = join(root, s.dir);
    const random = prng(s.seed);
    const padding = s.pad > 0 ? ' ' + 'x'.repeat(s.pad) : '';
    const receipted = new Set<string>();
    const ackConfirmed = new Set<string>();
    // An ACK whose RECEIPT did not arrive may or may not have been applied.
    const ackSent = new Set<string>();
    let next = 0;
    const iterations = 5;
    const checkpoint = join(dataDir, 'journal', 'checkpoint');
    for (let it = 0; it < iterations; it++) {
      const cleanStop = existsSync(checkpoint);
      assert.equal(cleanStop, it % 2 === 0 && it > 0, 'a checkpoint after a clean stop only');
      const child = await start(dataDir, s.segmentSize);
      // Used (or refused) and deleted before the broker wrote anything, let alone listened.
      assert.ok(!existsSync(checkpoint), 'the checkpoint outlived the restart');
      const producer = await client(child.port);
      const consumer = await client(child.port);
      consumer.send('SUBSCRIBE', {
        destination: QUEUE,
        id: 's',
        ack: 'client-individual',
        'prefetch-count': String(s.prefetch),
      });
      let inflight = 0;
      let stopped = false;
      const sendMore = (): void => {
        while (!stopped && inflight < s.inflight) {
          const id = String(next++);
          inflight++;
          producer.send(
            'SEND',
            { destination: QUEUE, persistent: 'true', receipt: `p${id}` },
            id + padding,
          );
        }
      };
      // The kill comes at a random time after the round's first RECEIPTS_BEFORE_KILL receipts,
      // so that every round stores something however slowly a loaded machine runs the broker.
      let enough!: () => void;
      const receiptsSeen = new Promise<void>((resolve) => (enough = resolve));
      const producing = pumpFrames(producer, (f) => {
        if (f.command === 'RECEIPT') {
          receipted.add(f.header('receipt-id')!.slice(1));
          if (receipted.size >= RECEIPTS_BEFORE_KILL) enough();
          inflight--;
          sendMore();
        }
      });
      const consuming = pumpFrames(consumer, (f) => {
        if (f.command === 'MESSAGE' && !stopped) {
          // Acknowledge most messages, leave some unacknowledged.
          if (random() < 0.8) {
            ackSent.add(idOf(f));
            consumer.send('ACK', { id: f.header('ack')!, receipt: `a${idOf(f)}` });
          }
        } else if (f.command === 'RECEIPT') {
          ackConfirmed.add(f.header('receipt-id')!.slice(1));
        }
      });
      sendMore();
      const deadline = setTimeout(enough, RECEIPTS_DEADLINE_MS);
      await receiptsSeen;
      clearTimeout(deadline);
      assert.ok(receipted.size >= RECEIPTS_BEFORE_KILL, `round ${String(it)}: too few receipts`);
      await new Promise((resolve) => setTimeout(resolve, s.run + Math.floor(random() * 300)));
      child.proc.kill('SIGKILL');
      stopped = true;
      await child.exited;
      await Promise.all([producing, consuming]);

      // Restart and drain: everything left comes back, in order and redelivered.
      const again = await start(dataDir, s.segmentSize);
      const drainer = await client(again.port);
      drainer.send('SUBSCRIBE', {
        destination: QUEUE,
        id: 'd',
        ack: 'client-individual',
        'prefetch-count': '0',
      });
      drainer.send('SEND', { destination: QUEUE }, 'end');
      const drained: Frame[] = [];
      for (;;) {
        const f = await drainer.next('MESSAGE');
        if (f.text === 'end') break;
        drained.push(f);
      }
      const ids = drained.map(idOf);
      assert.equal(new Set(ids).size, ids.length, 'a message came back twice');
      for (const f of drained) assert.equal(f.header('redelivered'), 'true');
      for (let k = 1; k < ids.length; k++) {
        assert.ok(Number(ids[k - 1]) < Number(ids[k]), `order: ${ids[k - 1]!} before ${ids[k]!}`);
      }
      const back = new Set(ids);
      for (const id of receipted) {
        if (!ackSent.has(id)) assert.ok(back.has(id), `receipted message ${id} was lost`);
      }
      for (const id of ids) {
        assert.ok(!ackConfirmed.has(id), `acknowledged message ${id} came back`);
        assert.ok(Number(id) < next, `unknown message ${id}`);
      }
      // Consume them for good before the next round.
      const last = drained.pop();
      for (const f of drained) drainer.send('ACK', { id: f.header('ack')! });
      if (last !== undefined) await drainer.sendSync('ACK', { id: last.header('ack')! });
      for (const id of ids) ackConfirmed.add(id);
      receipted.clear();
      again.proc.kill(it % 2 === 0 ? 'SIGKILL' : 'SIGTERM');
      await again.exited;
      if (it % 2 === 1) assert.ok(existsSync(checkpoint), 'a clean stop writes the checkpoint');
    }
    assert.ok(next > 100, `messages sent: ${String(next)}`);
  }
}
