// Correctness of the parser's fast paths: the one-pass head parse, headers decoded on demand
// (Frame.header compares bytes), content-length read from bytes, the token cache, and large
// bodies that straddle chunks. Each case is checked against the slow path (the same bytes fed
// byte by byte, or a frame built by hand). No timing here: performance lives in bench/.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  encodeFrame,
  encodeFrameBytes,
  ErrorCode,
  Frame,
  FrameParser,
  StompError,
  type StompVersion,
} from '@stompede/core';
import { decodeRange, utf8EncodeShared } from '@stompede/core/internal';
import { byteByByte, bytes, parseChunks, splitAt } from '@stompede/testkit';

/** Everything a frame reports through its public API, reading `header()` first. */
function observe(frame: Frame, names: readonly string[]) {
  const lookups = names.map((name) => [name, frame.header(name), frame.has(name)]);
  return {
    lookups,
    all: names.map((name) => frame.headerAll(name)),
    raw: [...frame.rawHeaders],
    pairs: frame.headers,
    object: { ...frame.headerObject() },
    json: JSON.stringify(frame),
    text: frame.text,
    again: names.map((name) => frame.header(name)),
  };
}

/** Parse whole (fast path) and byte by byte (slow path); both must report the same. */
function both(data: Uint8Array, names: readonly string[], version: StompVersion = '1.2') {
  const whole = parseChunks([data], { version });
  const split = parseChunks(byteByByte(data), { version });
  assert.equal(whole.error, undefined, inspect(whole.error));
  assert.equal(split.error, undefined, inspect(split.error));
  assert.equal(whole.frames.length, split.frames.length);
  const a = whole.frames.map((f) => observe(f, names));
  const b = split.frames.map((f) => observe(f, names));
  assert.deepEqual(a, b);
  return whole.frames;
}

function errorOf(err: unknown): { code: string; offset: unknown; header: unknown } {
  assert.ok(err instanceof StompError, `not a StompError: ${inspect(err)}`);
  const detail = err as unknown as { offset?: unknown; header?: unknown };
  return { code: err.code, offset: detail.offset, header: detail.header };
}

/** Both paths fail with the same code, offset and header. */
function sameError(data: Uint8Array, version: StompVersion = '1.2') {
  const whole = parseChunks([data], { version });
  const split = parseChunks(byteByByte(data), { version });
  const a = errorOf(whole.error);
  assert.deepEqual(errorOf(split.error), a);
  return a;
}

