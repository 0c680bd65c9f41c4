// The transport contract as a user-supplied transport sees it: the optional fast path (writeNow,
// readNow) and onConnected are used when present; transport options belong to the factories.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connect,
  ErrorCode,
  type Transport,
  type TransportConnectedInfo,
  type TransportFactory,
} from '@stompede/client';
import { FakeServer } from '@stompede/testkit';
import { flush } from './helpers.js';

/** A transport of the user's own: the fake server's, with the optional members added. */
function instrumented(server: FakeServer): {
  factory: TransportFactory;
  writesNow: Uint8Array[][];
  reads: { now: number };
  connectedInfo: TransportConnectedInfo[];
} {
  const writesNow: Uint8Array[][] = [];
  const reads = { now: 0 };
  const connectedInfo: TransportConnectedInfo[] = [];
  const factory: TransportFactory = async (broker) => {
    const inner = await server.transport(broker);
    const transport: Transport = {
      closed: inner.closed,
      write: (chunks) => inner.write(chunks),
      close: () => inner.close(),
      destroy: (error) => {
        inner.destroy(error);
      },
      [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
      writeNow: (chunks) => {
        writesNow.push([...chunks]);
        void inner.write(chunks);
        return undefined;
      },
      readNow: () => {
        reads.now++;
        return undefined;
      },
      onConnected: (info) => {
        connectedInfo.push(info);
      },
    };
    return transport;
  };
  return { factory, writesNow, reads, connectedInfo };
}

describe('a transport of your own', () => {
  it('[Transport] gets writes through writeNow, is asked readNow, and learns the broker on onConnected', async () => {
    const server = new FakeServer();
    const t = instrumented(server);
    const pending = connect('tcp://a:61613', { transport: t.factory, heartBeat: [0, 0] });
    const conn = await server.accept();
    await conn.handshake({ headers: { server: 'Example/2.1', session: 's-1' } });
    const client = await pending;
    assert.deepEqual(t.connectedInfo, [{ version: '1.2', server: 'Example/2.1', session: 's-1' }]);
    await client.send('/queue/a', 'fast');
    const send = await conn.next('SEND');
    assert.equal(send.text, 'fast');
    assert.ok(t.writesNow.length >= 2, 'CONNECT and SEND went through writeNow');
    await flush();
    assert.ok(t.reads.now > 0, 'readNow was asked for chunks received meanwhile');
    client.destroy();
  });
});

describe('transport options', () => {
  for (const [name, value, where] of [
    ['readNapMs', 0, /nodeTransport\(\{ readNapMs \}\)/],
    ['WebSocket', function WebSocket() {}, /webSocketTransport\(\{ WebSocket \}\)/],
    ['webSocketPackFrames', true, /packFrames/],
    ['tls', { ca: 'x' }, /nodeTransport\(\{ tls \}\)/],
  ] as const) {
    it(`${name} given to connect() is ERR_STOMP_INVALID_ARGUMENT naming the factory that takes it`, async () => {
      const server = new FakeServer();
      await assert.rejects(
        connect({ url: 'tcp://a:61613', transport: server.transport, [name]: value }),
        (err: unknown) => {
          assert.equal((err as { code?: unknown }).code, ErrorCode.INVALID_ARGUMENT);
          assert.match((err as Error).message, where);
          return true;
        },
      );
      assert.equal(server.attempts.length, 0, 'nothing was opened');
    });
  }
});
