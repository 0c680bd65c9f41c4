// WebSocketDuplex (listen/ws.ts) with a recording WebSocket and socket: each write is one
// message, a batch of writes is sent with the socket corked, and a write completes only when
// the socket took it, so the stream's buffer is the backpressure.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { WebSocketDuplex } from '@stompede/broker/internal';
import type { WebSocket } from 'ws';

/** A WebSocket and socket that log what is done to them; sends complete on `complete()`. */
function recording(): {
  duplex: WebSocketDuplex;
  log: string[];
  complete: () => void;
} {
  const log: string[] = [];
  let pending: (() => void)[] = [];
  const ws = {
    OPEN: 1,
    readyState: 1,
    on() {
      return ws;
    },
    send(data: Buffer, opts: { binary: boolean }, cb?: (err?: Error) => void) {
      log.push(`${opts.binary ? 'binary' : 'text'} ${JSON.stringify(data.toString('latin1'))}`);
      if (cb !== undefined) {
        pending.push(() => {
          cb();
        });
      }
    },
    pause() {},
    resume() {},
  };
  const socket = {
    cork: () => log.push('cork'),
    uncork: () => log.push('uncork'),
  };
  const duplex = new WebSocketDuplex(ws as unknown as WebSocket, socket as unknown as Duplex);
  return {
    duplex,
    log,
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

test('[WebSocket] write() is false until the socket took the bytes, then drain', async () => {
  const { duplex, complete } = recording();
  const big = Buffer.alloc(duplex.writableHighWaterMark, 0x61);
  assert.equal(duplex.write(big), false);
  let drained = false;
  duplex.once('drain', () => (drained = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, false, 'not before the socket took it');
  complete();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, true);
  assert.equal(duplex.writableLength, 0);
});
