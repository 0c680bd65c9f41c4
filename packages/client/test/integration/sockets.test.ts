import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { connect, ErrorCode, nodeTransport } from '@stompede/client/node';
import { connectWebSocket, type WebSocketConstructor } from '@stompede/client';
import { FakeServer } from '@stompede/testkit';
import { WebSocket, WebSocketServer } from 'ws';

describe('TCP (127.0.0.1, port 0)', () => {
  it('[1.2 Connecting] connects, subscribes, receives, sends with a receipt and closes', async () => {
    const server = new FakeServer();
    const port = await server.listen();
    after(() => server.close());
    const pending = connect(`tcp://127.0.0.1:${String(port)}`, { heartBeat: [0, 0] });
    const conn = await server.accept();
    conn.autoReceipt = true;
    await conn.handshake();
    const client = await pending;
    const sub = await client.subscribe('/queue/a', { ack: 'client-individual' });
    const subscribe = await conn.next('SUBSCRIBE');
    const big = new Uint8Array(256 * 1024).fill(7);
    conn.message(subscribe, big);
    const msg = (await sub.receive({ timeout: 5000 }))!;
    assert.equal(msg.body.length, big.length);
    await msg.ack();
    assert.equal((await conn.next('ACK')).header('id'), msg.header('ack'));
    await client.send('/queue/b', 'hello', { receipt: true });
    assert.equal((await conn.next('SEND')).text, 'hello');
    const closing = client.close();
    const disconnect = await conn.next('DISCONNECT');
    conn.receipt(disconnect);
    await closing;
    await conn.closed;
  });

  it('a closed port is ERR_STOMP_CONNECTION_REFUSED', async () => {
    const server = new FakeServer();
    const port = await server.listen();
    await server.close();
    await assert.rejects(connect(`tcp://127.0.0.1:${String(port)}`), {
      code: ErrorCode.CONNECTION_REFUSED,
    });
  });
});

describe('WebSocket (ws on 127.0.0.1)', () => {
  it('[WebSocket] offers the STOMP subprotocols, uses text frames for text and binary frames for bytes', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    after(() => {
      wss.close();
    });
    await new Promise<void>((r) =>
      wss.once('listening', () => {
        r();
      }),
    );
    const address = wss.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const received: { binary: boolean; text: string }[] = [];
    const offered = new Promise<string | undefined>((resolveOffered) => {
      wss.on('connection', (socket, request) => {
        resolveOffered(request.headers['sec-websocket-protocol']);
        socket.on('message', (data: Buffer, isBinary: boolean) => {
          const text = data.toString('latin1');
          received.push({ binary: isBinary, text });
          if (text.startsWith('CONNECT')) {
            socket.send('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
          } else if (text.startsWith('SUBSCRIBE')) {
            socket.send(
              Buffer.from(
                'MESSAGE\nsubscription:sub-1\nmessage-id:1\ndestination:/q\ncontent-length:2\n\n\x00\x01\0',
                'latin1',
              ),
            );
          }
        });
      });
    });
    const client = await connect(`ws://127.0.0.1:${String(port)}/`, {
      transport: nodeTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor }),
      heartBeat: [0, 0],
    });
    assert.equal(await offered, 'v12.stomp,v11.stomp,v10.stomp');
    const sub = await client.subscribe('/q', { id: 'sub-1' });
    const msg = (await sub.receive({ timeout: 5000 }))!;
    assert.deepEqual([...msg.body], [0, 1]);
    await client.send('/q', 'text body');
    await client.send('/q', Uint8Array.of(0xff, 0xfe));
    await new Promise<void>((r) => {
      const poll = (): void => {
        if (received.length >= 4) r();
        else setImmediate(poll);
      };
      poll();
    });
    const sends = received.filter((m) => m.text.startsWith('SEND'));
    assert.deepEqual(
      sends.map((m) => m.binary),
      [false, true],
    );
    client.destroy();
  });

  it('connectWebSocket needs a WebSocket class on Node 20', async () => {
    await assert.rejects(connectWebSocket('ws://127.0.0.1:1/'), {
      code: ErrorCode.INVALID_ARGUMENT,
    });
  });
});

describe('browser safety', () => {
  it('the main entry point imports nothing Node-only', () => {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@stompede/client').replace(/index\.js$/, 'index.js');
    const seen = new Set<string>();
    const bare: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*from\s*'([^']+)'/g)) {
        const spec = match[1]!;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
        else bare.push(spec);
      }
    };
    visit(entry);
    assert.ok(seen.size > 5);
    assert.deepEqual(
      [...new Set(bare)].filter((s) => s !== '@stompede/core' && s !== '@stompede/core/internal'),
      [],
    );
  });
});
