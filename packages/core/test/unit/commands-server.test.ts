// Server-side commands: validating client frames, reading CONNECT, building server frames.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  Frame,
  type HeadersInit,
  StompError,
  StompInvalidArgumentError,
  type StompVersion,
  connectedFrame,
  encodeFrameBytes,
  errorFrame,
  interpretAbort,
  interpretAck,
  interpretBegin,
  interpretCommit,
  interpretConnect,
  interpretNack,
  interpretSend,
  interpretSubscribe,
  interpretUnsubscribe,
  messageFrame,
  parseFrames,
  receiptFrame,
  unsupportedVersionFrame,
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

function frame(command: string, headers: HeadersInit = {}, body?: string): Frame {
  return new Frame(command, headers, body);
}

function valid(f: Frame, version: StompVersion): void {
  assert.doesNotThrow(() => {
    validateClientFrame(f, version);
  }, `${f.command} should be valid in ${version}`);
}

describe('validateClientFrame: commands', () => {
  for (const command of ['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR']) {
    it(`[1.2 Server Frames] rejects ${command} from a client`, () => {
      for (const v of ALL)
        rejects(() => {
          validateClientFrame(frame(command), v);
        }, ErrorCode.UNEXPECTED_FRAME);
    });
  }

  it('[1.2 Client Frames] rejects unknown commands', () => {
    rejects(() => {
      validateClientFrame(frame('PUBLISH'), '1.2');
    }, ErrorCode.UNEXPECTED_FRAME);
    rejects(() => {
      validateClientFrame(frame('send', { destination: '/q' }), '1.2');
    }, ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 CONNECT or STOMP Frame] STOMP is valid from 1.1, not in 1.0', () => {
    valid(frame('STOMP', { 'accept-version': '1.1,1.2', host: 'h' }), '1.2');
    valid(frame('STOMP', { 'accept-version': '1.1' }), '1.1');
    rejects(() => {
      validateClientFrame(frame('STOMP', {}), '1.0');
    }, ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.1 NACK] NACK is not a 1.0 frame', () => {
    rejects(() => {
      validateClientFrame(frame('NACK', { 'message-id': 'm' }), '1.0');
    }, ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 Body] only SEND may carry a body from a client (1.1+)', () => {
    valid(frame('SEND', { destination: '/q' }, 'hello'), '1.2');
    const bodies: [string, HeadersInit][] = [
      ['SUBSCRIBE', { destination: '/q', id: '0' }],
      ['UNSUBSCRIBE', { id: '0' }],
      ['ACK', { id: '1', 'message-id': '1', subscription: '0' }],
      ['BEGIN', { transaction: 't' }],
      ['COMMIT', { transaction: 't' }],
      ['ABORT', { transaction: 't' }],
      ['DISCONNECT', {}],
      ['CONNECT', { 'accept-version': '1.1,1.2', host: 'h' }],
    ];
    for (const v of ['1.1', '1.2'] as const) {
      for (const [command, headers] of bodies) {
        rejects(() => {
          validateClientFrame(frame(command, headers, 'x'), v);
        }, ErrorCode.BODY_NOT_ALLOWED);
      }
    }
  });

  it('[1.0 SUBSCRIBE] 1.0 ignores bodies on other frames, so they pass', () => {
    valid(frame('SUBSCRIBE', { destination: '/q' }, 'ignored'), '1.0');
  });
});

