// The shared part of MESSAGE frames (encode.ts): plain headers are copied as they are scanned,
// everything else takes core's rule; the bytes must be the same either way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Message } from '@stompede/broker';
import { sharedBytes } from '@stompede/broker/internal';
import { type StompVersion, encodeHeaderToken } from '@stompede/core';

/** The shared MESSAGE part as core's rule writes it, header by header. */
function byRule(message: Message, version: StompVersion): string {
  const text = (token: string, name = false): string | undefined => {
    const r = encodeHeaderToken(token, version, { name });
    return typeof r === 'string' ? r : undefined;
  };
  let out = '';
  const dest = text(message.destination);
  if (dest !== undefined) out += `destination:${dest}\n`;
  const raw = message.headers;
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]!, true);
    const value = text(raw[i + 1]!);
    if (name === undefined || value === undefined) continue;
    out += `${name}:${value}\n`;
  }
  return `${out}content-length:${String(message.bodyLength)}\n\n`;
}

describe('encode', () => {
  test('[1.2 Value Encoding] plain and special header text is written as core escapes it, in every version', () => {
    const char = fc.constantFrom(
      'a',
      'Z',
      '0',
      ' ',
      '~',
      ':',
      '\\',
      '\n',
      '\r',
      '\t',
      'é',
      '€',
      '😀',
    );
    const text = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.constantFrom<StompVersion>('1.0', '1.1', '1.2'),
        text,
        fc.array(fc.tuple(text, text), { maxLength: 4 }),
        (version, destination, headers) => {
          const message = new Message(`/queue/${destination}`, headers.flat(), Buffer.from('body'));
          const bytes = Buffer.from(sharedBytes(message, version)).toString('utf8');
          assert.equal(bytes, byRule(message, version));
        },
      ),
      { numRuns: 500 },
    );
  });
});
