// Unit tests of the parser, one rule at a time, in each version where the rule differs.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  ErrorCode,
  type Frame,
  FrameParser,
  parseFrames,
  StompError,
  StompProtocolError,
  type StompVersion,
} from '@stompede/core';
import { byteByByte, bytes, parseChunks } from '@stompede/testkit';

/** Parse `text` whole and byte by byte; both must agree. Returns the whole-chunk outcome. */
function parse(text: string | Uint8Array, version: StompVersion = '1.2') {
  const data = typeof text === 'string' ? bytes(text) : text;
  const whole = parseChunks([data], { version });
  const split = parseChunks(byteByByte(data), { version });
  assert.equal(split.frames.length, whole.frames.length);
  assert.equal(split.heartbeats, whole.heartbeats);
  assert.equal(codeOf(split.error), codeOf(whole.error));
  return whole;
}

function codeOf(err: unknown): string | undefined {
  if (err === undefined) return undefined;
  assert.ok(err instanceof StompError, `not a StompError: ${inspect(err)}`);
  return err.code;
}

function one(text: string, version: StompVersion = '1.2'): Frame {
  const out = parse(text, version);
  assert.equal(out.error, undefined, String(out.error));
  assert.equal(out.frames.length, 1);
  return out.frames[0]!;
}

function fails(text: string, code: string, version: StompVersion = '1.2') {
  const out = parse(text, version);
  assert.equal(codeOf(out.error), code);
  return out;
}

const ALL: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

describe('frames and line ends', () => {
  for (const version of ALL) {
    it(`reads LF and CRLF line ends [${version} STOMP Frames]`, () => {
      for (const eol of ['\n', '\r\n']) {
        const f = one(`SEND${eol}destination:/q${eol}a:b${eol}${eol}hello\0`, version);
        assert.equal(f.command, 'SEND');
        assert.deepEqual(f.headers, [
          ['destination', '/q'],
          ['a', 'b'],
        ]);
        assert.equal(f.text, 'hello');
      }
    });

    it(`reads many frames from one chunk, and heart-beats between them [${version} Heart-beating]`, () => {
      const out = parse('\nSEND\n\na\0\n\nMESSAGE\n\nb\0RECEIPT\nreceipt-id:1\n\n\0\n', version);
      assert.equal(out.error, undefined);
      assert.deepEqual(
        out.events.map((e) => (e === 'heartbeat' ? e : e.command)),
        ['heartbeat', 'SEND', 'heartbeat', 'heartbeat', 'MESSAGE', 'RECEIPT', 'heartbeat'],
      );
    });
  }

  it('reports a CRLF heart-beat as one heart-beat [1.2 Heart-beating]', () => {
    const out = parse('\r\n\r\nSEND\n\n\0\r\n');
    assert.equal(out.error, undefined);
    assert.equal(out.heartbeats, 3);
  });

  it('refuses a CR between frames that no LF follows [1.2 Augmented BNF]', () => {
    fails('\rSEND\n\n\0', ErrorCode.INVALID_EOL);
    fails('SEND\n\n\0\r\r', ErrorCode.INVALID_EOL);
  });

  it('refuses unknown, lower-case and padded commands, and a NUL instead of one [1.2 STOMP Frames]', () => {
    fails('FOO\n\n\0', ErrorCode.INVALID_COMMAND);
    fails('send\n\n\0', ErrorCode.INVALID_COMMAND);
    fails('SEND \n\n\0', ErrorCode.INVALID_COMMAND);
    fails('\0', ErrorCode.INVALID_COMMAND);
  });

  it('knows every command [1.2 Augmented BNF]', () => {
    for (const c of [
      'CONNECT',
      'STOMP',
      'CONNECTED',
      'SEND',
      'SUBSCRIBE',
      'UNSUBSCRIBE',
      'ACK',
      'NACK',
      'BEGIN',
      'COMMIT',
      'ABORT',
      'DISCONNECT',
      'MESSAGE',
      'RECEIPT',
      'ERROR',
    ]) {
      assert.equal(one(`${c}\n\n\0`).command, c);
    }
  });

  it('reports a frame cut off by the end of the stream [1.2 STOMP Frames]', () => {
    for (const text of [
      'S',
      'SEND',
      'SEND\n',
      'SEND\na:b\n',
      'SEND\n\nbody',
      'SEND\ncontent-length:2\n\nab',
    ]) {
      fails(text, ErrorCode.TRUNCATED_FRAME);
    }
    // Between frames the stream may end anywhere, even after a lone CR.
    assert.equal(parse('SEND\n\n\0\n\r').error, undefined);
  });

  it('delivers the frames before a malformed one, then stays failed [1.2 STOMP Frames]', () => {
    const frames: string[] = [];
    const parser = new FrameParser({ onFrame: (f) => frames.push(f.command) });
    let error: unknown;
    try {
      parser.push(bytes('SEND\n\na\0MESSAGE\n\nb\0BOGUS\n\n\0SEND\n\n\0'));
    } catch (err) {
      error = err;
    }
    assert.deepEqual(frames, ['SEND', 'MESSAGE']);
    assert.ok(error instanceof StompProtocolError);
    assert.equal(error.code, ErrorCode.INVALID_COMMAND);
    assert.equal(error.offset, 19);
    assert.equal(parser.error, error);
    assert.throws(
      () => {
        parser.push(bytes('\n'));
      },
      (again: unknown) => again === error,
    );
    assert.throws(
      () => {
        parser.end();
      },
      (again: unknown) => again === error,
    );
  });

  it('wraps an exception from the handler in a typed error [1.2 STOMP Frames]', () => {
    const cause = new TypeError('boom');
    const parser = new FrameParser({
      onFrame: () => {
        throw cause;
      },
    });
    assert.throws(
      () => {
        parser.push(bytes('SEND\n\n\0'));
      },
      (err: unknown) =>
        err instanceof StompError && err.code === ErrorCode.PARSER_FAILED && err.cause === cause,
    );
  });

  it('gives the stream offset of the bad byte, however the stream was chunked [1.2 STOMP Frames]', () => {
    const data = bytes('SEND\n\n\0\nSEND\na:b\nnocolon\n\n\0');
    for (const chunks of [[data], byteByByte(data)]) {
      const { error } = parseChunks(chunks);
      assert.ok(error instanceof StompError);
      assert.equal(error.code, ErrorCode.INVALID_HEADER);
      assert.equal(error.offset, 17);
    }
  });
});

