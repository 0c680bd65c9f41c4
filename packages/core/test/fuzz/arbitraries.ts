// fast-check arbitraries for the frame codec tests: commands, header names and values that stress
// escaping (colons, backslashes, CR, LF, spaces, unicode), binary bodies, and byte streams of several
// frames with heart-beats between them.
import fc from 'fast-check';
import {
  Command,
  encodeFrame,
  Frame,
  type SerializerOptions,
  type StompVersion,
} from '@stompede/core';
import { concatBytes } from '@stompede/core/internal';

/** Every command, as the parser knows them. */
export const COMMANDS: readonly string[] = Object.values(Command);

/** Any command. */
export const commandArb: fc.Arbitrary<string> = fc.constantFrom(...COMMANDS);

/** Any version. */
export const versionArb: fc.Arbitrary<StompVersion> = fc.constantFrom('1.0', '1.1', '1.2');

// Units biased towards the octets that matter to the codec, mixed with arbitrary code points.
const unitArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(':', '\\', '\n', '\r', ' ', '\t', 'c', 'n', 'r', '\0') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('a', 'Z', '0', '-', '/', 'é', '€', '😀', '\u00a0', '\uFEFF'),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);

/** A header token (name or value): may hold any character, delimiters included. */
export const tokenArb: fc.Arbitrary<string> = fc.string({ unit: unitArb, maxLength: 12 });

/** A header name: usually a plain one, sometimes a repeat of a common name. */
export const headerNameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: tokenArb },
  {
    weight: 2,
    arbitrary: fc.constantFrom('destination', 'id', 'receipt', 'foo', 'content-type'),
  },
  { weight: 1, arbitrary: fc.constant('content-length') },
);

/** An ordered header list (repeats likely, thanks to the small pool of common names). */
export const headersArb: fc.Arbitrary<[string, string][]> = fc.array(
  fc.tuple(headerNameArb, tokenArb),
  { maxLength: 6 },
);

/** A binary body, NUL octets included. */
export const bodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.uint8Array({ min: 1, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
);

/** Any frame (it may not be representable in every version). */
export const frameArb: fc.Arbitrary<Frame> = fc
  .tuple(commandArb, headersArb, bodyArb)
  .map(([command, headers, body]) => new Frame(command, headers, body));

/** A frame with plain ASCII headers, representable in every version. */
export const plainFrameArb: fc.Arbitrary<Frame> = fc
  .tuple(
    commandArb,
    fc.array(
      fc.tuple(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
        fc.stringMatching(/^[A-Za-z0-9/._-]{0,10}$/),
      ),
      { maxLength: 4 },
    ),
    bodyArb,
  )
  .map(([command, headers, body]) => new Frame(command, headers, body));

/** What may sit between frames: LF and CRLF heart-beats. */
export const heartbeatArb: fc.Arbitrary<'\n' | '\r\n'> = fc.constantFrom('\n', '\r\n');

/** A stream: frames, each followed by zero or more heart-beats, with heart-beats first too. */
export interface Stream {
  readonly bytes: Uint8Array;
  readonly frames: readonly Frame[];
  readonly heartbeats: number;
}

/** Encode frames and heart-beats into one byte stream. */
export function buildStream(
  items: readonly (Frame | '\n' | '\r\n')[],
  options: SerializerOptions = {},
): Stream {
  const parts: Uint8Array[] = [];
  const frames: Frame[] = [];
  let heartbeats = 0;
  for (const item of items) {
    if (item === '\n') {
      parts.push(Uint8Array.of(10));
      heartbeats++;
    } else if (item === '\r\n') {
      parts.push(Uint8Array.of(13, 10));
      heartbeats++;
    } else {
      parts.push(...encodeFrame(item, options));
      frames.push(item);
    }
  }
  return { bytes: concatBytes(parts), frames, heartbeats };
}

/** A stream of representable frames and heart-beats, for `version`. */
export function streamArb(
  version: StompVersion,
  frame: fc.Arbitrary<Frame> = plainFrameArb,
): fc.Arbitrary<Stream> {
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: frame }, { weight: 2, arbitrary: heartbeatArb }), {
      minLength: 1,
      maxLength: 8,
    })
    .map((items) => buildStream(items, { version }));
}

/** Cut offsets for splitting a stream of `length` bytes into chunks. */
export function cutsArb(maxCuts = 12): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(), { maxLength: maxCuts });
}

/** Frames drawn from `frame` that the serializer accepts in `version`. */
export function encodableIn(
  version: StompVersion,
  frame: fc.Arbitrary<Frame> = frameArb,
): fc.Arbitrary<Frame> {
  return frame.filter((f) => {
    try {
      encodeFrame(f, { version });
      return true;
    } catch {
      return false;
    }
  });
}
