// The client's error contract: every failure comes back with the code the docs promise, and
// nothing the broker sends is dropped without a word (issue 21, items 9-14; 13 is in
// reliability.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connect,
  ErrorCode,
  StompError,
  StompServerError,
  StompTimeoutError,
  type StatusEvent,
} from '@stompede/client';
import { FakeNetwork, FakeServer, trackTransports } from '@stompede/testkit';
import { connected, flush } from './helpers.js';

function codeOf(error: Error): string | undefined {
  return error instanceof StompError ? error.code : undefined;
}

function errors(client: { on: (type: 'error', l: (e: StatusEvent) => void) => unknown }): Error[] {
  const seen: Error[] = [];
  client.on('error', (event) => {
    if (event.type === 'error') seen.push(event.error);
  });
  return seen;
}

describe('connect timeout', () => {
  it('a broker that accepts the socket but never answers CONNECT rejects with ERR_STOMP_TIMEOUT', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      connectTimeout: 2000,
    });
    const conn = await server.accept();
    await conn.next('CONNECT'); // and never answer
    t.mock.timers.tick(2000);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof StompTimeoutError);
      assert.equal(err.code, ErrorCode.TIMEOUT);
      assert.match(err.message, /could not connect to tcp:\/\/a:61613: .*timed out after 2000 ms/);
      return true;
    });
  });

  it('a refused last attempt after a timed-out one is ERR_STOMP_CONNECTION_REFUSED', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const network = new FakeNetwork();
    const a = network.server('a:61613');
    const pending = connect('failover:(tcp://a:61613,tcp://b:61613)?randomize=false', {
      transport: network.transport, // b is refused: no such server
      heartBeat: [0, 0],
      connectTimeout: 2000,
    });
    await (await a.accept()).next('CONNECT');
    t.mock.timers.tick(2000);
    await flush();
    t.mock.timers.tick(10);
    await assert.rejects(pending, { code: ErrorCode.CONNECTION_REFUSED });
  });
});

describe('close() and pending writes', () => {
  for (const how of ['close', 'broker'] as const) {
    const code = how === 'close' ? ErrorCode.CONNECTION_CLOSED : ErrorCode.CONNECTION_LOST;
    it(`sends queued behind a full socket reject with ${code} when ${how === 'close' ? 'the application closes' : 'the broker drops the connection'}`, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
      const server = new FakeServer();
      const tracked = trackTransports(server);
      const pending = connect('tcp://a:61613', { transport: tracked.factory, heartBeat: [0, 0] });
      const conn = await server.accept();
      await conn.handshake();
      const client = await pending;
      tracked.last().holdWrites(); // the socket's buffer is full from now on
      const sends = Array.from({ length: 25 }, (_, i) =>
        client.send('/queue/a', `m${String(i)}`).then(
          () => 'written',
          (err: unknown) => (err as StompError).code,
        ),
      );
      await flush();
      if (how === 'close') {
        const closing = client.close({ timeout: 1000 });
        await flush();
        t.mock.timers.tick(1000); // DISCONNECT waits behind the sends: no receipt comes
        await closing;
      } else {
        conn.drop();
      }
      assert.deepEqual(await Promise.all(sends), Array<string>(25).fill(code));
      if (how === 'broker') assert.equal(((await client.closed) as StompError).code, code);
    });
  }
});

describe('aborting connect()', () => {
  it('rejects at once, with ERR_STOMP_ABORTED and the reason, while sleeping between attempts', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const network = new FakeNetwork();
    const a = network.server('a:61613');
    a.refuse(10);
    const ctl = new AbortController();
    const pending = connect(
      'failover:(tcp://a:61613)?startupMaxReconnectAttempts=5&initialReconnectDelay=5000',
      { transport: network.transport, heartBeat: [0, 0], signal: ctl.signal },
    );
    let settled: unknown;
    pending.then(
      () => (settled = 'connected'),
      (err: unknown) => (settled = err),
    );
    await flush();
    t.mock.timers.tick(300); // 300 ms into a 5 s backoff
    const reason = new Error('user gave up');
    ctl.abort(reason);
    await flush();
    assert.ok(settled instanceof StompError, 'rejected before the backoff ended');
    assert.equal(settled.code, ErrorCode.ABORTED);
    assert.equal(settled.cause, reason);
    t.mock.timers.tick(60_000);
    await flush();
    assert.deepEqual(network.attempts, ['a:61613'], 'no attempt after the abort');
  });
});