describe('headers', () => {
  for (const version of ALL) {
    it(`refuses a header line without ':' or with an empty name [${version} Augmented BNF]`, () => {
      fails('SEND\nnocolon\n\n\0', ErrorCode.INVALID_HEADER, version);
      fails('SEND\n:value\n\n\0', ErrorCode.INVALID_HEADER, version);
    });

    it(`splits a header at its first colon [${version} Augmented BNF]`, () => {
      const f = one('CONNECT\nhost:a:b:c\nlogin:\n\n\0', version);
      assert.equal(f.header('host'), 'a:b:c');
      assert.equal(f.header('login'), '');
    });

    it(`keeps repeated headers in order; the first wins [${version} Repeated Header Entries]`, () => {
      const f = one('MESSAGE\nfoo:World\nfoo:Hello\nbar:1\n\n\0', version);
      assert.equal(f.header('foo'), 'World');
      assert.deepEqual(f.headerAll('foo'), ['World', 'Hello']);
      assert.deepEqual({ ...f.headerObject() }, { foo: 'World', bar: '1' });
      assert.deepEqual(f.rawHeaders, ['foo', 'World', 'foo', 'Hello', 'bar', '1']);
      assert.equal(f.has('bar'), true);
      assert.equal(f.has('baz'), false);
    });
  }

  it('decodes UTF-8 names and values, long ones included [1.2 Value Encoding]', () => {
    const long = 'é'.repeat(100);
    const f = one(`SEND\nnämé:välüe 😀\nx:${long}\n\n\0`);
    assert.equal(f.header('nämé'), 'välüe 😀');
    assert.equal(f.header('x'), long);
  });

  for (const version of ['1.1', '1.2'] as const) {
    it(`never trims header names or values [${version} Value Encoding]`, () => {
      const f = one('SEND\n name : value \n\n\0', version);
      assert.deepEqual(f.headers, [[' name ', ' value ']]);
    });
  }

  it('trims the spaces and tabs 1.0 peers pad headers with [1.0 STOMP Frames]', () => {
    const f = one('SEND\n destination : /queue/a \t\nx:\u00a0nbsp\u00a0\n\n\0', '1.0');
    assert.equal(f.header('destination'), '/queue/a');
    // Only SP and HTAB are padding: other white space is data.
    assert.equal(f.header('x'), '\u00a0nbsp\u00a0');
  });

  it('does not trim a CONNECT from a 1.1+ client read as 1.0 [1.2 Value Encoding]', () => {
    const f = one('CONNECT\naccept-version:1.2\npasscode: secret \n\n\0', '1.0');
    assert.equal(f.header('passcode'), ' secret ');
  });
});

