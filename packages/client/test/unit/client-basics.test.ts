import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connect,
  ErrorCode,
  StompError,
  StompServerError,
  StompTimeoutError,
} from '@stompede/client';
import { FakeServer } from '@stompede/testkit';
import { connected, flush } from './helpers.js';

describe('connect', () => {
  it('[1.2 CONNECT or STOMP Frame] sends accept-version, host, credentials, heart-beat and extra headers', async () => {
    const server = new FakeServer();
    const pending = connect('tcp://mq.example:61613', {
      transport: server.transport,
      login: 'alice',
      passcode: 's3cret',
      heartBeat: [0, 0],
      headers: { 'client-id': 'c1' },
    });
    const conn = await server.accept();
    const frame = await conn.handshake({ heartBeat: '0,0' });
    const client = await pending;
    assert.equal(frame.command, 'CONNECT');
    assert.equal(frame.header('accept-version'), '1.0,1.1,1.2');
    assert.equal(frame.header('host'), 'mq.example');
    assert.equal(frame.header('login'), 'alice');
    assert.equal(frame.header('passcode'), 's3cret');
    assert.equal(frame.header('heart-beat'), '0,0');
    assert.equal(frame.header('client-id'), 'c1');
    assert.equal(client.version, '1.2');
    assert.equal(client.state, 'connected');
    client.destroy();
  });

  it('[1.2 Protocol Negotiation] speaks the version the server chose', async () => {
    const { client } = await connected({}, { version: '1.1' });
    assert.equal(client.version, '1.1');
    client.destroy();
  });

  it('[1.2 ERROR] a broker that rejects CONNECT fails connect() with StompServerError and is not retried', async () => {
    const server = new FakeServer();
    const pending = connect('failover:(tcp://a:61613,tcp://b:61613)?randomize=false', {
      transport: server.transport,
      heartBeat: [0, 0],
    });
    const conn = await server.accept();
    await conn.next('CONNECT');
    conn.error('bad credentials');
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof StompServerError);
      assert.equal(err.frame.command, 'ERROR');
      assert.equal(err.message, 'bad credentials');
      return true;
    });
    await flush();
    assert.equal(server.attempts.length, 1);
  });

  it('rejects with ERR_STOMP_CONNECTION_REFUSED when no broker answers', async () => {
    const server = new FakeServer();
    server.refuse(1);
    await assert.rejects(connect('tcp://a:61613', { transport: server.transport }), {
      code: ErrorCode.CONNECTION_REFUSED,
    });
  });

  it('honours an aborted signal', async () => {
    const server = new FakeServer();
    const ctl = new AbortController();
    const pending = connect('tcp://a:61613', {
      transport: server.transport,
      signal: ctl.signal,
    });
    await server.accept();
    ctl.abort();
    await assert.rejects(pending, { code: ErrorCode.ABORTED });
  });
});

describe('send', () => {
  it('[1.2 SEND] writes destination, content-type and a text body', async () => {
    const { conn, client } = await connected();
    await client.send('/queue/a', 'hello', { headers: { persistent: 'true' } });
    const frame = await conn.next('SEND');
    assert.equal(frame.header('destination'), '/queue/a');
    assert.equal(frame.header('content-type'), 'text/plain;charset=utf-8');
    assert.equal(frame.header('persistent'), 'true');
    assert.equal(frame.text, 'hello');
    client.destroy();
  });

  it('[1.2 SEND] sends bytes (with NUL) using content-length', async () => {
    const { conn, client } = await connected();
    await client.send('/queue/a', Uint8Array.of(1, 0, 2));
    const frame = await conn.next('SEND');
    assert.deepEqual([...frame.body], [1, 0, 2]);
    assert.equal(frame.header('content-length'), '3');
    assert.equal(frame.header('content-type'), undefined);
    client.destroy();
  });

  it('[1.2 RECEIPT] resolves only when the RECEIPT arrives', async () => {
    const { conn, client } = await connected();
    let done = false;
    const sent = client.send('/queue/a', 'x', { receipt: true }).then(() => {
      done = true;
    });
    const frame = await conn.next('SEND');
    assert.ok(frame.header('receipt'));
    await flush();
    assert.equal(done, false);
    conn.receipt(frame);
    await sent;
    assert.equal(done, true);
    client.destroy();
  });

  it('[1.2 RECEIPT] a receipt that never comes times out with StompTimeoutError', async (t) => {
    const { conn, client } = await connected();
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const sent = client.send('/queue/a', 'x', { receipt: true, timeout: 500 });
    await conn.next('SEND');
    await flush();
    t.mock.timers.tick(500);
    await assert.rejects(sent, (err: unknown) => err instanceof StompTimeoutError);
    client.destroy();
  });

  it('[1.2 ERROR] an ERROR naming a receipt rejects that operation with the frame', async () => {
    const { conn, client } = await connected();
    const sent = client.send('/queue/forbidden', 'x', { receipt: true });
    const frame = await conn.next('SEND');
    conn.error('not allowed', frame, 'detail');
    await assert.rejects(sent, (err: unknown) => {
      assert.ok(err instanceof StompServerError);
      assert.equal(err.frame.header('receipt-id'), frame.header('receipt'));
      assert.equal(err.frame.text, 'detail');
      return true;
    });
    const error = await client.closed;
    assert.ok(error instanceof StompError);
    assert.equal(error.code, ErrorCode.CONNECTION_LOST);
    assert.ok(error.cause instanceof StompServerError);
  });

  it('an aborted signal rejects before anything is written', async () => {
    const { conn, client } = await connected();
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(client.send('/queue/a', 'x', { signal: ctl.signal }), {
      code: ErrorCode.ABORTED,
    });
    await flush();
    assert.equal(conn.pending, 0);
    client.destroy();
  });
});

