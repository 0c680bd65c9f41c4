// Parser limits: every violation is a typed error raised as soon as the offending byte is seen,
// before anything past the limit is buffered.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  DEFAULT_LIMITS,
  ErrorCode,
  FrameParser,
  type ParserLimits,
  StompError,
} from '@stompede/core';
import { bytes, parseChunks } from '@stompede/testkit';

interface Pushed {
  /** Index of the push that threw, or -1. */
  threwAt: number;
  error: StompError | undefined;
  maxBuffered: number;
  frames: number;
}

/** Push chunks one at a time, recording the largest `bufferedBytes` and where it threw. */
function pushAll(chunks: readonly Uint8Array[], limits: Partial<ParserLimits>): Pushed {
  let frames = 0;
  const parser = new FrameParser({ onFrame: () => frames++ }, { limits });
  let maxBuffered = 0;
  for (let i = 0; i < chunks.length; i++) {
    try {
      parser.push(chunks[i]!);
    } catch (err) {
      assert.ok(err instanceof StompError);
      return { threwAt: i, error: err, maxBuffered, frames };
    }
    maxBuffered = Math.max(maxBuffered, parser.bufferedBytes);
  }
  return { threwAt: -1, error: undefined, maxBuffered, frames };
}

function repeat(text: string, times: number): Uint8Array[] {
  return Array.from({ length: times }, () => bytes(text));
}

