// Unit tests of the serializer and of Frame: escaping per version, content-length modes, chunks
// that share the body, and typed refusals for what cannot be represented.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  encodeFrame,
  encodeFrameBytes,
  encodeFrames,
  encodeHeaderToken,
  ErrorCode,
  escapeHeader,
  Frame,
  HEARTBEAT_BYTES,
  type SerializerOptions,
  StompError,
  unescapeHeader,
} from '@stompede/core';

const decoder = new TextDecoder();

function wire(frame: Frame, options: SerializerOptions = {}): string {
  return decoder.decode(encodeFrameBytes(frame, options));
}

function refuses(frame: Frame, options: SerializerOptions, code: string, header?: string): void {
  assert.throws(
    () => encodeFrame(frame, options),
    (err: unknown) =>
      err instanceof StompError &&
      err.code === code &&
      err.frame === frame &&
      (header === undefined || err.header === header),
  );
}

describe('serializer escaping', () => {
  it('escapes CR, LF, colon and backslash in names and values [1.2 Value Encoding]', () => {
    const frame = new Frame('MESSAGE', [['a:b\\', '1\r2\n3:4\\5']]);
    assert.equal(wire(frame), 'MESSAGE\na\\cb\\\\:1\\r2\\n3\\c4\\\\5\n\n\0');
  });

  it('escapes LF, colon and backslash; CR stays raw inside a value [1.1 Value Encoding]', () => {
    const frame = new Frame('MESSAGE', [['a', 'x\ry:z\n\\']]);
    assert.equal(wire(frame, { version: '1.1' }), 'MESSAGE\na:x\ry\\cz\\n\\\\\n\n\0');
  });

  it('refuses a value ending in CR, which 1.1 cannot escape [1.1 Value Encoding]', () => {
    refuses(
      new Frame('SEND', [['a', 'x\r']]),
      { version: '1.1' },
      ErrorCode.INVALID_HEADER_VALUE,
      'a',
    );
    // A name ending in CR is followed by ':' and is fine.
    assert.equal(wire(new Frame('SEND', [['a\r', 'x']]), { version: '1.1' }), 'SEND\na\r:x\n\n\0');
  });

  it('writes headers as they are: colons in values and backslashes are data [1.0 Value Encoding]', () => {
    const frame = new Frame('SEND', [['a\\b', 'c:d\\n']]);
    assert.equal(wire(frame, { version: '1.0' }), 'SEND\na\\b:c:d\\n\n\n\0');
  });

  for (const version of ['1.0', '1.1', '1.2'] as const) {
    it(`never escapes CONNECT, STOMP and CONNECTED [${version} Value Encoding]`, () => {
      for (const command of ['CONNECT', 'STOMP', 'CONNECTED']) {
        const frame = new Frame(command, [['passcode', 'a:b\\c']]);
        assert.equal(wire(frame, { version }), `${command}\npasscode:a:b\\c\n\n\0`);
      }
    });

    it(`refuses what an unescaped frame cannot hold [${version} Value Encoding]`, () => {
      const options = { version };
      for (const [name, value] of [
        ['a:b', 'x'],
        ['a\nb', 'x'],
        ['a', 'x\ny'],
        ['a', 'x\r'],
        ['', 'x'],
      ] as const) {
        refuses(
          new Frame('CONNECT', [[name, value]]),
          options,
          ErrorCode.INVALID_HEADER_VALUE,
          name,
        );
      }
    });

    it(`refuses an empty name and unpaired surrogates [${version} Value Encoding]`, () => {
      for (const [name, value] of [
        ['', 'x'],
        ['a\ud800', 'x'],
        ['a', '\udc00b'],
        ['a', 'x\ud83d'],
      ] as const) {
        refuses(
          new Frame('SEND', [[name, value]]),
          { version },
          ErrorCode.INVALID_HEADER_VALUE,
          name,
        );
      }
      // A surrogate pair is fine.
      assert.equal(wire(new Frame('SEND', [['a', '😀']]), { version }), 'SEND\na:😀\n\n\0');
    });
  }

  it('refuses a command that is not a STOMP command, so no frame can be injected [1.2 Augmented BNF]', () => {
    for (const command of ['send', 'FOO', '', 'SEND\ndestination:/evil\n\nx\0SEND']) {
      refuses(new Frame(command), {}, ErrorCode.INVALID_COMMAND);
    }
  });

  it('escapeHeader returns its input when nothing needs escaping, and unescapeHeader inverts it [1.2 Value Encoding]', () => {
    const plain = '/queue/plain';
    assert.equal(escapeHeader(plain, '1.2'), plain);
    for (const text of ['a:b', 'x\\y', 'l\nf', 'c\rr', '\\c\\n']) {
      assert.equal(unescapeHeader(escapeHeader(text, '1.2'), '1.2'), text);
    }
  });
});

