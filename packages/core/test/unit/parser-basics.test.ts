// Smoke tests of the frame codec's main paths; exhaustive rules live in the other codec tests.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ErrorCode, Frame, encodeFrameBytes, parseFrames, StompError } from '@stompede/core';
import { byteByByte, bytes, parseChunks } from '@stompede/testkit';

describe('parser basics [1.2 STOMP Frames]', () => {
  it('parses a frame split byte by byte, with heart-beats around it', () => {
    const out = parseChunks(byteByByte(bytes('\n\r\nSEND\ndestination:/queue/a\n\nhi\0\n')));
    assert.equal(out.error, undefined);
    assert.equal(out.frames.length, 1);
    assert.equal(out.heartbeats, 3);
    assert.equal(out.frames[0]!.command, 'SEND');
    assert.equal(out.frames[0]!.header('destination'), '/queue/a');
    assert.equal(out.frames[0]!.text, 'hi');
  });

  it('round-trips a frame with NUL bytes in its body via content-length', () => {
    const frame = new Frame('SEND', { destination: '/q' }, Uint8Array.of(1, 0, 2));
    const [back] = parseFrames(encodeFrameBytes(frame));
    assert.deepEqual(Array.from(back!.body), [1, 0, 2]);
    assert.equal(back!.header('content-length'), '3');
  });

  it('raises a coded error for a header line without a colon', () => {
    assert.throws(
      () => parseFrames(bytes('SEND\nnocolon\n\n\0')),
      (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_HEADER,
    );
  });
});