describe('validateClientFrame: required headers', () => {
  it('[1.2 CONNECT or STOMP Frame] accept-version is required from 1.1; host may be missing', () => {
    for (const v of ['1.1', '1.2'] as const) {
      rejects(
        () => {
          validateClientFrame(frame('CONNECT', { host: 'h' }), v);
        },
        ErrorCode.MISSING_HEADER,
        'accept-version',
      );
      // Many real clients omit host: accepted on purpose.
      valid(frame('CONNECT', { 'accept-version': '1.0,1.1,1.2' }), v);
    }
    valid(frame('CONNECT', { login: 'u', passcode: 'p' }), '1.0');
  });

  it('[1.2 Heart-beating] a malformed CONNECT heart-beat is an error from 1.1, ignored in 1.0', () => {
    rejects(
      () => {
        validateClientFrame(
          frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '-1,0' }),
          '1.2',
        );
      },
      ErrorCode.INVALID_HEARTBEAT,
      'heart-beat',
    );
    valid(frame('CONNECT', { 'heart-beat': 'junk' }), '1.0');
  });

  it('[1.2 SEND] destination is required and not empty', () => {
    for (const v of ALL) {
      valid(frame('SEND', { destination: '/queue/a', transaction: 't' }), v);
      rejects(
        () => {
          validateClientFrame(frame('SEND'), v);
        },
        ErrorCode.MISSING_HEADER,
        'destination',
      );
      rejects(
        () => {
          validateClientFrame(frame('SEND', { destination: '' }), v);
        },
        ErrorCode.INVALID_HEADER_VALUE,
        'destination',
      );
    }
  });

  it('[1.2 SUBSCRIBE id Header] SUBSCRIBE needs destination, and id from 1.1', () => {
    for (const v of ['1.1', '1.2'] as const) {
      valid(frame('SUBSCRIBE', { id: '0', destination: '/q' }), v);
      rejects(
        () => {
          validateClientFrame(frame('SUBSCRIBE', { destination: '/q' }), v);
        },
        ErrorCode.MISSING_HEADER,
        'id',
      );
      rejects(
        () => {
          validateClientFrame(frame('SUBSCRIBE', { id: '0' }), v);
        },
        ErrorCode.MISSING_HEADER,
        'destination',
      );
    }
  });

  it('[1.0 SUBSCRIBE] id is optional in 1.0, destination is not', () => {
    valid(frame('SUBSCRIBE', { destination: '/q' }), '1.0');
    rejects(
      () => {
        validateClientFrame(frame('SUBSCRIBE', { id: '0' }), '1.0');
      },
      ErrorCode.MISSING_HEADER,
      'destination',
    );
  });

  it('[1.2 SUBSCRIBE ack Header] ack is auto, client or client-individual', () => {
    for (const ack of ['auto', 'client', 'client-individual']) {
      valid(frame('SUBSCRIBE', { id: '0', destination: '/q', ack }), '1.2');
      valid(frame('SUBSCRIBE', { id: '0', destination: '/q', ack }), '1.1');
    }
    for (const ack of ['', 'Client', 'individual', 'none']) {
      rejects(
        () => {
          validateClientFrame(frame('SUBSCRIBE', { id: '0', destination: '/q', ack }), '1.2');
        },
        ErrorCode.INVALID_HEADER_VALUE,
        'ack',
      );
    }
  });

  it('[1.0 SUBSCRIBE] 1.0 ack modes are auto and client only', () => {
    valid(frame('SUBSCRIBE', { destination: '/q', ack: 'client' }), '1.0');
    rejects(
      () => {
        validateClientFrame(
          frame('SUBSCRIBE', { destination: '/q', ack: 'client-individual' }),
          '1.0',
        );
      },
      ErrorCode.INVALID_HEADER_VALUE,
      'ack',
    );
  });

  it('[1.2 UNSUBSCRIBE] id is required from 1.1', () => {
    for (const v of ['1.1', '1.2'] as const) {
      valid(frame('UNSUBSCRIBE', { id: '0' }), v);
      rejects(
        () => {
          validateClientFrame(frame('UNSUBSCRIBE', { destination: '/q' }), v);
        },
        ErrorCode.MISSING_HEADER,
        'id',
      );
    }
  });

  it('[1.0 UNSUBSCRIBE] 1.0 needs id or destination', () => {
    valid(frame('UNSUBSCRIBE', { id: '0' }), '1.0');
    valid(frame('UNSUBSCRIBE', { destination: '/q' }), '1.0');
    rejects(
      () => {
        validateClientFrame(frame('UNSUBSCRIBE'), '1.0');
      },
      ErrorCode.MISSING_HEADER,
      'id',
    );
  });

  it('[1.2 ACK] ACK and NACK need id in 1.2', () => {
    for (const command of ['ACK', 'NACK']) {
      valid(frame(command, { id: 'a1', transaction: 't' }), '1.2');
      rejects(
        () => {
          validateClientFrame(frame(command, { 'message-id': 'm', subscription: '0' }), '1.2');
        },
        ErrorCode.MISSING_HEADER,
        'id',
      );
    }
  });

  it('[1.1 ACK] ACK and NACK need message-id and subscription in 1.1', () => {
    for (const command of ['ACK', 'NACK']) {
      valid(frame(command, { 'message-id': 'm', subscription: '0' }), '1.1');
      rejects(
        () => {
          validateClientFrame(frame(command, { subscription: '0' }), '1.1');
        },
        ErrorCode.MISSING_HEADER,
        'message-id',
      );
      rejects(
        () => {
          validateClientFrame(frame(command, { 'message-id': 'm' }), '1.1');
        },
        ErrorCode.MISSING_HEADER,
        'subscription',
      );
      rejects(
        () => {
          validateClientFrame(frame(command, { id: 'a' }), '1.1');
        },
        ErrorCode.MISSING_HEADER,
        'message-id',
      );
    }
  });

  it('[1.0 ACK] ACK needs message-id in 1.0', () => {
    valid(frame('ACK', { 'message-id': 'm' }), '1.0');
    rejects(
      () => {
        validateClientFrame(frame('ACK', { id: 'a' }), '1.0');
      },
      ErrorCode.MISSING_HEADER,
      'message-id',
    );
  });

  it('[1.2 BEGIN] BEGIN, COMMIT and ABORT need transaction', () => {
    for (const v of ALL) {
      for (const command of ['BEGIN', 'COMMIT', 'ABORT']) {
        valid(frame(command, { transaction: 'tx1' }), v);
        rejects(
          () => {
            validateClientFrame(frame(command), v);
          },
          ErrorCode.MISSING_HEADER,
          'transaction',
        );
      }
    }
  });

  it('[1.2 DISCONNECT] DISCONNECT needs nothing', () => {
    for (const v of ALL) {
      valid(frame('DISCONNECT'), v);
      valid(frame('DISCONNECT', { receipt: '77' }), v);
    }
  });

  it('[1.2 Frames and Headers] errors carry the offending frame', () => {
    const bad = frame('SEND');
    assert.throws(
      () => {
        validateClientFrame(bad, '1.2');
      },
      (err: unknown) =>
        err instanceof StompError && err.frame === bad && /destination/.test(err.message),
    );
  });
});