describe('serializer content-length', () => {
  const body = new Uint8Array([104, 105]);

  it('writes content-length for every body by default, none for an empty one [1.2 Header content-length]', () => {
    assert.equal(
      wire(new Frame('SEND', { destination: '/q' }, body)),
      'SEND\ndestination:/q\ncontent-length:2\n\nhi\0',
    );
    assert.equal(wire(new Frame('SEND', { destination: '/q' })), 'SEND\ndestination:/q\n\n\0');
  });

  it("mode 'always' writes content-length:0 too [1.2 Header content-length]", () => {
    assert.equal(
      wire(new Frame('SEND'), { contentLength: 'always' }),
      'SEND\ncontent-length:0\n\n\0',
    );
  });

  it("mode 'when-required' writes it only for bodies holding NUL [1.2 Header content-length]", () => {
    const options = { contentLength: 'when-required' } as const;
    assert.equal(wire(new Frame('SEND', {}, body), options), 'SEND\n\nhi\0');
    const nul = new Frame('SEND', {}, Uint8Array.of(1, 0, 2));
    assert.equal(wire(nul, options), 'SEND\ncontent-length:3\n\n\x01\0\x02\0');
  });

  for (const version of ['1.0', '1.1', '1.2'] as const) {
    it(`replaces a caller's content-length with the true one [${version} Header content-length]`, () => {
      const frame = new Frame(
        'SEND',
        [
          ['content-length', '99'],
          ['a', 'b'],
          ['content-length', '1'],
        ],
        body,
      );
      assert.equal(wire(frame, { version }), 'SEND\na:b\ncontent-length:2\n\nhi\0');
    });
  }

  it('drops a padded content-length that a 1.0 peer would trim into the real one [1.0 Header content-length]', () => {
    const frame = new Frame('SEND', [[' content-length\t', '99']], body);
    assert.equal(wire(frame, { version: '1.0' }), 'SEND\ncontent-length:2\n\nhi\0');
  });
});

describe('serializer chunks', () => {
  it('returns [head, body, NUL] with the body itself, not a copy [1.2 STOMP Frames]', () => {
    const body = Uint8Array.of(1, 2, 3);
    const chunks = encodeFrame(new Frame('SEND', {}, body));
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1], body);
    assert.deepEqual(Array.from(chunks[2]!), [0]);
  });

  it('returns only the head, NUL included, for an empty body [1.2 STOMP Frames]', () => {
    const chunks = encodeFrame(new Frame('DISCONNECT', { receipt: '1' }));
    assert.equal(chunks.length, 1);
    assert.equal(decoder.decode(chunks[0]), 'DISCONNECT\nreceipt:1\n\n\0');
  });

  it('encodes many frames into one list of chunks, and a heart-beat is one LF [1.2 Heart-beating]', () => {
    const chunks = encodeFrames([
      new Frame('SEND', {}, 'a'),
      new Frame('BEGIN', { transaction: 't' }),
    ]);
    assert.equal(chunks.length, 4);
    assert.deepEqual(Array.from(HEARTBEAT_BYTES), [10]);
  });
});

