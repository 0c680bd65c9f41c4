// Fuzz the parser with random and mutated byte streams pushed in random chunks. Whatever the input,
// only frames, heart-beats or a StompError with a known code come out; the parser never buffers more
// than its limits allow; and the chunking never changes the outcome. A bounded number of runs
// keeps this well under a few seconds.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import {
  DEFAULT_LIMITS,
  ErrorCode,
  type Frame,
  FrameParser,
  type ParserLimits,
  StompError,
  type StompVersion,
} from '@stompede/core';
import { bytes, describeFrame, splitAt } from '@stompede/testkit';
import { versionArb } from './arbitraries.js';
import { limitsArb, mutate, mutationArb, sourceArb } from './mutations.js';

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

interface Outcome {
  frames: ReturnType<typeof describeFrame>[];
  heartbeats: number;
  code: string | undefined;
  offset: number | undefined;
}

/** Push `chunks`, checking after each push that only allowed things happened. */
function run(
  chunks: readonly Uint8Array[],
  version: StompVersion,
  limits: Partial<ParserLimits>,
  switchOnConnected: boolean,
): Outcome {
  const frames: ReturnType<typeof describeFrame>[] = [];
  let heartbeats = 0;
  const parser: FrameParser = new FrameParser(
    {
      onFrame: (frame: Frame) => {
        frames.push(describeFrame(frame));
        if (switchOnConnected && frame.command === 'CONNECTED') parser.setVersion('1.0');
      },
      onHeartbeat: () => {
        heartbeats++;
      },
    },
    { version, limits },
  );
  const max = { ...DEFAULT_LIMITS, ...limits };
  let code: string | undefined;
  let offset: number | undefined;
  const check = (err: unknown) => {
    assert.ok(err instanceof StompError, `not a StompError: ${inspect(err)}`);
    assert.ok(CODES.has(err.code), `unknown code ${err.code}`);
    code = err.code;
    offset = err.offset;
  };
  try {
    for (const chunk of chunks) {
      parser.push(chunk);
      assert.ok(parser.bufferedBytes <= max.maxFrameSize, 'buffered more than maxFrameSize');
      assert.ok(
        parser.bufferedBytes <= max.maxHeaderBytes + max.maxBodySize,
        'buffered more than the head and body limits',
      );
    }
    parser.end();
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    check(err);
    // A failed parser stays failed with the same error.
    assert.throws(
      () => {
        parser.push(Uint8Array.of(10));
      },
      (again: unknown) => again === err,
    );
  }
  return { frames, heartbeats, code, offset };
}

describe('codec fuzz', () => {
  it('mutated streams in random chunks give frames or a StompError, within limits [1.2 Augmented BNF]', () => {
    fc.assert(
      fc.property(
        sourceArb,
        fc.array(mutationArb, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        versionArb,
        limitsArb,
        fc.boolean(),
        (source, mutations, cuts, version, limits, switchOnConnected) => {
          const data = mutate(source, mutations);
          const whole = run([data], version, limits, switchOnConnected);
          const offsets = cuts.map((c) => c % (data.length + 1));
          const split = run(splitAt(data, offsets), version, limits, switchOnConnected);
          // Chunking changes nothing: same frames, same heart-beats, same error at the same offset.
          assert.deepEqual(split, whole);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('random bytes one at a time give frames or a StompError [1.2 STOMP Frames]', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        versionArb,
        limitsArb,
        (data, version, limits) => {
          const whole = run([data], version, limits, false);
          const bytewise = run(
            Array.from(data, (b) => Uint8Array.of(b)),
            version,
            limits,
            false,
          );
          assert.deepEqual(bytewise, whole);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('an endless header line or body is refused once it passes its limit [1.2 Size Limits]', () => {
    const limits = { maxHeaderLineLength: 100, maxBodySize: 1000, maxHeaderBytes: 500 };
    const line = run(
      [bytes('SEND\nx:'), ...Array.from({ length: 10_000 }, () => bytes('aaaaaaaaaa'))],
      '1.2',
      limits,
      false,
    );
    assert.equal(line.code, ErrorCode.HEADER_TOO_LARGE);
    const body = run(
      [bytes('SEND\n\n'), ...Array.from({ length: 10_000 }, () => bytes('bbbbbbbbbb'))],
      '1.2',
      limits,
      false,
    );
    assert.equal(body.code, ErrorCode.BODY_TOO_LARGE);
  });
});