describe('subscribe', () => {
  it('[1.2 SUBSCRIBE] iterates messages; break sends UNSUBSCRIBE with the same id', async () => {
    const { conn, client } = await connected();
    const sub = await client.subscribe('/queue/a');
    const subscribe = await conn.next('SUBSCRIBE');
    assert.equal(subscribe.header('destination'), '/queue/a');
    assert.equal(subscribe.header('ack'), 'auto');
    assert.equal(subscribe.header('id'), sub.id);
    conn.message(subscribe, 'one');
    conn.message(subscribe, Uint8Array.of(0xff, 0));
    const seen: Uint8Array[] = [];
    for await (const msg of sub) {
      seen.push(msg.body.slice());
      assert.equal(msg.destination, '/queue/a');
      if (seen.length === 1) assert.equal(msg.text, 'one');
      if (seen.length === 2) break;
    }
    assert.deepEqual([...seen[1]!], [0xff, 0]);
    const unsubscribe = await conn.next('UNSUBSCRIBE');
    assert.equal(unsubscribe.header('id'), sub.id);
    assert.equal(sub.active, false);
    client.destroy();
  });

  it('callback form receives every message in order', async () => {
    const { conn, client } = await connected();
    const got: string[] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    await client.subscribe('/topic/t', {}, async (msg) => {
      await flush(1);
      got.push(msg.text);
      if (got.length === 3) resolveAll();
    });
    const subscribe = await conn.next('SUBSCRIBE');
    for (const text of ['a', 'b', 'c']) conn.message(subscribe, text);
    await all;
    assert.deepEqual(got, ['a', 'b', 'c']);
    client.destroy();
  });

  it('callback form: a handler promise is awaited before the next message; a throw is reported', async () => {
    const { conn, client } = await connected();
    const errors: unknown[] = [];
    client.on('error', (event) => errors.push(event.error));
    const started: string[] = [];
    const done: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await client.subscribe('/queue/a', {}, (msg) => {
      started.push(msg.text);
      if (msg.text === 'boom') throw new Error('handler failed');
      if (msg.text !== 'slow') {
        done.push(msg.text);
        return undefined;
      }
      return gate.then(() => {
        done.push(msg.text);
      });
    });
    const subscribe = await conn.next('SUBSCRIBE');
    for (const text of ['slow', 'b', 'boom', 'c']) conn.message(subscribe, text);
    await flush();
    assert.deepEqual(started, ['slow'], 'the next message waits for the promise');
    release();
    await flush();
    assert.deepEqual(started, ['slow', 'b', 'boom', 'c']);
    assert.deepEqual(done, ['slow', 'b', 'c']);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /handler failed/);
    client.destroy();
  });

  it('pull form: receive() waits for the next message with a timeout', async (t) => {
    const { conn, client } = await connected();
    const sub = await client.subscribe('/queue/a');
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'now');
    const first = await sub.receive({ timeout: 1000 });
    assert.equal(first?.text, 'now');
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const second = sub.receive({ timeout: 100 });
    await flush();
    t.mock.timers.tick(100);
    await assert.rejects(second, (err: unknown) => err instanceof StompTimeoutError);
    client.destroy();
  });

  it('[1.2 SUBSCRIBE prefetch] sets prefetch-count and activemq.prefetchSize', async () => {
    const { conn, client } = await connected();
    await client.subscribe('/queue/a', {
      ack: 'client',
      prefetch: 5,
      headers: { selector: "a='b'" },
    });
    const frame = await conn.next('SUBSCRIBE');
    assert.equal(frame.header('prefetch-count'), '5');
    assert.equal(frame.header('activemq.prefetchSize'), '5');
    assert.equal(frame.header('selector'), "a='b'");
    assert.equal(frame.header('ack'), 'client');
    client.destroy();
  });
});

