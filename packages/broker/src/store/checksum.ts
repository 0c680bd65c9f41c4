// Checksums of the journal: CRC-32 for records, segment headers and the checkpoint, and a small
// mix for each seq of a REMOVE record.
import * as zlib from 'node:zlib';

const crcTable = ((): Int32Array => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32js(data: Uint8Array, value = 0): number {
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const nativeCrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 (IEEE, as zlib and gzip), continuing from `value` (the CRC of what came before):
 * native when Node has `zlib.crc32` (20.15+), else a table.
 */
export const crc32: (data: Uint8Array, value?: number) => number =
  nativeCrc === undefined ? crc32js : (data, value = 0) => nativeCrc(data, value);

/**
 * A 32-bit check of one seq (its 8 bytes as written at `buf[at]`), so that a REMOVE record whose
 * checksum fails still yields the seqs that are intact.
 */
export function seqCheck(buf: Buffer, at: number): number {
  let h = Math.imul(buf.readUInt32LE(at) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ buf.readUInt32LE(at + 4), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