describe('interpretConnect', () => {
  it('[1.2 Protocol Negotiation] negotiates and reads the CONNECT headers', () => {
    const request = interpretConnect(
      frame('CONNECT', {
        'accept-version': '1.0,1.1,2.0',
        host: 'vhost',
        login: 'u',
        passcode: 'p',
        'heart-beat': '1000,2000',
        'x-custom': 'y',
      }),
    );
    assert.equal(request.version, '1.1');
    assert.deepEqual(request.offered, ['1.1', '1.0']);
    assert.deepEqual(request.heartBeat, [1000, 2000]);
    assert.equal(request.host, 'vhost');
    assert.equal(request.login, 'u');
    assert.equal(request.passcode, 'p');
    assert.equal(request.headers['x-custom'], 'y');
  });

  it('[1.2 Protocol Negotiation] a CONNECT without accept-version is a 1.0 session without heart-beats', () => {
    const request = interpretConnect(frame('CONNECT', { login: 'u', 'heart-beat': '10,10' }));
    assert.equal(request.version, '1.0');
    assert.deepEqual(request.heartBeat, [0, 0]);
    assert.equal(request.host, undefined);
  });

  it('[1.2 Protocol Negotiation] no common version gives version undefined', () => {
    const request = interpretConnect(frame('CONNECT', { 'accept-version': '1.2' }), {
      supported: ['1.0', '1.1'],
    });
    assert.equal(request.version, undefined);
    assert.deepEqual(request.heartBeat, [0, 0]);
  });

  it('[1.2 CONNECT or STOMP Frame] STOMP is read like CONNECT, but not without accept-version', () => {
    assert.equal(
      interpretConnect(frame('STOMP', { 'accept-version': '1.2', host: 'h' })).version,
      '1.2',
    );
    rejects(() => interpretConnect(frame('STOMP', { host: 'h' })), ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.2 Heart-beating] a malformed heart-beat throws', () => {
    rejects(
      () => interpretConnect(frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '1' })),
      ErrorCode.INVALID_HEARTBEAT,
    );
  });

  it('[1.2 Connecting] other frames are not a CONNECT', () => {
    rejects(
      () => interpretConnect(frame('SEND', { destination: '/q' })),
      ErrorCode.UNEXPECTED_FRAME,
    );
  });
});