describe("a broker's ERROR carries its code", () => {
  const refusals = [
    ['stompede', 'authentication failed', 'ERR_STOMP_AUTHENTICATION_FAILED: authentication failed'],
    ['RabbitMQ', 'Bad CONNECT', "Access refused for user 'app'\n"],
    ['ActiveMQ', 'User name [app] or password is invalid.', 'java.lang.SecurityException: ...'],
  ] as const;
  for (const [broker, message, body] of refusals) {
    it(`[1.2 ERROR] a refused login (${broker}) rejects connect() with ERR_STOMP_AUTHENTICATION_FAILED`, async () => {
      const server = new FakeServer();
      const pending = connect('tcp://a:61613', { transport: server.transport, heartBeat: [0, 0] });
      const conn = await server.accept();
      await conn.next('CONNECT');
      conn.error(message, undefined, body);
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof StompServerError);
        assert.equal(err.code, ErrorCode.AUTHENTICATION_FAILED);
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it('[1.2 ERROR] an unknown refusal of CONNECT is ERR_STOMP_SERVER_ERROR', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', { transport: server.transport, heartBeat: [0, 0] });
    const conn = await server.accept();
    await conn.next('CONNECT');
    conn.error('go away');
    await assert.rejects(pending, { code: ErrorCode.SERVER_ERROR, name: 'StompServerError' });
  });

  it('[1.2 ERROR] a denied SEND rejects its receipt with the code the broker names', async () => {
    const { conn, client } = await connected();
    const events = errors(client);
    const sent = client.send('/queue/secret', 'x', { receipt: true });
    const frame = await conn.next('SEND');
    conn.send(
      'ERROR',
      { message: 'denied', code: ErrorCode.FORBIDDEN, 'receipt-id': frame.header('receipt')! },
      'ERR_STOMP_FORBIDDEN: user "app" may not write /queue/secret',
    );
    conn.end();
    await assert.rejects(sent, { code: ErrorCode.FORBIDDEN, name: 'StompServerError' });
    await client.closed;
    assert.deepEqual(events.map(codeOf), [ErrorCode.FORBIDDEN]);
  });
});

describe('MESSAGE frames nobody asked for', () => {
  it('[1.2 MESSAGE] a MESSAGE for a subscription never made is reported as an error event', async () => {
    const { conn, client } = await connected();
    const events = errors(client);
    const sub = await client.subscribe('/queue/a');
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message('no-such-subscription', 'stray');
    conn.message(subscribe, 'mine');
    assert.equal((await sub.receive({ timeout: 1000 }))?.text, 'mine');
    assert.equal(events.length, 1);
    const stray = events[0];
    assert.ok(stray instanceof StompError);
    assert.equal(stray.code, ErrorCode.UNKNOWN_SUBSCRIPTION);
    assert.equal(stray.frame?.text, 'stray');
    assert.equal(client.state, 'connected');
    client.destroy();
  });

  it('[1.2 MESSAGE] one still on its way after UNSUBSCRIBE is dropped without an event', async () => {
    const { conn, client } = await connected();
    const events = errors(client);
    const sub = await client.subscribe('/queue/a');
    const subscribe = await conn.next('SUBSCRIBE');
    await sub.unsubscribe();
    await conn.next('UNSUBSCRIBE');
    conn.message(subscribe, 'late');
    conn.heartbeat();
    await flush();
    assert.deepEqual(events, []);
    client.destroy();
  });

  it('[1.2 MESSAGE] a MESSAGE before CONNECTED fails the attempt (ERR_STOMP_UNEXPECTED_FRAME): connect() says why', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', { transport: server.transport, heartBeat: [0, 0] });
    const conn = await server.accept();
    await conn.next('CONNECT');
    conn.send('MESSAGE', { subscription: '0', 'message-id': 'm', destination: '/q' }, 'early');
    conn.send('CONNECTED', { version: '1.2' });
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof StompError);
      assert.equal(err.code, ErrorCode.CONNECTION_REFUSED);
      assert.equal((err.cause as StompError).code, ErrorCode.UNEXPECTED_FRAME);
      return true;
    });
  });

  it('[1.2 MESSAGE] while reconnecting, a MESSAGE before CONNECTED is an error event, and the next attempt goes on', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      heartBeat: [0, 0],
      reconnect: { initialReconnectDelay: 1 },
    });
    await (await server.accept()).handshake();
    const client = await pending;
    const events = errors(client);
    server.connections[0]!.drop();
    const broken = await server.accept();
    await broken.next('CONNECT');
    broken.send('MESSAGE', { subscription: '0', 'message-id': 'm', destination: '/q' }, 'early');
    const third = await server.accept();
    await third.handshake();
    await flush();
    assert.equal(client.state, 'connected');
    assert.deepEqual(events.map(codeOf), [ErrorCode.UNEXPECTED_FRAME]);
    client.destroy();
  });
});
