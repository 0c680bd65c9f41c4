// SUBSCRIBE: the builder a client uses, and the rule a server reads it by ([1.2 SUBSCRIBE]: a
// non-empty `destination`; `id` from 1.1 on; `ack` one of the version's modes).
import { Frame } from '../frame.js';
import type { StompVersion } from '../version.js';
import {
  AckMode,
  type FrameOptions,
  assembleHeaders,
  expectCommand,
  invalidHeader,
  isAckMode,
  missingHeader,
  nonEmptyHeader,
  rejectBody,
} from './common.js';

/** Options of {@link subscribeFrame}. */
export interface SubscribeFrameOptions extends FrameOptions {
  /** What to subscribe to (`destination`). */
  readonly destination: string;
  /** The subscription's identifier (`id`): required from 1.1 on, optional in 1.0. */
  readonly id?: string;
  /** The ack mode (`ack`); the server's default is `auto`. `client-individual` is 1.1+. */
  readonly ack?: AckMode;
}

/** Build a SUBSCRIBE frame. Throws `ERR_STOMP_MISSING_HEADER` for a missing `id` in 1.1+. */
export function subscribeFrame(version: StompVersion, options: SubscribeFrameOptions): Frame {
  const frame = new Frame(
    'SUBSCRIBE',
    assembleHeaders(
      [
        ['id', options.id],
        ['destination', options.destination],
        ['ack', options.ack],
        ['receipt', options.receipt],
      ],
      options.headers,
    ),
  );
  checkSubscribe(frame, version);
  return frame;
}

/** What a SUBSCRIBE frame asks for (see {@link interpretSubscribe}). */
export interface SubscribeRequest {
  /**
   * The subscription's identifier: the `id` header, or in 1.0 without one, the destination
   * (which is then how the client can UNSUBSCRIBE).
   */
  readonly id: string;
  /** Whether the client sent an `id` header (1.0 MESSAGE frames carry `subscription` only then). */
  readonly explicitId: boolean;
  /** The destination. */
  readonly destination: string;
  /** The ack mode; `auto` when the header is missing. */
  readonly ack: AckMode;
  /** Every header (first of repeats wins), e.g. `selector` or server-specific ones. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Check a SUBSCRIBE frame against the rules of `version` and read it.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_BODY_NOT_ALLOWED` for a body (1.1+), `ERR_STOMP_MISSING_HEADER` without
 * `destination` (or `id`, 1.1+), `ERR_STOMP_INVALID_HEADER_VALUE` for an empty destination or an
 * unknown ack mode
 */
export function interpretSubscribe(frame: Frame, version: StompVersion): SubscribeRequest {
  const { id, destination, ack } = checkSubscribe(frame, version);
  return {
    id: id ?? destination,
    explicitId: id !== undefined,
    destination,
    ack,
    headers: frame.headerObject(),
  };
}

/** The rule of {@link interpretSubscribe}, in one pass over the headers. */
export function checkSubscribe(
  frame: Frame,
  version: StompVersion,
): { id: string | undefined; destination: string; ack: AckMode } {
  expectCommand(frame, 'SUBSCRIBE');
  rejectBody(frame, version);
  let destination: string | undefined;
  let id: string | undefined;
  let ack: string | undefined;
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'destination') destination ??= raw[i + 1];
    else if (name === 'id') id ??= raw[i + 1];
    else if (name === 'ack') ack ??= raw[i + 1];
  }
  if (destination === undefined) throw missingHeader(frame, 'destination', version);
  nonEmptyHeader(frame, 'destination', destination, version);
  if (id === undefined && version !== '1.0') {
    throw missingHeader(frame, 'id', version, 'it identifies the subscription');
  }
  if (ack === undefined) return { id, destination, ack: AckMode.AUTO };
  if (!isAckMode(ack, version)) {
    throw invalidHeader(
      frame,
      'ack',
      `${JSON.stringify(ack)} is not one of ` +
        (version === '1.0' ? 'auto, client' : 'auto, client, client-individual'),
      version,
    );
  }
  return { id, destination, ack };
}
