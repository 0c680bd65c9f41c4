// The client against our own broker (@stompede/broker) on 127.0.0.1, port 0: the shared
// scenarios over TCP and WebSocket, then heart-beats, TLS and failover between two brokers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Broker,
  createBroker,
  type Engine,
  hashPassword,
  LocalEngine,
} from '@stompede/broker';
import {
  connect,
  connectTcp,
  ErrorCode,
  nodeTransport,
  type Message,
  StompError,
  StompServerError,
  type Transport,
  type WebSocketConstructor,
} from '@stompede/client/node';
import { WebSocket } from 'ws';
import { clientScenarios, next, uniqueQueue } from '../scenarios.js';

let broker: Broker;
let tcpUrl = '';
let wsUrl = '';

before(async () => {
  broker = createBroker({
    listeners: [
      { protocol: 'tcp', port: 0 },
      { protocol: 'ws', port: 0 },
    ],
  });
  const addresses = await broker.listen();
  const tcp = addresses.find((a) => a.protocol === 'tcp')!;
  const ws = addresses.find((a) => a.protocol === 'ws')!;
  tcpUrl = `tcp://127.0.0.1:${String(tcp.port)}`;
  wsUrl = `ws://127.0.0.1:${String(ws.port)}${ws.path ?? '/ws'}`;
});
after(async () => {
  await broker.close();
});

// Our broker redelivers a NACKed message (to the DLQ only after maxDeliveries).
clientScenarios({ name: 'ours/tcp', url: () => tcpUrl, nack: { redeliver: true } });
clientScenarios({
  name: 'ours/ws',
  url: () => wsUrl,
  options: () => ({
    transport: nodeTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor }),
  }),
  nack: { redeliver: true },
});

/** The heart-beats in `chunk`: its EOLs when it holds nothing else (beats can arrive together). */
function beats(chunk: Uint8Array): number {
  return chunk.length > 0 && chunk.every((b) => b === 0x0a) ? chunk.length : 0;
}

/** A transport that counts heart-beat EOLs each way. */
function counting(transport: Transport, counts: { sent: number; received: number }): Transport {
  return {
    closed: transport.closed,
    write: (chunks) => {
      if (chunks.length === 1) counts.sent += beats(chunks[0]!);
      return transport.write(chunks);
    },
    close: () => transport.close(),
    destroy: (error) => {
      transport.destroy(error);
    },
    async *[Symbol.asyncIterator]() {
      for await (const chunk of transport) {
        counts.received += beats(chunk);
        yield chunk;
      }
    },
  };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `gave up waiting for ${what}`);
}

describe('heart-beats against our broker', () => {
  it('[1.2 Heart-beating] both sides beat on an idle connection, and the broker keeps it open', async () => {
    // The broker follows the client between 100 ms and 1 s: the client offers [250, 250], so
    // each side beats every 250 ms (and the broker drops it after 375 ms of silence: 100 ms was
    // too tight for a loaded machine, where a late timer dropped the connection).
    const beating = createBroker({
      listeners: [{ protocol: 'tcp', port: 0 }],
      heartbeat: [100, 1000],
    });
    const [address] = await beating.listen();
    after(() => beating.close());
    const counts = { sent: 0, received: 0 };
    const client = await connect(`tcp://127.0.0.1:${String(address!.port)}`, {
      heartBeat: [250, 250],
      transport: async (b, ctx) =>
        counting(await connectTcp({ host: b.host, port: b.port, signal: ctx.signal }), counts),
    });
    await until('2 beats sent and 3 received', () => counts.sent >= 2 && counts.received >= 3);
    assert.equal(client.state, 'connected');
    const q = uniqueQueue('hb');
    const sub = await client.subscribe(q);
    await client.send(q, 'still here', { receipt: true });
    assert.equal((await next(sub)).text, 'still here');
    await client.close();
  });
});

