// The self-test endpoint: a minimal STOMP server in a worker thread that answers CONNECT, notes
// SUBSCRIBEs, turns each SEND into MESSAGE frames (round-robin for queues, to every subscriber
// for topics), ignores ACKs and answers receipts (CONNECTED and RECEIPT with core's builders; the
// MESSAGEs written raw, for speed). No storage, no acknowledgment tracking, so a bench run
// against it shows what the generator itself can do.
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import {
  type Frame,
  FrameParser,
  connectedFrame,
  encodeFrameBytes,
  negotiateVersion,
  receiptFrame,
} from '@stompede/core';

/** A running sink. */
export interface Sink {
  readonly url: string;
  close(): Promise<void>;
}

/** Start the sink in a worker thread; resolves with its URL. */
export async function startSink(): Promise<Sink> {
  const worker = new Worker(new URL(import.meta.url));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => {
      resolve(m.port);
    });
    worker.once('error', reject);
  });
  return {
    url: `tcp://127.0.0.1:${String(port)}`,
    close: async () => {
      await worker.terminate();
    },
  };
}

interface Sub {
  readonly conn: SinkConnection;
  readonly id: string;
  readonly ack: boolean;
}

const destinations = new Map<string, { subs: Sub[]; rr: number }>();
let messageSeq = 0;
const producers = new Set<SinkConnection>();
let blocked = 0;

class SinkConnection {
  private readonly parser: FrameParser;
  private corked = false;
  private isBlocked = false;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  readonly subs: Sub[] = [];

  constructor(readonly socket: Socket) {
    this.parser = new FrameParser(
      {
        onFrame: (f) => {
          this.onFrame(f);
        },
      },
      {
        version: '1.2',
        limits: { maxFrameSize: 512 * 1024 * 1024, maxBodySize: 512 * 1024 * 1024 },
      },
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      if (!this.isBlocked) return;
      this.isBlocked = false;
      if (--blocked === 0) for (const p of producers) p.socket.resume();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      producers.delete(this);
      if (this.isBlocked) {
        this.isBlocked = false;
        if (--blocked === 0) for (const p of producers) p.socket.resume();
      }
      for (const sub of this.subs) {
        for (const d of destinations.values()) {
          const i = d.subs.indexOf(sub);
          if (i >= 0) d.subs.splice(i, 1);
        }
      }
    });
  }

  /** Queue bytes; everything queued in a tick goes out as one write. */
  write(data: Uint8Array | string): void {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (!this.corked) {
      this.corked = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.corked = false;
    const data =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.socket.write(data) && !this.isBlocked) {
      this.isBlocked = true;
      if (blocked++ === 0) for (const p of producers) p.socket.pause();
    }
  };

  private onFrame(frame: Frame): void {
    const receipt = frame.header('receipt');
    switch (frame.command) {
      case 'CONNECT':
      case 'STOMP': {
        const version = negotiateVersion(frame.header('accept-version')) ?? '1.0';
        this.parser.setVersion(version);
        this.write(
          encodeFrameBytes(connectedFrame({ version, heartBeat: [0, 0], server: 'stompede-sink' })),
        );
        return;
      }
      case 'SUBSCRIBE': {
        const dest = frame.header('destination') ?? '';
        const sub: Sub = {
          conn: this,
          id: frame.header('id') ?? '0',
          ack: frame.header('ack') !== 'auto' && frame.header('ack') !== undefined,
        };
        this.subs.push(sub);
        let d = destinations.get(dest);
        if (d === undefined) destinations.set(dest, (d = { subs: [], rr: 0 }));
        d.subs.push(sub);
        break;
      }
      case 'SEND': {
        producers.add(this);
        if (blocked > 0) this.socket.pause();
        const dest = frame.header('destination') ?? '';
        const d = destinations.get(dest);
        if (d === undefined || d.subs.length === 0) break;
        let shared = '';
        const raw = frame.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          if (raw[i] === 'content-length' || raw[i] === 'receipt') continue;
          shared += `${raw[i]!}:${raw[i + 1]!}\n`;
        }
        shared += `content-length:${String(frame.body.length)}\n\n`;
        const tail = Buffer.allocUnsafe(Buffer.byteLength(shared) + frame.body.length + 1);
        const at = tail.write(shared, 0, 'utf8');
        tail.set(frame.body, at);
        tail[tail.length - 1] = 0;
        const targets = dest.startsWith('/topic/') ? d.subs : [d.subs[d.rr++ % d.subs.length]!];
        for (const sub of targets) {
          const id = String(++messageSeq);
          sub.conn.write(
            `MESSAGE\nsubscription:${sub.id}\nmessage-id:${id}\n${sub.ack ? `ack:${id}\n` : ''}`,
          );
          sub.conn.write(tail);
        }
        break;
      }
      case 'DISCONNECT':
        if (receipt !== undefined) this.write(encodeFrameBytes(receiptFrame(receipt)));
        this.socket.end();
        return;
      default:
        break;
    }
    if (receipt !== undefined) this.write(encodeFrameBytes(receiptFrame(receipt)));
  }
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const server = createServer((socket) => new SinkConnection(socket));
  server.listen(0, '127.0.0.1', () => {
    port.postMessage({ port: (server.address() as AddressInfo).port });
  });
}
