// Whether a WebSocket message made of several pieces is valid UTF-8 (and so may be sent as text)
// without joining them: a body that arrived in several socket chunks is sent as those pieces
// (listen/ws.ts), and a character may be split between two of them.
import { isUtf8 } from 'node:buffer';

/** Bytes in the character whose first byte is `lead` (0xc0 or more). */
function sequenceLength(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}

/** True when `parts`, one after another, are valid UTF-8. Copies at most 4 bytes per part. */
export function isUtf8Across(parts: readonly Uint8Array[]): boolean {
  // The first bytes of a character the previous part ended inside.
  let carry: Buffer | undefined;
  for (const part of parts) {
    let from = 0;
    if (carry !== undefined) {
      const need = sequenceLength(carry[0]!) - carry.length;
      if (part.length < need) {
        carry = Buffer.concat([carry, part]);
        continue;
      }
      if (!isUtf8(Buffer.concat([carry, part.subarray(0, need)]))) return false;
      carry = undefined;
      from = need;
    }
    // A character cut at the end: its first byte is one of the last three.
    let to = part.length;
    for (let i = to - 1; i >= from && i >= to - 3; i--) {
      const byte = part[i]!;
      if ((byte & 0xc0) === 0x80) continue;
      if (byte >= 0xc0 && i + sequenceLength(byte) > to) to = i;
      break;
    }
    if (!isUtf8(part.subarray(from, to))) return false;
    if (to < part.length) carry = Buffer.from(part.subarray(to));
  }
  return carry === undefined;
}