describe('Frame', () => {
  it('takes headers as pairs (repeats kept) or as an object [1.2 Repeated Header Entries]', () => {
    const pairs = new Frame('SEND', [
      ['a', '1'],
      ['a', '2'],
    ]);
    assert.deepEqual(pairs.headers, [
      ['a', '1'],
      ['a', '2'],
    ]);
    assert.equal(pairs.header('a'), '1');
    const object = new Frame('SEND', { a: 1, b: true, c: undefined, d: 'x' });
    assert.deepEqual(object.rawHeaders, ['a', '1', 'b', 'true', 'd', 'x']);
    assert.equal(object.header('c'), undefined);
  });

  it('encodes a text body as UTF-8 and decodes it back [1.2 Header content-type]', () => {
    const frame = new Frame('SEND', {}, 'héllo 😀');
    assert.equal(frame.body.length, 11);
    assert.equal(frame.text, 'héllo 😀');
    assert.equal(new Frame('SEND').text, '');
  });

  it('with() copies the command and keeps the body unless given [1.2 STOMP Frames]', () => {
    const frame = new Frame('SEND', { a: '1' }, 'x');
    const other = frame.with({ b: '2' });
    assert.equal(other.command, 'SEND');
    assert.equal(other.header('a'), undefined);
    assert.equal(other.body, frame.body);
    assert.equal(frame.with({}, 'y').text, 'y');
  });
});

describe('encodeHeaderToken: the one rule for what a header can hold', () => {
  function fault(result: string | StompError): StompError {
    assert.ok(result instanceof StompError, `expected an error, got ${JSON.stringify(result)}`);
    assert.equal(result.code, ErrorCode.INVALID_HEADER_VALUE);
    return result;
  }

  it('returns the token itself when it needs nothing [1.2 Value Encoding]', () => {
    const text = '/queue/a.b-c_d';
    for (const version of ['1.0', '1.1', '1.2'] as const) {
      assert.equal(encodeHeaderToken(text, version), text);
      assert.equal(encodeHeaderToken(text, version, { name: true }), text);
    }
    assert.equal(encodeHeaderToken('', '1.2'), '');
  });

  it('escapes where the frame is escaped, as the serializer does [1.2 Value Encoding]', () => {
    assert.equal(encodeHeaderToken('a:b\\c\nd\r', '1.2'), 'a\\cb\\\\c\\nd\\r');
    assert.equal(encodeHeaderToken('a:b\r', '1.1', { name: true }), 'a\\cb\r');
  });

  it('refuses a trailing CR in 1.1, which has no escape for it [1.1 Value Encoding]', () => {
    const err = fault(encodeHeaderToken('x\r', '1.1', { header: 'h' }));
    assert.equal(err.header, 'h');
    assert.match(err.message, /1\.1/);
  });

  it('refuses LF, a colon in a name and a trailing CR where nothing is escaped [1.0 Value Encoding]', () => {
    // 1.0 escapes nothing; from 1.1 on, CONNECT, STOMP and CONNECTED are not escaped.
    const unescaped = [
      ['1.0', {}],
      ['1.2', { escape: false }],
    ] as const;
    for (const [version, options] of unescaped) {
      fault(encodeHeaderToken('a\nb', version, options));
      fault(encodeHeaderToken('a:b', version, { ...options, name: true }));
      fault(encodeHeaderToken('ab\r', version, options));
      // A colon in a value and a CR inside one are written as they are.
      assert.equal(encodeHeaderToken('a:b', version, options), 'a:b');
      assert.equal(encodeHeaderToken('a\rb', version, options), 'a\rb');
    }
  });

  it('refuses an empty name and an unpaired surrogate in every version [1.2 Value Encoding]', () => {
    for (const version of ['1.0', '1.1', '1.2'] as const) {
      assert.equal(fault(encodeHeaderToken('', version, { name: true })).header, '');
      fault(encodeHeaderToken('a\ud800', version));
      fault(encodeHeaderToken('\udc00', version, { name: true }));
      assert.equal(encodeHeaderToken('😀', version), '😀');
    }
  });

  it('the serializer throws the same error, with the frame and header', () => {
    const frame = new Frame('MESSAGE', [['h', 'x\r']]);
    const expected = fault(encodeHeaderToken('x\r', '1.1', { header: 'h', frame }));
    assert.throws(
      () => encodeFrame(frame, { version: '1.1' }),
      (err: unknown) =>
        err instanceof StompError &&
        err.code === expected.code &&
        err.message === expected.message &&
        err.frame === frame &&
        err.header === 'h',
    );
  });
});