describe('parser limits', () => {
  it('refuses a 1 GiB content-length at once, before any body byte [1.2 Size Limits]', () => {
    const out = pushAll([bytes(`SEND\ncontent-length:${String(1024 ** 3)}\n\n`)], {});
    assert.equal(out.threwAt, 0);
    assert.equal(out.error?.code, ErrorCode.BODY_TOO_LARGE);
    assert.equal(out.error.offset, 32); // where the body would start
  });

  it('refuses a content-length too large for a number as too large, not malformed [1.2 Size Limits]', () => {
    const out = pushAll([bytes('SEND\ncontent-length:99999999999999999999999\n\n')], {});
    assert.equal(out.error?.code, ErrorCode.BODY_TOO_LARGE);
  });

  it('refuses a never-ending header line once it passes the line limit [1.2 Size Limits]', () => {
    const out = pushAll([bytes('SEND\nx:'), ...repeat('aaaaaaaaaa', 1000)], {
      maxHeaderLineLength: 100,
    });
    // 'x:' + 10 chunks of 10 = 102 bytes: the 10th chunk is the first over the limit.
    assert.equal(out.threwAt, 10);
    assert.equal(out.error?.code, ErrorCode.HEADER_TOO_LARGE);
    assert.equal(out.error.offset, 5 + 100);
    assert.ok(out.maxBuffered <= 5 + 100);
  });

  it('refuses a never-ending command line the same way [1.2 Size Limits]', () => {
    const out = pushAll(repeat('AAAAAAAA', 100), { maxHeaderLineLength: 64 });
    assert.equal(out.threwAt, 8);
    assert.equal(out.error?.code, ErrorCode.HEADER_TOO_LARGE);
  });

  it('accepts a header line exactly at the limit, CR included [1.2 Size Limits]', () => {
    const line = 'x:' + 'a'.repeat(8);
    assert.equal(
      parseChunks([bytes(`SEND\r\n${line}\n\n\0`)], { limits: { maxHeaderLineLength: 10 } }).error,
      undefined,
    );
    const crlf = parseChunks([bytes(`SEND\r\n${line}\r\n\n\0`)], {
      limits: { maxHeaderLineLength: 10 },
    });
    assert.equal((crlf.error as StompError).code, ErrorCode.HEADER_TOO_LARGE);
  });

  it('refuses more headers than maxHeaders, and accepts exactly that many [1.2 Size Limits]', () => {
    const head = (n: number) => 'SEND\n' + 'a:b\n'.repeat(n) + '\n\0';
    assert.equal(parseChunks([bytes(head(5))], { limits: { maxHeaders: 5 } }).error, undefined);
    const out = pushAll([bytes('SEND\n'), ...repeat('a:b\n', 1000)], { maxHeaders: 5 });
    assert.equal(out.threwAt, 6);
    assert.equal(out.error?.code, ErrorCode.TOO_MANY_HEADERS);
  });

  it('refuses a head larger than maxHeaderBytes as it arrives [1.2 Size Limits]', () => {
    const out = pushAll([bytes('SEND\n'), ...repeat('abc:def\n', 1000)], { maxHeaderBytes: 100 });
    assert.equal(out.error?.code, ErrorCode.HEADER_TOO_LARGE);
    assert.equal(out.threwAt, 12);
    assert.ok(out.maxBuffered <= 100);
  });

  it('refuses a body without NUL once it passes maxBodySize [1.2 Size Limits]', () => {
    const out = pushAll([bytes('SEND\n\n'), ...repeat('0123456789', 1000)], { maxBodySize: 95 });
    assert.equal(out.threwAt, 10);
    assert.equal(out.error?.code, ErrorCode.BODY_TOO_LARGE);
    assert.equal(out.error.offset, 6 + 95);
    assert.ok(out.maxBuffered <= 6 + 95);
  });

  it('accepts bodies exactly at maxBodySize, with and without content-length [1.2 Size Limits]', () => {
    const limits = { maxBodySize: 4 };
    assert.equal(parseChunks([bytes('SEND\n\nabcd\0')], { limits }).error, undefined);
    assert.equal(
      parseChunks([bytes('SEND\ncontent-length:4\n\nabcd\0')], { limits }).error,
      undefined,
    );
    const over = parseChunks([bytes('SEND\ncontent-length:5\n\n')], { limits });
    assert.equal((over.error as StompError).code, ErrorCode.BODY_TOO_LARGE);
  });

  it('counts head, body and NUL against maxFrameSize [1.2 Size Limits]', () => {
    const frame = 'SEND\n\nabcd\0'; // 11 bytes
    assert.equal(parseChunks([bytes(frame)], { limits: { maxFrameSize: 11 } }).error, undefined);
    const out = parseChunks([bytes(frame)], { limits: { maxFrameSize: 10 } });
    assert.equal((out.error as StompError).code, ErrorCode.FRAME_TOO_LARGE);
    const fixed = parseChunks([bytes('SEND\ncontent-length:4\n\n')], {
      limits: { maxFrameSize: 27 },
    });
    assert.equal((fixed.error as StompError).code, ErrorCode.FRAME_TOO_LARGE);
    const head = parseChunks([bytes('SEND\nabc:def\n')], { limits: { maxFrameSize: 8 } });
    assert.equal((head.error as StompError).code, ErrorCode.FRAME_TOO_LARGE);
  });

  it('reassembles a large content-length body sent in small and large pieces [1.2 Header content-length]', () => {
    const size = 300 * 1024;
    const body = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
    const data = Uint8Array.from([
      ...bytes(`MESSAGE\ncontent-length:${String(size)}\n\n`),
      ...body,
      0,
    ]);
    // Pieces of 1 byte, then ever larger ones, across the point where the body buffer is allocated.
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (let n = 1; at < data.length; n = n * 2 > 40000 ? 1 : n * 2) {
      chunks.push(data.subarray(at, at + n));
      at += n;
    }
    const out = parseChunks(chunks);
    assert.equal(out.error, undefined);
    assert.deepEqual(out.frames[0]!.body, body);
  });

  it('reassembles a body without content-length sent one byte at a time [1.2 STOMP Frames]', () => {
    const text = 'x'.repeat(20_000);
    const data = bytes(`SEND\n\n${text}\0`);
    const out = parseChunks(Array.from(data, (b) => Uint8Array.of(b)));
    assert.equal(out.frames[0]!.text, text);
  });

  it('rejects limits that are not positive integers, and unknown ones [1.2 Size Limits]', () => {
    for (const limits of [
      { maxBodySize: 0 },
      { maxBodySize: -1 },
      { maxHeaders: 1.5 },
      { maxFrameSize: Number.NaN },
      { maxHeaderBytes: '10' as unknown as number },
      { maxBodySise: 10 } as Partial<ParserLimits>,
    ]) {
      assert.throws(
        () => new FrameParser({ onFrame: () => undefined }, { limits }),
        (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_ARGUMENT,
      );
    }
  });

  it('has frozen, bounded defaults [1.2 Size Limits]', () => {
    assert.ok(Object.isFrozen(DEFAULT_LIMITS));
    assert.ok(DEFAULT_LIMITS.maxFrameSize >= DEFAULT_LIMITS.maxBodySize);
    for (const value of Object.values(DEFAULT_LIMITS)) {
      assert.ok(Number.isSafeInteger(value) && value > 0 && value <= 1024 ** 3);
    }
  });
});
