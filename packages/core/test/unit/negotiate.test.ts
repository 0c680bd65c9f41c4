// Version and heart-beat negotiation.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  StompProtocolError,
  acceptedVersions,
  formatAcceptVersion,
  formatHeartBeat,
  negotiateHeartBeat,
  negotiateVersion,
  parseHeartBeat,
} from '@stompede/core';

function isCode(code: string) {
  return (err: unknown): boolean =>
    err instanceof StompProtocolError && err.code === code && err.header === 'heart-beat';
}

describe('negotiateVersion', () => {
  it('[1.2 Protocol Negotiation] a missing accept-version means a 1.0 client', () => {
    assert.equal(negotiateVersion(undefined), '1.0');
    assert.equal(negotiateVersion(undefined, ['1.1', '1.2']), undefined);
  });

  it('[1.2 Protocol Negotiation] picks the highest common version', () => {
    assert.equal(negotiateVersion('1.0,1.1,1.2'), '1.2');
    assert.equal(negotiateVersion('1.0,1.1,2.0'), '1.1');
    assert.equal(negotiateVersion('1.2,1.0'), '1.2');
    assert.equal(negotiateVersion('1.0,1.1,1.2', ['1.0', '1.1']), '1.1');
    assert.equal(negotiateVersion('1.1', ['1.2', '1.1']), '1.1');
  });

  it('[1.2 Protocol Negotiation] no common version gives undefined', () => {
    assert.equal(negotiateVersion('2.0,2.1'), undefined);
    assert.equal(negotiateVersion('1.2', ['1.0', '1.1']), undefined);
    assert.equal(negotiateVersion(''), undefined);
    assert.equal(negotiateVersion('1.1', []), undefined);
  });

  it('[1.2 Protocol Negotiation] tolerates spaces and ignores junk entries', () => {
    assert.equal(negotiateVersion(' 1.0 , 1.1 '), '1.1');
    assert.equal(negotiateVersion('1.1,,x,1.10'), '1.1');
  });

  it('[1.2 Protocol Negotiation] acceptedVersions lists known versions, highest first', () => {
    assert.deepEqual(acceptedVersions('1.0,1.2,3.0,1.2'), ['1.2', '1.0']);
    assert.deepEqual(acceptedVersions(undefined), ['1.0']);
  });

  it('[1.2 Protocol Negotiation] formatAcceptVersion lists versions incrementing', () => {
    assert.equal(formatAcceptVersion(['1.2', '1.1', '1.0']), '1.0,1.1,1.2');
    assert.equal(formatAcceptVersion(['1.2', '1.2']), '1.2');
  });
});

describe('parseHeartBeat', () => {
  it('[1.2 Heart-beating] a missing header is 0,0', () => {
    assert.deepEqual(parseHeartBeat(undefined), [0, 0]);
  });

  it('[1.2 Heart-beating] parses two integers', () => {
    assert.deepEqual(parseHeartBeat('0,0'), [0, 0]);
    assert.deepEqual(parseHeartBeat('10000,5000'), [10000, 5000]);
    assert.deepEqual(parseHeartBeat('10000, 5000'), [10000, 5000]);
    assert.deepEqual(parseHeartBeat('007,1'), [7, 1]);
  });

  for (const bad of [
    '',
    '1',
    '1,2,3',
    ',1',
    '1,',
    '-1,0',
    '0,-5',
    '+1,0',
    '1.5,0',
    'a,b',
    '1e3,0',
    '99999999999999999999,0',
  ]) {
    it(`[1.1 Heart-beating] rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseHeartBeat(bad), isCode(ErrorCode.INVALID_HEARTBEAT));
    });
  }

  it('[1.2 Heart-beating] formatHeartBeat writes cx,cy and rejects negatives', () => {
    assert.equal(formatHeartBeat([1000, 0]), '1000,0');
    assert.throws(() => formatHeartBeat([-1, 0]), isCode(ErrorCode.INVALID_HEARTBEAT));
    assert.throws(() => formatHeartBeat([0.5, 0]), isCode(ErrorCode.INVALID_HEARTBEAT));
  });
});

describe('negotiateHeartBeat', () => {
  it('[1.2 Heart-beating] each direction runs at the MAX of both periods', () => {
    // client can send every 1000 and wants every 2000; server can every 500, wants every 3000
    assert.deepEqual(negotiateHeartBeat([1000, 2000], [500, 3000]), { send: 3000, receive: 2000 });
    // the server's view of the same exchange mirrors it
    assert.deepEqual(negotiateHeartBeat([500, 3000], [1000, 2000]), { send: 2000, receive: 3000 });
  });

  it('[1.2 Heart-beating] a 0 on either end switches that direction off', () => {
    assert.deepEqual(negotiateHeartBeat([0, 2000], [500, 3000]), { send: 0, receive: 2000 });
    assert.deepEqual(negotiateHeartBeat([1000, 2000], [0, 3000]), { send: 3000, receive: 0 });
    assert.deepEqual(negotiateHeartBeat([1000, 0], [500, 3000]), { send: 3000, receive: 0 });
    assert.deepEqual(negotiateHeartBeat([1000, 2000], [500, 0]), { send: 0, receive: 2000 });
    assert.deepEqual(negotiateHeartBeat([1000, 1000], [0, 0]), { send: 0, receive: 0 });
  });
});