describe('header value escaping', () => {
  it('decodes \\r \\n \\c \\\\ in names and values [1.2 Value Encoding]', () => {
    const f = one('MESSAGE\na\\cb:1\\r2\\n3\\c4\\\\5\n\n\0');
    assert.deepEqual(f.headers, [['a:b', '1\r2\n3:4\\5']]);
  });

  it('decodes \\n \\c \\\\ and refuses \\r [1.1 Value Encoding]', () => {
    const f = one('MESSAGE\na\\cb:2\\n3\\c4\\\\5\n\n\0', '1.1');
    assert.deepEqual(f.headers, [['a:b', '2\n3:4\\5']]);
    fails('MESSAGE\nx:1\\r2\n\n\0', ErrorCode.INVALID_ESCAPE, '1.1');
  });

  for (const version of ['1.1', '1.2'] as const) {
    it(`refuses undefined escapes and a trailing backslash [${version} Value Encoding]`, () => {
      for (const line of ['x:\\t', 'x:a\\', 'x\\:1', 'x:\\x41', 'x:\\C']) {
        const out = fails(`SEND\n${line}\n\n\0`, ErrorCode.INVALID_ESCAPE, version);
        const err = out.error as StompError;
        assert.equal(err.offset, 5);
      }
    });

    it(`never unescapes CONNECT, STOMP and CONNECTED [${version} Value Encoding]`, () => {
      for (const command of ['CONNECT', 'STOMP', 'CONNECTED']) {
        const f = one(`${command}\npasscode:a\\tb\\nc\\\\\n\n\0`, version);
        assert.equal(f.header('passcode'), 'a\\tb\\nc\\\\');
      }
    });
  }

  it('has no escapes: backslashes are data [1.0 Value Encoding]', () => {
    const f = one('SEND\nx:a\\tb\\c\\\n\n\0', '1.0');
    assert.equal(f.header('x'), 'a\\tb\\c\\');
  });

  it('keeps a CR inside a value when no LF follows it [1.1 Augmented BNF]', () => {
    const f = one('SEND\nx:a\rb\n\n\0', '1.1');
    assert.equal(f.header('x'), 'a\rb');
  });
});

describe('bodies', () => {
  for (const version of ALL) {
    it(`reads content-length octets, NULs included [${version} Header content-length]`, () => {
      const data = Uint8Array.from([...bytes('SEND\ncontent-length:4\n\n'), 0, 1, 0, 2, 0]);
      const out = parse(data, version);
      assert.equal(out.error, undefined);
      assert.deepEqual(Array.from(out.frames[0]!.body), [0, 1, 0, 2]);
    });

    it(`ends a body without content-length at the first NUL [${version} STOMP Frames]`, () => {
      const out = parse('SEND\n\nab\0cd\n\n\0', version);
      assert.equal(out.frames[0]!.text, 'ab');
      // What follows the NUL is the next frame, and "cd\0" is no command.
      assert.equal(codeOf(out.error), ErrorCode.INVALID_COMMAND);
    });

    it(`requires a NUL right after a content-length body [${version} Header content-length]`, () => {
      fails('SEND\ncontent-length:2\n\nabc\0', ErrorCode.MISSING_NULL, version);
      fails('SEND\ncontent-length:0\n\nx\0', ErrorCode.MISSING_NULL, version);
    });

    it(`refuses a content-length that is no non-negative integer [${version} Header content-length]`, () => {
      const values = ['-1', 'abc', '', '+5', '1.5', '1e3', '0x10', '- 1'];
      // 1.0 headers are trimmed, so padding is only an error from 1.1 on.
      if (version !== '1.0') values.push('5 ', ' 5');
      for (const value of values) {
        const out = fails(
          `SEND\ncontent-length:${value}\n\n\0`,
          ErrorCode.INVALID_CONTENT_LENGTH,
          version,
        );
        assert.equal((out.error as StompError).header, 'content-length');
      }
    });
  }

  it('uses the first content-length when repeated [1.2 Repeated Header Entries]', () => {
    const f = one('SEND\ncontent-length:1\ncontent-length:3\n\na\0');
    assert.equal(f.text, 'a');
    assert.deepEqual(f.headerAll('content-length'), ['1', '3']);
  });

  it('does not trim content-length in 1.2, and trims it in 1.0 [1.0 Header content-length]', () => {
    fails('SEND\ncontent-length: 1\n\na\0', ErrorCode.INVALID_CONTENT_LENGTH, '1.2');
    assert.equal(one('SEND\ncontent-length: 1 \n\na\0', '1.0').text, 'a');
  });

  it('accepts leading zeros in content-length [1.2 Header content-length]', () => {
    assert.equal(one('SEND\ncontent-length:0000000000000000000003\n\nabc\0').text, 'abc');
  });

  it('gives a body that fits in one chunk as a view, and text as UTF-8 [1.2 STOMP Frames]', () => {
    const data = bytes('SEND\ncontent-length:5\n\nhé!!\0');
    const [f] = parseFrames(data);
    assert.equal(f!.body.buffer, data.buffer);
    assert.equal(f!.text, 'hé!!');
    assert.deepEqual(f!.toJSON(), {
      command: 'SEND',
      headers: [['content-length', '5']],
      body: 'hé!!',
    });
  });
});

