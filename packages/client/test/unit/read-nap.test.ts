// Read naps: under sustained traffic a transport pauses reading for `readNapMs` after a small
// read, so that what arrives meanwhile is read in one go; after a quiet spell it reads at once,
// and no byte is lost or reordered either way. Pure: in-memory stand-ins for the sockets. The
// naps are long (100 ms) so that "sustained" (two reads within 2 × readNapMs) holds for chunks
// pushed in the same tick and "quiet" for chunks pushed after waiting longer than that.
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { connectWebSocket, socketTransport } from '@stompede/client/node';
import { fakeWebSocket } from './helpers.js';

const NAP = 100;

class SocketStub extends Duplex {
  override _read(): void {
    // chunks are pushed by the test
  }
  override _write(_chunk: Buffer, _enc: string, callback: () => void): void {
    callback();
  }
}

/** Let a new stream start flowing (a Readable buffers what is pushed before its first read). */
const flowing = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Pull chunks from `iterator` until `want` bytes arrived; returns their text. */
async function readBytes(iterator: AsyncIterator<Uint8Array>, want: number): Promise<string> {
  let text = '';
  while (text.length < want) {
    const r = await iterator.next();
    assert.equal(r.done, false);
    text += Buffer.from(r.value).toString('latin1');
  }
  return text;
}

describe('read naps (TCP)', () => {
  it('pauses after a second read in quick succession and reads what came meanwhile after the nap', async () => {
    const stub = new SocketStub();
    const transport = socketTransport(stub as unknown as net.Socket, 16, NAP);
    const iterator = transport[Symbol.asyncIterator]();
    await flowing();
    stub.push('a');
    await flowing();
    assert.equal(stub.isPaused(), false, 'a first read is never followed by a nap');
    stub.push('b');
    await flowing();
    assert.equal(stub.isPaused(), true, 'a second read right after the first starts a nap');
    stub.push('c'); // arrives during the nap: stays in the socket
    assert.equal(await readBytes(iterator, 2), 'ab');
    await sleep(NAP * 2);
    // 'c' was read when the nap ended; reads still come fast, so another nap began.
    assert.equal(await readBytes(iterator, 1), 'c');
    await sleep(NAP * 2);
    assert.equal(stub.isPaused(), false, 'nothing more came: reading resumed for good');
    transport.destroy();
  });

  it('reads at once after a quiet spell, and never naps with readNapMs 0', async () => {
    const stub = new SocketStub();
    const transport = socketTransport(stub as unknown as net.Socket, 16, NAP);
    const iterator = transport[Symbol.asyncIterator]();
    await flowing();
    stub.push('a');
    await sleep(NAP * 3);
    stub.push('b');
    await flowing();
    assert.equal(stub.isPaused(), false, 'a read after a quiet spell is not followed by a nap');
    assert.equal(await readBytes(iterator, 2), 'ab');
    transport.destroy();

    const plain = new SocketStub();
    const eager = socketTransport(plain as unknown as net.Socket, 16, 0);
    const it2 = eager[Symbol.asyncIterator]();
    await flowing();
    for (const c of ['x', 'y', 'z']) {
      plain.push(c);
      await flowing();
    }
    assert.equal(plain.isPaused(), false);
    assert.equal(await readBytes(it2, 3), 'xyz');
    eager.destroy();
  });

  it('no nap after a large read (data is plentiful), and backpressure still holds', async () => {
    const stub = new SocketStub();
    const transport = socketTransport(stub as unknown as net.Socket, 3, NAP);
    const iterator = transport[Symbol.asyncIterator]();
    await flowing();
    const big = Buffer.alloc(64 * 1024, 0x61);
    stub.push(big);
    await flowing();
    stub.push(big);
    await flowing();
    assert.equal(stub.isPaused(), false, 'large reads do not nap');
    stub.push(big); // the client has not pulled: the third unread chunk reaches readHighWaterMark 3
    assert.equal(stub.isPaused(), true);
    assert.equal((await readBytes(iterator, 3 * big.length)).length, 3 * big.length);
    assert.equal(stub.isPaused(), false, 'pulling again resumes reading');
    transport.destroy();
  });

  it('ends a nap when the socket closes', async () => {
    const stub = new SocketStub();
    const transport = socketTransport(stub as unknown as net.Socket, 16, 60_000);
    await flowing();
    stub.push('a');
    await flowing();
    stub.push('b');
    await flowing();
    assert.equal(stub.isPaused(), true);
    transport.destroy();
    // A pending one-minute nap timer would keep the test process alive: stop() cleared it.
    assert.equal(await transport.closed, undefined);
  });
});

describe('read naps (ws)', () => {
  it('pauses a ws WebSocket under sustained traffic and resumes it after the nap', async () => {
    const fake = fakeWebSocket(true);
    const transport = await connectWebSocket('ws://x/', {
      WebSocket: fake.Ctor,
      readNapMs: NAP,
      readHighWaterMark: 64,
    });
    const socket = fake.socket();
    const iterator = transport[Symbol.asyncIterator]();
    socket.onmessage?.({ data: 'a' });
    await flowing();
    socket.onmessage?.({ data: 'b' });
    await flowing();
    assert.equal(socket.paused, 1);
    assert.equal(await readBytes(iterator, 2), 'ab');
    await sleep(NAP * 2);
    assert.equal(socket.resumed, 1);
    // Many small messages from one read (one tick) weigh as one large read: no nap after it.
    await sleep(NAP * 3);
    socket.onmessage?.({ data: 'c' });
    await flowing();
    const frame = 'x'.repeat(1024);
    for (let i = 0; i < 40; i++) socket.onmessage?.({ data: frame });
    await flowing();
    assert.equal(socket.paused, 1, 'no nap after 40 KiB read in one go');
    assert.equal((await readBytes(iterator, 1 + 40 * 1024)).length, 1 + 40 * 1024);
    await transport.close();
  });
});

describe('ws constructor options', () => {
  it("passes the defaults, and lays the caller's options over them one by one", async () => {
    const plain = fakeWebSocket(true);
    await (await connectWebSocket('ws://x/', { WebSocket: plain.Ctor })).close();
    assert.deepEqual(plain.socket().options, {
      perMessageDeflate: false,
      allowSynchronousEvents: true,
    });
    // An unrelated option keeps compression off; naming one turns it back on.
    const tuned = fakeWebSocket(true);
    await (
      await connectWebSocket('wss://x/', {
        WebSocket: tuned.Ctor,
        webSocketOptions: { handshakeTimeout: 5000 },
      })
    ).close();
    assert.deepEqual(tuned.socket().options, {
      perMessageDeflate: false,
      allowSynchronousEvents: true,
      handshakeTimeout: 5000,
    });
    const deflating = fakeWebSocket(true);
    await (
      await connectWebSocket('wss://x/', {
        WebSocket: deflating.Ctor,
        webSocketOptions: { perMessageDeflate: true },
      })
    ).close();
    assert.deepEqual(deflating.socket().options, {
      perMessageDeflate: true,
      allowSynchronousEvents: true,
    });
  });
});
