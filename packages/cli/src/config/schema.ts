// The schema of `stompede broker`'s configuration file, every key at every depth, with zod.
//
// Why zod: the file is checked by one declarative schema instead of hand-written checks (which
// had let typos under nested keys through); zod infers the TypeScript type of a valid file (so the
// compiler checks below that every createBroker() option has a key here, and that the values fit
// BrokerOptions), reports every problem at once with its path (which load.ts turns into a line of
// the file), rejects unknown keys at every depth with strictObject, and has no dependency of its
// own. It is a dependency of the CLI only: neither the client nor the core sees it.
//
// A broker option added without a key here fails to compile (`MissingKeys` below): add it here,
// in docs/broker.md, and in a test of test/unit/config.test.ts.
import type {
  AdminOptions,
  BrokerOptions,
  LoginThrottleOptions,
  PermissionGrant,
  UserOptions,
} from '@stompede/broker';
import { parsePasswordHash } from '@stompede/broker';
import type { ClusterOptions } from '@stompede/cluster';
import { DestinationPattern, originPolicy } from '@stompede/broker/internal';
import type { ParserLimits } from '@stompede/core';
import { z } from 'zod';
import { parseSize } from '../cli-error.js';

/** Levels `logLevel` (`--log-level`) takes. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Values of `logFormat` (`--log-format`): auto is pretty on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
/** A log format. */
export type LogFormat = (typeof LOG_FORMATS)[number];
/** Protocol versions `tls.minVersion` (`--tls-min-version`) takes. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** An integer in [min, max], with one message for every way it can be wrong. */
function int(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodInt {
  const error =
    max === Number.MAX_SAFE_INTEGER
      ? `must be a whole number >= ${String(min)}`
      : `must be a whole number from ${String(min)} to ${String(max)}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const port = (): z.ZodInt => {
  const error = 'must be a port number 0-65535 (0: any free port)';
  return z.int({ error }).min(0, { error }).max(65535, { error });
};
const bool = (): z.ZodBoolean => z.boolean({ error: 'must be true or false' });
const text = (what: string): z.ZodString =>
  z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
const filePath = (): z.ZodString => text('a file path');
const list = <T extends z.ZodType>(item: T, what: string): z.ZodArray<T> =>
  z.array(item, { error: `must be a list of ${what}` });

/** A schema check from a function that throws: its message becomes the issue's. */
function checkedBy(check: (value: string) => void): (value: string, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    try {
      check(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message, input: value });
    }
  };
}

const passwordHash = z
  .string({ error: 'must be a password hash made with `stompede passwd` (scrypt$...)' })
  .superRefine(
    checkedBy((value) => {
      // parsePasswordHash names the key itself; the path is given by the caller's line.
      const hashed = /^scrypt\$/.test(value);
      if (!hashed) {
        throw new Error(
          'must be a password hash made with `stompede passwd` (scrypt$...), never a plain-text password',
        );
      }
      try {
        parsePasswordHash(value, 'the hash');
      } catch (err) {
        throw new Error(
          `is not a usable hash from \`stompede passwd\` (${(err as Error).message.replace(/^the hash:? ?/, '')})`,
        );
      }
    }),
  );

const origin = z
  .string({ error: 'must be "*" or an origin such as https://app.example.com:8443' })
  .superRefine(
    checkedBy((value) => {
      if (!/^(\*|https?:\/\/[^/\s?#@]+\/?)$/i.test(value)) {
        throw new Error('must be "*" or an origin such as https://app.example.com:8443 (no path)');
      }
      originPolicy([value], '127.0.0.1', 'the origin');
    }),
  );

const destinationPattern = z.string({ error: 'must be a destination pattern' }).superRefine(
  checkedBy((value) => {
    new DestinationPattern(value);
  }),
);

const subjectField = z
  .string({ error: 'must name a certificate subject field, such as CN or emailAddress' })
  .regex(/^[A-Za-z][A-Za-z0-9.]*$/, {
    error: 'must name a certificate subject field, such as CN or emailAddress',
  });

const wsSchema = z.strictObject({
  port: port().exactOptional(),
  path: z
    .string({ error: "must be a URL path starting with '/'" })
    .startsWith('/', { error: "must be a URL path starting with '/'" })
    .exactOptional(),
  allowedOrigins: list(origin, 'origins (or "*")').exactOptional(),
});

const tlsSchema = z
  .strictObject({
    port: port().exactOptional(),
    cert: filePath(),
    key: filePath(),
    ca: filePath().exactOptional(),
    requireClientCert: bool().exactOptional(),
    minVersion: z
      .enum(TLS_VERSIONS, { error: `must be one of ${TLS_VERSIONS.join(', ')}` })
      .exactOptional(),
    ciphers: text('an OpenSSL cipher list').exactOptional(),
    clientCertUser: subjectField.exactOptional(),
  })
  .superRefine((tls, ctx) => {
    if (tls.clientCertUser !== undefined && tls.ca === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientCertUser'],
        message: 'needs tls.ca (--tls-ca): the CA that signs client certificates',
      });
    }
  });

