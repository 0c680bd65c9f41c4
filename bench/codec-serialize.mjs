// Serialize: build and encode the same MESSAGE frames (command, a plain header object, a
// Uint8Array body), as each library does for every frame it sends:
//   ours        new Frame(...) + encodeFrame(): [head, body, NUL] chunks for a vectored write;
//               the body is not copied
//   ours-bytes  new Frame(...) + encodeFrameBytes(): one contiguous Uint8Array (copies the body)
//   stompjs     new FrameImpl({..., escapeHeaderValues: true}).serialize(): one ArrayBuffer,
//               exactly what its StompHandler._transmit does for a binary body
//   copy        Uint8Array.prototype.slice of the frame's finished wire bytes
//
// Usage: node --expose-gc bench/codec-serialize.mjs [--quick] [--size small,64KiB,1MiB]
//        [--only ours,ours-bytes,stompjs,copy] [--reps N] [--min-ms N] [--warmup-ms N] [--json]
import { FrameImpl } from '@stomp/stompjs';
import { concat, main, measure, progress } from './lib/harness.mjs';
import { buildWorkload, headersOf, selectSizes } from './lib/fixtures.mjs';
import { loadCore } from './lib/core.mjs';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const { encodeFrame, encodeFrameBytes, Frame } = await loadCore();

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function run(options) {
  const entries = [];
  for (const size of selectSizes(options)) {
    const workload = buildWorkload(size);
    const { bodies, wire } = workload;
    const headers = bodies.map((_, i) => headersOf(i));
    const count = size.frames;
    const total = workload.bytes;

    // All three encoders must produce exactly the hand-written wire bytes.
    for (const i of [0, count - 1]) {
      const ours = concat(encodeFrame(new Frame('MESSAGE', headers[i], bodies[i])));
      const bytes = encodeFrameBytes(new Frame('MESSAGE', headers[i], bodies[i]));
      const theirs = new Uint8Array(
        new FrameImpl({
          command: 'MESSAGE',
          headers: headers[i],
          binaryBody: bodies[i],
          escapeHeaderValues: true,
        }).serialize(),
      );
      if (!sameBytes(ours, wire[i])) throw new Error(`ours: frame ${i} encodes differently`);
      if (!sameBytes(bytes, wire[i])) throw new Error(`ours-bytes: frame ${i} encodes differently`);
      if (!sameBytes(theirs, wire[i])) throw new Error(`stompjs: frame ${i} encodes differently`);
    }
    progress(`[serialize ${size.id}] ${count} frames, ${total} bytes`);

    const verify = (id, written) => {
      if (written !== total) throw new Error(`${id}: wrote ${written} bytes, expected ${total}`);
      return count;
    };

    const ours = () => {
      let written = 0;
      for (let i = 0; i < count; i++) {
        const chunks = encodeFrame(new Frame('MESSAGE', headers[i], bodies[i]));
        for (let j = 0; j < chunks.length; j++) written += chunks[j].length;
      }
      return verify('ours', written);
    };

    const oursBytes = () => {
      let written = 0;
      for (let i = 0; i < count; i++) {
        written += encodeFrameBytes(new Frame('MESSAGE', headers[i], bodies[i])).length;
      }
      return verify('ours-bytes', written);
    };

    const stompjs = () => {
      let written = 0;
      for (let i = 0; i < count; i++) {
        const frame = new FrameImpl({
          command: 'MESSAGE',
          headers: headers[i],
          binaryBody: bodies[i],
          escapeHeaderValues: true,
        });
        written += frame.serialize().byteLength;
      }
      return verify('stompjs', written);
    };

    const copy = () => {
      let written = 0;
      for (let i = 0; i < count; i++) written += wire[i].slice().length;
      return verify('copy', written);
    };

    entries.push(
      measure(
        {
          scenario: 'serialize',
          size: size.id,
          sizeLabel: size.label,
          frames: count,
          bytes: total,
        },
        [
          { id: 'ours', label: '@stompede/core encodeFrame (chunks)', pass: ours },
          { id: 'ours-bytes', label: '@stompede/core encodeFrameBytes', pass: oursBytes },
          { id: 'stompjs', label: '@stomp/stompjs FrameImpl.serialize', pass: stompjs },
          { id: 'copy', label: 'Uint8Array slice of the wire bytes', pass: copy },
        ],
        options,
      ),
    );
  }
  return { scenario: 'serialize', entries };
}

if (import.meta.url === `file://${process.argv[1]}`) await main(run);
