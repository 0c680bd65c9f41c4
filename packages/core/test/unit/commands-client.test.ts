// Client-side commands: frame builders in every version, and interpreters of server frames.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  Frame,
  StompError,
  StompInvalidArgumentError,
  StompServerError,
  type StompVersion,
  abortFrame,
  ackFrame,
  ackHeaders,
  beginFrame,
  commitFrame,
  connectFrame,
  disconnectFrame,
  encodeFrameBytes,
  interpretConnect,
  interpretConnected,
  interpretError,
  interpretMessage,
  interpretReceipt,
  nackFrame,
  parseFrames,
  sendFrame,
  subscribeFrame,
  unsubscribeFrame,
  validateClientFrame,
} from '@stompede/core';

const ALL: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

function rejects(fn: () => unknown, code: string, header?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StompError, `not a StompError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (header !== undefined) assert.equal(err.header, header);
    return true;
  });
}

/** Encode and parse back, so every built frame is also proven to be encodable. */
function wire(frame: Frame, version: StompVersion): Frame {
  const [back] = parseFrames(encodeFrameBytes(frame, { version }), { version });
  return back!;
}

describe('connectFrame', () => {
  it('[1.2 CONNECT or STOMP Frame] offers every version, incrementing, with host', () => {
    const f = connectFrame({ host: 'broker', login: 'u', passcode: 'p', heartBeat: [1000, 2000] });
    assert.equal(f.command, 'CONNECT');
    assert.deepEqual(f.headers, [
      ['accept-version', '1.0,1.1,1.2'],
      ['host', 'broker'],
      ['login', 'u'],
      ['passcode', 'p'],
      ['heart-beat', '1000,2000'],
    ]);
    // The server side reads back what was built.
    const request = interpretConnect(wire(f, '1.2'));
    assert.equal(request.version, '1.2');
    assert.deepEqual(request.heartBeat, [1000, 2000]);
  });

  it('[1.2 CONNECT or STOMP Frame] useStompCommand sends STOMP', () => {
    const f = connectFrame({ host: 'h', versions: ['1.1', '1.2'], useStompCommand: true });
    assert.equal(f.command, 'STOMP');
    assert.equal(f.header('accept-version'), '1.1,1.2');
  });

  it('[1.2 CONNECT or STOMP Frame] host is required when offering 1.1 or later', () => {
    rejects(() => connectFrame({}), ErrorCode.MISSING_HEADER, 'host');
    rejects(() => connectFrame({ versions: ['1.1'] }), ErrorCode.MISSING_HEADER, 'host');
  });

  it('[1.0 CONNECT] offering only 1.0 writes a plain 1.0 CONNECT', () => {
    const f = connectFrame({
      versions: ['1.0'],
      login: 'u',
      passcode: 'p',
      host: 'h',
      heartBeat: [1, 1],
    });
    assert.deepEqual(f.headers, [
      ['login', 'u'],
      ['passcode', 'p'],
    ]);
    assert.equal(interpretConnect(f).version, '1.0');
  });

  it('[1.2 CONNECT or STOMP Frame] rejects bad options', () => {
    assert.throws(() => connectFrame({ versions: [] }), StompInvalidArgumentError);
    assert.throws(
      () => connectFrame({ versions: ['2.0' as StompVersion], host: 'h' }),
      StompInvalidArgumentError,
    );
    assert.throws(
      () => connectFrame({ versions: ['1.0'], useStompCommand: true }),
      StompInvalidArgumentError,
    );
    rejects(
      () => connectFrame({ host: 'h', heartBeat: [-1, 0] }),
      ErrorCode.INVALID_HEARTBEAT,
      'heart-beat',
    );
  });

  it('[1.2 CONNECT or STOMP Frame] extra headers cannot override accept-version', () => {
    const f = connectFrame({
      host: 'h',
      versions: ['1.2'],
      headers: { 'accept-version': '1.0', 'client-id': 'c' },
    });
    assert.deepEqual(f.headerAll('accept-version'), ['1.2']);
    assert.equal(f.header('client-id'), 'c');
  });
});

describe('client frame builders', () => {
  it('[1.2 SEND] SEND carries destination, content-type, transaction, receipt and body', () => {
    for (const v of ALL) {
      const f = sendFrame(v, {
        destination: '/queue/a',
        body: 'hello',
        contentType: 'text/plain',
        transaction: 'tx1',
        receipt: 'r1',
        headers: { priority: 5, destination: '/ignored' },
      });
      assert.deepEqual(f.headers, [
        ['destination', '/queue/a'],
        ['content-type', 'text/plain'],
        ['transaction', 'tx1'],
        ['receipt', 'r1'],
        ['priority', '5'],
      ]);
      const back = wire(f, v);
      assert.equal(back.text, 'hello');
      assert.equal(back.header('content-length'), '5');
    }
  });

  it('[1.2 SEND] extra headers fill what the builder left unset, in order, without content-length', () => {
    const f = sendFrame('1.2', {
      destination: '/queue/a',
      body: 'hi',
      headers: [
        ['content-type', 'application/json'],
        ['content-length', '99'],
        ['x', '1'],
        ['x', '2'],
        ['destination', '/ignored'],
      ],
    });
    assert.deepEqual(f.headers, [
      ['destination', '/queue/a'],
      ['content-type', 'application/json'],
      ['x', '1'],
      ['x', '2'],
    ]);
  });

  it('[1.2 SEND] destination must not be empty', () => {
    rejects(
      () => sendFrame('1.2', { destination: '' }),
      ErrorCode.INVALID_HEADER_VALUE,
      'destination',
    );
  });

  it('[1.2 SUBSCRIBE id Header] SUBSCRIBE needs an id from 1.1', () => {
    for (const v of ['1.1', '1.2'] as const) {
      const f = subscribeFrame(v, {
        destination: '/q',
        id: '0',
        ack: 'client-individual',
        receipt: 'r',
      });
      assert.deepEqual(f.headers, [
        ['id', '0'],
        ['destination', '/q'],
        ['ack', 'client-individual'],
        ['receipt', 'r'],
      ]);
      rejects(() => subscribeFrame(v, { destination: '/q' }), ErrorCode.MISSING_HEADER, 'id');
    }
  });

  it('[1.0 SUBSCRIBE] 1.0 SUBSCRIBE may omit id; client-individual is not 1.0', () => {
    assert.deepEqual(subscribeFrame('1.0', { destination: '/q', ack: 'client' }).headers, [
      ['destination', '/q'],
      ['ack', 'client'],
    ]);
    rejects(
      () => subscribeFrame('1.0', { destination: '/q', ack: 'client-individual' }),
      ErrorCode.INVALID_HEADER_VALUE,
      'ack',
    );
  });

  it('[1.2 UNSUBSCRIBE] UNSUBSCRIBE needs an id from 1.1', () => {
    for (const v of ['1.1', '1.2'] as const) {
      assert.deepEqual(unsubscribeFrame(v, { id: '0' }).headers, [['id', '0']]);
      rejects(() => unsubscribeFrame(v, { destination: '/q' }), ErrorCode.MISSING_HEADER, 'id');
    }
  });

  it('[1.0 UNSUBSCRIBE] 1.0 UNSUBSCRIBE takes id or destination', () => {
    assert.deepEqual(unsubscribeFrame('1.0', { destination: '/q' }).headers, [
      ['destination', '/q'],
    ]);
    assert.deepEqual(unsubscribeFrame('1.0', { id: '1' }).headers, [['id', '1']]);
    rejects(() => unsubscribeFrame('1.0', {}), ErrorCode.MISSING_HEADER, 'id');
  });

  it('[1.2 ACK] 1.2 ACK and NACK carry id only', () => {
    const ids = { id: 'a1', 'message-id': 'm1', subscription: '0' };
    assert.deepEqual(ackFrame('1.2', ids, { transaction: 't', receipt: 'r' }).headers, [
      ['id', 'a1'],
      ['transaction', 't'],
      ['receipt', 'r'],
    ]);
    assert.deepEqual(nackFrame('1.2', ids).headers, [['id', 'a1']]);
    rejects(
      () => ackFrame('1.2', { 'message-id': 'm1', subscription: '0' }),
      ErrorCode.MISSING_HEADER,
      'id',
    );
    rejects(() => nackFrame('1.2', {}), ErrorCode.MISSING_HEADER, 'id');
  });

  it('[1.1 ACK] 1.1 ACK and NACK carry message-id and subscription', () => {
    const ids = { id: 'a1', 'message-id': 'm1', subscription: '0' };
    for (const build of [ackFrame, nackFrame]) {
      assert.deepEqual(build('1.1', ids).headers, [
        ['message-id', 'm1'],
        ['subscription', '0'],
      ]);
      rejects(() => build('1.1', { 'message-id': 'm1' }), ErrorCode.MISSING_HEADER, 'subscription');
      rejects(() => build('1.1', { subscription: '0' }), ErrorCode.MISSING_HEADER, 'message-id');
    }
  });

  it('[1.0 ACK] 1.0 ACK carries message-id; NACK does not exist', () => {
    assert.deepEqual(ackFrame('1.0', { 'message-id': 'm1', subscription: '0' }).headers, [
      ['message-id', 'm1'],
    ]);
    rejects(() => ackFrame('1.0', { id: 'a' }), ErrorCode.MISSING_HEADER, 'message-id');
    rejects(() => nackFrame('1.0', { 'message-id': 'm1' }), ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 BEGIN] BEGIN, COMMIT and ABORT carry transaction', () => {
    for (const v of ALL) {
      for (const [build, command] of [
        [beginFrame, 'BEGIN'],
        [commitFrame, 'COMMIT'],
        [abortFrame, 'ABORT'],
      ] as const) {
        const f = build(v, 'tx1', { receipt: 'r' });
        assert.equal(f.command, command);
        assert.deepEqual(f.headers, [
          ['transaction', 'tx1'],
          ['receipt', 'r'],
        ]);
        assert.doesNotThrow(() => wire(f, v));
      }
    }
  });

  it('[1.2 DISCONNECT] DISCONNECT with and without receipt', () => {
    for (const v of ALL) {
      assert.deepEqual(disconnectFrame(v).headers, []);
      assert.deepEqual(disconnectFrame(v, { receipt: '77' }).headers, [['receipt', '77']]);
    }
  });

  it('[1.2 Client Frames] every built frame passes the server-side validator', () => {
    for (const v of ALL) {
      const frames = [
        sendFrame(v, { destination: '/q', body: 'x' }),
        subscribeFrame(v, { destination: '/q', id: '1' }),
        unsubscribeFrame(v, { id: '1' }),
        ackFrame(v, { id: 'a', 'message-id': 'm', subscription: '1' }),
        beginFrame(v, 't'),
        commitFrame(v, 't'),
        abortFrame(v, 't'),
        disconnectFrame(v),
      ];
      for (const f of frames) {
        assert.doesNotThrow(() => {
          validateClientFrame(wire(f, v), v);
        });
      }
    }
  });
});

describe('interpretConnected', () => {
  it('[1.2 CONNECTED Frame] reads version, heart-beat, session and server', () => {
    const info = interpretConnected(
      new Frame('CONNECTED', {
        version: '1.2',
        'heart-beat': '0,1000',
        session: 's',
        server: 'x/1',
      }),
    );
    assert.equal(info.version, '1.2');
    assert.deepEqual(info.heartBeat, [0, 1000]);
    assert.equal(info.session, 's');
    assert.equal(info.server, 'x/1');
  });

  it('[1.1 Protocol Negotiation] a CONNECTED without version is 1.0, without heart-beats', () => {
    const info = interpretConnected(new Frame('CONNECTED', { session: 's', 'heart-beat': '5,5' }));
    assert.equal(info.version, '1.0');
    assert.deepEqual(info.heartBeat, [0, 0]);
  });

  it('[1.2 Protocol Negotiation] a version that was not offered is an error', () => {
    rejects(
      () => interpretConnected(new Frame('CONNECTED', { version: '1.1' }), ['1.2']),
      ErrorCode.UNSUPPORTED_VERSION,
      'version',
    );
    rejects(
      () => interpretConnected(new Frame('CONNECTED', { version: '2.0' })),
      ErrorCode.UNSUPPORTED_VERSION,
      'version',
    );
    rejects(
      () => interpretConnected(new Frame('CONNECTED', {}), ['1.1', '1.2']),
      ErrorCode.UNSUPPORTED_VERSION,
    );
  });

  it('[1.2 Heart-beating] a malformed heart-beat is an error', () => {
    rejects(
      () => interpretConnected(new Frame('CONNECTED', { version: '1.2', 'heart-beat': 'x' })),
      ErrorCode.INVALID_HEARTBEAT,
    );
  });

  it('[1.2 Connecting] an ERROR answer refuses the connection; other frames are unexpected', () => {
    const error = new Frame('ERROR', { message: 'bad login' });
    assert.throws(
      () => interpretConnected(error),
      (err: unknown) =>
        err instanceof StompServerError &&
        err.code === ErrorCode.SERVER_ERROR &&
        err.message === 'bad login' &&
        err.frame === error,
    );
    const refused = new Frame('ERROR', { message: 'no', code: ErrorCode.AUTHENTICATION_FAILED });
    assert.throws(
      () => interpretConnected(refused),
      (err: unknown) =>
        err instanceof StompServerError && err.code === ErrorCode.AUTHENTICATION_FAILED,
    );
    rejects(
      () => interpretConnected(new Frame('RECEIPT', { 'receipt-id': '1' })),
      ErrorCode.UNEXPECTED_FRAME,
    );
  });
});

describe('ackHeaders and interpretMessage', () => {
  const message = new Frame('MESSAGE', {
    destination: '/q',
    'message-id': 'm1',
    subscription: '0',
    ack: 'a1',
  });

  it('[1.2 ACK] 1.2 acknowledges with the MESSAGE ack header as id', () => {
    assert.deepEqual(ackHeaders(message, '1.2'), { id: 'a1' });
    assert.equal(ackFrame('1.2', ackHeaders(message, '1.2')).header('id'), 'a1');
  });

  it('[1.2 MESSAGE] a 1.2 MESSAGE without ack cannot be acknowledged', () => {
    rejects(
      () =>
        ackHeaders(
          new Frame('MESSAGE', { destination: '/q', 'message-id': 'm', subscription: '0' }),
          '1.2',
        ),
      ErrorCode.MISSING_HEADER,
      'ack',
    );
  });

  it('[1.1 ACK] 1.1 acknowledges with message-id and subscription', () => {
    assert.deepEqual(ackHeaders(message, '1.1'), { 'message-id': 'm1', subscription: '0' });
    rejects(
      () => ackHeaders(new Frame('MESSAGE', { 'message-id': 'm' }), '1.1'),
      ErrorCode.MISSING_HEADER,
      'subscription',
    );
  });

  it('[1.0 ACK] 1.0 acknowledges with message-id', () => {
    assert.deepEqual(ackHeaders(message, '1.0'), { 'message-id': 'm1' });
    rejects(
      () => ackHeaders(new Frame('MESSAGE', {}), '1.0'),
      ErrorCode.MISSING_HEADER,
      'message-id',
    );
  });

  it('[1.2 ACK] only MESSAGE frames can be acknowledged', () => {
    rejects(
      () => ackHeaders(new Frame('RECEIPT', { 'receipt-id': '1' }), '1.2'),
      ErrorCode.UNEXPECTED_FRAME,
    );
  });

  it('[1.2 MESSAGE] interpretMessage checks destination, message-id and subscription', () => {
    assert.deepEqual(interpretMessage(message, '1.2'), {
      destination: '/q',
      messageId: 'm1',
      subscription: '0',
      ack: 'a1',
    });
    rejects(
      () => interpretMessage(new Frame('MESSAGE', { destination: '/q', 'message-id': 'm' }), '1.1'),
      ErrorCode.MISSING_HEADER,
      'subscription',
    );
    rejects(
      () => interpretMessage(new Frame('MESSAGE', { 'message-id': 'm', subscription: '0' }), '1.2'),
      ErrorCode.MISSING_HEADER,
      'destination',
    );
    rejects(
      () => interpretMessage(new Frame('SEND', { destination: '/q' }), '1.2'),
      ErrorCode.UNEXPECTED_FRAME,
    );
  });

  it('[1.0 SUBSCRIBE] a 1.0 MESSAGE may lack subscription', () => {
    const info = interpretMessage(
      new Frame('MESSAGE', { destination: '/q', 'message-id': 'm' }),
      '1.0',
    );
    assert.equal(info.subscription, undefined);
  });
});

describe('interpretReceipt and interpretError', () => {
  it('[1.2 RECEIPT] returns receipt-id', () => {
    assert.equal(
      interpretReceipt(new Frame('RECEIPT', { 'receipt-id': 'message-12345' })),
      'message-12345',
    );
    rejects(() => interpretReceipt(new Frame('RECEIPT')), ErrorCode.MISSING_HEADER, 'receipt-id');
    rejects(
      () => interpretReceipt(new Frame('RECEIPT', { 'receipt-id': '' })),
      ErrorCode.INVALID_HEADER_VALUE,
      'receipt-id',
    );
    rejects(() => interpretReceipt(new Frame('ERROR')), ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 ERROR] returns a StompServerError with the message header and the frame', () => {
    const frame = new Frame(
      'ERROR',
      { message: 'malformed frame received', 'receipt-id': 'r9' },
      'details',
    );
    const err = interpretError(frame);
    assert.ok(err instanceof StompServerError);
    assert.equal(err.code, ErrorCode.SERVER_ERROR);
    assert.equal(err.message, 'malformed frame received');
    assert.equal(err.frame.header('receipt-id'), 'r9');
    assert.equal(interpretError(new Frame('ERROR', {}, 'only a body')).message, 'only a body');
    rejects(() => interpretError(new Frame('MESSAGE')), ErrorCode.UNEXPECTED_FRAME);
  });
});
