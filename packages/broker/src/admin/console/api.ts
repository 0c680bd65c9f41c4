// The console's calls to the admin API: same origin, the browser's basic-auth credentials,
// actions as JSON POSTs (the server refuses anything else, and any foreign Origin).

/** A failed call, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(r: Response): Promise<T> {
  const textValue = await r.text();
  let parsed: unknown;
  try {
    parsed = textValue === '' ? undefined : JSON.parse(textValue);
  } catch {
    parsed = undefined;
  }
  if (!r.ok) {
    const e = parsed as { error?: unknown; code?: unknown } | undefined;
    const message = typeof e?.error === 'string' ? e.error : textValue.trim() || r.statusText;
    const code = typeof e?.code === 'string' ? ` [${e.code}]` : '';
    throw new ApiError(r.status, `${message}${code}`);
  }
  return parsed as T;
}

/** GET `path` (relative to the console, e.g. `api/overview`) with query parameters. */
export async function get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const q = new URLSearchParams(query).toString();
  const r = await fetch(q === '' ? path : `${path}?${q}`, {
    cache: 'no-store',
    credentials: 'same-origin',
  });
  return answer<T>(r);
}

/** POST a JSON body to an action. */
export async function post<T>(path: string, body: unknown): Promise<T> {
  const r = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return answer<T>(r);
}
