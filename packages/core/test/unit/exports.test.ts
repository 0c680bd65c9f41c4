// core's public surface. Every name the package exports is listed here with its group, so an
// export is a decision (a new one fails this test until it is listed). The stateless command
// functions are core's product — each builds or reads one frame and is usable alone, as in
// stompest — even where no stompede package imports them directly (the sessions do, and the
// README shows them): each pair is exercised end to end here, a builder's frame encoded, parsed
// and read back by the other side's interpreter in every version.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as core from '@stompede/core';
import {
  AckMode,
  BrokerScheme,
  ClientCommand,
  Command,
  ErrorCode,
  type Frame,
  ServerCommand,
  StompServerError,
  type StompVersion,
  abortFrame,
  ackFrame,
  ackHeaders,
  beginFrame,
  commitFrame,
  connectFrame,
  connectedFrame,
  disconnectFrame,
  encodeFrameBytes,
  errorFrame,
  interpretAbort,
  interpretAck,
  interpretBegin,
  interpretCommit,
  interpretConnect,
  interpretConnected,
  interpretError,
  interpretMessage,
  interpretNack,
  interpretReceipt,
  interpretSend,
  interpretSubscribe,
  interpretUnsubscribe,
  messageFrame,
  nackFrame,
  parseBrokerUri,
  parseFrames,
  receiptFrame,
  sendFrame,
  serverErrorCode,
  subscribeFrame,
  unsubscribeFrame,
  unsupportedVersionFrame,
  validateClientFrame,
} from '@stompede/core';

/** The runtime exports of `@stompede/core`, by what they are for. */
const SURFACE = {
  codec: [
    'DEFAULT_LIMITS',
    'Frame',
    'FrameParser',
    'HEARTBEAT_BYTES',
    'concatBytes',
    'encodeFrame',
    'encodeFrameBytes',
    'encodeFrames',
    'encodeHeaderToken',
    'escapeHeader',
    'escapesApply',
    'parseFrames',
    'unescapeHeader',
    'utf8Encode',
  ],
  commands: [
    'AckMode',
    'ClientCommand',
    'Command',
    'ServerCommand',
    'abortFrame',
    'ackFrame',
    'ackHeaders',
    'beginFrame',
    'commitFrame',
    'connectFrame',
    'connectedFrame',
    'disconnectFrame',
    'errorFrame',
    'interpretAbort',
    'interpretAck',
    'interpretBegin',
    'interpretCommit',
    'interpretConnect',
    'interpretConnected',
    'interpretError',
    'interpretMessage',
    'interpretNack',
    'interpretReceipt',
    'interpretSend',
    'interpretSubscribe',
    'interpretUnsubscribe',
    'isAckMode',
    'messageFrame',
    'nackFrame',
    'receiptFrame',
    'sendFrame',
    'serverErrorCode',
    'subscribeFrame',
    'unsubscribeFrame',
    'unsupportedVersionFrame',
    'validateClientFrame',
  ],
  negotiation: [
    'SUPPORTED_VERSIONS',
    'acceptedVersions',
    'formatAcceptVersion',
    'formatHeartBeat',
    'isStompVersion',
    'negotiateHeartBeat',
    'negotiateVersion',
    'parseHeartBeat',
  ],
  errors: [
    'ErrorCode',
    'StompAbortError',
    'StompConnectionError',
    'StompError',
    'StompInvalidArgumentError',
    'StompInvalidUriError',
    'StompProtocolError',
    'StompServerError',
    'StompTimeoutError',
  ],
  failover: [
    'BrokerScheme',
    'FAILOVER_DEFAULTS',
    'FailoverSchedule',
    'parseBrokerUri',
    'parseFailoverUri',
  ],
  sessions: ['ClientSession', 'ServerSession', 'SessionState'],
} as const;

const ALL: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

/** `frame` as the other side reads it: encoded for `version`, then parsed. */
function wire(frame: Frame, version: StompVersion): Frame {
  const [parsed] = parseFrames(encodeFrameBytes(frame, { version }), { version });
  assert.ok(parsed !== undefined);
  return parsed;
}

