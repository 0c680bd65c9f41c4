// DISCONNECT: the builder a client uses, and the rule a server reads it by ([1.2 DISCONNECT]: no
// required header; a `receipt` asks for a graceful shutdown).
import { Frame } from '../frame.js';
import type { StompVersion } from '../version.js';
import { type FrameOptions, assembleHeaders, expectCommand, rejectBody } from './common.js';

/**
 * Build a DISCONNECT frame. For a graceful shutdown give it a `receipt` and close the socket once
 * the RECEIPT arrives.
 */
export function disconnectFrame(version: StompVersion, options: FrameOptions = {}): Frame {
  const frame = new Frame(
    'DISCONNECT',
    assembleHeaders([['receipt', options.receipt]], options.headers),
  );
  checkDisconnect(frame, version);
  return frame;
}

/** The rule a DISCONNECT frame follows: no body from 1.1 on. */
export function checkDisconnect(frame: Frame, version: StompVersion): void {
  expectCommand(frame, 'DISCONNECT');
  rejectBody(frame, version);
}