describe('headers decoded on demand', () => {
  it('header() before rawHeaders, first of repeated headers wins [1.2 Repeated Header Entries]', () => {
    const data = bytes('MESSAGE\na:1\nb:2\na:3\ncontent-length:2\n\nhi\0');
    const [frame] = both(data, ['a', 'b', 'c', 'content-length', '']);
    assert.equal(frame!.header('a'), '1');
    assert.deepEqual(frame!.headerAll('a'), ['1', '3']);
    assert.deepEqual(frame!.rawHeaders, ['a', '1', 'b', '2', 'a', '3', 'content-length', '2']);
  });

  it('every accessor agrees whichever is called first [1.2 STOMP Frames]', () => {
    const text = 'MESSAGE\ndestination:/q\nmessage-id:7\nx:\n\nbody\0';
    const expected = ['destination', '/q', 'message-id', '7', 'x', ''];
    for (const first of ['header', 'rawHeaders', 'headers', 'headerObject', 'toJSON'] as const) {
      const [frame] = parseChunks([bytes(text)]).frames;
      if (first === 'header') assert.equal(frame!.header('x'), '');
      else if (first === 'rawHeaders') assert.equal(frame!.rawHeaders.length, 6);
      else if (first === 'headers') assert.equal(frame!.headers.length, 3);
      else if (first === 'headerObject') assert.equal(frame!.headerObject().x, '');
      else assert.equal(frame!.toJSON().headers.length, 3);
      assert.deepEqual(frame!.rawHeaders, expected);
      assert.equal(frame!.header('destination'), '/q');
      assert.equal(frame!.header('missing'), undefined);
      assert.equal(frame!.text, 'body');
      assert.deepEqual(frame!.with({ y: '1' }).rawHeaders, ['y', '1']);
    }
  });

  it('names and values in UTF-8, and invalid UTF-8, look up as when decoded [1.2 Value Encoding]', () => {
    const head = bytes('MESSAGE\nnaïve:café\n日本:語\n');
    // A name of invalid UTF-8 (a lone continuation byte) decodes to U+FFFD.
    const bad = Uint8Array.of(0x80, 0x3a, 0x76, 0x0a);
    const tail = bytes('a\u00e9:x\n\n\0');
    const data = new Uint8Array([...head, ...bad, ...tail]);
    const [frame] = both(data, ['naïve', '日本', '\uFFFD', 'a\u00e9', 'na', 'caf']);
    assert.equal(frame!.header('naïve'), 'café');
    assert.equal(frame!.header('\uFFFD'), 'v');
    assert.equal(frame!.header('日本'), '語');
  });

  it('a header() with a non-ASCII name before any other access [1.2 Value Encoding]', () => {
    const [frame] = parseChunks([bytes('SEND\nclé:v\ncl:w\n\n\0')]).frames;
    assert.equal(frame!.header('clé'), 'v');
    assert.equal(frame!.header('cl'), 'w');
  });

  it('CR before LF is not part of the value; a CR inside is [1.2 Augmented BNF]', () => {
    const data = bytes('SEND\r\na:1\r\nb:x\ry\n\r\n\0');
    const [frame] = both(data, ['a', 'b']);
    assert.equal(frame!.header('a'), '1');
    assert.equal(frame!.header('b'), 'x\ry');
  });

  it('a colon in a value belongs to the value [1.2 Augmented BNF]', () => {
    const [frame] = both(bytes('SEND\nurl:http://h:1/x\n\n\0'), ['url']);
    assert.equal(frame!.header('url'), 'http://h:1/x');
  });

  for (const version of ['1.1', '1.2'] as const) {
    it(`escaped headers are decoded with the version of the frame [${version} Value Encoding]`, () => {
      const data = bytes('MESSAGE\na\\cb:x\\ny\\\\z\nplain:1\n\n\0');
      const [frame] = both(data, ['a:b', 'a\\cb', 'plain'], version);
      assert.equal(frame!.header('a:b'), 'x\ny\\z');
      assert.equal(frame!.header('a\\cb'), undefined);
    });

    it(`backslashes in CONNECT and CONNECTED are literal [${version} Value Encoding]`, () => {
      const data = bytes('CONNECTED\nversion:1.2\nserver:a\\b\\c\n\n\0');
      const [frame] = both(data, ['server'], version);
      assert.equal(frame!.header('server'), 'a\\b\\c');
    });
  }

  it('an undefined escape is raised by push, at the same offset on both paths [1.2 Value Encoding]', () => {
    const data = bytes('MESSAGE\nok:1\nbad:a\\tb\n\n\0');
    const error = sameError(data);
    assert.equal(error.code, ErrorCode.INVALID_ESCAPE);
    assert.equal(error.offset, 13);
    // \r is defined in 1.2 only.
    assert.equal(sameError(bytes('MESSAGE\nx:\\r\n\n\0'), '1.1').code, ErrorCode.INVALID_ESCAPE);
  });

  it('the version in force when the frame was parsed is used [1.2 Value Encoding]', () => {
    const frames: Frame[] = [];
    const parser = new FrameParser(
      {
        onFrame: (frame) => {
          frames.push(frame);
          if (frame.command === 'CONNECTED') parser.setVersion('1.0');
        },
      },
      { version: '1.2' },
    );
    parser.push(bytes('CONNECTED\nversion:1.0\n\n\0MESSAGE\na: x\\n\n\n\0'));
    assert.equal(frames[1]!.header('a'), 'x\\n');
  });

  it('frames stay correct after later chunks are pushed [1.2 STOMP Frames]', () => {
    const frames: Frame[] = [];
    const parser = new FrameParser({ onFrame: (f) => frames.push(f) });
    for (let i = 0; i < 50; i++) {
      parser.push(
        bytes(`MESSAGE\nid:${String(i)}\ndestination:/q/${String(i % 3)}\n\n${String(i)}\0`),
      );
    }
    frames.forEach((frame, i) => {
      assert.equal(frame.header('id'), String(i));
      assert.equal(frame.header('destination'), `/q/${String(i % 3)}`);
      assert.equal(frame.text, String(i));
    });
  });
});

describe('the head of a frame is not kept beyond its body', () => {
  // (A body found by scanning for NUL is a view of the chunk, even when empty, as it always was.)
  it('a frame with an empty content-length body does not depend on its chunk [1.2 STOMP Frames]', () => {
    const chunk = bytes('RECEIPT\nreceipt-id:77\ncontent-length:0\n\n\0');
    const [frame] = parseChunks([chunk]).frames;
    chunk.fill(0x41);
    assert.equal(frame!.header('receipt-id'), '77');
    assert.deepEqual(frame!.rawHeaders, ['receipt-id', '77', 'content-length', '0']);
  });

  it('a frame whose body arrives in a later chunk does not depend on the first [1.2 STOMP Frames]', () => {
    const data = bytes('MESSAGE\nid:1\ncontent-length:5\n\nhello\0');
    // Up to the last body byte: a body wholly in the first chunk is a view of it.
    for (let cut = 1; cut < data.length - 1; cut++) {
      const [first, second] = splitAt(data, [cut]);
      const frames: Frame[] = [];
      const parser = new FrameParser({ onFrame: (f) => frames.push(f) });
      parser.push(first!);
      first!.fill(0x41);
      parser.push(second!);
      parser.end();
      assert.equal(frames[0]!.header('id'), '1', `cut at ${String(cut)}`);
      assert.equal(frames[0]!.text, 'hello');
    }
  });
});