describe("our broker's refusals, by code", () => {
  let secured: Broker;
  let url = '';
  before(async () => {
    secured = createBroker({
      listeners: [{ protocol: 'tcp', port: 0 }],
      allowAnonymous: false,
      users: { app: { password: await hashPassword('secret') } },
      permissions: [{ user: 'app', destinations: '/queue/open.>', rights: 'all' }],
      loginThrottle: { baseDelay: 1, maxDelay: 1 },
    });
    const [tcp] = await secured.listen();
    url = `tcp://127.0.0.1:${String(tcp!.port)}`;
  });
  after(async () => {
    await secured.close();
  });

  it('[1.2 ERROR] a wrong passcode is ERR_STOMP_AUTHENTICATION_FAILED, not retried', async () => {
    await assert.rejects(
      connect(url, { login: 'app', passcode: 'wrong', heartBeat: [0, 0] }),
      (err: unknown) => {
        assert.ok(err instanceof StompServerError);
        assert.equal(err.code, ErrorCode.AUTHENTICATION_FAILED);
        return true;
      },
    );
  });

  it('[1.2 ERROR] a SEND to a destination without the right is ERR_STOMP_FORBIDDEN', async () => {
    const client = await connect(url, { login: 'app', passcode: 'secret', heartBeat: [0, 0] });
    await client.send('/queue/open.a', 'fine', { receipt: true });
    await assert.rejects(client.send('/queue/closed', 'no', { receipt: true }), {
      code: ErrorCode.FORBIDDEN,
      name: 'StompServerError',
    });
    const closed = (await client.closed) as StompError;
    assert.equal(closed.code, ErrorCode.CONNECTION_LOST);
    assert.equal((closed.cause as StompError).code, ErrorCode.FORBIDDEN);
  });
});

describe('TLS against our broker', () => {
  let dir = '';
  let tls: Broker;
  let port = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stompede-client-tls-'));
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
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tls = createBroker({
      listeners: [
        {
          protocol: 'tls',
          port: 0,
          certFile: join(dir, 'cert.pem'),
          keyFile: join(dir, 'key.pem'),
        },
      ],
    });
    const [address] = await tls.listen();
    port = address!.port;
  });
  after(async () => {
    await tls.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[Transport] ssl:// verifies the certificate against the given CA and carries STOMP', async () => {
    const ca = readFileSync(join(dir, 'cert.pem'));
    const client = await connect(`ssl://localhost:${String(port)}`, {
      heartBeat: [0, 0],
      transport: nodeTransport({ tls: { ca } }),
    });
    const q = uniqueQueue('tls');
    const sub = await client.subscribe(q);
    await client.send(q, Uint8Array.of(0, 1, 2, 0), { receipt: true });
    assert.deepEqual([...(await next(sub)).body], [0, 1, 2, 0]);
    await client.close();
  });

  it('[Transport] an untrusted certificate is refused (verification is on by default)', async () => {
    await assert.rejects(
      connect(`ssl://localhost:${String(port)}`, { heartBeat: [0, 0], connectTimeout: 10_000 }),
      (err: unknown) => {
        assert.ok(err instanceof StompError);
        assert.equal(err.code, ErrorCode.CONNECTION_REFUSED);
        return true;
      },
    );
  });
});