describe('interpret SUBSCRIBE / UNSUBSCRIBE / ACK', () => {
  it('[1.2 SUBSCRIBE] reads id, destination and ack (default auto)', () => {
    const s = interpretSubscribe(
      frame('SUBSCRIBE', { id: '7', destination: '/q', selector: "a = 'b'" }),
      '1.2',
    );
    assert.deepEqual(
      [s.id, s.explicitId, s.destination, s.ack, s.headers.selector],
      ['7', true, '/q', 'auto', "a = 'b'"],
    );
    assert.equal(
      interpretSubscribe(frame('SUBSCRIBE', { id: '7', destination: '/q', ack: 'client' }), '1.2')
        .ack,
      'client',
    );
    rejects(
      () => interpretSubscribe(frame('SUBSCRIBE', { destination: '/q' }), '1.2'),
      ErrorCode.MISSING_HEADER,
      'id',
    );
  });

  it('[1.0 SUBSCRIBE] without an id, a 1.0 subscription is known by its destination', () => {
    const s = interpretSubscribe(frame('SUBSCRIBE', { destination: '/q' }), '1.0');
    assert.deepEqual([s.id, s.explicitId], ['/q', false]);
    assert.equal(interpretUnsubscribe(frame('UNSUBSCRIBE', { destination: '/q' }), '1.0'), '/q');
    assert.equal(
      interpretUnsubscribe(frame('UNSUBSCRIBE', { id: '3', destination: '/q' }), '1.0'),
      '3',
    );
  });

  it('[1.2 ACK] reads what each version acknowledges', () => {
    assert.deepEqual(interpretAck(frame('ACK', { id: 'a', transaction: 't' }), '1.2'), {
      command: 'ACK',
      key: 'a',
      keyHeader: 'id',
      id: 'a',
      messageId: undefined,
      subscription: undefined,
      transaction: 't',
      receipt: undefined,
    });
    assert.deepEqual(
      interpretNack(frame('NACK', { 'message-id': 'm', subscription: '0', receipt: 'r' }), '1.1'),
      {
        command: 'NACK',
        key: 'm',
        keyHeader: 'message-id',
        id: undefined,
        messageId: 'm',
        subscription: '0',
        transaction: undefined,
        receipt: 'r',
      },
    );
    assert.equal(interpretAck(frame('ACK', { 'message-id': 'm' }), '1.0').messageId, 'm');
    // 1.0 has no subscription header to match; a stray one is not reported.
    assert.equal(
      interpretAck(frame('ACK', { 'message-id': 'm', subscription: 's' }), '1.0').subscription,
      undefined,
    );
    rejects(
      () => interpretAck(frame('SEND', { destination: '/q' }), '1.2'),
      ErrorCode.UNEXPECTED_FRAME,
    );
    rejects(() => interpretAck(frame('NACK', { id: 'a' }), '1.2'), ErrorCode.UNEXPECTED_FRAME);
    rejects(() => interpretNack(frame('ACK', { id: 'a' }), '1.2'), ErrorCode.UNEXPECTED_FRAME);
  });

  it('[1.1 NACK] interpretNack refuses NACK in 1.0 and a body from 1.1', () => {
    rejects(
      () => interpretNack(frame('NACK', { 'message-id': 'm' }), '1.0'),
      ErrorCode.UNEXPECTED_FRAME,
    );
    rejects(
      () => interpretNack(frame('NACK', { id: 'a' }, 'x'), '1.2'),
      ErrorCode.BODY_NOT_ALLOWED,
    );
    rejects(
      () => interpretNack(frame('NACK', { subscription: '0' }), '1.1'),
      ErrorCode.MISSING_HEADER,
      'message-id',
    );
  });

  it('[1.2 Repeated Header Entries] interpreters take the first of repeated headers', () => {
    const ack = new Frame('ACK', [
      ['id', 'first'],
      ['id', 'second'],
      ['receipt', 'r1'],
      ['receipt', 'r2'],
    ]);
    assert.equal(interpretAck(ack, '1.2').key, 'first');
    assert.equal(interpretAck(ack, '1.2').receipt, 'r1');
    const send = new Frame('SEND', [
      ['destination', '/queue/a'],
      ['destination', ''],
    ]);
    assert.equal(interpretSend(send, '1.2').destination, '/queue/a');
  });
});

describe('interpret SEND / BEGIN / COMMIT / ABORT', () => {
  it('[1.2 SEND] reads destination, transaction and receipt; the body is allowed', () => {
    assert.deepEqual(
      interpretSend(
        frame('SEND', { destination: '/q', transaction: 't', receipt: 'r' }, 'hi'),
        '1.2',
      ),
      { destination: '/q', transaction: 't', receipt: 'r' },
    );
    rejects(() => interpretSend(frame('SEND', {}), '1.1'), ErrorCode.MISSING_HEADER, 'destination');
    rejects(
      () => interpretSend(frame('SEND', { destination: '' }), '1.0'),
      ErrorCode.INVALID_HEADER_VALUE,
      'destination',
    );
    rejects(
      () => interpretSend(frame('MESSAGE', { destination: '/q' }), '1.2'),
      ErrorCode.UNEXPECTED_FRAME,
    );
  });

  it('[1.2 BEGIN] each transaction command reads its transaction and receipt', () => {
    const cases = [
      ['BEGIN', interpretBegin],
      ['COMMIT', interpretCommit],
      ['ABORT', interpretAbort],
    ] as const;
    for (const [command, interpret] of cases) {
      for (const v of ALL) {
        assert.deepEqual(interpret(frame(command, { transaction: 'tx', receipt: '9' }), v), {
          command,
          transaction: 'tx',
          receipt: '9',
        });
        rejects(() => interpret(frame(command), v), ErrorCode.MISSING_HEADER, 'transaction');
      }
      rejects(
        () => interpret(frame(command, { transaction: 'tx' }, 'b'), '1.2'),
        ErrorCode.BODY_NOT_ALLOWED,
      );
      rejects(
        () => interpret(frame('SEND', { destination: '/q' }), '1.2'),
        ErrorCode.UNEXPECTED_FRAME,
      );
    }
  });
});