/** A byte size: a whole number, or one with a unit (`50MiB`, `1GB`; see parseSize). */
function size() {
  const error = 'must be a size such as 50MiB, 1GB or 52428800';
  return z.union([z.number({ error }), z.string({ error })], { error }).transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) ctx.addIssue({ code: 'custom', message: error, input: value });
    return bytes ?? 0;
  });
}

const persistenceSchema = z.strictObject({
  persistAll: bool().exactOptional(),
  fsync: bool().exactOptional(),
  segmentSize: int(64 * 1024).exactOptional(),
  pageOutBytes: int(0).exactOptional(),
  verifyOnStart: bool().exactOptional(),
  diskFreeLimit: size().exactOptional(),
  diskCheckInterval: int(10).exactOptional(),
});

const limitsSchema = z.strictObject({
  maxFrameSize: int(1).exactOptional(),
  maxBodySize: int(1).exactOptional(),
  maxHeaderBytes: int(1).exactOptional(),
  maxHeaderLineLength: int(1).exactOptional(),
  maxHeaders: int(1).exactOptional(),
});

const throttleSchema = z.strictObject({
  baseDelay: int(0).exactOptional(),
  maxDelay: int(0).exactOptional(),
  maxEntries: int(1).exactOptional(),
  forgetAfter: int(0).exactOptional(),
});

const userSchema = z.strictObject({
  password: passwordHash.exactOptional(),
  groups: list(text('a group name'), 'group names').exactOptional(),
  vhosts: list(text('a virtual host'), 'virtual hosts').exactOptional(),
});

const RIGHTS = ['read', 'write', 'create'] as const;
const grantSchema = z
  .strictObject({
    user: text('a user name, "anonymous" or "*"').exactOptional(),
    group: text('a group name').exactOptional(),
    vhost: text('a virtual host or "*"').exactOptional(),
    destinations: z.union(
      [
        destinationPattern,
        list(destinationPattern, 'destination patterns').min(1, {
          error: 'must name one or more destination patterns',
        }),
      ],
      { error: 'must be a destination pattern or a list of them' },
    ),
    rights: z.union(
      [
        z.literal('all'),
        list(z.enum(RIGHTS, { error: 'must be read, write or create' }), 'rights').min(1, {
          error: 'must list read, write or create (or be "all")',
        }),
      ],
      { error: 'must be a list of read, write, create, or "all"' },
    ),
  })
  .superRefine((g, ctx) => {
    if ((g.user === undefined) === (g.group === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs exactly one of user and group' });
    }
  });

const adminSchema = z
  .strictObject({
    host: text('an address').exactOptional(),
    port: port().exactOptional(),
    user: text('a user name').exactOptional(),
    password: passwordHash.exactOptional(),
    sampleInterval: int(10).exactOptional(),
  })
  .superRefine((a, ctx) => {
    if ((a.user === undefined) !== (a.password === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [a.user === undefined ? 'password' : 'user'],
        message: 'admin.user and admin.password go together',
      });
    }
  });

const clusterSchema = z
  .strictObject({
    servers: list(text('a NATS server URL (nats://HOST:PORT)'), 'NATS server URLs').min(1, {
      error: 'must list one or more NATS server URLs',
    }),
    nodeName: text('a name').exactOptional(),
    auth: z
      .strictObject({
        user: text('a user name').exactOptional(),
        password: text('a password').exactOptional(),
        token: text('a token').exactOptional(),
        credsFile: filePath().exactOptional(),
      })
      .exactOptional(),
    tls: z
      .strictObject({
        caFile: filePath().exactOptional(),
        certFile: filePath().exactOptional(),
        keyFile: filePath().exactOptional(),
      })
      .exactOptional(),
    replicas: int(1, 5).exactOptional(),
    prefix: z
      .string({ error: 'must be 1-32 of A-Z, a-z, 0-9, _ and -' })
      .regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'must be 1-32 of A-Z, a-z, 0-9, _ and -' })
      .exactOptional(),
    queueShards: int(1, 64).exactOptional(),
    ackWait: int(1000).exactOptional(),
    duplicateWindow: int(1000).exactOptional(),
    publishTimeout: int(100).exactOptional(),
    maxAge: int(0).exactOptional(),
    maxStreamBytes: int(-1).exactOptional(),
    maxInflightBytes: int(1024).exactOptional(),
    connectTimeout: int(0).exactOptional(),
  })
  .superRefine((c, ctx) => {
    // The rest (odd replicas, auth combinations, …) is checked by @stompede/cluster at start.
    if (c.replicas !== undefined && c.replicas % 2 === 0) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'must be 1, 3 or 5' });
    }
  });

const VERSIONS = ['1.0', '1.1', '1.2'] as const;