describe('version switches', () => {
  const stream = 'CONNECTED\nversion:1.0\n\n\0MESSAGE\nx:a\\tb\n\n\0';

  it('applies setVersion from onFrame to later frames in the same chunk [1.0 Value Encoding]', () => {
    const values: (string | undefined)[] = [];
    const parser = new FrameParser(
      {
        onFrame: (f) => {
          if (f.command === 'CONNECTED') parser.setVersion(f.header('version') as StompVersion);
          else values.push(f.header('x'));
        },
      },
      { version: '1.2' },
    );
    parser.push(bytes(stream));
    parser.end();
    assert.equal(parser.version, '1.0');
    assert.deepEqual(values, ['a\\tb']);
  });

  it('without the switch, the same bytes are a 1.2 escape error [1.2 Value Encoding]', () => {
    fails(stream, ErrorCode.INVALID_ESCAPE, '1.2');
  });

  it('switches between chunks too, 1.1 to 1.2 [1.2 Value Encoding]', () => {
    const values: (string | undefined)[] = [];
    const parser = new FrameParser(
      { onFrame: (f) => values.push(f.header('x')) },
      { version: '1.1' },
    );
    parser.push(bytes('MESSAGE\nx:a\\nb\n\n\0'));
    parser.setVersion('1.2');
    parser.push(bytes('MESSAGE\nx:a\\rb\n\n\0'));
    assert.deepEqual(values, ['a\nb', 'a\rb']);
  });
});

describe('the receipt of a malformed frame', () => {
  // [1.2 ERROR] a server answers a frame with a receipt header with receipt-id, also when it
  // refuses the frame as malformed: the parser names the receipt it could read.
  function receiptOf(text: string, code: string): string | undefined {
    const data = bytes(text);
    const whole = parseChunks([data]);
    const split = parseChunks(byteByByte(data));
    assert.equal(codeOf(whole.error), code);
    const a = (whole.error as StompError).receipt;
    assert.equal((split.error as StompError).receipt, a);
    return a;
  }

  it('[1.2 ERROR] read before a bad escape, a bad line, or a bad content-length', () => {
    assert.equal(receiptOf('SEND\nreceipt:r1\nx:a\\tb\n\n\0', ErrorCode.INVALID_ESCAPE), 'r1');
    assert.equal(receiptOf('SEND\nreceipt:r\\c2\nno colon\n\n\0', ErrorCode.INVALID_HEADER), 'r:2');
    assert.equal(
      receiptOf('SEND\nreceipt:r3\ncontent-length:x\n\n\0', ErrorCode.INVALID_CONTENT_LENGTH),
      'r3',
    );
  });

  it('[1.2 ERROR] read from a parsed head whose body breaks a rule', () => {
    assert.equal(
      receiptOf('SEND\nreceipt:r4\ncontent-length:1\n\nxy\0', ErrorCode.MISSING_NULL),
      'r4',
    );
  });

  it('[1.2 ERROR] absent when the frame had none, or it came after the fault', () => {
    assert.equal(receiptOf('SEND\nx:a\\tb\nreceipt:r5\n\n\0', ErrorCode.INVALID_ESCAPE), undefined);
    assert.equal(receiptOf('SEND\ncontent-length:1\n\nxy\0', ErrorCode.MISSING_NULL), undefined);
  });
});
