// Small pieces of HTTP the admin server's handlers share: answers, request bodies, and a typed
// error that becomes a JSON answer with its status.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The largest request body accepted (an action's JSON, a test message included). */
export const MAX_BODY = 1024 * 1024;

/** A request the admin API refuses: answered as `{"error": message}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Answer with `body` of `type`; nothing is cached, nothing sniffed. */
export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

/** Answer with JSON. */
export function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** Answer with plain text. */
export function plain(res: ServerResponse, status: number, textValue: string): void {
  send(res, status, 'text/plain; charset=utf-8', textValue);
}

/** The request's body as text; an HttpError 413 past {@link MAX_BODY}. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        // Stop reading; the answer closes the connection (see the server's error handling).
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpError(413, `the body is larger than ${String(MAX_BODY)} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Reads a JSON object's fields, refusing wrong types with a 400 that names the field. */
export class Fields {
  constructor(private readonly body: Readonly<Record<string, unknown>>) {}

  /** A string field; `fallback` when absent, a 400 when absent without one. */
  text(name: string, fallback?: string): string {
    const v = this.body[name];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v === '')
      throw new HttpError(400, `${name} is required (a string)`);
    return v;
  }

  /** An optional string field. */
  optionalText(name: string): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new HttpError(400, `${name} must be a string`);
    return v;
  }

  /** An optional boolean field. */
  flag(name: string): boolean {
    const v = this.body[name];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new HttpError(400, `${name} must be true or false`);
    return v;
  }

  /** Headers as `[[name, value], …]` or `{name: value}`. */
  headers(name: string): [string, string][] {
    const v = this.body[name];
    if (v === undefined) return [];
    const pairs: unknown[] = Array.isArray(v)
      ? v
      : typeof v === 'object' && v !== null
        ? Object.entries(v)
        : [v];
    return pairs.map((p) => {
      if (
        !Array.isArray(p) ||
        p.length !== 2 ||
        typeof p[0] !== 'string' ||
        typeof p[1] !== 'string'
      )
        throw new HttpError(400, `${name} must be [[name, value], …] or {name: value} of strings`);
      return [p[0], p[1]];
    });
  }
}

/** Parse a JSON object body; a 400 for anything else. */
export function parseObject(textValue: string): Fields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(textValue);
  } catch {
    throw new HttpError(400, 'the body must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new HttpError(400, 'the body must be a JSON object');
  return new Fields(parsed as Record<string, unknown>);
}
