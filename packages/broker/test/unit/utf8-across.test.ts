// isUtf8Across (listen/utf8.ts): UTF-8 validity of pieces taken together, checked against
// isUtf8 of their concatenation for any text and any bytes, cut anywhere.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { test } from 'node:test';
import fc from 'fast-check';
import { isUtf8Across } from '@stompede/broker/internal';

/** `bytes` cut at `cuts` (positions taken modulo its length + 1). */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const to of at) {
    parts.push(bytes.subarray(from, to));
    from = to;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

test('[WebSocket] text cut anywhere, even inside a character, is still UTF-8', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.array(fc.nat()), (text, cuts) => {
      assert.equal(isUtf8Across(cut(Buffer.from(text), cuts)), true);
    }),
  );
});

test('[WebSocket] any bytes cut anywhere: the same answer as for the bytes joined', () => {
  // Bytes near the multi-byte ranges, so that valid and invalid sequences both come up.
  const byte = fc.oneof(fc.integer({ min: 0x41, max: 0x43 }), fc.integer({ min: 0x80, max: 0xff }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 24 }), fc.array(fc.nat()), (bytes, cuts) => {
      const joined = Uint8Array.from(bytes);
      assert.equal(isUtf8Across(cut(joined, cuts)), isUtf8(joined));
    }),
    { numRuns: 2000 },
  );
});

test('[WebSocket] a character split three ways; a cut lead byte at the very end', () => {
  const euro = Buffer.from('€'); // e2 82 ac
  assert.equal(isUtf8Across([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)]), true);
  assert.equal(isUtf8Across([Buffer.from('a'), euro.subarray(0, 2)]), false);
  assert.equal(isUtf8Across([euro.subarray(0, 1), Buffer.from('a')]), false);
  assert.equal(isUtf8Across([]), true);
});
