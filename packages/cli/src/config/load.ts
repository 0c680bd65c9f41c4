// Reading `stompede broker`'s configuration file: YAML (JSON is YAML too), checked as a whole
// against the schema (schema.ts) and for cross-references (users, groups, virtual hosts), every
// problem reported at once with the file, the line and a hint. Relative paths in the file are
// relative to the file, not to the directory the broker was started from.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import { CliError } from '../cli-error.js';
import { closest, type Problem, problemsOf, renderPath } from './problems.js';
import { type ConfigFile, configSchema } from './schema.js';

/** Read and check a configuration file. */
export async function loadConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, path);
}

/**
 * Parse and check configuration text. `source` names it in errors; relative paths in it
 * (dataDir, tls.cert, tls.key, tls.ca, and cluster.auth.credsFile, cluster.tls.*) are resolved
 * against `baseDir`, by default the
 * directory of `source`.
 */
export function parseConfig(
  text: string,
  source: string,
  baseDir: string = dirname(resolve(source)),
): ConfigFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const at = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    throw new CliError(`${source}:${String(at.line)}: ${first.message.split('\n')[0]!}`);
  }
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) {
    throw new CliError(`${source}:1: the configuration must be a mapping of settings (key: value)`);
  }
  const raw: unknown = doc.toJS();
  const parsed = configSchema.safeParse(raw);
  const problems = [
    ...(parsed.success
      ? []
      : problemsOf(parsed.error.issues, configSchema, (path) => nodeAt(doc, path) !== undefined)),
    ...references(raw as Record<string, unknown>),
  ];
  if (problems.length > 0) {
    const line = (p: Problem): number => {
      const node = nodeAt(doc, p.path, true);
      return node?.range === undefined || node.range === null
        ? 1
        : lines.linePos(node.range[0]).line;
    };
    const located = problems
      .map((p) => ({ line: line(p), text: `${renderPath(p.path)} ${p.message}` }))
      .sort((a, b) => a.line - b.line);
    throw new CliError(located.map((p) => `${source}:${String(p.line)}: ${p.text}`).join('\n'));
  }
  return withPathsFrom(baseDir, parsed.data!);
}

/**
 * The YAML node at `path`: for a mapping key, its key node (whose line is the key's). With
 * `nearest`, the deepest node that exists along the path.
 */
function nodeAt(
  doc: Document,
  path: readonly PropertyKey[],
  nearest = false,
): YamlNode | undefined {
  let node: YamlNode | null = doc.contents;
  let found: YamlNode | undefined = node ?? undefined;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(part),
      );
      if (pair === undefined) return nearest ? found : undefined;
      found = (isScalar(pair.key) ? pair.key : undefined) ?? found;
      node = pair.value as YamlNode | null;
    } else if (isSeq(node) && typeof part === 'number' && node.items[part] !== undefined) {
      node = node.items[part] as YamlNode;
      found = node;
    } else {
      return nearest ? found : undefined;
    }
  }
  return found;
}

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Cross-references the schema cannot see: names of users, groups and virtual hosts. Reads the
 * raw file, so that these are reported together with the schema's problems (values of the wrong
 * type are the schema's to report, and are passed over here).
 */
function references(config: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const userMap = record(config.users);
  const users = Object.keys(userMap);
  const groups = new Set(Object.keys(record(config.groups)));
  for (const u of Object.values(userMap)) for (const g of strings(record(u).groups)) groups.add(g);
  const configured = Array.isArray(config.vhosts) ? strings(config.vhosts) : undefined;
  const defaultVhost = str(config.defaultVhost);
  const vhosts = configured ?? [defaultVhost ?? '/'];
  const vhostHint =
    configured === undefined
      ? `without vhosts every session is in the default virtual host "${vhosts[0]!}"`
      : `vhosts: ${vhosts.join(', ')}`;
  const unknown = (
    path: readonly PropertyKey[],
    what: string,
    name: string,
    known: readonly string[],
    hint: string,
  ): void => {
    const meant = closest(name, known);
    problems.push({
      path,
      message: `${JSON.stringify(name)} is not ${what}${meant === undefined ? '' : ` (did you mean ${meant}?)`}; ${hint}`,
    });
  };
  const userList = users.length === 0 ? 'no users are configured' : `users: ${users.join(', ')}`;

  for (const [name, user] of Object.entries(userMap)) {
    if (name === '' || name === 'anonymous' || name === '*') {
      problems.push({ path: ['users', name], message: 'is a reserved name' });
    }
    const list = record(user).vhosts;
    if (Array.isArray(list)) {
      list.forEach((v: unknown, i) => {
        if (typeof v === 'string' && !vhosts.includes(v)) {
          unknown(['users', name, 'vhosts', i], 'a virtual host', v, vhosts, vhostHint);
        }
      });
    }
  }
  for (const [group, members] of Object.entries(record(config.groups))) {
    if (!Array.isArray(members)) continue;
    members.forEach((m: unknown, i) => {
      if (typeof m === 'string' && !users.includes(m)) {
        unknown(['groups', group, i], 'a user', m, users, userList);
      }
    });
  }
  const grants: unknown[] = Array.isArray(config.permissions) ? config.permissions : [];
  grants.forEach((grant, i) => {
    const g = record(grant);
    const user = str(g.user);
    const group = str(g.group);
    const vhost = str(g.vhost);
    if (user !== undefined && user !== 'anonymous' && user !== '*' && !users.includes(user)) {
      unknown(['permissions', i, 'user'], 'a user', user, users, `${userList} (or anonymous, "*")`);
    }
    if (group !== undefined && !groups.has(group)) {
      const known = [...groups];
      const hint = known.length === 0 ? 'no groups are configured' : `groups: ${known.join(', ')}`;
      unknown(['permissions', i, 'group'], 'a group', group, known, hint);
    }
    if (vhost !== undefined && vhost !== '*' && !vhosts.includes(vhost)) {
      unknown(
        ['permissions', i, 'vhost'],
        'a virtual host',
        vhost,
        vhosts,
        `${vhostHint} (or "*")`,
      );
    }
  });
  if (
    configured !== undefined &&
    defaultVhost !== undefined &&
    !configured.includes(defaultVhost)
  ) {
    unknown(['defaultVhost'], 'one of vhosts', defaultVhost, configured, vhostHint);
  }
  return problems;
}

/** The file's relative paths made absolute against `baseDir`. */
function withPathsFrom(baseDir: string, config: ConfigFile): ConfigFile {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const out: ConfigFile = { ...config };
  if (typeof config.dataDir === 'string') out.dataDir = abs(config.dataDir);
  if (config.tls !== undefined) {
    out.tls = {
      ...config.tls,
      cert: abs(config.tls.cert),
      key: abs(config.tls.key),
      ...(config.tls.ca === undefined ? {} : { ca: abs(config.tls.ca) }),
    };
  }
  const cluster = config.cluster;
  if (cluster !== undefined) {
    const files = <T extends Record<string, unknown>>(o: T, keys: readonly (keyof T)[]): T => {
      const copy = { ...o };
      for (const k of keys) if (typeof copy[k] === 'string') copy[k] = abs(copy[k]) as T[keyof T];
      return copy;
    };
    out.cluster = {
      ...cluster,
      ...(cluster.auth === undefined ? {} : { auth: files(cluster.auth, ['credsFile']) }),
      ...(cluster.tls === undefined
        ? {}
        : { tls: files(cluster.tls, ['caFile', 'certFile', 'keyFile']) }),
    };
  }
  return out;
}
