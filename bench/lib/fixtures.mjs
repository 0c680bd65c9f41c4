// The frames every codec scenario works on: MESSAGE frames as a broker delivers them, with five
// headers (destination, message-id, subscription, content-type, content-length) and a body of
// 100 bytes, 64 KiB or 1 MiB. The wire bytes are written here by hand, independently of the
// serializers under test.
import { cutIntoChunks, KiB, makeBody, MiB } from './harness.mjs';

/** Sizes: body length and how many frames make one pass of the workload. */
export const SIZES = [
  { id: 'small', label: '5 headers, 100 B body', bodySize: 100, frames: 8192 },
  { id: '64KiB', label: '5 headers, 64 KiB body', bodySize: 64 * KiB, frames: 64 },
  { id: '1MiB', label: '5 headers, 1 MiB body', bodySize: MiB, frames: 8 },
];

export function selectSizes(options) {
  return SIZES.filter((size) => options.sizes?.includes(size.id) ?? true);
}

const encoder = new TextEncoder();

/** The four user headers of frame `i`, as a plain object (content-length is added on encoding). */
export function headersOf(i) {
  return {
    destination: '/topic/bench.prices',
    'message-id': `ID-broker-1-${String(1000000 + i)}`,
    subscription: 'sub-0',
    'content-type': 'application/json',
  };
}

/** The wire bytes of a MESSAGE frame with `headersOf(i)` and `body`. */
export function wireFrame(i, body) {
  let head = 'MESSAGE\n';
  for (const [name, value] of Object.entries(headersOf(i))) head += `${name}:${value}\n`;
  head += `content-length:${String(body.length)}\n\n`;
  const headBytes = encoder.encode(head);
  const out = new Uint8Array(headBytes.length + body.length + 1);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  out[out.length - 1] = 0;
  return out;
}

/**
 * One workload: `frames` MESSAGE frames (bodies differ per frame), their wire bytes, the whole
 * stream and the stream cut into 16-64 KiB chunks.
 */
export function buildWorkload(size) {
  const bodies = [];
  const wire = [];
  let total = 0;
  for (let i = 0; i < size.frames; i++) {
    const body = makeBody(size.bodySize, i + 1);
    bodies.push(body);
    const bytes = wireFrame(i, body);
    wire.push(bytes);
    total += bytes.length;
  }
  const stream = new Uint8Array(total);
  let offset = 0;
  for (const bytes of wire) {
    stream.set(bytes, offset);
    offset += bytes.length;
  }
  const chunks = cutIntoChunks(stream);
  return { bodies, wire, stream, chunks, bytes: total };
}
