// UNSUBSCRIBE: the builder a client uses, and the rule a server reads it by ([1.2 UNSUBSCRIBE]:
// `id` from 1.1 on; in 1.0 `id` or the `destination` of a subscription made without one).
import { Frame } from '../frame.js';
import type { StompVersion } from '../version.js';
import {
  type FrameOptions,
  assembleHeaders,
  expectCommand,
  missingHeader,
  rejectBody,
} from './common.js';

/** Options of {@link unsubscribeFrame}. */
export interface UnsubscribeFrameOptions extends FrameOptions {
  /** The subscription's identifier (`id`); required from 1.1 on. */
  readonly id?: string;
  /** 1.0 only: unsubscribe by `destination` when the subscription had no id. */
  readonly destination?: string;
}

/** Build an UNSUBSCRIBE frame: by `id` (1.1+), or by `id` or `destination` (1.0). */
export function unsubscribeFrame(version: StompVersion, options: UnsubscribeFrameOptions): Frame {
  const frame = new Frame(
    'UNSUBSCRIBE',
    assembleHeaders(
      [
        ['id', options.id],
        ['destination', version === '1.0' ? options.destination : undefined],
        ['receipt', options.receipt],
      ],
      options.headers,
    ),
  );
  interpretUnsubscribe(frame, version);
  return frame;
}

/**
 * Check an UNSUBSCRIBE frame against the rules of `version` and return the identifier of the
 * subscription it removes: `id`, or in 1.0 without one, `destination` (matching
 * `SubscribeRequest.id`).
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_BODY_NOT_ALLOWED` for a body (1.1+), `ERR_STOMP_MISSING_HEADER` without `id` (1.1+)
 * or without both `id` and `destination` (1.0)
 */
export function interpretUnsubscribe(frame: Frame, version: StompVersion): string {
  expectCommand(frame, 'UNSUBSCRIBE');
  rejectBody(frame, version);
  let id: string | undefined;
  let destination: string | undefined;
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'id') id ??= raw[i + 1];
    else if (name === 'destination') destination ??= raw[i + 1];
  }
  if (id !== undefined) return id;
  if (version !== '1.0')
    throw missingHeader(frame, 'id', version, 'it names the subscription to remove');
  if (destination === undefined) {
    throw missingHeader(frame, 'id', version, 'STOMP 1.0 needs an "id" or a "destination"');
  }
  return destination;
}
