// Schema issues as messages a user can act on: the key's path, what is wrong, and a hint (the
// setting meant, the keys that exist). Where the key is (a file's line, a flag) is the caller's.
import { z } from 'zod';

/** One problem: where in the configuration, what, and a hint. */
export interface Problem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** `permissions[0].user`, `persistence.persistAll`. */
export function renderPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${String(part)}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Optimal string alignment distance (a transposition counts as one edit). */
function distance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name `word` most likely misspells, if one is close enough. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const allowed = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

/** The object schema that validates the value at `path` under `schema`, if there is one. */
function objectAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodObject | undefined {
  let s: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let u = t;
    for (;;) {
      if (u instanceof z.ZodOptional || u instanceof z.ZodExactOptional)
        u = u.unwrap() as z.ZodType;
      else if (u instanceof z.ZodPipe) u = u.in as z.ZodType;
      else if (u instanceof z.ZodUnion) {
        const object = (u.options as z.ZodType[]).map(unwrap).find((o) => o instanceof z.ZodObject);
        if (object === undefined) return u;
        u = object;
      } else return u;
    }
  };
  for (const part of path) {
    if (s === undefined) return undefined;
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(part)];
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else return undefined;
  }
  if (s === undefined) return undefined;
  s = unwrap(s);
  return s instanceof z.ZodObject ? s : undefined;
}

/**
 * Turn zod's issues into problems. `exists(path)` says whether the input has a value there (a
 * missing key reads "is required" rather than "must be").
 */
export function problemsOf(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  exists: (path: readonly PropertyKey[]) => boolean,
  base: readonly PropertyKey[] = [],
): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(objectAt(schema, path)?.shape ?? {});
      for (const key of issue.keys) {
        const meant = closest(key, known);
        const where =
          path.length === 0
            ? 'docs/broker.md lists every setting'
            : `${renderPath(path)} takes ${known.join(', ')}`;
        out.push({
          path: [...path, key],
          message: `is not a setting${meant === undefined ? '' : ` (did you mean ${meant}?)`}; ${where}`,
        });
      }
    } else if (issue.code === 'invalid_union') {
      // The branch that accepted the value's type says what is wrong inside it.
      const branch = issue.errors.find((errs) =>
        errs.every(
          (e) => e.path.length > 0 || (e.code !== 'invalid_type' && e.code !== 'invalid_value'),
        ),
      );
      if (branch !== undefined) out.push(...problemsOf(branch, schema, exists, path));
      else out.push({ path, message: issue.message });
    } else if (!exists(path)) {
      out.push({ path, message: `is required: it ${issue.message}` });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}
