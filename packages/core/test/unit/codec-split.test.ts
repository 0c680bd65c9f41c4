// Property tests: however a byte stream of frames and heart-beats is cut into chunks, the parser
// reports the same frames and heart-beats in the same order.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrameBytes, Frame } from '@stompede/core';
import { byteByByte, describeFrame, parseChunks, splitAt } from '@stompede/testkit';
import { cutsArb, encodableIn, streamArb } from '../fuzz/arbitraries.js';

type Event = ReturnType<typeof describeFrame> | 'heartbeat';

function events(out: ReturnType<typeof parseChunks>): Event[] {
  return out.events.map((e) => (e === 'heartbeat' ? e : describeFrame(e)));
}

describe('chunking does not change what the parser reports', () => {
  for (const version of ['1.0', '1.1', '1.2'] as const) {
    it(`any split gives the same frames and heart-beats [${version} STOMP Frames]`, () => {
      fc.assert(
        fc.property(streamArb(version, encodableIn(version)), cutsArb(), (stream, cuts) => {
          const whole = parseChunks([stream.bytes], { version });
          assert.equal(whole.error, undefined);
          assert.equal(whole.frames.length, stream.frames.length);
          assert.equal(whole.heartbeats, stream.heartbeats);
          const offsets = cuts.map((c) => c % (stream.bytes.length + 1));
          const split = parseChunks(splitAt(stream.bytes, offsets), { version });
          assert.equal(split.error, undefined);
          assert.deepEqual(events(split), events(whole));
        }),
        { numRuns: 300 },
      );
    });

    it(`byte-by-byte gives the same frames and heart-beats [${version} Augmented BNF]`, () => {
      fc.assert(
        fc.property(streamArb(version), (stream) => {
          const whole = parseChunks([stream.bytes], { version });
          const bytewise = parseChunks(byteByByte(stream.bytes), { version });
          assert.equal(bytewise.error, undefined);
          assert.deepEqual(events(bytewise), events(whole));
          assert.equal(bytewise.heartbeats, stream.heartbeats);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('a frame whose body starts with NUL bytes is not confused with heart-beats [1.2 Header content-length]', () => {
    const frame = new Frame('MESSAGE', { a: 'b' }, Uint8Array.of(0, 0, 10, 0));
    const data = encodeFrameBytes(frame);
    for (let cut = 0; cut <= data.length; cut++) {
      const out = parseChunks(splitAt(data, [cut]));
      assert.equal(out.error, undefined);
      assert.deepEqual(Array.from(out.frames[0]!.body), [0, 0, 10, 0]);
    }
  });
});