describe('content-length read from the bytes', () => {
  it('leading zeros, first of repeated, zero [1.2 Header content-length]', () => {
    const [a, b, c] = both(
      bytes(
        'SEND\ncontent-length:003\n\nabc\0' +
          'SEND\ncontent-length:1\ncontent-length:9\n\nx\0' +
          'SEND\ncontent-length:0\n\n\0',
      ),
      ['content-length'],
    );
    assert.equal(a!.text, 'abc');
    assert.equal(b!.text, 'x');
    assert.equal(c!.body.length, 0);
  });

  it('a value that is not a non-negative integer is an error [1.2 Header content-length]', () => {
    for (const value of ['', ' 1', '1 ', '-1', '1e3', '0x10', '١']) {
      const error = sameError(bytes(`SEND\ncontent-length:${value}\n\nabc\0`));
      assert.equal(error.code, ErrorCode.INVALID_CONTENT_LENGTH, JSON.stringify(value));
      assert.equal(error.header, 'content-length');
    }
  });

  it('a huge value breaks the body limit, not the number type [1.2 Size Limits]', () => {
    const error = sameError(bytes(`SEND\ncontent-length:${'9'.repeat(30)}\n\nabc\0`));
    assert.equal(error.code, ErrorCode.BODY_TOO_LARGE);
  });

  it('a name that only resembles content-length is an ordinary header [1.2 Header content-length]', () => {
    const [frame] = both(bytes('SEND\ncontent-lengths:3\nContent-Length:3\n\nab\0'), [
      'content-lengths',
      'Content-Length',
    ]);
    assert.equal(frame!.text, 'ab');
  });
});

describe('token cache', () => {
  it('decodes equal bytes to equal strings, different bytes to different strings', () => {
    const words = ['a', 'ab', 'ba', '/queue/x', '/queue/y', 'x'.repeat(12), 'x'.repeat(13)];
    words.push('y'.repeat(48), 'y'.repeat(49), 'héllo', 'sub-0', 'sub-1', '0', '');
    for (let round = 0; round < 3; round++) {
      for (const word of words) {
        const data = bytes(`[${word}]`);
        assert.equal(decodeRange(data, 1, data.length - 1), word);
      }
    }
  });

  it('many distinct tokens (collisions) still decode exactly', () => {
    for (let i = 0; i < 5000; i++) {
      const word = `t${String(i * 7919)}`;
      const data = bytes(word);
      assert.equal(decodeRange(data, 0, data.length), word);
      assert.equal(decodeRange(data, 1, data.length), word.slice(1));
    }
  });
});

