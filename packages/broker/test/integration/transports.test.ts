// Real sockets on 127.0.0.1, port 0: TCP, TLS (self-signed certificate made with openssl) and
// WebSocket (ws as the client).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { type Broker, type ListenerAddress, createBroker } from '@stompede/broker';
import { WebSocket } from 'ws';
import { Peer } from '../helper.js';

function tcpPeer(address: ListenerAddress): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(address.port, address.host, () => {
      resolve(new Peer(socket));
    });
    socket.once('error', reject);
  });
}

describe('TCP listener', () => {
  let broker: Broker;
  let address: ListenerAddress;
  before(async () => {
    broker = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }] });
    [address] = (await broker.listen()) as [ListenerAddress];
  });
  after(() => broker.close());

  test('[Transport] port 0 is exposed; CONNECT, SEND, SUBSCRIBE over TCP', async () => {
    assert.notEqual(address.port, 0);
    assert.equal(address.host, '127.0.0.1');
    const a = await tcpPeer(address);
    const b = await tcpPeer(address);
    await a.connect();
    await b.connect();
    await b.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tcp' });
    const body = Buffer.from([0, 1, 2, 255, 0]);
    a.send('SEND', { destination: '/queue/tcp', 'content-type': 'application/octet-stream' }, body);
    const [m] = await b.messages(1);
    assert.deepEqual(Buffer.from(m!.body), body);
    a.close();
    b.close();
  });

  test('[Transport] many frames in one TCP write and a frame split over writes', async () => {
    const a = await tcpPeer(address);
    await a.connect();
    await a.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/split' });
    a.raw('SEND\ndestination:/queue/split\n\n1\0SEND\ndestination:/queue/split\n\n2\0SEND\ndesti');
    a.raw('nation:/queue/split\n\n3\0');
    const ms = await a.messages(3);
    assert.deepEqual(
      ms.map((m) => m.text),
      ['1', '2', '3'],
    );
    a.close();
  });

  test('[Lifecycle] close() ends open sessions and requeues unacknowledged messages', async () => {
    const b2 = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }], closeTimeout: 1000 });
    const [addr] = (await b2.listen()) as [ListenerAddress];
    const p = await tcpPeer(addr);
    await p.connect();
    await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/c', ack: 'client' });
    await p.sendSync('SEND', { destination: '/queue/c' }, 'x');
    await p.messages(1);
    await b2.close();
    await p.ended;
    assert.equal(b2.connections, 0);
  });
});

describe('TLS listener', () => {
  let broker: Broker;
  let address: ListenerAddress;
  let dir: string;
  let cert: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stompede-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    broker = createBroker({
      listeners: [
        {
          protocol: 'tls',
          port: 0,
          certFile: join(dir, 'cert.pem'),
          keyFile: join(dir, 'key.pem'),
        },
      ],
    });
    [address] = (await broker.listen()) as [ListenerAddress];
  });
  after(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('[Transport] STOMP over TLS', async () => {
    const socket = await new Promise<Duplex>((resolve, reject) => {
      const s = tlsConnect({ host: address.host, port: address.port, ca: cert }, () => {
        resolve(s);
      });
      s.once('error', reject);
    });
    const p = new Peer(socket);
    const f = await p.connect();
    assert.equal(f.header('version'), '1.2');
    await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/tls' });
    await p.sendSync('SEND', { destination: '/queue/tls' }, 'secure');
    const [m] = await p.messages(1);
    assert.equal(m!.text, 'secure');
    p.close();
  });
});

/** A Peer over a ws client: every message's bytes go to the parser. */
function wsPeer(ws: WebSocket): Peer {
  const duplex = new Duplex({
    read() {
      /* pushed from 'message' */
    },
    write(chunk: Buffer, _enc, cb) {
      ws.send(chunk, { binary: false }, cb);
    },
    final(cb) {
      ws.close();
      cb();
    },
  });
  ws.on('message', (data: Buffer) => duplex.push(data));
  ws.on('close', () => duplex.push(null));
  return new Peer(duplex);
}

