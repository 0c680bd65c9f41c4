// A look at a segment file's records, for tests and the fault campaign (which stage damage at
// chosen places and check what recovery reports): where each record is, its type and seq.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeEnqueue } from './codec.js';
import { RECORD_HEADER } from './record.js';
import { readSegmentHead } from './segment.js';
import { walkSegment } from './walk.js';

/** A record of a segment file. */
export interface InspectedRecord {
  /** Offset of its header in the file. */
  readonly offset: number;
  /** Bytes, header included. */
  readonly length: number;
  /** Offset of its payload (whose first byte is the type). */
  readonly payload: number;
  readonly type: number;
  /** An ENQUEUE's seq; a REMOVE's seqs. */
  readonly seqs: readonly number[];
  /** An ENQUEUE's message body, as text. */
  readonly body?: string;
}

/** The intact records of the segment file `path` (format 2), in order. */
export function inspectSegment(path: string): InspectedRecord[] {
  const buf = readFileSync(path);
  const no = Number(basename(path).slice(0, 10));
  const head = readSegmentHead(buf, no);
  if (head?.format !== 2 || head.salt === undefined) {
    throw new RangeError(`${path} is not a readable segment of format 2`);
  }
  const out: InspectedRecord[] = [];
  walkSegment(buf, no, head.salt, (payload, offset, length) => {
    const type = payload[0]!;
    const seqs: number[] = [];
    if (type === 1) seqs.push(payload.readDoubleLE(1));
    else if (type === 2) {
      for (let k = 0, n = payload.readUInt32LE(1); k < n; k++)
        seqs.push(payload.readDoubleLE(5 + 12 * k));
    }
    const body = type === 1 ? decodeEnqueue(payload).body.toString() : undefined;
    out.push({
      offset,
      length,
      payload: offset + RECORD_HEADER,
      type,
      seqs,
      ...(body === undefined ? {} : { body }),
    });
  });
  return out;
}
