// The WebSocket listener's Origin check, and WebSocket sessions going through the same
// authentication and permissions as TCP ones. Real sockets on 127.0.0.1, ws as the client.
import assert from 'node:assert/strict';
import { ErrorCode } from '@stompede/core';
import { connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  type Broker,
  type BrokerOptions,
  type ListenerAddress,
  createBroker,
  hashPassword,
} from '@stompede/broker';
import { WebSocket } from 'ws';
import { originAllowed, originPolicy } from '@stompede/broker/internal';
import { Peer } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };

/** Open a WebSocket; resolves to it, or to the HTTP status of a refused upgrade. */
function upgrade(
  address: ListenerAddress,
  headers: { origin?: string; host?: string } = {},
): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address.url, ['v12.stomp'], {
      ...(headers.origin === undefined ? {} : { origin: headers.origin }),
      ...(headers.host === undefined ? {} : { headers: { host: headers.host } }),
    });
    ws.once('open', () => {
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

async function accepted(
  address: ListenerAddress,
  headers: { origin?: string; host?: string } = {},
): Promise<boolean> {
  const r = await upgrade(address, headers);
  if (typeof r === 'number') {
    assert.equal(r, 403);
    return false;
  }
  r.close();
  return true;
}

const open: Broker[] = [];
after(async () => {
  await Promise.all(open.map((b) => b.close()));
});

async function wsBroker(
  listener: Record<string, unknown> = {},
  options: BrokerOptions = {},
): Promise<{ broker: Broker; ws: ListenerAddress; others: ListenerAddress[] }> {
  const broker = createBroker({
    errorLinger: 100,
    closeTimeout: 500,
    ...options,
    listeners: [{ protocol: 'ws', port: 0, ...listener }, ...(options.listeners ?? [])],
  });
  open.push(broker);
  const [ws, ...others] = (await broker.listen()) as [ListenerAddress, ...ListenerAddress[]];
  return { broker, ws, others };
}

describe('WebSocket Origin check', () => {
  test('[WebSocket Origin] default: no Origin and same-host origins are accepted, others get 403', async () => {
    const { broker, ws } = await wsBroker();
    const here = `127.0.0.1:${String(ws.port)}`;
    assert.equal(await accepted(ws), true);
    assert.equal(await accepted(ws, { origin: `http://${here}` }), true);
    assert.equal(await accepted(ws, { origin: `https://${here}` }), true);
    assert.equal(
      await accepted(ws, {
        origin: `http://localhost:${String(ws.port)}`,
        host: `localhost:${String(ws.port)}`,
      }),
      true,
    );
    // A loopback listener serves this machine: a page on another loopback port (a dev server) is
    // accepted, a page from a real site is not.
    assert.equal(await accepted(ws, { origin: `http://127.0.0.1:${String(ws.port + 1)}` }), true);
    assert.equal(await accepted(ws, { origin: 'http://localhost:5173' }), true);
    assert.equal(await accepted(ws, { origin: 'https://evil.example' }), false);
    assert.equal(await accepted(ws, { origin: 'null' }), false);
    assert.equal(broker.errorCounts.refusedByCode.get('ERR_STOMP_FORBIDDEN'), 2);
  });

  test('[WebSocket Origin] default off loopback: only same-host origins (checked without a socket)', () => {
    const policy = originPolicy(undefined, '0.0.0.0');
    assert.equal(originAllowed(policy, 'https://mq.example:15674', 'mq.example:15674'), true);
    assert.equal(originAllowed(policy, 'http://127.0.0.1:5173', 'mq.example:15674'), false);
    assert.equal(originAllowed(policy, 'https://evil.example', 'mq.example:15674'), false);
    assert.equal(
      originAllowed(policy, undefined, 'mq.example:15674'),
      true,
      'no Origin: not a browser',
    );
  });

  test('[WebSocket Origin] default on loopback: a DNS-rebound page (same host, not a loopback name) is refused', async () => {
    const { ws } = await wsBroker();
    const rebound = `attacker.example:${String(ws.port)}`;
    assert.equal(await accepted(ws, { origin: `http://${rebound}`, host: rebound }), false);
  });

  test('[WebSocket Origin] allowedOrigins: exact origins (default ports normalised), nothing else', async () => {
    const { ws } = await wsBroker({
      allowedOrigins: ['https://app.example.com', 'HTTP://Dev.Example.com:8080/'],
    });
    assert.equal(await accepted(ws, { origin: 'https://app.example.com' }), true);
    assert.equal(await accepted(ws, { origin: 'https://app.example.com:443' }), true);
    assert.equal(await accepted(ws, { origin: 'http://dev.example.com:8080' }), true);
    assert.equal(await accepted(ws, { origin: 'http://app.example.com' }), false);
    assert.equal(await accepted(ws, { origin: 'https://app.example.com:8443' }), false);
    assert.equal(await accepted(ws, { origin: 'https://app.example.com.evil.example' }), false);
    assert.equal(await accepted(ws), true);
  });

  test('[WebSocket Origin] "*" accepts every origin', async () => {
    const { ws } = await wsBroker({ allowedOrigins: ['*'] });
    assert.equal(await accepted(ws, { origin: 'https://anywhere.example' }), true);
    assert.equal(await accepted(ws, { origin: 'null' }), true);
  });

  test('[WebSocket Origin] a refused upgrade is counted in the metrics', async () => {
    const { ws } = await wsBroker({}, { admin: { port: 0 } });
    const broker = open.at(-1)!;
    assert.equal(await accepted(ws, { origin: 'https://evil.example' }), false);
    const res = await fetch(`${broker.adminUrl!}/metrics`);
    const text = await res.text();
    assert.match(text, /^stompede_connections_refused_total 1$/m);
    assert.match(text, /^stompede_errors_total\{code="ERR_STOMP_FORBIDDEN"\} 1$/m);
  });

  test('[WebSocket Origin] the 403 is a complete HTTP response', async () => {
    const { ws } = await wsBroker();
    const socket = netConnect(ws.port, ws.host);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${String(ws.port)}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://evil.example\r\n\r\n',
    );
    let text = '';
    for await (const chunk of socket) text += (chunk as Buffer).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(text, /\r\n\r\norigin not allowed\n$/);
  });

  test('[WebSocket Origin] invalid allowedOrigins are refused by createBroker', () => {
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://x.example', '']) {
      assert.throws(
        () => createBroker({ listeners: [{ protocol: 'ws', port: 0, allowedOrigins: [bad] }] }),
        (err: Error) =>
          (err as { code?: string }).code === 'ERR_STOMP_INVALID_ARGUMENT' &&
          err.message.includes('listeners[0].allowedOrigins[0]'),
        bad,
      );
    }
  });
});