describe('WebSocket listener', () => {
  let broker: Broker;
  let address: ListenerAddress;
  before(async () => {
    broker = createBroker({ listeners: [{ protocol: 'ws', port: 0 }] });
    [address] = (await broker.listen()) as [ListenerAddress];
  });
  after(() => broker.close());

  function open(protocols: string[]): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(address.url, protocols);
      ws.once('open', () => {
        resolve(ws);
      });
      ws.once('error', reject);
    });
  }

  test('[WebSocket] the subprotocol is echoed; text frames work', async () => {
    assert.equal(address.path, '/ws');
    const ws = await open(['v10.stomp', 'v12.stomp']);
    assert.equal(ws.protocol, 'v12.stomp');
    const p = wsPeer(ws);
    await p.connect();
    await p.sendSync('SUBSCRIBE', { id: '1', destination: '/topic/ws' });
    await p.sendSync('SEND', { destination: '/topic/ws' }, 'text');
    const [m] = await p.messages(1);
    assert.equal(m!.text, 'text');
    p.close();
  });

  test('[WebSocket] binary messages accepted, a frame spanning messages and messages sharing frames', async () => {
    const ws = await open(['v11.stomp']);
    assert.equal(ws.protocol, 'v11.stomp');
    const binary: boolean[] = [];
    ws.on('message', (_d, isBinary) => binary.push(isBinary));
    const p = wsPeer(ws);
    ws.send(Buffer.from('CONNECT\naccept-version:1.1\nhost:/\n\n\0'), { binary: true });
    await p.next('CONNECTED');
    ws.send('SUBSCRIBE\nid:1\ndestination:/queue/wsb\nreceipt:s\n\n\0SEND\ndestin');
    ws.send('ation:/queue/wsb\ncontent-length:3\n\n', { binary: true });
    ws.send(Buffer.from([0xff, 0x00, 0xfe, 0x00]), { binary: true });
    await p.next('RECEIPT');
    const m = await p.next('MESSAGE');
    assert.deepEqual([...m.body], [0xff, 0x00, 0xfe]);
    // Non-UTF-8 body: sent as a binary WebSocket message; text ones as text.
    assert.equal(binary[0], false);
    assert.equal(binary.at(-1), true);
    p.close();
  });

  test('[WebSocket] large bodies arrive whole, as text when UTF-8 and as binary when not', async () => {
    const ws = await open(['v12.stomp']);
    const received: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (data: Buffer, binary) => received.push({ data, binary }));
    const p = wsPeer(ws);
    await p.connect();
    await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/ws-large' });
    // Over the outbox's copy limit: written by reference, sent as fragments of one message.
    const text = 'é'.repeat(40_000);
    await p.sendSync('SEND', { destination: '/queue/ws-large' }, text);
    const bytes = Buffer.alloc(64 * 1024, 0xff);
    ws.send(
      Buffer.concat([
        Buffer.from(
          `SEND\ndestination:/queue/ws-large\ncontent-length:${String(bytes.length)}\n\n`,
        ),
        bytes,
        Buffer.from([0]),
      ]),
      { binary: true },
    );
    const [a, b] = await p.messages(2);
    assert.equal(a!.text, text);
    assert.ok(Buffer.from(b!.body).equals(bytes));
    const holding = (needle: Buffer): { binary: boolean } | undefined =>
      received.find((m) => m.data.includes(needle));
    assert.equal(holding(Buffer.from('é'.repeat(100)))?.binary, false);
    assert.equal(holding(Buffer.alloc(100, 0xff))?.binary, true);
    p.close();
  });

  test('[WebSocket] other paths are refused', async () => {
    const ws = new WebSocket(address.url.replace('/ws', '/other'));
    await new Promise<void>((resolve) => {
      ws.once('error', () => {
        resolve();
      });
    });
  });
});
