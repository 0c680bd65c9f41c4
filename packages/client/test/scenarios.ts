// The client scenarios every broker must pass, registered with node:test for one target: our
// broker over TCP and WebSocket (test/integration), RabbitMQ and ActiveMQ (test/peers). The same
// assertions run everywhere; a target declares only what the spec leaves to the server (what
// NACK does) and what its transport cannot carry, each with a comment naming the peer.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  type Client,
  connect,
  type ConnectOptions,
  type Message,
  type Subscription,
} from '@stompede/client/node';

/** Where and how to reach one broker. */
export interface Target {
  /** Test-name prefix, e.g. `ours/tcp`. */
  readonly name: string;
  /** The broker URI (called once the broker is up). */
  readonly url: () => string;
  /** Connect options (login, host, a transport with the WebSocket class...). */
  readonly options?: () => ConnectOptions;
  /**
   * What the broker does with a NACKed message (the spec leaves it to the server): `redeliver`
   * it to the subscription, or move a persistent message to the dead-letter queue `dlq`.
   */
  readonly nack: { readonly redeliver: true } | { readonly dlq: string };
  /**
   * Resolves with why the broker cannot be reached, or `undefined`. The scenarios then skip with
   * that reason, or fail when `required` (CI sets STOMPEDE_PEERS=1 after starting the peers).
   */
  readonly unavailable?: () => Promise<string | undefined>;
  /** A missing broker is a failure, not a skip. */
  readonly required?: boolean;
}

/** Resolves with a reason when nothing accepts TCP connections on `host:port` (5 s at most). */
export async function unreachable(host: string, port: number): Promise<string | undefined> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (reason: string | undefined): void => {
      socket.destroy();
      clearTimeout(timer);
      resolve(reason);
    };
    const timer = setTimeout(() => {
      done(`nothing answered on ${host}:${String(port)} within 5 s`);
    }, 5000);
    socket.once('connect', () => {
      done(undefined);
    });
    socket.once('error', (err) => {
      done(`${host}:${String(port)} is not reachable (${err.message})`);
    });
  });
}

const WAIT = { timeout: 20_000 } as const;
let counter = 0;

/** A destination no earlier run used. */
export function uniqueQueue(label: string): string {
  counter++;
  return `/queue/stompede-client-${label}-${String(process.pid)}-${String(Date.now())}-${String(counter)}`;
}

/** The next message, failing the test on a timeout or the end of the subscription. */
export async function next(sub: Subscription): Promise<Message> {
  const message = await sub.receive(WAIT);
  assert.ok(message, `subscription ${sub.id} on ${sub.destination} ended`);
  return message;
}

/** Every byte value, with NULs spread through: a body no text encoding survives unharmed. */
export function binaryBody(): Uint8Array {
  const body = new Uint8Array(1024);
  for (let i = 0; i < body.length; i++) body[i] = i % 7 === 0 ? 0 : (i * 31 + 7) & 0xff;
  return body;
}

/** A large body with a pattern that catches reordered or dropped chunks. */
export function largeBody(size: number): Uint8Array {
  const body = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    body[i] = x & 0xff;
  }
  return body;
}

