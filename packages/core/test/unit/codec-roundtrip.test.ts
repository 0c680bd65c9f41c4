// Property tests: serialize-then-parse is the identity in every version, and a frame the
// serializer cannot represent is refused with a typed error instead of being corrupted.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import {
  type ContentLengthMode,
  encodeFrameBytes,
  ErrorCode,
  Frame,
  parseFrames,
  StompError,
  type StompVersion,
} from '@stompede/core';
import { describeFrame, parseChunks } from '@stompede/testkit';
import { bodyArb, commandArb, frameArb, versionArb } from '../fuzz/arbitraries.js';

const MODES: readonly ContentLengthMode[] = ['auto', 'always', 'when-required'];

function escapes(command: string, version: StompVersion): boolean {
  return (
    version !== '1.0' && command !== 'CONNECT' && command !== 'CONNECTED' && command !== 'STOMP'
  );
}

/** SP and HTAB only: what 1.0 peers pad with. */
function trimPadding(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}

/** Can this header be written, independently of the implementation's own checks? */
function representable(command: string, version: StompVersion, name: string, value: string) {
  if (name.length === 0) return false;
  if (escapes(command, version)) {
    // 1.1 has no escape for CR: a value ending in CR would read as a CRLF line end.
    return !(version === '1.1' && value.endsWith('\r'));
  }
  return !(
    name.includes(':') ||
    name.includes('\n') ||
    value.includes('\n') ||
    value.endsWith('\r')
  );
}

/** The frame the parser should return for `frame` written with `mode` in `version`. */
function expected(frame: Frame, version: StompVersion, mode: ContentLengthMode) {
  const isLength = (name: string) =>
    (version === '1.0' ? trimPadding(name) : name) === 'content-length';
  const headers: [string, string][] = frame.headers
    .filter(([name]) => !isLength(name))
    .map(([n, v]) => [n, v]);
  const body = frame.body;
  if (mode === 'always' || (body.length > 0 && (mode === 'auto' || body.includes(0)))) {
    headers.push(['content-length', String(body.length)]);
  }
  const keepsPadding =
    (frame.command === 'CONNECT' || frame.command === 'STOMP') &&
    headers.some(([name]) => name === 'accept-version');
  const trimmed =
    version === '1.0' && !keepsPadding
      ? headers.map(([n, v]) => [trimPadding(n), trimPadding(v)])
      : headers;
  return { command: frame.command, headers: trimmed, body: Array.from(body) };
}

function checkRoundTrip(frame: Frame, version: StompVersion, mode: ContentLengthMode): void {
  // content-length headers are dropped (the serializer writes the true length), so never refused.
  const isLength = (name: string) =>
    (version === '1.0' ? trimPadding(name) : name) === 'content-length';
  const ok = frame.headers.every(
    ([n, v]) => isLength(n) || representable(frame.command, version, n, v),
  );
  let encoded: Uint8Array;
  try {
    encoded = encodeFrameBytes(frame, { version, contentLength: mode });
  } catch (err) {
    assert.ok(err instanceof StompError, `not a StompError: ${inspect(err)}`);
    assert.equal(err.code, ErrorCode.INVALID_HEADER_VALUE);
    assert.equal(ok, false, `refused a representable frame: ${err.message}`);
    return;
  }
  assert.equal(ok, true, 'encoded a frame that cannot be represented');
  const out = parseChunks([encoded], { version });
  assert.equal(out.error, undefined);
  assert.equal(out.frames.length, 1);
  assert.deepEqual(describeFrame(out.frames[0]!), expected(frame, version, mode));
}

describe('serialize then parse', () => {
  for (const version of ['1.0', '1.1', '1.2'] as const) {
    for (const mode of MODES) {
      it(`is the identity, or a typed refusal [${version} Value Encoding] (content-length ${mode})`, () => {
        fc.assert(
          fc.property(frameArb, (frame) => {
            checkRoundTrip(frame, version, mode);
          }),
          { numRuns: 400 },
        );
      });
    }
  }

  it('keeps repeated headers in order, first wins on lookup [1.2 Repeated Header Entries]', () => {
    fc.assert(
      fc.property(
        commandArb.filter((c) => c !== 'CONNECT' && c !== 'CONNECTED' && c !== 'STOMP'),
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 5 }),
        versionArb.filter((v) => v !== '1.0'),
        (command, values, version) => {
          const frame = new Frame(
            command,
            values.map((v) => ['foo', v] as const),
          );
          const [back] = parseFrames(encodeFrameBytes(frame, { version }), { version });
          assert.equal(back!.header('foo'), values[0]);
          assert.deepEqual(back!.headerAll('foo'), values);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a leading U+FEFF in a header value and a text body (it is not a byte order mark)', () => {
    const wire = new TextEncoder().encode('SEND\ndestination:/queue/a\nx:\uFEFFv\n\n\uFEFFbody\0');
    const [frame] = parseFrames(wire);
    assert.equal(frame!.header('x'), '\uFEFFv');
    assert.equal(frame!.text, '\uFEFFbody');
  });

  it('round-trips any binary body, NUL octets included [1.2 Header content-length]', () => {
    fc.assert(
      fc.property(versionArb, bodyArb, (version, body) => {
        const frame = new Frame('SEND', { destination: '/queue/a' }, body);
        const [back] = parseFrames(encodeFrameBytes(frame, { version }), { version });
        assert.deepEqual(Array.from(back!.body), Array.from(body));
      }),
      { numRuns: 200 },
    );
  });
});
