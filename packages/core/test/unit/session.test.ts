// Client and server session state machines.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ClientSession,
  ErrorCode,
  errorFrame,
  Frame,
  FrameParser,
  ServerSession,
  SessionState,
  StompError,
  StompServerError,
  serverErrorCode,
  type StompVersion,
} from '@stompede/core';

function rejects(fn: () => unknown, code: string, header?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StompError, `not a StompError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (header !== undefined) assert.equal(err.header, header);
    return true;
  });
}

function connectedSession(version: StompVersion = '1.2'): ClientSession {
  const session = new ClientSession();
  session.connect({ host: 'h', heartBeat: [1000, 2000] });
  session.connected(new Frame('CONNECTED', { version, 'heart-beat': '500,3000', session: 's1' }));
  return session;
}

function message(headers: Record<string, string>): Frame {
  return new Frame('MESSAGE', { destination: '/q', 'message-id': 'm1', ...headers });
}

describe('ClientSession: connecting', () => {
  it('[1.2 Connecting] disconnected → connecting → connected, with negotiated heart-beats', () => {
    const session = new ClientSession();
    assert.equal(session.state, SessionState.DISCONNECTED);
    const connect = session.connect({ host: 'h', heartBeat: [1000, 2000] });
    assert.equal(connect.command, 'CONNECT');
    assert.equal(session.state, SessionState.CONNECTING);
    const info = session.connected(
      new Frame('CONNECTED', {
        version: '1.2',
        'heart-beat': '500,3000',
        session: 's1',
        server: 'x',
      }),
    );
    assert.deepEqual(info, {
      version: '1.2',
      heartBeat: { send: 3000, receive: 2000 },
      session: 's1',
      server: 'x',
    });
    assert.equal(session.state, SessionState.CONNECTED);
    assert.equal(session.version, '1.2');
    assert.equal(session.sessionId, 's1');
  });

  it('[1.2 Connecting] an ERROR answer refuses the connection and resets the state', () => {
    const session = new ClientSession();
    session.connect({ host: 'h' });
    assert.throws(
      () => session.connected(new Frame('ERROR', { message: 'denied' })),
      (err: unknown) => err instanceof StompServerError && err.code === ErrorCode.SERVER_ERROR,
    );
    assert.equal(session.state, SessionState.DISCONNECTED);
  });

  it('[1.2 ERROR] carries the code a broker names, or the one its known refusal text means', () => {
    const refusals: [Frame, ErrorCode][] = [
      // stompede: a `code` header, and the body's first word.
      [
        new Frame('ERROR', { message: 'x', code: ErrorCode.AUTHENTICATION_FAILED }),
        ErrorCode.AUTHENTICATION_FAILED,
      ],
      [new Frame('ERROR', { message: 'x' }, 'ERR_STOMP_FORBIDDEN: no'), ErrorCode.FORBIDDEN],
      [new Frame('ERROR', { message: 'x', code: 'ERR_STOMP_NO_SUCH' }), ErrorCode.SERVER_ERROR],
      // RabbitMQ
      [
        new Frame('ERROR', { message: 'Bad CONNECT' }, "Access refused for user 'bob'\n"),
        ErrorCode.AUTHENTICATION_FAILED,
      ],
      [
        new Frame('ERROR', { message: 'Bad CONNECT' }, "Virtual host '/x' access denied"),
        ErrorCode.FORBIDDEN,
      ],
      // ActiveMQ Classic and Artemis
      [
        new Frame('ERROR', { message: 'User name [bob] or password is invalid.' }, 'at java...'),
        ErrorCode.AUTHENTICATION_FAILED,
      ],
      [
        new Frame('ERROR', { message: 'User bob is not authorized to write to: queue://a' }),
        ErrorCode.FORBIDDEN,
      ],
      [
        new Frame('ERROR', { message: 'AMQ229031: Unable to validate user from /127.0.0.1:5' }),
        ErrorCode.AUTHENTICATION_FAILED,
      ],
      // Open Message Queue's STOMP bridge and the Vert.x STOMP server (seen in interop/)
      [
        new Frame('ERROR', { message: 'CONNECT: [C4060]: Login failed:  user=bob, broker=h:1' }),
        ErrorCode.AUTHENTICATION_FAILED,
      ],
      [
        new Frame(
          'ERROR',
          { message: 'Authentication failed' },
          'The connection frame does not contain valid credentials.',
        ),
        ErrorCode.AUTHENTICATION_FAILED,
      ],
      [new Frame('ERROR', { message: 'Bad CONNECT' }, 'something else'), ErrorCode.SERVER_ERROR],
    ];
    for (const [frame, code] of refusals) {
      const session = new ClientSession();
      session.connect({ host: 'h' });
      assert.throws(
        () => session.connected(frame),
        (err: unknown) =>
          err instanceof StompServerError && err.code === code && err.frame === frame,
        `${frame.text || String(frame.header('message'))} → ${code}`,
      );
      assert.equal(serverErrorCode(frame), code);
    }
    const session = connectedSession();
    const denied = errorFrame({ message: 'no', code: ErrorCode.FORBIDDEN });
    assert.equal(denied.header('code'), 'ERR_STOMP_FORBIDDEN');
    assert.equal(session.error(denied).code, ErrorCode.FORBIDDEN);
  });

  it('[1.2 Protocol Negotiation] a version not offered is refused', () => {
    const session = new ClientSession();
    session.connect({ host: 'h', versions: ['1.2'] });
    rejects(
      () => session.connected(new Frame('CONNECTED', { version: '1.1' })),
      ErrorCode.UNSUPPORTED_VERSION,
    );
    assert.equal(session.state, SessionState.DISCONNECTED);
  });

  it('[1.2 Connecting] operations out of state are INVALID_STATE', () => {
    const session = new ClientSession();
    rejects(() => session.send({ destination: '/q' }), ErrorCode.INVALID_STATE);
    rejects(() => session.connected(new Frame('CONNECTED')), ErrorCode.INVALID_STATE);
    session.connect({ host: 'h' });
    rejects(() => session.connect({ host: 'h' }), ErrorCode.INVALID_STATE);
    rejects(() => session.subscribe({ destination: '/q' }), ErrorCode.INVALID_STATE);
    rejects(() => session.replay(), ErrorCode.INVALID_STATE);
  });
});

describe('ClientSession: subscriptions', () => {
  it('[1.2 SUBSCRIBE id Header] generates unique ids and remembers subscriptions', () => {
    const session = connectedSession();
    const a = session.subscribe({ destination: '/queue/a' });
    const b = session.subscribe({ destination: '/queue/b', id: '1' });
    const c = session.subscribe({ destination: '/queue/c', ack: 'client' });
    assert.deepEqual([a.header('id'), b.header('id'), c.header('id')], ['0', '1', '2']);
    assert.deepEqual(
      session.subscriptions.map((s) => [s.id, s.destination, s.ack]),
      [
        ['0', '/queue/a', 'auto'],
        ['1', '/queue/b', 'auto'],
        ['2', '/queue/c', 'client'],
      ],
    );
    rejects(
      () => session.subscribe({ destination: '/queue/x', id: '1' }),
      ErrorCode.DUPLICATE_SUBSCRIPTION,
      'id',
    );
  });

  it('[1.2 UNSUBSCRIBE] unsubscribe forgets; unknown ids are errors', () => {
    const session = connectedSession();
    session.subscribe({ destination: '/queue/a', id: 'x' });
    assert.deepEqual(session.unsubscribe('x').headers, [['id', 'x']]);
    assert.equal(session.subscription('x'), undefined);
    rejects(() => session.unsubscribe('x'), ErrorCode.UNKNOWN_SUBSCRIPTION);
  });

  it('[1.2 MESSAGE] a MESSAGE maps to its subscription by the subscription header', () => {
    const session = connectedSession();
    session.subscribe({ destination: '/queue/a', id: 's' });
    assert.equal(session.message(message({ subscription: 's' }))?.id, 's');
    rejects(
      () => session.message(message({ subscription: 'nope' })),
      ErrorCode.UNKNOWN_SUBSCRIPTION,
      'subscription',
    );
  });

  it('[1.2 MESSAGE] a parsed MESSAGE without destination, message-id or subscription is refused', () => {
    const session = connectedSession();
    session.subscribe({ destination: '/queue/a', id: 's' });
    const parsed = (head: string): Frame => {
      const frames: Frame[] = [];
      const parser = new FrameParser({ onFrame: (f) => frames.push(f) });
      parser.push(new TextEncoder().encode(`MESSAGE\n${head}\nhi\0`));
      return frames[0]!;
    };
    const ok = parsed('destination:/queue/a\nmessage-id:m\nsubscription:s\ncontent-length:2\n');
    assert.equal(session.message(ok)?.id, 's');
    rejects(
      () => session.message(parsed('message-id:m\nsubscription:s\ncontent-length:2\n')),
      ErrorCode.MISSING_HEADER,
      'destination',
    );
    rejects(
      () => session.message(parsed('destination:/q\nsubscription:s\ncontent-length:2\n')),
      ErrorCode.MISSING_HEADER,
      'message-id',
    );
    rejects(
      () => session.message(parsed('destination:/q\nmessage-id:m\ncontent-length:2\n')),
      ErrorCode.MISSING_HEADER,
      'subscription',
    );
  });

  it('[1.2 MESSAGE] a MESSAGE for a subscription unsubscribed on this connection is undefined (drop it), one never made is an error', () => {
    const session = connectedSession();
    session.subscribe({ destination: '/queue/a', id: 's' });
    session.unsubscribe('s');
    assert.equal(session.message(message({ subscription: 's' })), undefined);
    rejects(() => session.message(message({ subscription: 't' })), ErrorCode.UNKNOWN_SUBSCRIPTION);
    session.lost();
    session.connect({ host: 'h' });
    session.connected(new Frame('CONNECTED', { version: '1.2' }));
    rejects(() => session.message(message({ subscription: 's' })), ErrorCode.UNKNOWN_SUBSCRIPTION);
    const old = connectedSession('1.0');
    old.subscribe({ destination: '/q' });
    old.unsubscribe('0');
    assert.equal(old.message(message({})), undefined);
  });

  it('[1.2 MESSAGE] a MESSAGE before CONNECTED is an unexpected frame', () => {
    const session = new ClientSession();
    session.connect({ host: 'h' });
    rejects(() => session.message(message({ subscription: 's' })), ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 SUBSCRIBE] keeps data with a subscription; forget drops one without a frame', () => {
    const session = connectedSession();
    const handle = { name: 'consumer' };
    const id = session.nextSubscriptionId();
    session.subscribe({ destination: '/queue/a', id }, handle);
    assert.equal(session.message(message({ subscription: id }))?.data, handle);
    assert.equal(session.forget(id), true);
    assert.equal(session.subscription(id), undefined);
    assert.equal(session.forget(id), false);
  });

  it('[1.0 SUBSCRIBE] a 1.0 MESSAGE without subscription maps by destination', () => {
    const session = connectedSession('1.0');
    session.subscribe({ destination: '/q' });
    assert.equal(session.message(message({}))?.destination, '/q');
  });

  it('[1.2 SUBSCRIBE] replay rebuilds the same SUBSCRIBE frames after a reconnect', () => {
    const session = connectedSession();
    const first = session.subscribe({
      destination: '/queue/a',
      ack: 'client-individual',
      headers: { selector: "x = 'y'" },
      receipt: 'r1',
    });
    session.subscribe({ destination: '/queue/b' });
    session.subscribe({ destination: '/queue/c', id: 'gone' });
    session.unsubscribe('gone');
    const pending = session.lost();
    assert.deepEqual(pending.receipts, [{ receiptId: 'r1', command: 'SUBSCRIBE' }]);
    assert.equal(session.state, SessionState.DISCONNECTED);
    session.connect({ host: 'h' });
    session.connected(new Frame('CONNECTED', { version: '1.2' }));
    const replayed = session.replay();
    assert.equal(replayed.length, 2);
    assert.deepEqual(
      replayed[0]!.headers,
      first.headers.filter(([name]) => name !== 'receipt'),
    );
    assert.deepEqual(replayed[1]!.headers, [
      ['id', '1'],
      ['destination', '/queue/b'],
    ]);
    // New subscriptions do not reuse replayed ids.
    assert.equal(session.subscribe({ destination: '/queue/d' }).header('id'), '2');
  });

  it('[1.2 SUBSCRIBE] close forgets subscriptions; nothing left to replay', () => {
    const session = connectedSession();
    session.subscribe({ destination: '/queue/a' });
    session.close();
    session.connect({ host: 'h' });
    session.connected(new Frame('CONNECTED', { version: '1.2' }));
    assert.deepEqual(session.replay(), []);
  });
});

describe('ClientSession: acknowledgment', () => {
  it('[1.2 ACK] ACK and NACK use the MESSAGE ack header in 1.2', () => {
    const session = connectedSession('1.2');
    assert.deepEqual(session.ack(message({ subscription: '0', ack: 'a9' })).headers, [
      ['id', 'a9'],
    ]);
    assert.deepEqual(session.nack(message({ subscription: '0', ack: 'a9' })).headers, [
      ['id', 'a9'],
    ]);
  });

  it('[1.1 ACK] ACK uses message-id and subscription in 1.1', () => {
    const session = connectedSession('1.1');
    assert.deepEqual(session.ack(message({ subscription: '0' })).headers, [
      ['message-id', 'm1'],
      ['subscription', '0'],
    ]);
  });

  it('[1.0 ACK] NACK is refused in 1.0', () => {
    const session = connectedSession('1.0');
    assert.deepEqual(session.ack(message({})).headers, [['message-id', 'm1']]);
    rejects(() => session.nack(message({})), ErrorCode.UNEXPECTED_FRAME);
  });
});

describe('ClientSession: transactions', () => {
  it('[1.2 BEGIN] begin, send in, commit; ids are generated and tracked', () => {
    const session = connectedSession();
    const begin = session.begin();
    const tx = begin.header('transaction')!;
    assert.equal(tx, 'tx-0');
    assert.deepEqual(session.transactions, ['tx-0']);
    assert.equal(
      session.send({ destination: '/q', transaction: tx, body: 'x' }).header('transaction'),
      tx,
    );
    assert.equal(session.ack(message({ ack: 'a' }), { transaction: tx }).header('transaction'), tx);
    assert.equal(session.commit(tx).command, 'COMMIT');
    assert.deepEqual(session.transactions, []);
  });

  it('[1.2 BEGIN] duplicate ids and unknown transactions are errors', () => {
    const session = connectedSession();
    session.begin('t1');
    rejects(() => session.begin('t1'), ErrorCode.DUPLICATE_TRANSACTION, 'transaction');
    rejects(() => session.commit('t2'), ErrorCode.UNKNOWN_TRANSACTION, 'transaction');
    rejects(() => session.abort('t2'), ErrorCode.UNKNOWN_TRANSACTION, 'transaction');
    rejects(
      () => session.send({ destination: '/q', transaction: 't2' }),
      ErrorCode.UNKNOWN_TRANSACTION,
      'transaction',
    );
    rejects(
      () => session.send({ destination: '/q', headers: { transaction: 't2' } }),
      ErrorCode.UNKNOWN_TRANSACTION,
    );
    assert.equal(session.abort('t1').command, 'ABORT');
    rejects(() => session.commit('t1'), ErrorCode.UNKNOWN_TRANSACTION);
    // After it finished, an id may begin again.
    assert.equal(session.begin('t1').header('transaction'), 't1');
  });
});

describe('ClientSession: receipts and closing', () => {
  it('[1.2 RECEIPT] keeps the data attached to a receipt; an ERROR fails its receipt; a forgotten one is unknown', () => {
    const session = connectedSession();
    session.send({ destination: '/q', receipt: 'r1' });
    session.send({ destination: '/q', receipt: 'r2' });
    session.send({ destination: '/q', receipt: 'r3' });
    session.expectReceipt('r1', 'one');
    session.expectReceipt('r2', 'two');
    rejects(() => {
      session.expectReceipt('zz', 'x');
    }, ErrorCode.UNKNOWN_RECEIPT);
    assert.equal(session.received(new Frame('RECEIPT', { 'receipt-id': 'r1' })).data, 'one');
    const error = new Frame('ERROR', { message: 'no', 'receipt-id': 'r2' });
    assert.equal(session.failedReceipt(error)?.data, 'two');
    assert.equal(session.failedReceipt(error), undefined);
    assert.equal(session.forgetReceipt('r3'), true);
    rejects(
      () => session.received(new Frame('RECEIPT', { 'receipt-id': 'r3' })),
      ErrorCode.UNKNOWN_RECEIPT,
    );
  });

  it('[1.2 RECEIPT] received() resolves the awaited receipt; unknown receipts are errors', () => {
    const session = connectedSession();
    session.send({ destination: '/q', receipt: 'r1' });
    session.send({ destination: '/q', headers: { receipt: 'r2' } });
    assert.deepEqual(
      session.pendingReceipts.map((r) => r.receiptId),
      ['r1', 'r2'],
    );
    assert.deepEqual(session.received(new Frame('RECEIPT', { 'receipt-id': 'r2' })), {
      receiptId: 'r2',
      command: 'SEND',
    });
    rejects(
      () => session.received(new Frame('RECEIPT', { 'receipt-id': 'r2' })),
      ErrorCode.UNKNOWN_RECEIPT,
      'receipt-id',
    );
    rejects(
      () => session.received(new Frame('RECEIPT', { 'receipt-id': 'zz' })),
      ErrorCode.UNKNOWN_RECEIPT,
    );
    rejects(() => session.received(new Frame('MESSAGE')), ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 Header receipt] a receipt id already awaited is refused, and nothing changes', () => {
    const session = connectedSession();
    session.send({ destination: '/q', receipt: 'r1' });
    assert.throws(
      () => session.subscribe({ destination: '/q', receipt: 'r1' }),
      (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_ARGUMENT,
    );
    assert.deepEqual(session.subscriptions, []);
    assert.throws(() => session.begin('t', { receipt: 'r1' }), StompError);
    assert.deepEqual(session.transactions, []);
  });

  it('[1.2 DISCONNECT] graceful disconnect: DISCONNECT with receipt, RECEIPT, close', () => {
    const session = connectedSession();
    session.begin('open');
    const frame = session.disconnect({ receipt: 'bye' });
    assert.deepEqual(frame.headers, [['receipt', 'bye']]);
    assert.equal(session.state, SessionState.DISCONNECTING);
    rejects(() => session.send({ destination: '/q' }), ErrorCode.INVALID_STATE);
    assert.deepEqual(session.received(new Frame('RECEIPT', { 'receipt-id': 'bye' })), {
      receiptId: 'bye',
      command: 'DISCONNECT',
    });
    const pending = session.close();
    // The open transaction is implicitly aborted by the server: report it.
    assert.deepEqual(pending, { transactions: ['open'], receipts: [] });
    assert.equal(session.state, SessionState.DISCONNECTED);
    assert.equal(session.version, undefined);
  });

  it('[1.2 BEGIN] lost() reports open transactions and receipts that will never complete', () => {
    const session = connectedSession();
    session.begin('t1');
    session.send({ destination: '/q', transaction: 't1', receipt: 'r1' });
    session.commit('t1', { receipt: 'r2' });
    session.begin('t2');
    assert.deepEqual(session.lost(), {
      transactions: ['t2'],
      receipts: [
        { receiptId: 'r1', command: 'SEND' },
        { receiptId: 'r2', command: 'COMMIT' },
      ],
    });
    assert.deepEqual(session.lost(), { transactions: [], receipts: [] });
    assert.deepEqual(session.heartBeat, { send: 0, receive: 0 });
  });
});

describe('ServerSession', () => {
  it('[1.2 SUBSCRIBE id Header] tracks subscriptions; duplicates and unknown ids are errors', () => {
    const server = new ServerSession('1.2');
    const sub = server.subscribe(
      new Frame('SUBSCRIBE', { id: '0', destination: '/q', ack: 'client' }),
    );
    assert.deepEqual([sub.id, sub.destination, sub.ack], ['0', '/q', 'client']);
    rejects(
      () => server.subscribe(new Frame('SUBSCRIBE', { id: '0', destination: '/r' })),
      ErrorCode.DUPLICATE_SUBSCRIPTION,
      'id',
    );
    rejects(
      () => server.subscribe(new Frame('SUBSCRIBE', { destination: '/r' })),
      ErrorCode.MISSING_HEADER,
      'id',
    );
    assert.equal(server.unsubscribe(new Frame('UNSUBSCRIBE', { id: '0' })).destination, '/q');
    rejects(
      () => server.unsubscribe(new Frame('UNSUBSCRIBE', { id: '0' })),
      ErrorCode.UNKNOWN_SUBSCRIPTION,
      'id',
    );
  });

  it('[1.0 UNSUBSCRIBE] 1.0 subscriptions without id are known by destination', () => {
    const server = new ServerSession('1.0');
    server.subscribe(new Frame('SUBSCRIBE', { destination: '/q' }));
    rejects(
      () => server.subscribe(new Frame('SUBSCRIBE', { destination: '/q' })),
      ErrorCode.DUPLICATE_SUBSCRIPTION,
      'destination',
    );
    assert.equal(server.unsubscribe(new Frame('UNSUBSCRIBE', { destination: '/q' })).id, '/q');
    assert.equal(server.subscriptions.size, 0);
  });

  it('[1.2 BEGIN] tracks transactions; reuse and unknown ids are errors', () => {
    const server = new ServerSession('1.2');
    assert.equal(server.begin(new Frame('BEGIN', { transaction: 't' })), 't');
    rejects(
      () => server.begin(new Frame('BEGIN', { transaction: 't' })),
      ErrorCode.DUPLICATE_TRANSACTION,
      'transaction',
    );
    const send = new Frame('SEND', { destination: '/q', transaction: 't' }, 'a');
    server.enlist(send, 't', send);
    rejects(
      () => {
        server.enlist(new Frame('ACK', { id: '1', transaction: 'x' }), 'x', send);
      },
      ErrorCode.UNKNOWN_TRANSACTION,
      'transaction',
    );
    rejects(
      () => server.commit(new Frame('COMMIT', { transaction: 'x' })),
      ErrorCode.UNKNOWN_TRANSACTION,
      'transaction',
    );
    const committed = server.commit(new Frame('COMMIT', { transaction: 't' }));
    assert.equal(committed.transaction, 't');
    assert.deepEqual(committed.ops, [send]);
    rejects(
      () => server.abort(new Frame('ABORT', { transaction: 't' })),
      ErrorCode.UNKNOWN_TRANSACTION,
    );
    rejects(
      () => server.commit(new Frame('ABORT', { transaction: 't' })),
      ErrorCode.UNEXPECTED_FRAME,
    );
    rejects(() => server.begin(new Frame('BEGIN')), ErrorCode.MISSING_HEADER, 'transaction');
  });

  it('[1.2 BEGIN] close reports open transactions to abort and subscriptions to remove', () => {
    const server = new ServerSession('1.1');
    server.subscribe(new Frame('SUBSCRIBE', { id: 'a', destination: '/q' }));
    server.begin(new Frame('BEGIN', { transaction: 't1' }));
    const left = server.close();
    assert.deepEqual(left.transactions, ['t1']);
    assert.deepEqual(
      left.subscriptions.map((s) => s.id),
      ['a'],
    );
    assert.deepEqual(server.close(), { subscriptions: [], transactions: [] });
  });

  it('[1.2 SUBSCRIBE] holds what the server makes of each subscription', () => {
    const server = new ServerSession<{ id: string; n: number }, string>('1.2');
    const sub = server.subscribe(new Frame('SUBSCRIBE', { id: 'a', destination: '/q' }), (r) => ({
      id: r.id,
      n: 1,
    }));
    assert.equal(server.subscriptions.get('a'), sub);
    assert.throws(() =>
      server.subscribe(new Frame('SUBSCRIBE', { id: 'b', destination: '/q' }), () => {
        throw new Error('refused');
      }),
    );
    assert.equal(server.subscriptions.has('b'), false);
    assert.equal(server.remove('a'), true);
    assert.equal(server.subscriptions.size, 0);
  });

  it('[1.2 Size Limits] limits on subscriptions, transactions and their operations', () => {
    const server = new ServerSession('1.2', {
      maxSubscriptions: 1,
      maxTransactions: 1,
      maxTransactionOps: 1,
    });
    server.subscribe(new Frame('SUBSCRIBE', { id: 'a', destination: '/q' }));
    rejects(
      () => server.subscribe(new Frame('SUBSCRIBE', { id: 'b', destination: '/q' })),
      ErrorCode.LIMIT_EXCEEDED,
    );
    server.begin(new Frame('BEGIN', { transaction: 't1' }));
    rejects(
      () => server.begin(new Frame('BEGIN', { transaction: 't2' })),
      ErrorCode.LIMIT_EXCEEDED,
    );
    const ack = new Frame('ACK', { id: '1', transaction: 't1' });
    server.enlist(ack, 't1', ack);
    rejects(
      () => {
        server.enlist(ack, 't1', ack);
      },
      ErrorCode.LIMIT_EXCEEDED,
      'transaction',
    );
  });
});
