#!/usr/bin/env node
// A short tour of @stompede/core until the broker lands: parse frames from a byte stream split
// at random places, build a frame, and show the coded error a malformed frame raises.
import { Frame, FrameParser, encodeFrameBytes, StompError } from '@stompede/core';

const wire = new TextEncoder().encode(
  'SEND\ndestination:/queue/orders\ncontent-type:text/plain\n\nhello\0\n' +
    'SEND\ndestination:/queue/bin\ncontent-length:3\n\n\x01\x00\x02\0',
);
const parser = new FrameParser({
  onFrame: (frame) => console.log('frame', frame.command, frame.headerObject(), frame.body),
  onHeartbeat: () => console.log('heart-beat'),
});
for (let i = 0; i < wire.length; i += 7) parser.push(wire.subarray(i, i + 7));

const built = new Frame('SEND', { destination: '/topic/news', 'x-key': 'a:b' }, 'text body');
console.log('encoded', JSON.stringify(new TextDecoder().decode(encodeFrameBytes(built))));

try {
  new FrameParser({ onFrame: () => {} }).push(new TextEncoder().encode('SEND\nno-colon\n\n\0'));
} catch (err) {
  if (err instanceof StompError) console.log('error', err.code, err.message);
}