describe('core: the public surface', () => {
  it('exports exactly the listed names (a new export is a decision, listed here)', () => {
    const listed = Object.values(SURFACE)
      .flat()
      .sort((a, b) => a.localeCompare(b));
    const exported = Object.keys(core).sort((a, b) => a.localeCompare(b));
    assert.deepEqual(exported, listed);
  });

  it('the command tables: every client and server command, and nothing else', () => {
    assert.deepEqual(Object.values(ClientCommand).sort(), [
      'ABORT',
      'ACK',
      'BEGIN',
      'COMMIT',
      'CONNECT',
      'DISCONNECT',
      'NACK',
      'SEND',
      'STOMP',
      'SUBSCRIBE',
      'UNSUBSCRIBE',
    ]);
    assert.deepEqual(Object.values(ServerCommand).sort(), [
      'CONNECTED',
      'ERROR',
      'MESSAGE',
      'RECEIPT',
    ]);
    assert.deepEqual(
      Object.values(Command).sort(),
      [...Object.values(ClientCommand), ...Object.values(ServerCommand)].sort(),
    );
  });

  it('BrokerScheme names the schemes a broker URI takes', () => {
    assert.deepEqual(Object.values(BrokerScheme).sort(), ['ssl', 'tcp', 'ws', 'wss']);
    assert.equal(parseBrokerUri('ssl://example.com:61614').scheme, BrokerScheme.SSL);
  });
});

describe('core: each builder is read back by its interpreter', () => {
  for (const version of ALL) {
    it(`[${version} Frames and Headers] client frames, built and read by the server side`, () => {
      const connect = wire(connectFrame({ versions: [version], host: 'h', login: 'a:b' }), version);
      const request = interpretConnect(connect);
      assert.equal(request.version, version);
      assert.equal(request.login, 'a:b');

      const send = wire(
        sendFrame(version, { destination: '/queue/a', receipt: 'r-1', body: 'hi' }),
        version,
      );
      validateClientFrame(send, version);
      assert.deepEqual(interpretSend(send, version), {
        destination: '/queue/a',
        transaction: undefined,
        receipt: 'r-1',
      });

      const subscribe = wire(
        subscribeFrame(version, { destination: '/queue/a', id: 's-1', ack: AckMode.CLIENT }),
        version,
      );
      const sub = interpretSubscribe(subscribe, version);
      assert.deepEqual([sub.id, sub.destination, sub.ack], ['s-1', '/queue/a', 'client']);
      assert.equal(
        interpretUnsubscribe(wire(unsubscribeFrame(version, { id: 's-1' }), version), version),
        's-1',
      );

      const tx = [beginFrame, commitFrame, abortFrame].map((build) =>
        wire(build(version, 'tx-1'), version),
      );
      assert.deepEqual(
        [
          interpretBegin(tx[0]!, version),
          interpretCommit(tx[1]!, version),
          interpretAbort(tx[2]!, version),
        ].map((t) => [t.command, t.transaction]),
        [
          ['BEGIN', 'tx-1'],
          ['COMMIT', 'tx-1'],
          ['ABORT', 'tx-1'],
        ],
      );
      validateClientFrame(wire(disconnectFrame(version, { receipt: 'bye' }), version), version);
    });

    it(`[${version} Frames and Headers] server frames, built and read by the client side; an ACK names the MESSAGE it answers`, () => {
      const connected = wire(
        connectedFrame({ version, heartBeat: [0, 1000], server: 's/1' }),
        version,
      );
      const info = interpretConnected(connected, [version]);
      assert.equal(info.version, version);
      assert.equal(info.server, 's/1');

      const message = wire(
        messageFrame({
          destination: '/queue/a',
          messageId: 'm:1',
          subscription: 's-1',
          ...(version === '1.2' ? { ack: 'k-1' } : {}),
          body: 'hi',
        }),
        version,
      );
      const read = interpretMessage(message, version);
      assert.deepEqual(
        [read.destination, read.messageId, read.subscription],
        ['/queue/a', 'm:1', 's-1'],
      );

      const ack = interpretAck(
        wire(ackFrame(version, ackHeaders(message, version)), version),
        version,
      );
      assert.equal(ack.key, version === '1.2' ? 'k-1' : 'm:1');
      if (version !== '1.0') {
        const nack = interpretNack(
          wire(nackFrame(version, ackHeaders(message, version)), version),
          version,
        );
        assert.equal(nack.command, 'NACK');
      }

      assert.equal(interpretReceipt(wire(receiptFrame('r-1'), version)), 'r-1');

      const error = wire(
        errorFrame({ message: 'no', code: ErrorCode.FORBIDDEN, receiptId: 'r-2' }),
        version,
      );
      assert.equal(serverErrorCode(error), ErrorCode.FORBIDDEN);
      const err = interpretError(error);
      assert.ok(err instanceof StompServerError);
      assert.equal(err.code, ErrorCode.FORBIDDEN);
      assert.equal(
        interpretError(wire(unsupportedVersionFrame(), version)).code,
        ErrorCode.UNSUPPORTED_VERSION,
      );
    });
  }
});
