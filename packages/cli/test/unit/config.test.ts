// The broker's configuration file: every key at every depth is checked against one schema, and
// every problem is reported at once with the file, its line and a hint.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CliError } from '../../dist/cli-error.js';
import { mergeConfig, printConfig } from '../../dist/config/effective.js';
import { parseConfig } from '../../dist/config/load.js';

function failure(text: string): string {
  try {
    parseConfig(text, 'broker.yaml', '/srv');
  } catch (err) {
    assert.ok(err instanceof CliError, `not a CliError: ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

const HASH =
  'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

describe('broker config file', () => {
  it('reads listeners, log level and broker options', () => {
    const config = parseConfig(
      'host: 0.0.0.0\nport: 0\nws:\n  port: 15999\n  path: /stomp\nlogLevel: debug\nheartbeat: [5000, 5000]\nmaxDeliveries: 3\n',
      'broker.yaml',
    );
    assert.deepEqual(config, {
      host: '0.0.0.0',
      port: 0,
      ws: { port: 15999, path: '/stomp' },
      logLevel: 'debug',
      heartbeat: [5000, 5000],
      maxDeliveries: 3,
    });
  });

  it('accepts JSON and an empty file', () => {
    assert.equal(parseConfig('{"port": 61700}', 'c.json').port, 61700);
    assert.deepEqual(parseConfig('', 'empty.yaml'), {});
  });

  it('turns the WebSocket listener off with ws: false, the journal with dataDir: false', () => {
    assert.equal(parseConfig('ws: false\n', 'b.yaml').ws, false);
    assert.equal(parseConfig('dataDir: false\n', 'b.yaml').dataDir, false);
  });

  it('resolves relative paths against the file, not the working directory', () => {
    const config = parseConfig(
      'dataDir: data\ntls:\n  cert: certs/b.pem\n  key: /abs/b.key\n',
      '/etc/stompede/broker.yaml',
    );
    assert.equal(config.dataDir, '/etc/stompede/data');
    assert.equal(config.tls!.cert, '/etc/stompede/certs/b.pem');
    assert.equal(config.tls!.key, '/abs/b.key');
  });

  it('names an unknown key and its line, with a hint for a wrong case', () => {
    assert.match(
      failure('port: 61613\n\nHeartbeat: [1, 1]\n'),
      /^broker\.yaml:3: Heartbeat is not a setting \(did you mean heartbeat\?\)/,
    );
  });

  it('checks keys at every depth: a typo under persistence, loginThrottle or limits is refused', () => {
    assert.match(
      failure('persistence:\n  persistAl: true\n'),
      /^broker\.yaml:2: persistence\.persistAl is not a setting \(did you mean persistAll\?\); persistence takes persistAll, fsync,/,
    );
    assert.match(
      failure('loginThrottle:\n  baseDelay: 100\n  maxDelays: 1000\n'),
      /^broker\.yaml:3: loginThrottle\.maxDelays is not a setting \(did you mean maxDelay\?\)/,
    );
    assert.match(
      failure('limits:\n  maxBodySise: 10\n'),
      /^broker\.yaml:2: limits\.maxBodySise is not a setting \(did you mean maxBodySize\?\)/,
    );
    assert.match(
      failure('ws:\n  port: 1\n  pth: /x\n'),
      /^broker\.yaml:3: ws\.pth is not a setting/,
    );
    assert.match(
      failure(`users:\n  bob:\n    password: "${HASH}"\n    grops: [a]\n`),
      /^broker\.yaml:4: users\.bob\.grops is not a setting \(did you mean groups\?\)/,
    );
    assert.match(
      failure('admin:\n  port: 0\n  hots: 0.0.0.0\n'),
      /^broker\.yaml:3: admin\.hots is not a setting \(did you mean host\?\)/,
    );
  });

  it('names the line of a bad value, whatever its depth, with what it must be', () => {
    assert.match(failure('port: 70000\n'), /^broker\.yaml:1: port must be a port number 0-65535/);
    assert.match(failure('port: "61613"\n'), /port must be a port number/);
    assert.match(
      failure('ws:\n  path: ws\n'),
      /^broker\.yaml:2: ws\.path must be a URL path starting with '\/'/,
    );
    assert.match(failure('logLevel: loud\n'), /logLevel must be one of fatal, error/);
    assert.match(
      failure('tls:\n  cert: a.pem\n'),
      /^broker\.yaml:1: tls\.key is required: it must be a file path/,
    );
    assert.match(
      failure('\nheartbeat: [1000]\n'),
      /^broker\.yaml:2: heartbeat must be \[floor ms, ceiling ms\]/,
    );
    assert.match(
      failure('memoryLimit: -1\n'),
      /^broker\.yaml:1: memoryLimit must be a whole number >= 0/,
    );
    assert.match(failure('heartbeatGrace: 0.5\n'), /heartbeatGrace must be a number >= 1/);
    assert.match(
      failure('versions: [1.2]\n'),
      /^broker\.yaml:1: versions\[0\] must be "1\.0", "1\.1" or "1\.2" \(quoted\)/,
    );
    assert.match(
      failure('persistence:\n  fsync: yes\n'),
      /^broker\.yaml:2: persistence\.fsync must be true or false/,
    );
    assert.match(
      failure('loginThrottle:\n  baseDelay: soon\n'),
      /^broker\.yaml:2: loginThrottle\.baseDelay must be a whole number >= 0/,
    );
    assert.match(failure('dataDir: 3\n'), /dataDir must be a directory/);
    assert.match(
      failure('ws: true\n'),
      /ws must be a mapping \(port, path, allowedOrigins\) or false/,
    );
  });

  it('checks permission rules: patterns, rights, and exactly one of user and group', () => {
    const grant = (rule: string): string =>
      failure(`users:\n  alice:\n    password: "${HASH}"\npermissions:\n  - ${rule}\n`);
    assert.match(
      grant('user: alice\n    destinations: orders\n    rights: [write]'),
      /^broker\.yaml:6: permissions\[0\]\.destinations destination pattern "orders" must start with \/queue\/ or \/topic\//,
    );
    assert.match(
      grant('user: alice\n    destinations: ["/queue/a"]\n    rights: [write, crate]'),
      /^broker\.yaml:7: permissions\[0\]\.rights\[1\] must be read, write or create/,
    );
    assert.match(
      grant('destinations: ["/queue/a"]\n    rights: all'),
      /^broker\.yaml:5: permissions\[0\] needs exactly one of user and group/,
    );
  });

  it('names users, groups and virtual hosts that do not exist, suggesting the one meant', () => {
    const message = failure(
      [
        'vhosts: [/, /staging]',
        'users:',
        `  alice: { password: "${HASH}", groups: [producers], vhosts: [/stagin] }`,
        `  bob: { password: "${HASH}" }`,
        'groups:',
        '  consumers: [bob, carol]',
        'permissions:',
        '  - user: alcie',
        '    destinations: ">"',
        '    rights: all',
        '  - group: producer',
        '    vhost: /prod',
        '    destinations: ">"',
        '    rights: [read]',
      ].join('\n'),
    );
    const lines = message.split('\n');
    assert.deepEqual(
      lines.map((l) => /^broker\.yaml:(\d+): (\S+)/.exec(l)?.slice(1, 3)),
      [
        ['3', 'users.alice.vhosts[0]'],
        ['6', 'groups.consumers[1]'],
        ['8', 'permissions[0].user'],
        ['11', 'permissions[1].group'],
        ['12', 'permissions[1].vhost'],
      ],
      message,
    );
    assert.match(
      lines[0]!,
      /"\/stagin" is not a virtual host \(did you mean \/staging\?\); vhosts: \/, \/staging/,
    );
    assert.match(lines[1]!, /"carol" is not a user; users: alice, bob/);
    assert.match(lines[2]!, /"alcie" is not a user \(did you mean alice\?\)/);
    assert.match(lines[3]!, /"producer" is not a group \(did you mean producers\?\)/);
    assert.match(
      failure('permissions:\n  - user: bob\n    destinations: ">"\n    rights: all\n'),
      /"bob" is not a user; no users are configured/,
    );
  });

  it('refuses plain-text passwords without echoing them, and reports every problem at once', () => {
    const message = failure(
      'users:\n  bob:\n    password: hunter2\nadmin:\n  user: ops\n  password: "scrypt$1$8$1$AA$AA"\nport: x\n',
    );
    assert.doesNotMatch(message, /hunter2/);
    const lines = message.split('\n');
    assert.equal(lines.length, 3, message);
    assert.match(
      lines[0]!,
      /^broker\.yaml:3: users\.bob\.password must be a password hash made with `stompede passwd`/,
    );
    assert.match(lines[1]!, /^broker\.yaml:6: admin\.password /);
    assert.match(lines[2]!, /^broker\.yaml:7: port must be a port number/);
  });

  it('reports YAML syntax errors with their line', () => {
    assert.match(failure('port: 1\nws: [\n'), /^broker\.yaml:\d+: /);
    assert.match(failure('port: 1\nport: 2\n'), /^broker\.yaml:2: /);
  });

  it('requires a mapping at the top', () => {
    assert.match(failure('- port\n'), /must be a mapping/);
  });
});

describe('--print-config', () => {
  const FULL = [
    'host: 127.0.0.2',
    'port: 0',
    'ws: { port: 0, path: /stomp, allowedOrigins: ["https://app.example.com"] }',
    'tls: { port: 0, cert: b.pem, key: b.key, ca: ca.pem, clientCertUser: CN, minVersion: TLSv1.3 }',
    'logLevel: warn',
    'dataDir: ./journal',
    'persistence: { persistAll: true, fsync: false, segmentSize: 1048576, verifyOnStart: true }',
    'vhosts: [/, /staging]',
    'heartbeat: [5000, 30000]',
    'limits: { maxBodySize: 1024, maxHeaders: 10 }',
    'loginThrottle: { baseDelay: 10, maxDelay: 100, maxEntries: 5, forgetAfter: 1000 }',
    `users: { alice: { password: "${HASH}", groups: [ops], vhosts: [/staging] }, sensor: {} }`,
    'groups: { readers: [sensor] }',
    'permissions:',
    '  - { group: ops, destinations: ">", rights: all }',
    '  - { user: sensor, vhost: "*", destinations: [/queue/readings], rights: [write, create] }',
    `admin: { port: 0, user: ops, password: "${HASH}" }`,
  ].join('\n');

  it('prints a file that --config loads back to the same configuration', () => {
    const once = mergeConfig(parseConfig(FULL, '/srv/broker.yaml'), { 'persist-all': true }, {});
    const printed = printConfig(once.config);
    assert.equal(
      printed.split('\n')[0],
      '# stompede broker: effective configuration (--print-config)',
    );
    const again = mergeConfig(parseConfig(printed, '/elsewhere/printed.yaml'), {}, {});
    assert.deepEqual(again.config, once.config);
    assert.equal(printConfig(again.config), printed);
    assert.equal(once.config.dataDir, '/srv/journal');
  });

  it('prints the defaults, --in-memory and --ws-port off as keys that load back', () => {
    const { config } = mergeConfig({}, { 'in-memory': true, 'ws-port': 'off' }, {});
    const printed = printConfig(config);
    assert.match(printed, /^dataDir: false$/m);
    assert.match(printed, /^ws: false$/m);
    assert.deepEqual(mergeConfig(parseConfig(printed, 'p.yaml'), {}, {}).config, config);
  });
});

describe('flags and environment over the file', () => {
  it('0 is any free port everywhere; --ws-port off turns the WebSocket listener off', () => {
    assert.deepEqual(mergeConfig({}, { 'ws-port': '0' }, {}).config.ws, { port: 0, path: '/ws' });
    assert.equal(mergeConfig({}, {}, { STOMPEDE_WS_PORT: 'off' }).config.ws, false);
    assert.equal(mergeConfig({ ws: { port: 0 } }, {}, {}).config.ws !== false, true);
    // A file's ws: false and a flag's port: the flag wins, as flags do.
    assert.deepEqual(mergeConfig({ ws: false }, { 'ws-port': '15999' }, {}).config.ws, {
      port: 15999,
      path: '/ws',
    });
  });

  it('reports which settings of the file a flag or variable replaced', () => {
    const file = parseConfig(
      'port: 61700\nws:\n  allowedOrigins: ["https://a.example"]\nlogLevel: warn\n',
      'b.yaml',
    );
    const { config, overrides } = mergeConfig(
      file,
      { 'ws-allowed-origin': ['https://b.example'], 'log-level': 'warn' },
      { STOMPEDE_PORT: '61701' },
    );
    assert.deepEqual(config.ws !== false && config.ws.allowedOrigins, ['https://b.example']);
    assert.deepEqual(overrides, [
      { key: 'port', by: 'STOMPEDE_PORT', file: 61700 },
      { key: 'ws.allowedOrigins', by: '--ws-allowed-origin', file: ['https://a.example'] },
    ]);
  });

  it('names the flag or variable of a bad value', () => {
    assert.throws(() => mergeConfig({}, { port: 'x' }, {}), /: --port must be a port number/);
    assert.throws(
      () => mergeConfig({}, {}, { STOMPEDE_ADMIN_PORT: '-1' }),
      /: STOMPEDE_ADMIN_PORT must be a port/,
    );
    assert.throws(
      () => mergeConfig({}, { 'log-level': 'loud' }, {}),
      /: --log-level must be one of/,
    );
    assert.throws(() => mergeConfig({}, { 'in-memory': true, 'data-dir': 'x' }, {}), /contradict/);
    assert.throws(
      () => mergeConfig({ ws: false }, { 'ws-path': '/x' }, {}),
      /--ws-path: the WebSocket listener is off/,
    );
  });
});

describe('cluster mode settings', () => {
  it('reads the cluster block, resolving its file paths against the file', () => {
    const config = parseConfig(
      [
        'cluster:',
        '  servers: [nats://10.0.0.1:4222, nats://10.0.0.2:4222]',
        '  replicas: 3',
        '  prefix: prod',
        '  auth: { credsFile: node.creds }',
        '  tls: { caFile: ca.pem }',
        '',
      ].join('\n'),
      '/etc/stompede/broker.yaml',
    );
    assert.deepEqual(config.cluster, {
      servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'],
      replicas: 3,
      prefix: 'prod',
      auth: { credsFile: '/etc/stompede/node.creds' },
      tls: { caFile: '/etc/stompede/ca.pem' },
    });
  });

  it('checks the block: unknown keys, even replicas, a bad prefix, no servers', () => {
    assert.match(failure('cluster:\n  servers: [nats://a:1]\n  replica: 3\n'), /broker.yaml:3: /);
    assert.match(
      failure('cluster:\n  servers: [nats://a:1]\n  replicas: 2\n'),
      /must be 1, 3 or 5/,
    );
    assert.match(failure('cluster:\n  servers: [nats://a:1]\n  prefix: a.b\n'), /prefix must be/);
    assert.match(failure('cluster:\n  servers: []\n'), /one or more NATS server/);
  });

  it('--cluster (or STOMPEDE_CLUSTER) lists the servers; the node then journals nothing', () => {
    const { config } = mergeConfig({}, { cluster: 'nats://a:4222, nats://b:4222' }, {});
    assert.deepEqual(config.cluster?.servers, ['nats://a:4222', 'nats://b:4222']);
    assert.equal(config.dataDir, false);
    const fromEnv = mergeConfig({}, {}, { STOMPEDE_CLUSTER: 'nats://c:4222' }).config;
    assert.deepEqual(fromEnv.cluster?.servers, ['nats://c:4222']);
    assert.equal(mergeConfig({}, {}, {}).config.cluster, undefined);
  });

  it('a data directory in cluster mode is refused, naming where it came from', () => {
    assert.throws(
      () => mergeConfig({}, { cluster: 'nats://a:4222', 'data-dir': '/x' }, {}),
      /--data-dir has no effect in cluster mode/,
    );
    assert.throws(
      () => mergeConfig({ dataDir: '/x', cluster: { servers: ['nats://a:4222'] } }, {}, {}),
      /dataDir has no effect in cluster mode/,
    );
  });
});

describe('the free-disk limit', () => {
  it('persistence.diskFreeLimit takes a size with a unit; a bad size names its line', () => {
    const config = parseConfig(
      'persistence:\n  diskFreeLimit: 50MiB\n  diskCheckInterval: 1000\n',
      'broker.yaml',
    );
    assert.deepEqual(config.persistence, {
      diskFreeLimit: 50 * 1024 * 1024,
      diskCheckInterval: 1000,
    });
    assert.equal(
      parseConfig('persistence: { diskFreeLimit: 1GB }', 'b.yaml').persistence?.diskFreeLimit,
      1e9,
    );
    assert.equal(
      parseConfig('persistence: { diskFreeLimit: 0 }', 'b.yaml').persistence?.diskFreeLimit,
      0,
    );
    assert.match(
      failure('persistence:\n  diskFreeLimit: lots\n'),
      /^broker\.yaml:2: persistence\.diskFreeLimit must be a size/,
    );
  });

  it('--disk-free-limit and STOMPEDE_DISK_FREE_LIMIT set it, over the file', () => {
    const file = parseConfig('persistence: { diskFreeLimit: 1GiB }', 'b.yaml');
    assert.equal(
      mergeConfig(file, { 'disk-free-limit': '2GiB' }, {}).config.persistence?.diskFreeLimit,
      2 * 1024 ** 3,
    );
    assert.equal(
      mergeConfig({}, {}, { STOMPEDE_DISK_FREE_LIMIT: '0' }).config.persistence?.diskFreeLimit,
      0,
    );
    assert.throws(
      () => mergeConfig({}, { 'disk-free-limit': 'much' }, {}),
      /--disk-free-limit must be a size/,
    );
  });
});
