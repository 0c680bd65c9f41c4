// Parse: a stream of MESSAGE frames cut into 16-64 KiB chunks, fed chunk by chunk to
//   ours     @stompede/core FrameParser.push(Uint8Array); the handler checks each body length
//   ours-decoded  the same, and the handler also reads every header (frame.rawHeaders)
//   stompjs  @stomp/stompjs Parser.parseChunk(ArrayBuffer) (the same bytes, one ArrayBuffer per chunk)
//   copy     Uint8Array.prototype.slice of every chunk: the cost of touching the bytes once
//
// Usage: node --expose-gc bench/codec-parse.mjs [--quick] [--size small,64KiB,1MiB]
//        [--only ours,ours-decoded,stompjs,copy] [--reps N] [--min-ms N] [--warmup-ms N] [--json]
import { Parser } from '@stomp/stompjs';
import { main, measure, progress } from './lib/harness.mjs';
import { buildWorkload, headersOf, selectSizes } from './lib/fixtures.mjs';
import { loadCore } from './lib/core.mjs';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const { FrameParser } = await loadCore();

const decoder = new TextDecoder();

/** Parse the stream once with both parsers and check they agree with the fixture. */
function crossCheck(size, workload) {
  const ours = [];
  const parser = new FrameParser({ onFrame: (frame) => ours.push(frame) });
  for (const chunk of workload.chunks) parser.push(chunk);
  parser.end();
  const theirs = [];
  const stompjs = new Parser(
    (frame) => theirs.push(frame),
    () => undefined,
  );
  for (const chunk of workload.chunks) stompjs.parseChunk(chunk.buffer);
  if (ours.length !== size.frames || theirs.length !== size.frames) {
    throw new Error(
      `${size.id}: ours ${ours.length}, stompjs ${theirs.length}, want ${size.frames}`,
    );
  }
  for (const i of [0, size.frames >> 1, size.frames - 1]) {
    const expected = [
      ...Object.entries(headersOf(i)),
      ['content-length', String(size.bodySize)],
    ].flat();
    const a = ours[i];
    const b = theirs[i];
    if (a.command !== 'MESSAGE' || b.command !== 'MESSAGE') throw new Error('command mismatch');
    if (JSON.stringify(a.rawHeaders) !== JSON.stringify(expected)) {
      throw new Error(`ours: headers of frame ${i} differ: ${JSON.stringify(a.rawHeaders)}`);
    }
    if (JSON.stringify(b.headers.flat()) !== JSON.stringify(expected)) {
      throw new Error(`stompjs: headers of frame ${i} differ: ${JSON.stringify(b.headers)}`);
    }
    const body = workload.bodies[i];
    if (decoder.decode(a.body) !== decoder.decode(body)) throw new Error(`ours: body ${i} differs`);
    if (decoder.decode(b.binaryBody) !== decoder.decode(body)) {
      throw new Error(`stompjs: body ${i} differs`);
    }
  }
}

export async function run(options) {
  const entries = [];
  for (const size of selectSizes(options)) {
    const workload = buildWorkload(size);
    crossCheck(size, workload);
    const { chunks } = workload;
    const buffers = chunks.map((chunk) => chunk.buffer);
    const bodySize = size.bodySize;
    progress(
      `[parse ${size.id}] ${size.frames} frames, ${workload.bytes} bytes in ${chunks.length} chunks`,
    );

    const ours = () => {
      let frames = 0;
      let wrong = 0;
      const parser = new FrameParser({
        onFrame(frame) {
          frames++;
          if (frame.body.length !== bodySize) wrong++;
        },
      });
      for (let i = 0; i < chunks.length; i++) parser.push(chunks[i]);
      parser.end();
      if (wrong !== 0) throw new Error(`ours: ${wrong} bodies of the wrong length`);
      return frames;
    };

    // The same, reading every header of every frame, as stompjs's Parser delivers them (decoded).
    // Equal to `ours` for a parser that decodes headers eagerly; shows the cost of decoding for
    // one that decodes them on demand.
    const headerCount = 2 * 5;
    const oursDecoded = () => {
      let frames = 0;
      let wrong = 0;
      const parser = new FrameParser({
        onFrame(frame) {
          frames++;
          if (frame.body.length !== bodySize || frame.rawHeaders.length !== headerCount) wrong++;
        },
      });
      for (let i = 0; i < chunks.length; i++) parser.push(chunks[i]);
      parser.end();
      if (wrong !== 0)
        throw new Error(`ours-decoded: ${wrong} frames with wrong bodies or headers`);
      return frames;
    };

    const stompjs = () => {
      let frames = 0;
      let wrong = 0;
      const parser = new Parser(
        (frame) => {
          frames++;
          if (frame.binaryBody.length !== bodySize) wrong++;
        },
        () => undefined,
      );
      for (let i = 0; i < buffers.length; i++) parser.parseChunk(buffers[i]);
      if (wrong !== 0) throw new Error(`stompjs: ${wrong} bodies of the wrong length`);
      return frames;
    };

    const total = workload.bytes;
    const copy = () => {
      let copied = 0;
      for (let i = 0; i < chunks.length; i++) copied += chunks[i].slice().length;
      if (copied !== total) throw new Error(`copy: ${copied} bytes, expected ${total}`);
      return size.frames;
    };

    entries.push(
      measure(
        {
          scenario: 'parse',
          size: size.id,
          sizeLabel: size.label,
          frames: size.frames,
          bytes: workload.bytes,
          chunks: chunks.length,
        },
        [
          { id: 'ours', label: '@stompede/core FrameParser', pass: ours },
          {
            id: 'ours-decoded',
            label: '@stompede/core FrameParser, every header read',
            pass: oursDecoded,
          },
          { id: 'stompjs', label: '@stomp/stompjs Parser', pass: stompjs },
          { id: 'copy', label: 'Uint8Array slice of each chunk', pass: copy },
        ],
        options,
      ),
    );
  }
  return { scenario: 'parse', entries };
}

if (import.meta.url === `file://${process.argv[1]}`) await main(run);