describe('failover between two brokers', () => {
  it('[failover] stopping the broker under a client-individual consumer loses no message', async () => {
    // Two brokers over one store, as ActiveMQ brokers sharing storage: a message left
    // unacknowledged on the broker that stops is requeued in the store and delivered again by
    // the other one. `close` is the store's, so the first broker stopping must not close it.
    const store = new LocalEngine();
    const shared = (): Engine =>
      new Proxy(store, {
        get(target, prop) {
          if (prop === 'close') return () => undefined;
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
    const a = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }], engine: shared() });
    const b = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }], engine: shared() });
    const [addressA] = await a.listen();
    const [addressB] = await b.listen();
    after(async () => {
      await a.close();
      await b.close();
      await store.close();
    });
    const failover =
      `failover:(tcp://127.0.0.1:${String(addressA!.port)},tcp://127.0.0.1:${String(addressB!.port)})` +
      '?randomize=false&initialReconnectDelay=10&maxReconnectDelay=100';
    const q = uniqueQueue('failover');
    const total = 200;
    const producer = await connect(`tcp://127.0.0.1:${String(addressB!.port)}`, {
      heartBeat: [0, 0],
    });
    const consumer = await connect(failover, { heartBeat: [0, 0] });
    const port = (): number | undefined => consumer.broker?.port;
    assert.equal(port(), addressA!.port);
    const reconnected = new Promise<void>((resolve) => {
      consumer.on('connected', (event) => {
        if (event.reconnected) resolve();
      });
    });
    const sub = await consumer.subscribe(q, { ack: 'client-individual', prefetch: 10 });
    for (let i = 0; i < total; i++) await producer.send(q, `m${String(i)}`, { receipt: true });

    const acked = new Set<string>();
    let stale = 0;
    let stopped: Promise<void> | undefined;
    for (;;) {
      const msg: Message = await next(sub);
      if (acked.size === total / 2 && stopped === undefined) {
        // Stop broker A with this message (and up to the prefetch more) unacknowledged.
        stopped = a.close();
        await stopped;
        await reconnected;
      }
      try {
        await msg.ack({ receipt: true });
        acked.add(msg.text);
      } catch (err) {
        // Delivered by A, which is gone: the store redelivers it through B.
        assert.ok(err instanceof StompError);
        assert.ok(
          err.code === ErrorCode.STALE_MESSAGE || err.code === ErrorCode.CONNECTION_LOST,
          err.code,
        );
        stale++;
      }
      if (acked.size === total) break;
    }
    assert.ok(stopped !== undefined, 'broker A was stopped mid-stream');
    assert.ok(stale >= 1, 'a delivery from A was unacknowledged when it stopped');
    assert.equal(port(), addressB!.port);
    assert.deepEqual(
      [...acked].sort(),
      Array.from({ length: total }, (_, i) => `m${String(i)}`).sort(),
    );
    await producer.close();
    await consumer.close();
  });
});

describe('a slow application and a fast broker', () => {
  for (const transport of ['tcp', 'ws'] as const) {
    it(`[${transport}] the subscription buffer stays within its capacity and nothing is lost or reordered`, async () => {
      let pauses = 0;
      // ws's own pause(), counted: the client stops reading the socket while it is behind.
      class CountingWebSocket extends WebSocket {
        override pause(): void {
          pauses++;
          super.pause();
        }
      }
      const options =
        transport === 'ws'
          ? {
              heartBeat: [0, 0] as const,
              transport: nodeTransport({
                WebSocket: CountingWebSocket as unknown as WebSocketConstructor,
              }),
            }
          : { heartBeat: [0, 0] as const };
      const url = transport === 'ws' ? wsUrl : tcpUrl;
      const q = uniqueQueue(`slow-${transport}`);
      const producer = await connect(url, options);
      const total = 3000;
      const body = new Uint8Array(1024).fill(0x61);
      for (let i = 0; i < total; i++) {
        body[0] = i & 0xff;
        body[1] = (i >> 8) & 0xff;
        await producer.send(q, body.slice(), i % 500 === 499 ? { receipt: true } : {});
      }
      await producer.close();
      const consumer = await connect(url, options);
      const sub = await consumer.subscribe(q, { buffer: 8 });
      let max = 0;
      for (let i = 0; i < total; i++) {
        // The slow part: every 100 messages the application stops until the broker has filled
        // the buffer, so the client must stop reading (a condition, not a sleep).
        if (i % 100 === 0) await until('the buffer to fill', () => sub.buffered >= 8);
        max = Math.max(max, sub.buffered);
        const msg = await next(sub);
        assert.equal(msg.body[0]! | (msg.body[1]! << 8), i);
      }
      assert.ok(max <= 8, `buffered at most ${String(max)}`);
      if (transport === 'ws') assert.ok(pauses > 0, 'the WebSocket was paused');
      await consumer.close();
    });
  }
});