describe('large bodies that straddle chunks', () => {
  function frameBytes(size: number): { data: Uint8Array; body: Uint8Array } {
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 0xff;
    const head = bytes(`MESSAGE\nid:x\ncontent-length:${String(size)}\n\n`);
    const data = new Uint8Array(head.length + size + 1);
    data.set(head);
    data.set(body, head.length);
    return { data, body };
  }

  for (const size of [1000, 64 * 1024, 64 * 1024 + 1, 300 * 1024]) {
    it(`a ${String(size)}-byte body arrives intact however it is cut [1.2 Header content-length]`, () => {
      const { data, body } = frameBytes(size);
      for (const piece of [1000, 4096, 16 * 1024, 65536, 100_003]) {
        const cuts: number[] = [];
        for (let at = 7; at < data.length; at += piece) cuts.push(at);
        const out = parseChunks(splitAt(data, cuts));
        assert.equal(out.error, undefined, inspect(out.error));
        assert.equal(out.frames.length, 1);
        assert.deepEqual(out.frames[0]!.body, body);
        assert.equal(out.frames[0]!.header('id'), 'x');
      }
    });
  }

  it('a straddling body is handed over as views of its chunks, and joined once when read [1.2 STOMP Frames]', () => {
    const { data, body } = frameBytes(200 * 1024);
    const chunks = splitAt(data, [5000, 70000, 150000]);
    const frames: Frame[] = [];
    const parser = new FrameParser({ onFrame: (f) => frames.push(f) });
    for (const chunk of chunks) parser.push(chunk);
    const frame = frames[0]!;
    assert.equal(frame.bodyLength, body.length);
    const pieces = frame.bodyChunks;
    // Four pieces, each a view of the chunk it came in: nothing was copied.
    assert.equal(pieces.length, 4);
    pieces.forEach((piece, i) => {
      assert.equal(piece.buffer, chunks[i]!.buffer);
    });
    assert.deepEqual(concat(pieces), body);
    // Reading body joins the pieces into an array of its own, once.
    const joined = frame.body;
    assert.equal(joined.byteLength, joined.buffer.byteLength);
    assert.equal(frame.body, joined);
    assert.deepEqual(frame.bodyChunks, [joined]);
    for (const chunk of chunks) chunk.fill(0);
    assert.deepEqual(frame.body, body);
  });

  it('a straddling body is encoded again as its pieces, copied nowhere [1.2 STOMP Frames]', () => {
    const { data, body } = frameBytes(100 * 1024);
    const chunks = splitAt(data, [30000, 60000]);
    const [frame] = parseChunks(chunks).frames;
    const encoded = encodeFrame(frame!, { version: '1.2' });
    // head, three pieces, NUL
    assert.equal(encoded.length, 5);
    for (let i = 1; i <= 3; i++) assert.equal(encoded[i]!.buffer, chunks[i - 1]!.buffer);
    assert.deepEqual(concat(encoded.slice(1, 4)), body);
    assert.deepEqual(parseChunks([concat(encoded)]).frames[0]!.body, body);
    // content-length when-required looks for NUL octets piece by piece, without joining.
    const bare = encodeFrame(frame!, { contentLength: 'when-required' });
    assert.ok(new TextDecoder().decode(bare[0]).includes('content-length:'));
  });

  it('a body that trickles in byte by byte is packed, not kept as one view per byte [1.2 Size Limits]', () => {
    const { data, body } = frameBytes(100 * 1024);
    const frames = parseChunks(byteByByte(data)).frames;
    const pieces = frames[0]!.bodyChunks;
    // Small pieces share 8 KiB blocks.
    assert.ok(pieces.length <= Math.ceil(body.length / 8192) + 1, String(pieces.length));
    assert.deepEqual(frames[0]!.body, body);
  });

  it('a body without content-length that straddles chunks comes in pieces too [1.2 STOMP Frames]', () => {
    const text = 'x'.repeat(3000);
    const data = bytes(`MESSAGE\nid:y\n\n${text}\0`);
    const out = parseChunks(splitAt(data, [1000, 2000]));
    assert.equal(out.error, undefined, inspect(out.error));
    const frame = out.frames[0]!;
    assert.equal(frame.bodyLength, 3000);
    assert.equal(frame.bodyChunks.length, 3);
    assert.equal(frame.text, text);
    assert.equal(frame.header('id'), 'y');
  });
});

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('shared encoding of short strings (frame heads, small text bodies)', () => {
  it('gives every string its own bytes, across slabs, and large strings their own array', () => {
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) texts.push(`h${String(i)}:${'é€😀x'.repeat(i % 97)}`);
    texts.push('', 'y'.repeat(5000), 'z'.repeat(20000));
    const encoded = texts.map((t) => utf8EncodeShared(t));
    // Checked after all were encoded: no later string overwrote an earlier one.
    encoded.forEach((bytes, i) => {
      assert.deepEqual(bytes, new TextEncoder().encode(texts[i]), `string ${String(i)}`);
    });
    const large = encoded[encoded.length - 1]!;
    assert.equal(large.byteOffset, 0);
    assert.equal(large.buffer.byteLength, 20000);
  });

  it('frames with text bodies encode to the same bytes as with byte bodies', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 500; i++) {
      frames.push(new Frame('SEND', { destination: `/queue/${String(i)}` }, `body ${String(i)} ü`));
    }
    const wire = frames.map((f) => encodeFrameBytes(f));
    frames.forEach((f, i) => {
      const same = new Frame('SEND', { destination: `/queue/${String(i)}` }, f.body.slice());
      assert.deepEqual(wire[i], encodeFrameBytes(same));
      assert.equal(f.text, `body ${String(i)} ü`);
    });
  });
});

describe('frame heads written straight into the shared slab', () => {
  it('match the text encoding of the head, escapes and non-ASCII included, small or large', () => {
    const values = ['plain', 'a:b', 'line\nbreak', 'back\\slash', 'é€', '😀 x', 'x'.repeat(3000)];
    for (const value of values) {
      for (const version of ['1.0', '1.1', '1.2'] as const) {
        const safe = version === '1.0' ? value.replace(/\n/g, ' ') : value;
        const frame = new Frame(
          'SEND',
          [
            ['destination', '/q'],
            ['h€', safe],
          ],
          'hi',
        );
        const escaped =
          version === '1.0'
            ? safe
            : safe.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/:/g, '\\c');
        const expected = `SEND\ndestination:/q\nh€:${escaped}\ncontent-length:2\n\nhi\0`;
        assert.equal(
          new TextDecoder().decode(encodeFrameBytes(frame, { version })),
          expected,
          `${version} ${JSON.stringify(value.slice(0, 20))}`,
        );
      }
    }
  });
});
