// The neutral Message codec (message-codec.ts): whatever a message holds comes back from its
// bytes, and bytes that are not an encoded message are refused with a coded error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Message, decodeMessage, encodeMessage } from '@stompede/broker';
import { ErrorCode, StompError } from '@stompede/core';

const message = fc
  .record({
    destination: fc.string({ minLength: 1, unit: 'grapheme' }),
    headers: fc.array(fc.tuple(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' })), {
      maxLength: 8,
    }),
    body: fc.uint8Array({ maxLength: 2048 }),
    persistent: fc.boolean(),
    priority: fc.integer({ min: 0, max: 9 }),
    expires: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 52 })),
  })
  .map(
    (m) =>
      new Message(m.destination, m.headers.flat(), m.body, {
        persistent: m.persistent,
        priority: m.priority,
        expires: m.expires,
      }),
  );

function same(a: Message, b: Message): void {
  assert.equal(b.destination, a.destination);
  assert.deepEqual(b.headers, a.headers);
  assert.deepEqual(Buffer.from(b.body), Buffer.from(a.body));
  assert.equal(b.persistent, a.persistent);
  assert.equal(b.priority, a.priority);
  assert.equal(b.expires, a.expires);
  assert.equal(b.size, a.size);
}

const refused = (err: unknown): boolean =>
  err instanceof StompError && err.code === ErrorCode.INVALID_ARGUMENT;

describe('message codec', () => {
  test('[Codec] every message comes back from its bytes', () => {
    fc.assert(
      fc.property(message, (m) => {
        same(m, decodeMessage(encodeMessage(m)));
      }),
    );
  });

  test('[Codec] a message decoded from a larger buffer keeps only its own body once owned', () => {
    const m = new Message('/queue/a', ['k', 'v'], Buffer.from('body'));
    const bytes = encodeMessage(m);
    const big = Buffer.alloc(bytes.length + 100, 0xee);
    bytes.copy(big, 50);
    const back = decodeMessage(big.subarray(50, 50 + bytes.length));
    back.own();
    big.fill(0);
    assert.equal(Buffer.from(back.body).toString(), 'body');
  });

  test('[Codec] truncated or extended bytes are refused with ERR_STOMP_INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const bytes = encodeMessage(m);
        const short = bytes.subarray(0, cut % bytes.length);
        assert.throws(() => decodeMessage(short), refused);
        assert.throws(() => decodeMessage(Buffer.concat([bytes, Buffer.of(0)])), refused);
      }),
    );
  });

  test('[Codec] an unknown format or an out-of-range priority is refused', () => {
    const bytes = encodeMessage(new Message('/queue/a', [], Buffer.from('x')));
    const format = Buffer.from(bytes);
    format[0] = 2;
    assert.throws(() => decodeMessage(format), refused);
    const priority = Buffer.from(bytes);
    priority[2] = 10;
    assert.throws(() => decodeMessage(priority), refused);
  });
});
