// The relay: a trivial STOMP 1.2 relay in its own process, the practical ceiling of a broker on
// this machine for the report's "limit" column. It is not ours and uses none of our code: a
// byte scanner finds each frame (command, the few headers it needs, the body by content-length
// or NUL), CONNECT gets CONNECTED, SUBSCRIBE is noted, each SEND goes out as a MESSAGE to one
// subscriber of its destination (round-robin; every subscriber of a /topic/), ACK and NACK are
// ignored, receipts answered. No queue, no storage, no acknowledgment tracking: a SEND nobody
// subscribed to is dropped. Bodies are forwarded as the slices of the chunks they arrived in,
// written with the MESSAGE head in one corked writev (no copy); while a subscriber's socket is
// full, every producer is paused.
//
// Usage: node bench/relay-server.mjs   (forked by bench/broker-run.mjs --relay; prints its port
// as one JSON line, or sends it over IPC)
import { createServer } from 'node:net';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const NUL = 0;
const LF = 10;
const CR = 13;
/** Heads are small; a larger one is a client bug (the relay closes the connection). */
const MAX_HEAD = 64 * 1024;

/** destination → { subs, rr } */
const destinations = new Map();
const producers = new Set();
let blocked = 0;
let messageSeq = 0;

class RelayConnection {
  constructor(socket) {
    this.socket = socket;
    /** Received bytes not yet consumed: the chunks, and where the first one starts. */
    this.chunks = [];
    this.start = 0;
    this.buffered = 0;
    this.subs = [];
    this.isBlocked = false;
    this.corked = false;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      try {
        this.scan();
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
    socket.on('close', () => this.closed());
  }

  closed() {
    producers.delete(this);
    if (this.isBlocked) {
      this.isBlocked = false;
      if (--blocked === 0) for (const p of producers) p.socket.resume();
    }
    for (const sub of this.subs) {
      const d = destinations.get(sub.destination);
      const i = d?.subs.indexOf(sub) ?? -1;
      if (i >= 0) d.subs.splice(i, 1);
    }
  }

  /** The first `n` buffered bytes as one Buffer (joined only when they straddle chunks). */
  peek(n) {
    const first = this.chunks[0];
    if (first.length - this.start >= n) return first.subarray(this.start, this.start + n);
    return Buffer.concat(this.pieces(n), n);
  }

  /** The next `n` buffered bytes as slices of the chunks they are in, consumed. */
  take(n) {
    const out = this.pieces(n);
    this.skip(n);
    return out;
  }

  pieces(n) {
    const out = [];
    let at = this.start;
    for (let i = 0; n > 0; i++) {
      const c = this.chunks[i];
      const k = Math.min(n, c.length - at);
      out.push(c.subarray(at, at + k));
      n -= k;
      at = 0;
    }
    return out;
  }

  skip(n) {
    this.buffered -= n;
    n += this.start;
    while (this.chunks.length > 0 && n >= this.chunks[0].length) n -= this.chunks.shift().length;
    this.start = n;
  }

  /** Offset (from the first unconsumed byte) of the first `byte` at or after `from`, or -1. */
  find(byte, from, limit) {
    let base = 0;
    let at = this.start;
    for (const c of this.chunks) {
      const len = c.length - at;
      if (from < base + len) {
        const k = c.indexOf(byte, at + Math.max(0, from - base));
        if (k >= 0) return base + k - at;
      }
      base += len;
      if (base > limit) return -1;
      at = 0;
    }
    return -1;
  }

  /** The end of the head (the offset just past its blank line), or -1 while incomplete. */
  headEnd() {
    let from = 0;
    for (;;) {
      const lf = this.find(LF, from, MAX_HEAD);
      if (lf < 0) {
        if (this.buffered > MAX_HEAD) throw new Error('head too large');
        return -1;
      }
      const next = lf + 1;
      if (next >= this.buffered) return -1;
      const b = this.peek(Math.min(next + 2, this.buffered)).subarray(next);
      if (b[0] === LF) return next + 1;
      if (b[0] === CR && b.length > 1 && b[1] === LF) return next + 2;
      from = next;
    }
  }

  scan() {
    while (this.buffered > 0) {
      // Heart-beats and padding between frames.
      const b = this.peek(1)[0];
      if (b === LF || b === CR || b === NUL) {
        this.skip(1);
        continue;
      }
      const end = this.headEnd();
      if (end < 0) return;
      const head = this.peek(end).toString('utf8');
      const lines = head.split('\n');
      const command = lines[0].replace('\r', '');
      const headers = [];
      let length = -1;
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
        if (line === '') break;
        const colon = line.indexOf(':');
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1);
        if (name === 'content-length') length = Number(value);
        headers.push(name, value);
      }
      let bodyLength = length;
      if (length >= 0) {
        if (this.buffered < end + length + 1) return;
      } else {
        const nul = this.find(NUL, end, Infinity);
        if (nul < 0) return;
        bodyLength = nul - end;
      }
      this.skip(end);
      const body = this.take(bodyLength);
      this.skip(1); // the NUL
      this.frame(command, headers, body, bodyLength);
    }
  }

  header(headers, name) {
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
    return undefined;
  }

  /** Write `pieces` as one corked writev; pause the producers while the socket is full. */
  send(pieces) {
    const s = this.socket;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    let ok = true;
    for (const p of pieces) ok = s.write(p);
    if (!ok && !this.isBlocked) {
      this.isBlocked = true;
      if (blocked++ === 0) for (const p of producers) p.socket.pause();
    }
  }

  frame(command, headers, body, bodyLength) {
    const receipt = this.header(headers, 'receipt');
    switch (command) {
      case 'CONNECT':
      case 'STOMP':
        this.send([Buffer.from('CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:relay\n\n\0')]);
        return;
      case 'SUBSCRIBE': {
        const destination = this.header(headers, 'destination') ?? '';
        const ack = this.header(headers, 'ack') ?? 'auto';
        const sub = {
          conn: this,
          destination,
          id: this.header(headers, 'id'),
          ack: ack !== 'auto',
        };
        this.subs.push(sub);
        let d = destinations.get(destination);
        if (d === undefined) destinations.set(destination, (d = { subs: [], rr: 0 }));
        d.subs.push(sub);
        break;
      }
      case 'UNSUBSCRIBE': {
        const id = this.header(headers, 'id');
        const k = this.subs.findIndex((s) => s.id === id);
        if (k >= 0) {
          const [sub] = this.subs.splice(k, 1);
          const d = destinations.get(sub.destination);
          d.subs.splice(d.subs.indexOf(sub), 1);
        }
        break;
      }
      case 'SEND': {
        producers.add(this);
        if (blocked > 0) this.socket.pause();
        const destination = this.header(headers, 'destination') ?? '';
        const d = destinations.get(destination);
        if (d === undefined || d.subs.length === 0) break;
        let shared = '';
        for (let i = 0; i < headers.length; i += 2) {
          if (headers[i] === 'content-length' || headers[i] === 'receipt') continue;
          shared += `${headers[i]}:${headers[i + 1]}\n`;
        }
        shared += `content-length:${String(bodyLength)}\n\n`;
        const targets = destination.startsWith('/topic/')
          ? d.subs
          : [d.subs[d.rr++ % d.subs.length]];
        for (const sub of targets) {
          const id = String(++messageSeq);
          const head = Buffer.from(
            `MESSAGE\nsubscription:${sub.id}\nmessage-id:${id}\n${sub.ack ? `ack:${id}\n` : ''}${shared}`,
          );
          sub.conn.send([head, ...body, Buffer.of(NUL)]);
        }
        break;
      }
      case 'DISCONNECT':
        if (receipt !== undefined) this.send([Buffer.from(`RECEIPT\nreceipt-id:${receipt}\n\n\0`)]);
        this.socket.end();
        return;
      default:
        break;
    }
    if (receipt !== undefined) this.send([Buffer.from(`RECEIPT\nreceipt-id:${receipt}\n\n\0`)]);
  }
}

const server = createServer((socket) => new RelayConnection(socket));
server.listen(Number(process.env.BENCH_TCP_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const ready = {
    pid: process.pid,
    addresses: [{ protocol: 'tcp', port, url: `tcp://127.0.0.1:${String(port)}` }],
  };
  if (process.send !== undefined) process.send({ ready });
  else process.stdout.write(JSON.stringify(ready) + '\n');
});
process.on('message', (msg) => {
  if (msg?.cmd === 'close') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
