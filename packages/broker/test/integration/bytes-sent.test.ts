// stompede_bytes_sent_total counts every byte the broker wrote, on every transport, including
// connections that opened and closed between two scrapes (issue 21 item 8: it read 0 after 31
// frames, because only connections open at a scrape were ever looked at).
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, createWebSocketStream } from 'ws';
import { type Broker, createBroker } from '@stompede/broker';
import type { Duplex } from 'node:stream';
import { Peer } from '../helper.js';

async function scrape(broker: Broker, name: string): Promise<number> {
  const text = await (await fetch(`${broker.adminUrl!}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} is exported`);
  return Number(line.slice(name.length + 1));
}

/** A short session: CONNECT, three SENDs with receipts, DISCONNECT with a receipt; returns the bytes received. */
async function shortSession(stream: Duplex, received: () => number): Promise<number> {
  const peer = new Peer(stream);
  await peer.connect({ 'accept-version': '1.2', host: '/' });
  for (let i = 0; i < 3; i++) {
    peer.send('SEND', { destination: '/queue/bytes', receipt: `r${String(i)}` }, `m${String(i)}`);
    await peer.next('RECEIPT');
  }
  peer.send('DISCONNECT', { receipt: 'bye' });
  await peer.next('RECEIPT');
  await peer.ended;
  return received();
}

describe('[Admin metrics] stompede_bytes_sent_total', () => {
  let broker: Broker;
  let tcpPort = 0;
  let wsUrl = '';
  before(async () => {
    broker = createBroker({
      listeners: [
        { protocol: 'tcp', port: 0 },
        { protocol: 'ws', port: 0 },
      ],
      admin: { port: 0 },
    });
    const [tcp, ws] = await broker.listen();
    tcpPort = tcp!.port;
    wsUrl = ws!.url;
  });
  after(async () => {
    await broker.close();
  });

  test('a TCP connection that opened and closed between two scrapes is counted, byte for byte', async () => {
    const before = await scrape(broker, 'stompede_bytes_sent_total');
    const socket = tcpConnect(tcpPort, '127.0.0.1');
    let n = 0;
    socket.on('data', (c: Buffer) => (n += c.length));
    const received = await shortSession(socket, () => n);
    assert.ok(received > 0);
    assert.equal((await scrape(broker, 'stompede_bytes_sent_total')) - before, received);
  });

  test('a WebSocket connection is counted too (STOMP bytes, as stompede_bytes_received_total)', async () => {
    const before = await scrape(broker, 'stompede_bytes_sent_total');
    const ws = new WebSocket(wsUrl, ['v12.stomp']);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const stream = createWebSocketStream(ws);
    let n = 0;
    stream.on('data', (c: Buffer) => (n += c.length));
    const received = await shortSession(stream, () => n);
    assert.ok(received > 0);
    assert.equal((await scrape(broker, 'stompede_bytes_sent_total')) - before, received);
  });
});
