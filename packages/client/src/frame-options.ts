// The session's frame options for what the client sends, built from the caller's options.
import type { BodyInit, HeadersInit, SendFrameOptions } from '@stompede/core';

/** What a SEND's frame takes from the caller's options (`SendOptions`). */
interface SendHeaders {
  readonly headers?: HeadersInit | undefined;
  readonly contentType?: string | undefined;
}

/** The session's options for a SEND: one object, only the keys that are set. */
export function sendFrameOptions(
  destination: string,
  body: BodyInit,
  options: SendHeaders,
  transaction: string | undefined,
  receipt: string | undefined,
): SendFrameOptions {
  const headers = options.headers;
  const o: { -readonly [K in keyof SendFrameOptions]: SendFrameOptions[K] } = {
    destination,
    body,
  };
  // Strings go as UTF-8 text unless the caller names a content type.
  const contentType =
    options.contentType ?? (typeof body === 'string' ? 'text/plain;charset=utf-8' : undefined);
  if (contentType !== undefined && !hasHeader(headers, 'content-type')) o.contentType = contentType;
  if (transaction !== undefined) o.transaction = transaction;
  if (receipt !== undefined) o.receipt = receipt;
  if (headers !== undefined) o.headers = headers;
  return o;
}

/** Frame options with nothing set (shared: one object per frame is avoidable garbage). */
const NO_OPTIONS = Object.freeze({});

/** The session's options for an ACK, NACK, or a frame that may ask for a receipt. */
export function frameOptions(
  transaction: string | undefined,
  receipt: string | undefined,
): { readonly transaction?: string; readonly receipt?: string } {
  if (transaction === undefined) return receipt === undefined ? NO_OPTIONS : { receipt };
  return receipt === undefined ? { transaction } : { transaction, receipt };
}

/** Headers given as a record or as pairs, as pairs (a record's undefined values left out). */
export function headerPairs(init: HeadersInit | undefined): [string, string][] {
  if (init === undefined) return [];
  if (Symbol.iterator in init) {
    return [...(init as Iterable<readonly [string, string]>)].map(([k, v]) => [k, v]);
  }
  const out: [string, string][] = [];
  const record = init;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value !== undefined) out.push([name, String(value)]);
  }
  return out;
}

function hasHeader(init: HeadersInit | undefined, name: string): boolean {
  return init !== undefined && headerPairs(init).some(([k]) => k === name);
}