describe('server frame builders', () => {
  it('[1.2 CONNECTED Frame] writes version, heart-beat, session and server', () => {
    const f = connectedFrame({
      version: '1.2',
      session: 's1',
      server: 'stompede/0.1',
      heartBeat: [0, 5000],
      headers: { version: '9', x: 'y' },
    });
    assert.equal(f.command, 'CONNECTED');
    assert.deepEqual(f.headers, [
      ['version', '1.2'],
      ['heart-beat', '0,5000'],
      ['session', 's1'],
      ['server', 'stompede/0.1'],
      ['x', 'y'],
    ]);
  });

  it('[1.0 CONNECT] a 1.0 CONNECTED says version:1.0 (clients expect it) and has no heart-beat', () => {
    const f = connectedFrame({ version: '1.0', session: 's1', heartBeat: [1000, 1000] });
    assert.deepEqual(f.headers, [
      ['version', '1.0'],
      ['session', 's1'],
    ]);
  });

  it('[1.2 MESSAGE] writes the required headers first; extras cannot override them', () => {
    const f = messageFrame({
      destination: '/queue/a',
      messageId: 'm1',
      subscription: '0',
      ack: 'a1',
      headers: [
        ['content-type', 'text/plain'],
        ['destination', '/elsewhere'],
        ['content-length', '99'],
        ['foo', 'bar'],
      ],
      body: 'hello',
    });
    assert.deepEqual(f.headers, [
      ['destination', '/queue/a'],
      ['message-id', 'm1'],
      ['subscription', '0'],
      ['ack', 'a1'],
      ['content-type', 'text/plain'],
      ['foo', 'bar'],
    ]);
    assert.equal(f.text, 'hello');
    const [back] = parseFrames(encodeFrameBytes(f));
    assert.equal(back!.header('content-length'), '5');
  });

  it('[1.2 MESSAGE] without ack there is no ack header; empty ids are rejected', () => {
    assert.equal(
      messageFrame({ destination: '/q', messageId: 'm', subscription: '0' }).has('ack'),
      false,
    );
    assert.throws(
      () => messageFrame({ destination: '', messageId: 'm', subscription: '0' }),
      StompInvalidArgumentError,
    );
    assert.throws(
      () => messageFrame({ destination: '/q', messageId: '', subscription: '0' }),
      StompInvalidArgumentError,
    );
  });

  it('[1.2 RECEIPT] carries receipt-id', () => {
    const f = receiptFrame('77');
    assert.equal(f.command, 'RECEIPT');
    assert.deepEqual(f.headers, [['receipt-id', '77']]);
  });

  it('[1.2 ERROR] writes message, receipt-id and a typed text body', () => {
    const f = errorFrame({ message: 'malformed\nframe', receiptId: 'r1', body: 'details' });
    assert.deepEqual(f.headers, [
      ['message', 'malformed frame'],
      ['receipt-id', 'r1'],
      ['content-type', 'text/plain;charset=utf-8'],
    ]);
    assert.equal(f.text, 'details');
    // The header survives 1.0's unescaped encoding.
    assert.doesNotThrow(() => encodeFrameBytes(f, { version: '1.0' }));
    const bare = errorFrame({
      message: 'no',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(bare.headerAll('content-type').length, 1);
    assert.equal(errorFrame({ message: 'x' }).has('content-type'), false);
  });

  it('[1.2 Protocol Negotiation] the unsupported-version ERROR lists the versions spoken', () => {
    const f = unsupportedVersionFrame(['1.2', '1.1']);
    assert.equal(f.command, 'ERROR');
    assert.equal(f.header('version'), '1.1,1.2');
    assert.equal(f.text, 'Supported protocol versions are 1.1 1.2');
    assert.ok(f.has('message'));
  });
});