/** Register the scenarios for `target`. */
export function clientScenarios(target: Target): void {
  let skip: string | undefined;
  const clients = new Set<Client>();

  const open = async (options: ConnectOptions = {}): Promise<Client> => {
    const client = await connect(target.url(), {
      heartBeat: [0, 0],
      ...target.options?.(),
      ...options,
    });
    clients.add(client);
    return client;
  };
  const close = async (client: Client): Promise<void> => {
    clients.delete(client);
    await client.close();
  };
  const scenario = (name: string, fn: (t: TestContext) => Promise<void>): void => {
    it(`${target.name}: ${name}`, async (t) => {
      if (skip !== undefined) {
        if (target.required === true) assert.fail(`${target.name} is required: ${skip}`);
        t.skip(skip);
        return;
      }
      try {
        await fn(t);
      } finally {
        for (const client of clients) client.destroy();
        clients.clear();
      }
    });
  };

  describe(`client scenarios against ${target.name}`, () => {
    it(`${target.name}: the broker is reachable`, async (t) => {
      skip = await target.unavailable?.();
      if (skip === undefined) return;
      if (target.required === true) assert.fail(`${target.name} is required: ${skip}`);
      t.skip(skip);
    });

    scenario(
      '[1.2 Connecting] connects, negotiates 1.2 and disconnects with a receipt',
      async () => {
        const client = await open();
        assert.equal(client.state, 'connected');
        assert.equal(client.version, '1.2');
        assert.ok(
          client.server !== undefined && client.server.length > 0,
          'CONNECTED names a server',
        );
        await close(client);
        assert.equal(client.state, 'closed');
        assert.equal(await client.closed, undefined);
      },
    );

    scenario('[1.2 SUBSCRIBE ack:auto] [1.2 SEND] text body and custom headers', async () => {
      const q = uniqueQueue('auto');
      const client = await open();
      const sub = await client.subscribe(q, { receipt: true });
      await client.send(q, 'héllo wörld', { headers: { 'x-trace': 'a:b\\c' }, receipt: true });
      const msg = await next(sub);
      assert.equal(msg.text, 'héllo wörld');
      assert.equal(msg.header('x-trace'), 'a:b\\c');
      assert.equal(msg.destination, q);
      assert.ok(msg.contentType?.startsWith('text/plain'));
      await close(client);
    });

    scenario(
      '[1.2 SUBSCRIBE ack:client] a cumulative ACK acknowledges every earlier message',
      async () => {
        const q = uniqueQueue('client');
        const client = await open();
        for (const text of ['1', '2', '3']) await client.send(q, text, { receipt: true });
        const sub = await client.subscribe(q, { ack: 'client' });
        const got = [await next(sub), await next(sub), await next(sub)];
        assert.deepEqual(
          got.map((m) => m.text),
          ['1', '2', '3'],
        );
        await got[2]!.ack({ receipt: true });
        await close(client);
        // Nothing comes back: the first message the next subscriber sees is a fresh marker.
        const again = await open();
        const sub2 = await again.subscribe(q, { ack: 'client-individual', receipt: true });
        await again.send(q, 'marker', { receipt: true });
        const first = await next(sub2);
        assert.equal(first.text, 'marker');
        await first.ack({ receipt: true });
        await close(again);
      },
    );

    scenario(
      '[1.2 SUBSCRIBE ack:client-individual] an unacknowledged message is redelivered, an acknowledged one is not',
      async () => {
        const q = uniqueQueue('individual');
        const client = await open();
        await client.send(q, 'a', { receipt: true });
        await client.send(q, 'b', { receipt: true });
        const sub = await client.subscribe(q, { ack: 'client-individual' });
        const a = await next(sub);
        const b = await next(sub);
        assert.deepEqual([a.text, b.text], ['a', 'b']);
        await b.ack({ receipt: true }); // b only
        await close(client);
        const again = await open();
        const sub2 = await again.subscribe(q, { ack: 'client-individual' });
        const redelivered = await next(sub2);
        assert.equal(redelivered.text, 'a');
        await redelivered.ack({ receipt: true });
        await again.send(q, 'marker', { receipt: true });
        assert.equal((await next(sub2)).text, 'marker', 'b was not redelivered');
        await close(again);
      },
    );

    scenario(
      '[1.2 NACK] a NACKed message is not acknowledged: redelivered or dead-lettered',
      async () => {
        const q = uniqueQueue('nack');
        const body = `nack-${q}`;
        // A property to find this message among other dead letters (a selector on it).
        const run = `r${String(process.pid)}x${String(Date.now())}`;
        const client = await open();
        const sub = await client.subscribe(q, { ack: 'client-individual', receipt: true });
        await client.send(q, body, {
          receipt: true,
          headers: { persistent: 'true', stompedeRun: run },
        });
        const msg = await next(sub);
        assert.equal(msg.text, body);
        await msg.nack({ receipt: true });
        if ('redeliver' in target.nack) {
          const again = await next(sub);
          assert.equal(again.text, body);
          await again.ack({ receipt: true });
        } else {
          // ActiveMQ: NACK moves a persistent message to the dead-letter queue (no redelivery).
          // The selector takes only this run's letter, leaving other tests' dead letters alone.
          const dlq = await client.subscribe(target.nack.dlq, {
            ack: 'client-individual',
            headers: { selector: `stompedeRun = '${run}'` },
          });
          const dead = await next(dlq);
          assert.equal(dead.text, body);
          assert.equal(dead.header('original-destination'), q);
          await dead.ack({ receipt: true });
        }
        await close(client);
      },
    );

    scenario(
      '[1.2 BEGIN] [1.2 COMMIT] [1.2 ABORT] only committed sends are delivered; an aborted ACK leaves the message unacknowledged',
      async () => {
        const q = uniqueQueue('tx');
        const client = await open();
        const aborted = await client.begin({ receipt: true });
        await aborted.send(q, 'aborted');
        await aborted.abort({ receipt: true });
        assert.equal(aborted.state, 'aborted');
        const result = await client.transaction(
          async (tx) => {
            await tx.send(q, 'committed');
            return 'done';
          },
          { receipt: true },
        );
        assert.equal(result, 'done');
        const sub = await client.subscribe(q, { ack: 'client-individual' });
        const committed = await next(sub);
        assert.equal(committed.text, 'committed');
        await client.send(q, 'marker', { receipt: true });
        const marker = await next(sub);
        assert.equal(marker.text, 'marker', 'the aborted send was not delivered');
        await marker.ack({ receipt: true });
        // ACK inside a transaction that is aborted: the message stays unacknowledged.
        const tx = await client.begin({ receipt: true });
        await tx.ack(committed);
        await tx.abort({ receipt: true });
        await close(client);
        const again = await open();
        const sub2 = await again.subscribe(q, { ack: 'client-individual' });
        const redelivered = await next(sub2);
        assert.equal(redelivered.text, 'committed');
        // ACK inside a committed transaction: acknowledged for good.
        await again.transaction(async (t2) => t2.ack(redelivered), { receipt: true });
        await again.send(q, 'marker 2', { receipt: true });
        const last = await next(sub2);
        assert.equal(last.text, 'marker 2');
        await last.ack({ receipt: true });
        await close(again);
      },
    );

    scenario('[1.2 RECEIPT] every operation can wait for its receipt', async () => {
      const q = uniqueQueue('receipt');
      const client = await open();
      const sub = await client.subscribe(q, { ack: 'client-individual', receipt: true });
      await client.send(q, 'r', { receipt: true });
      const msg = await next(sub);
      await msg.ack({ receipt: true });
      const tx = await client.begin({ receipt: true });
      await tx.commit({ receipt: true });
      await sub.unsubscribe({ receipt: true });
      assert.equal(sub.active, false);
      await close(client); // DISCONNECT with a receipt
    });

    scenario(
      '[1.2 Value Encoding] binary bodies with NUL bytes arrive byte for byte (content-length)',
      async () => {
        const q = uniqueQueue('binary');
        const body = binaryBody();
        const client = await open();
        const sub = await client.subscribe(q, { receipt: true });
        await client.send(q, body, { receipt: true, contentType: 'application/octet-stream' });
        const msg = await next(sub);
        assert.equal(msg.body.length, body.length);
        assert.ok(Buffer.from(msg.body).equals(body), 'the body arrived unchanged');
        assert.ok(msg.body.includes(0));
        await close(client);
      },
    );

    scenario('[1.2 Frames and Headers] an 8 MiB body goes both ways intact', async () => {
      const q = uniqueQueue('large');
      const body = largeBody(8 * 1024 * 1024);
      const client = await open({ receiptTimeout: 60_000 });
      const sub = await client.subscribe(q, { receipt: true, ack: 'client-individual' });
      await client.send(q, body, { receipt: true });
      const msg = await sub.receive({ timeout: 60_000 });
      assert.ok(msg);
      assert.equal(msg.body.length, body.length);
      assert.ok(Buffer.from(msg.body).equals(body), 'the body arrived unchanged');
      await msg.ack({ receipt: true });
      await close(client);
    });
  });
}
