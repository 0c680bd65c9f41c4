// Inputs for the parser fuzz tests: well-formed streams, hand-written seeds that reach the unusual
// corners, and mutations (flips, inserts, deletes, duplicated runs) of either; and parser limits
// small enough for the inputs to break them.
import fc from 'fast-check';
import type { ParserLimits } from '@stompede/core';
import { bytes } from '@stompede/testkit';
import { encodableIn, plainFrameArb, streamArb, versionArb } from './arbitraries.js';

export type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'duplicate'; at: number; count: number };

const interesting = fc.constantFrom(0, 10, 13, 58, 92, 0x30, 0x39, 0x20, 0xff, 0xc3);
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.oneof(interesting, fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 40 }),
  }),
);

export function mutate(data: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Array.from(data);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < out.length) out[at] = out[at]! ^ m.mask;
        break;
      case 'insert':
        out.splice(at, 0, m.byte);
        break;
      case 'delete':
        out.splice(at, m.count);
        break;
      case 'duplicate':
        out = [
          ...out.slice(0, at + m.count),
          ...out.slice(at, at + m.count),
          ...out.slice(at + m.count),
        ];
        break;
    }
  }
  return Uint8Array.from(out);
}

// Hand-written seeds that reach the unusual corners: escapes, content-length edge cases, CRLF.
export const SEEDS: readonly Uint8Array[] = [
  'SEND\ndestination:/q\ncontent-length:3\n\na\0b\0',
  'MESSAGE\r\nfoo:a\\cb\\nc\\\\d\\re\r\n\r\nbody\0\r\n\n',
  'CONNECT\naccept-version:1.0,1.1,1.2\nhost:x\n\n\0',
  'SEND\ncontent-length:99999999999999999999\n\n\0',
  'SEND\ncontent-length:-1\n\n\0',
  'ERROR\nmessage: padded \n\nbad\0',
  '\n\n\r\n',
].map((s) => bytes(s));

export const limitsArb: fc.Arbitrary<Partial<ParserLimits>> = fc.oneof(
  fc.constant({}),
  fc.record(
    {
      maxFrameSize: fc.integer({ min: 1, max: 400 }),
      maxBodySize: fc.integer({ min: 1, max: 200 }),
      maxHeaderBytes: fc.integer({ min: 1, max: 200 }),
      maxHeaderLineLength: fc.integer({ min: 1, max: 60 }),
      maxHeaders: fc.integer({ min: 1, max: 8 }),
    },
    { requiredKeys: [] },
  ),
);

/** A stream to mutate: encoded frames, plain frames, a seed, or random bytes. */
export const sourceArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: versionArb.chain((v) => streamArb(v, encodableIn(v)).map((s) => s.bytes)),
  },
  {
    weight: 2,
    arbitrary: versionArb.chain((v) => streamArb(v, plainFrameArb).map((s) => s.bytes)),
  },
  { weight: 2, arbitrary: fc.constantFrom(...SEEDS) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
);
