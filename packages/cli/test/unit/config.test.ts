// The broker's configuration file: keys are checked once, and errors name the key and line.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseConfig } from '../../dist/config.js';
import { CliError } from '../../dist/cli-error.js';

function failure(text: string): string {
  try {
    parseConfig(text, 'broker.yaml');
  } catch (err) {
    assert.ok(err instanceof CliError, `not a CliError: ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('broker config file', () => {
  it('reads listeners, log level and broker options', () => {
    const config = parseConfig(
      'host: 0.0.0.0\nport: 0\nws:\n  port: 15999\n  path: /stomp\nlogLevel: debug\nheartbeat: [5000, 5000]\nmaxDeliveries: 3\n',
      'broker.yaml',
    );
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 0);
    assert.deepEqual(config.ws, { port: 15999, path: '/stomp' });
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.broker, { heartbeat: [5000, 5000], maxDeliveries: 3 });
  });

  it('reads sizes with units in persistence (diskFreeLimit: 50MiB); a bad size names its key', () => {
    const config = parseConfig(
      'persistence:\n  diskFreeLimit: 50MiB\n  segmentSize: 8388608\n  fsync: true\n',
      'broker.yaml',
    );
    assert.deepEqual(config.broker.persistence, {
      diskFreeLimit: 50 * 1024 * 1024,
      segmentSize: 8388608,
      fsync: true,
    });
    assert.equal(
      (
        parseConfig('persistence:\n  diskFreeLimit: 1GB\n', 'b.yaml').broker.persistence as {
          diskFreeLimit: number;
        }
      ).diskFreeLimit,
      1e9,
    );
    assert.match(
      failure('persistence:\n  diskFreeLimit: lots\n'),
      /^broker\.yaml:2: persistence\.diskFreeLimit must be a size/,
    );
  });

  it('accepts JSON and an empty file', () => {
    assert.equal(parseConfig('{"port": 61700}', 'c.json').port, 61700);
    assert.deepEqual(parseConfig('', 'empty.yaml'), { broker: {} });
  });

  it('turns the WebSocket listener off with ws: false', () => {
    assert.equal(parseConfig('ws: false\n', 'b.yaml').ws, false);
  });

  it('names an unknown key and its line, with a hint for a wrong case', () => {
    const message = failure('port: 61613\n\nHeartbeat: [1, 1]\n');
    assert.match(
      message,
      /^broker\.yaml:3: Heartbeat is not a setting \(did you mean heartbeat\?\)/,
    );
  });

  it('names an unknown nested key and its line', () => {
    assert.match(
      failure('ws:\n  port: 1\n  pth: /x\n'),
      /^broker\.yaml:3: ws\.pth is not a setting/,
    );
  });

  it('rejects bad ports, paths, log levels and incomplete TLS', () => {
    assert.match(failure('port: 70000\n'), /broker\.yaml:1: port must be a port number/);
    assert.match(failure('port: "61613"\n'), /port must be a port number/);
    assert.match(failure('ws:\n  path: ws\n'), /ws\.path must start with '\/'/);
    assert.match(failure('logLevel: loud\n'), /logLevel must be one of/);
    assert.match(failure('tls:\n  cert: a.pem\n'), /tls needs key/);
  });

  it('reports YAML syntax errors with their line', () => {
    assert.match(failure('port: 1\nws: [\n'), /^broker\.yaml:\d+: /);
    assert.match(failure('port: 1\nport: 2\n'), /^broker\.yaml:2: /);
  });

  it('requires a mapping at the top', () => {
    assert.match(failure('- port\n'), /must be a mapping/);
  });
});

describe('stompede broker --disk-free-limit', () => {
  it('takes a size, from the flag or STOMPEDE_DISK_FREE_LIMIT, over the config file', async () => {
    const { effectiveConfig } = await import('../../dist/subcommands/broker.js');
    const flag = await effectiveConfig(['--in-memory', '--disk-free-limit', '2GiB'], {});
    assert.notEqual(flag, 'help');
    if (flag === 'help') return;
    assert.deepEqual(flag.broker.persistence, { diskFreeLimit: 2 * 1024 ** 3 });
    const env = await effectiveConfig(['--in-memory'], { STOMPEDE_DISK_FREE_LIMIT: '0' });
    assert.ok(env !== 'help');
    assert.deepEqual(env.broker.persistence, { diskFreeLimit: 0 });
    await assert.rejects(
      effectiveConfig(['--in-memory', '--disk-free-limit', 'much'], {}),
      (err: Error) =>
        err instanceof CliError && /--disk-free-limit must be a size/.test(err.message),
    );
  });
});