/** Every key of the file; cross-references (users, groups, vhosts) are checked in load.ts. */
export const configSchema = z.strictObject({
  // Listeners and logging: the CLI's own keys.
  host: text('an address to listen on').exactOptional(),
  port: port().exactOptional(),
  ws: z
    .union([z.literal(false), wsSchema], {
      error: 'must be a mapping (port, path, allowedOrigins) or false (no WebSocket)',
    })
    .exactOptional(),
  tls: tlsSchema.exactOptional(),
  logLevel: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .exactOptional(),
  logFormat: z
    .enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(', ')}` })
    .exactOptional(),
  dataDir: z
    .union([z.literal(false), text('a directory')], {
      error: 'must be a directory, or false (every message in memory only)',
    })
    .exactOptional(),
  // createBroker() options, under the same names.
  persistence: persistenceSchema.exactOptional(),
  serverName: text('a name').exactOptional(),
  versions: list(z.enum(VERSIONS, { error: 'must be "1.0", "1.1" or "1.2" (quoted)' }), 'versions')
    .min(1, { error: 'must list one or more of "1.0", "1.1", "1.2"' })
    .exactOptional(),
  vhosts: list(text('a virtual host'), 'virtual hosts').exactOptional(),
  defaultVhost: text('a virtual host').exactOptional(),
  heartbeat: z
    .tuple([int(0), int(0)], {
      error: 'must be [floor ms, ceiling ms] ([0, 0]: off), e.g. [1000, 60000]',
    })
    .exactOptional(),
  heartbeatGrace: z
    .number({ error: 'must be a number >= 1' })
    .min(1, { error: 'must be a number >= 1' })
    .exactOptional(),
  connectTimeout: int(1).exactOptional(),
  maxPreConnectBytes: int(64).exactOptional(),
  frameTimeout: int(0).exactOptional(),
  maxPartialFrameBytes: int(0).exactOptional(),
  maxPartialFrameBytesPerAddress: int(0).exactOptional(),
  limits: limitsSchema.exactOptional(),
  memoryLimit: int(0).exactOptional(),
  maxDeliveries: int(0).exactOptional(),
  defaultPrefetch: int(1).exactOptional(),
  maxTopicPending: int(0).exactOptional(),
  maxTopicPendingBytes: int(0).exactOptional(),
  maxQueueBytes: int(0).exactOptional(),
  maxQueues: int(0).exactOptional(),
  maxSubscriptions: int(1).exactOptional(),
  maxTransactions: int(1).exactOptional(),
  maxTransactionFrames: int(1).exactOptional(),
  errorLinger: int(0).exactOptional(),
  closeTimeout: int(0).exactOptional(),
  users: z
    .record(z.string(), userSchema, { error: 'must be a mapping of user names' })
    .exactOptional(),
  groups: z
    .record(z.string(), list(text('a user name'), 'user names'), {
      error: 'must be a mapping of group names to lists of user names',
    })
    .exactOptional(),
  permissions: list(
    grantSchema,
    'rules (user or group, vhost, destinations, rights)',
  ).exactOptional(),
  allowAnonymous: bool().exactOptional(),
  loginThrottle: throttleSchema.exactOptional(),
  maxConnections: int(1).exactOptional(),
  maxConnectionsPerAddress: int(1).exactOptional(),
  maxUnackedPerSubscription: int(1).exactOptional(),
  admin: adminSchema.exactOptional(),
  // Cluster mode (docs/cluster.md): the node's messages live in NATS JetStream.
  cluster: clusterSchema.exactOptional(),
});

/** A valid configuration file. */
export type ConfigFile = z.infer<typeof configSchema>;

// ---- The compiler checks that the schema and createBroker() agree. ----
/** Keys of A that B lacks. */
type MissingKeys<A, B> = Exclude<keyof A, keyof B>;
/** `true` when nothing is missing; otherwise the missing key names, as a compile error. */
type NoneMissing<K> = [K] extends [never] ? true : { missing: K };
/** Compiles only when T is `true`. */
type Agree<T extends true> = T;
/** Options the file cannot hold: listeners and the logger come from the CLI's keys; engine, metrics and clock are objects. */
type CodeOnly = 'listeners' | 'logger' | 'engine' | 'metrics' | 'clock';
type Persistence = NonNullable<BrokerOptions['persistence']>;
type FileUser = NonNullable<ConfigFile['users']>[string];
type FileGrant = NonNullable<ConfigFile['permissions']>[number];
/** Every option of createBroker() (and of its nested options) has a key in the schema. */
export type _SchemaCoversBrokerOptions = [
  Agree<NoneMissing<MissingKeys<Omit<BrokerOptions, CodeOnly>, ConfigFile>>>,
  Agree<NoneMissing<MissingKeys<Persistence, NonNullable<ConfigFile['persistence']>>>>,
  Agree<NoneMissing<MissingKeys<ParserLimits, NonNullable<ConfigFile['limits']>>>>,
  Agree<NoneMissing<MissingKeys<LoginThrottleOptions, NonNullable<ConfigFile['loginThrottle']>>>>,
  Agree<NoneMissing<MissingKeys<UserOptions, FileUser>>>,
  Agree<NoneMissing<MissingKeys<PermissionGrant, FileGrant>>>,
  Agree<NoneMissing<MissingKeys<AdminOptions, NonNullable<ConfigFile['admin']>>>>,
  Agree<NoneMissing<MissingKeys<ClusterOptions, NonNullable<ConfigFile['cluster']>>>>,
];
// That values fit is checked where they are used: brokerOptionsOf() (effective.ts) builds
// BrokerOptions from a valid configuration.
