// WebSocketDuplex (listen/ws.ts) with a recording WebSocket and socket: each write, and each
// writeMessage of several parts, is one message (the parts as one WebSocket frame, none copied;
// fragments when an extension is on), a batch is sent with the socket corked, and a write
// completes only when the socket took it, so the stream's buffer is the backpressure.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { WebSocketDuplex } from '@stompede/broker/internal';
import type { WebSocket } from 'ws';

/** A WebSocket and socket that log what is done to them; sends complete on `complete()`. */
function recording(extensions = ''): {
  duplex: WebSocketDuplex;
  log: string[];
  written: Buffer[];
  complete: () => void;
} {
  const log: string[] = [];
  const written: Buffer[] = [];
  let pending: (() => void)[] = [];
  const later = (cb?: (err?: Error) => void): void => {
    if (cb !== undefined) {
      pending.push(() => {
        cb();
      });
    }
  };
  const ws = {
    OPEN: 1,
    readyState: 1,
    extensions,
    on() {
      return ws;
    },
    send(data: Buffer, opts: { binary: boolean; fin?: boolean }, cb?: (err?: Error) => void) {
      const fin = opts.fin === false ? ' fin:false' : '';
      log.push(
        `${opts.binary ? 'binary' : 'text'}${fin} ${JSON.stringify(data.toString('latin1'))}`,
      );
      later(cb);
    },
    pause() {},
    resume() {},
  };
  const socket = {
    cork: () => log.push('cork'),
    uncork: () => log.push('uncork'),
    write(data: Buffer, cb?: (err?: Error) => void) {
      log.push(`socket ${String(data.length)}`);
      written.push(data);
      later(cb);
      return true;
    },
  };
  const duplex = new WebSocketDuplex(ws as unknown as WebSocket, socket as unknown as Duplex);
  return {
    duplex,
    log,
    written,
    complete: () => {
      const done = pending;
      pending = [];
      for (const cb of done) cb();
    },
  };
}

test('[WebSocket] each write is one message; a batch is sent with the socket corked', async () => {
  const { duplex, log, complete } = recording();
  duplex.write(Buffer.from('RECEIPT\nreceipt-id:1\n\n\0\n'));
  // The first write goes at once; these wait for it, then go together.
  duplex.write(Buffer.from('\n'));
  duplex.write(Buffer.from([0x4d, 0xff, 0, 10]));
  duplex.write(Buffer.from('MESSAGE\n\nx\0\n'));
  assert.deepEqual(log, ['text "RECEIPT\\nreceipt-id:1\\n\\n\\u0000\\n"']);
  complete();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log.slice(1), [
    'cork',
    'text "\\n"',
    'binary "Mÿ\\u0000\\n"',
    'text "MESSAGE\\n\\nx\\u0000\\n"',
    'uncork',
  ]);
});

/** After a write() that returned false: 'drain' comes once the socket took the bytes, not before. */
async function drainsWhenTaken(duplex: WebSocketDuplex, complete: () => void): Promise<void> {
  let drained = false;
  duplex.once('drain', () => (drained = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, false, 'not before the socket took it');
  complete();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, true);
  assert.equal(duplex.writableLength, 0);
}

test('[WebSocket] write() is false until the socket took the bytes, then drain', async () => {
  const { duplex, complete } = recording();
  const big = Buffer.alloc(duplex.writableHighWaterMark, 0x61);
  assert.equal(duplex.write(big), false);
  await drainsWhenTaken(duplex, complete);
});

test('[WebSocket] a message of several parts is one WebSocket frame, written from the parts', async () => {
  const { duplex, log, written, complete } = recording();
  const head = Buffer.from('MESSAGE\ndestination:/queue/a\n\n');
  const body = Buffer.alloc(70_000, 0x61);
  const tail = Buffer.from('\0\n');
  duplex.write(Buffer.from('\n'));
  duplex.writeMessage([head, body, tail]);
  duplex.write(Buffer.from('RECEIPT\nreceipt-id:1\n\n\0\n'));
  complete();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, [
    'text "\\n"',
    'cork',
    'socket 10',
    `socket ${String(head.length)}`,
    'socket 70000',
    'socket 2',
    'text "RECEIPT\\nreceipt-id:1\\n\\n\\u0000\\n"',
    'uncork',
  ]);
  // RFC 6455 5.2: FIN and opcode 1 (text), then the 64-bit length of all the parts together.
  const header = written[0]!;
  assert.equal(header[0], 0x81);
  assert.equal(header[1], 127);
  assert.equal(header.readUIntBE(4, 6), head.length + body.length + tail.length);
  // The body goes from where it is: the same memory, not a copy.
  assert.equal(written[2], body);
});

test('[WebSocket] a message of several parts with a non-UTF-8 part is binary', async () => {
  const { duplex, written, complete } = recording();
  duplex.writeMessage([Buffer.from('MESSAGE\n\n'), Buffer.alloc(200, 0xff), Buffer.from('\0\n')]);
  complete();
  await new Promise((resolve) => setImmediate(resolve));
  // 16-bit length: 11 + 200 bytes.
  assert.deepEqual([...written[0]!], [0x82, 126, 0, 211]);
});

test('[WebSocket] with an extension on, a message of several parts is sent as fragments', async () => {
  const { duplex, log, complete } = recording('permessage-deflate');
  duplex.writeMessage([Buffer.from('MESSAGE\n\n'), Buffer.from('body'), Buffer.from('\0\n')]);
  complete();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, [
    'cork',
    'text fin:false "MESSAGE\\n\\n"',
    'text fin:false "body"',
    'text "\\u0000\\n"',
    'uncork',
  ]);
});

test('[WebSocket] writeMessage is false until the socket took the whole message', async () => {
  const { duplex, complete } = recording();
  const half = Buffer.alloc(duplex.writableHighWaterMark / 2 + 1, 0x61);
  assert.equal(duplex.writeMessage([half, half]), false);
  await drainsWhenTaken(duplex, complete);
});