/** A Peer over a ws client. */
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

function tcpPeer(address: ListenerAddress): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(address.port, address.host, () => {
      resolve(new Peer(socket));
    });
    socket.once('error', reject);
  });
}

describe('WebSocket sessions: the same authentication and permissions as TCP', () => {
  let ws: ListenerAddress;
  let tcp: ListenerAddress;
  before(async () => {
    const started = await wsBroker(
      {},
      {
        listeners: [{ protocol: 'tcp', port: 0 }],
        users: { alice: { password: await hashPassword('w0nderland', FAST) } },
        permissions: [{ user: 'alice', destinations: '/queue/out', rights: ['write', 'create'] }],
        allowAnonymous: false,
        loginThrottle: { baseDelay: 1, maxDelay: 1 },
      },
    );
    ws = started.ws;
    [tcp] = started.others as [ListenerAddress];
  });

  async function peers(): Promise<[string, Peer][]> {
    const socket = await upgrade(ws);
    assert.ok(socket instanceof WebSocket);
    return [
      ['ws', wsPeer(socket)],
      ['tcp', await tcpPeer(tcp)],
    ];
  }

  test('[WebSocket auth] no login and a wrong passcode are refused as over TCP', async () => {
    const seen: Record<string, string[]> = {};
    for (const [name, p] of await peers()) {
      p.send('CONNECT', { 'accept-version': '1.2', host: '/' });
      seen[name] = [(await p.error(ErrorCode.AUTHENTICATION_FAILED)).header('message') ?? ''];
      await p.ended;
    }
    for (const [name, p] of await peers()) {
      p.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'alice', passcode: 'no' });
      seen[name]!.push((await p.error(ErrorCode.AUTHENTICATION_FAILED)).header('message') ?? '');
      await p.ended;
    }
    assert.deepEqual(seen.ws, seen.tcp);
    assert.match(seen.ws![0]!, /authentication required/);
    assert.match(seen.ws![1]!, /authentication failed: unknown login or wrong passcode/);
  });

  test('[WebSocket permissions] alice may SEND but not SUBSCRIBE, as over TCP', async () => {
    const seen: Record<string, string> = {};
    for (const [name, p] of await peers()) {
      await p.connect({
        'accept-version': '1.2',
        host: '/',
        login: 'alice',
        passcode: 'w0nderland',
      });
      await p.sendSync('SEND', { destination: '/queue/out' }, name);
      p.send('SUBSCRIBE', { id: '1', destination: '/queue/out' });
      seen[name] = (await p.error(ErrorCode.FORBIDDEN)).header('message') ?? '';
      await p.ended;
    }
    assert.equal(seen.ws, seen.tcp);
    assert.match(seen.ws!, /user "alice" has no read permission on \/queue\/out/);
  });
});