describe('ack and nack', () => {
  it('[1.2 ACK] acknowledges with the id of the message ack header', async () => {
    const { conn, client } = await connected();
    const sub = await client.subscribe('/queue/a', { ack: 'client-individual' });
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'x', { ack: 'ack-7' });
    const msg = await sub.receive({ timeout: 1000 });
    await msg!.ack();
    const ack = await conn.next('ACK');
    assert.equal(ack.header('id'), 'ack-7');
    await msg!.nack();
    const nack = await conn.next('NACK');
    assert.equal(nack.header('id'), 'ack-7');
    client.destroy();
  });

  it('[1.1 ACK] acknowledges with message-id and subscription', async () => {
    const { conn, client } = await connected({}, { version: '1.1' });
    const sub = await client.subscribe('/queue/a', { ack: 'client' });
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'x', { 'message-id': 'm-42' });
    const msg = await sub.receive({ timeout: 1000 });
    await msg!.ack();
    const ack = await conn.next('ACK');
    assert.equal(ack.header('message-id'), 'm-42');
    assert.equal(ack.header('subscription'), sub.id);
    client.destroy();
  });

  it('[1.0 NACK] NACK is refused on a 1.0 session', async () => {
    const { conn, client } = await connected({}, { version: '1.0' });
    const sub = await client.subscribe('/queue/a', { ack: 'client' });
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'x');
    const msg = await sub.receive({ timeout: 1000 });
    await assert.rejects(msg!.nack(), { code: ErrorCode.UNSUPPORTED_VERSION });
    client.destroy();
  });

  it('auto-mode messages need no ack: ack() is a no-op', async () => {
    const { conn, client } = await connected();
    const sub = await client.subscribe('/queue/a');
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'x');
    const msg = await sub.receive({ timeout: 1000 });
    await msg!.ack();
    await flush();
    assert.equal(conn.pending, 0);
    client.destroy();
  });
});

describe('transactions', () => {
  it('[1.2 BEGIN] [1.2 COMMIT] transaction() commits when the work resolves', async () => {
    const { conn, client } = await connected();
    const result = client.transaction(async (tx) => {
      await tx.send('/queue/a', 'one');
      await tx.send('/queue/a', 'two');
      return 42;
    });
    const begin = await conn.next('BEGIN');
    const tx = begin.header('transaction');
    assert.ok(tx);
    assert.equal((await conn.next('SEND')).header('transaction'), tx);
    assert.equal((await conn.next('SEND')).header('transaction'), tx);
    assert.equal((await conn.next('COMMIT')).header('transaction'), tx);
    assert.equal(await result, 42);
    client.destroy();
  });

  it('[1.2 ABORT] transaction() aborts and rethrows when the work throws', async () => {
    const { conn, client } = await connected();
    const boom = new Error('boom');
    const result = client.transaction(async (tx) => {
      await tx.send('/queue/a', 'one');
      throw boom;
    });
    await assert.rejects(result, (err) => err === boom);
    await conn.next('BEGIN');
    await conn.next('SEND');
    await conn.next('ABORT');
    client.destroy();
  });

  it('[1.2 ACK transaction] acks inside a transaction carry its id', async () => {
    const { conn, client } = await connected();
    conn.autoReceipt = true;
    const sub = await client.subscribe('/queue/a', { ack: 'client-individual', receipt: true });
    const subscribe = await conn.next('SUBSCRIBE');
    conn.message(subscribe, 'x', { ack: 'k1' });
    const msg = (await sub.receive({ timeout: 1000 }))!;
    const tx = await client.begin({ receipt: true });
    await conn.next('BEGIN');
    await tx.ack(msg);
    const ack = await conn.next('ACK');
    assert.equal(ack.header('transaction'), tx.id);
    await tx.commit({ receipt: true });
    await conn.next('COMMIT');
    await assert.rejects(tx.send('/queue/a', 'late'), { code: ErrorCode.INVALID_STATE });
    client.destroy();
  });
});

describe('close', () => {
  it('[1.2 DISCONNECT] close() sends DISCONNECT with a receipt and waits for it', async () => {
    const { conn, client } = await connected();
    const sub = await client.subscribe('/queue/a');
    await conn.next('SUBSCRIBE');
    let closed = false;
    const closing = client.close().then(() => {
      closed = true;
    });
    const disconnect = await conn.next('DISCONNECT');
    assert.ok(disconnect.header('receipt'));
    await flush();
    assert.equal(closed, false);
    conn.receipt(disconnect);
    await closing;
    assert.equal(client.state, 'closed');
    assert.equal(await sub.receive(), undefined);
    await conn.closed;
    await assert.rejects(client.send('/queue/a', 'x'), { code: ErrorCode.CONNECTION_CLOSED });
  });

  it('destroy() fails waiting operations and ends subscriptions with the error', async () => {
    const { conn, client } = await connected();
    const sub = await client.subscribe('/queue/a');
    await conn.next('SUBSCRIBE');
    const receipt = client.send('/queue/a', 'x', { receipt: true });
    await conn.next('SEND');
    const reason = new StompError(ErrorCode.CONNECTION_CLOSED, 'bye');
    client.destroy(reason);
    await assert.rejects(receipt, (err) => err === reason);
    await assert.rejects(sub.receive(), (err) => err === reason);
  });

  it('await using closes the client', async () => {
    const { conn, client } = await connected();
    {
      await using _c = client;
      const disconnect = conn.next('DISCONNECT').then((f) => {
        conn.receipt(f);
      });
      void disconnect;
    }
    assert.equal(client.state, 'closed');
  });
});
