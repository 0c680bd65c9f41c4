// Differential fuzz of the parser's paths. A head that lies in one chunk is parsed where it lies
// and its frame decodes headers on demand from the chunk's bytes; a head that straddles chunks is
// scanned as it arrives and gathered first; a frame that outlives its head's chunk has its headers
// decoded before push returns; a body that straddles chunks comes as pieces. The same input, cut
// into chunks in any way (whole, at random, byte by byte, or at every byte of a frame's head),
// must give the same frames, heart-beats and error (code, offset and header) through every
// accessor, whichever is read first.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Frame,
  FrameParser,
  type ParserLimits,
  StompError,
  type StompVersion,
} from '@stompede/core';
import { byteByByte, bytes, splitAt } from '@stompede/testkit';
import { versionArb } from './arbitraries.js';
import { limitsArb, mutate, mutationArb, sourceArb } from './mutations.js';

// Names a frame is asked for before anything else is read: the usual ones, and a few that only
// resemble them.
const PROBES = ['destination', 'id', 'receipt', 'content-length', 'foo', 'a', 'é', ''];

/** What a frame reports, lazy lookups first (as the broker reads a SEND), then everything. */
function observe(frame: Frame) {
  const lookups = PROBES.map((name) => [frame.header(name), frame.has(name)]);
  const pieces = frame.bodyChunks;
  let joined = 0;
  for (const piece of pieces) joined += piece.length;
  return {
    command: frame.command,
    lookups,
    raw: [...frame.rawHeaders],
    again: PROBES.map((name) => frame.header(name)),
    bodyLength: frame.bodyLength,
    joined,
    body: Array.from(frame.body),
  };
}

function parse(
  chunks: readonly Uint8Array[],
  version: StompVersion,
  limits: Partial<ParserLimits>,
) {
  const events: unknown[] = [];
  const parser = new FrameParser(
    {
      onFrame: (frame) => events.push(observe(frame)),
      onHeartbeat: () => events.push('heartbeat'),
    },
    { version, limits },
  );
  let error: { code: string; offset: number | undefined; header: string | undefined } | undefined;
  try {
    for (const chunk of chunks) parser.push(chunk);
    parser.end();
  } catch (err) {
    assert.ok(err instanceof StompError, String(err));
    error = { code: err.code, offset: err.offset, header: err.header };
  }
  return { events, error };
}

/** Cuts at every byte of the first `span` bytes, one cut per chunking (the head's straddles). */
function headCuts(length: number, span: number): number[][] {
  const out: number[][] = [];
  for (let at = 1; at < Math.min(length, span); at++) out.push([at]);
  return out;
}

describe('parser paths (differential)', () => {
  it('every chunking gives what the whole input gives [1.2 STOMP Frames]', () => {
    fc.assert(
      fc.property(
        sourceArb,
        fc.array(mutationArb, { maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        versionArb,
        limitsArb,
        (source, mutations, cuts, version, limits) => {
          const data = mutate(source, mutations);
          const whole = parse([data], version, limits);
          const random = parse(
            splitAt(
              data,
              cuts.map((c) => c % (data.length + 1)),
            ),
            version,
            limits,
          );
          assert.deepEqual(random, whole);
          if (data.length <= 300) assert.deepEqual(parse(byteByByte(data), version, limits), whole);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a head cut at any byte gives what the whole head gives [1.2 STOMP Frames]', () => {
    const heads = [
      'MESSAGE\ndestination:/queue/a\nmessage-id:7\nsubscription:0\ncontent-length:5\n\nhello\0',
      'SEND\r\ndestination:/q\r\nfoo:a\\cb\\nc\\\\d\\re\r\n\r\nbody\0',
      'SEND\ndestination:/q\nfoo:bad\\x\n\nbody\0',
      'SEND\ndestination:/q\nno colon here\n\n\0',
      'CONNECT\naccept-version:1.2\nhost:a\\b\n\n\0',
      'SEND\n destination : /q \n content-length : 2 \n\nab\0',
      'SEND\ncontent-length:x\n\nab\0',
      'ACK\nid:1\n\n\0',
    ].map((s) => bytes(s));
    for (const version of ['1.0', '1.1', '1.2'] as const) {
      for (const data of heads) {
        const whole = parse([data], version, {});
        for (const cuts of headCuts(data.length, 80)) {
          assert.deepEqual(parse(splitAt(data, cuts), version, {}), whole, `cut ${String(cuts)}`);
        }
      }
    }
  });
});
