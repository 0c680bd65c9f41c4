// `stompede bench` arguments: defaults, PerfTest-style short flags, and errors that name the flag.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseBenchArgs } from '../../dist/bench/options.js';
import { Histogram } from '../../dist/bench/histogram.js';
import { parseEndpoint } from '../../dist/bench/wire.js';
import { CliError } from '../../dist/cli-error.js';

function failure(argv: string[]): string {
  try {
    parseBenchArgs(argv);
  } catch (err) {
    assert.ok(err instanceof CliError, `not a CliError: ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('the arguments were accepted');
}

describe('stompede bench arguments', () => {
  it('has defaults: 1 -> 1, 100 bytes, auto ack, unbounded, 10 s, a queue', () => {
    const o = parseBenchArgs([]);
    assert.notEqual(o, 'help');
    if (o === 'help') return;
    assert.equal(o.connection.url, 'tcp://127.0.0.1:61613');
    assert.deepEqual(
      [o.producers, o.consumers, o.size, o.rate, o.duration, o.count, o.ack, o.prefetch],
      [1, 1, 100, 0, 10, undefined, 'auto', 1000],
    );
    assert.equal(o.destination, '/queue/stompede.bench');
    assert.equal(o.version, '1.2');
    assert.equal(o.json, false);
    assert.equal(o.consumeRate, 0);
  });

  it('reads --consume-rate (messages per second per consumer)', () => {
    const o = parseBenchArgs(['--consume-rate', '250']);
    if (o === 'help') return assert.fail('help');
    assert.equal(o.consumeRate, 250);
    assert.match(failure(['--consume-rate', 'slow']), /--consume-rate/);
    assert.match(failure(['--consume-rate', '-5']), /--consume-rate|option/);
  });

  it('reads --warmup (seconds left out of the latency figures; 0 by default)', () => {
    const d = parseBenchArgs([]);
    const o = parseBenchArgs(['--warmup', '1.5']);
    const z = parseBenchArgs(['--warmup', '0']);
    if (d === 'help' || o === 'help' || z === 'help') return assert.fail('help');
    assert.deepEqual([d.warmup, o.warmup, z.warmup], [0, 1.5, 0]);
    assert.match(failure(['--warmup', 'soon']), /--warmup/);
    assert.match(failure(['--warmup', '-1']), /--warmup|option/);
  });

  it('reads every option, short and long', () => {
    const o = parseBenchArgs([
      '--broker',
      'ws://127.0.0.1:15674/ws',
      '-x',
      '2',
      '-y',
      '10',
      '-s',
      '4096',
      '-r',
      '5000',
      '-C',
      '1000',
      '-a',
      'client-individual',
      '-q',
      '50',
      '--persistent',
      '-k',
      'topic',
      '--login',
      'guest',
      '--passcode',
      'guest',
      '--vhost',
      '/',
      '--timeout',
      '3000',
      '--insecure',
      '--json',
      '--quiet',
    ]);
    if (o === 'help') return assert.fail('help');
    assert.equal(o.connection.url, 'ws://127.0.0.1:15674/ws');
    assert.deepEqual(
      [o.producers, o.consumers, o.size, o.rate, o.count, o.ack, o.prefetch, o.persistent],
      [2, 10, 4096, 5000, 1000, 'client-individual', 50, true],
    );
    assert.equal(o.destination, '/topic/stompede.bench');
    const c = o.connection;
    assert.deepEqual(
      [c.login, c.passcode, c.vhost, c.timeout, c.tls, o.json, o.quiet],
      ['guest', 'guest', '/', 3000, { rejectUnauthorized: false }, true, true],
    );
  });

  it('takes the connection flags of send and subscribe, and only those', () => {
    const o = parseBenchArgs(['--broker', 'ssl://h:61614', '--tls-servername', 'broker.example'], {
      STOMPEDE_PASSCODE: 'from-env',
    });
    if (o === 'help') return assert.fail('help');
    assert.equal(o.connection.passcode, 'from-env');
    assert.deepEqual(o.connection.tls, { servername: 'broker.example' });
    assert.match(failure(['--tls-ca', '/nonexistent/ca.pem']), /--tls-ca: cannot read/);
    // The flags bench used to have of its own are gone: one set for every command.
    assert.match(failure(['--host', '/']), /Unknown option '--host'/);
    assert.match(failure(['-u', 'guest']), /Unknown option '-u'/);
  });

  it('answers --help', () => {
    assert.equal(parseBenchArgs(['--help']), 'help');
  });

  it('rejects bad values, naming the flag', () => {
    assert.match(failure(['-x', 'two']), /--producers/);
    assert.match(failure(['-s', '-1']), /--size|option/);
    assert.match(failure(['-a', 'sometimes']), /--ack/);
    assert.match(failure(['-a', 'client-individual', '--stomp-version', '1.0']), /--ack/);
    assert.match(failure(['-k', 'exchange']), /--kind/);
    assert.match(failure(['-z', '0']), /--duration/);
    assert.match(failure(['-z', '5', '-C', '10']), /not both/);
    assert.match(failure(['-x', '0', '-y', '0']), /nothing to do/);
    assert.match(failure(['--bogus']), /Unknown option/);
    assert.match(failure(['tcp://h:1']), /give the broker as --broker URI/);
    assert.match(failure(['--login', 'a\nb']), /--login must be a single line/);
  });

  it('parses broker URIs: the schemes of the client, one broker', () => {
    assert.deepEqual(parseEndpoint('tcp://localhost:61613'), {
      transport: 'tcp',
      host: 'localhost',
      port: 61613,
      url: 'tcp://localhost:61613',
    });
    assert.equal(parseEndpoint('tcp://[::1]').port, 61613);
    assert.equal(parseEndpoint('tcp://[::1]').host, '::1');
    assert.equal(parseEndpoint('ssl://h').transport, 'tls');
    assert.equal(parseEndpoint('ssl://h').port, 61614);
    assert.throws(() => parseEndpoint('failover:(tcp://a:1,tcp://b:2)'), /one broker/);
    assert.equal(parseEndpoint('ws://h:15674/ws').transport, 'ws');
    assert.throws(() => parseEndpoint('http://h'), CliError);
    assert.throws(() => parseEndpoint('nonsense'), CliError);
  });
});

describe('bench latency histogram', () => {
  it('is exact below 2048 and within 0.1% above, never under-reporting', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    assert.equal(h.percentile(50), 500);
    assert.equal(h.percentile(99), 990);
    assert.equal(h.percentile(100), 1000);
    assert.equal(h.max, 1000);
    assert.equal(h.min, 1);
    const big = new Histogram();
    for (const v of [123_456, 7_654_321, 3_000_000_000]) big.record(v);
    for (const [p, v] of [
      [10, 123_456],
      [50, 7_654_321],
      [100, 3_000_000_000],
    ] as const) {
      const got = big.percentile(p);
      assert.ok(got >= v && got <= v * 1.001, `p${String(p)}: ${String(got)} for ${String(v)}`);
    }
    const sum = new Histogram();
    sum.add(h);
    sum.add(big);
    assert.equal(sum.count, 1003);
    assert.equal(sum.max, 3_000_000_000);
    h.reset();
    assert.equal(h.count, 0);
    assert.equal(h.percentile(99), 0);
  });
});
