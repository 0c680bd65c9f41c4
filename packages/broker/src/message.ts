import type { StompVersion } from '@stompede/core';

/**
 * A published message: the destination it was sent to, the SEND frame's user headers and its
 * body. Immutable; shared by every queue and delivery that holds it.
 *
 * `encoded` caches, per protocol version, the bytes of the part of a MESSAGE frame that is the
 * same for every delivery (destination, user headers, content-length and the blank line), so
 * fanning a message out encodes only the per-delivery headers.
 */
export class Message {
  /** Where it was published, e.g. `/topic/a.b` (shown as the MESSAGE `destination`). */
  readonly destination: string;
  /** User headers, flattened `[name, value, ...]`, in SEND order. */
  readonly headers: readonly string[];
  /** The body bytes. */
  readonly body: Uint8Array;
  /** Approximate bytes held: body plus headers. */
  readonly size: number;
  /** @internal per-version cache of the shared MESSAGE frame bytes (index: 0=1.0, 1=1.1, 2=1.2). */
  encoded: [Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined] = [
    undefined,
    undefined,
    undefined,
  ];

  constructor(destination: string, headers: readonly string[], body: Uint8Array) {
    this.destination = destination;
    this.headers = headers;
    this.body = body;
    let size = body.length + destination.length + 64;
    for (const h of headers) size += h.length + 2;
    this.size = size;
  }

  /** A copy of this message for another destination, with extra headers first. */
  redirect(destination: string, extra: readonly string[]): Message {
    return new Message(destination, [...extra, ...this.headers], this.body);
  }

  /** The cache slot for `version`. */
  static slot(version: StompVersion): 0 | 1 | 2 {
    return version === '1.2' ? 2 : version === '1.1' ? 1 : 0;
  }
}
