// Parsing of ActiveMQ-style failover URIs and plain broker URIs, and every error case.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  FAILOVER_DEFAULTS,
  StompError,
  StompInvalidUriError,
  parseBrokerUri,
  parseFailoverUri,
} from '@stompede/core';

/** Asserts `fn` throws ERR_STOMP_INVALID_URI with a message matching `message`. */
function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StompError, 'a StompError');
    assert.ok(err instanceof StompInvalidUriError, 'a StompInvalidUriError');
    assert.equal(err.code, ErrorCode.INVALID_URI);
    assert.equal(err.code, 'ERR_STOMP_INVALID_URI');
    assert.match(err.message, message);
    return true;
  });
}

describe('failover URI: brokers [failover: URI syntax]', () => {
  it('parses a plain tcp:// URI with the default options', () => {
    const { brokers, options } = parseFailoverUri('tcp://localhost:61613');
    assert.deepEqual(brokers, [
      { scheme: 'tcp', host: 'localhost', port: 61613, uri: 'tcp://localhost:61613' },
    ]);
    assert.deepEqual(options, {
      initialReconnectDelay: 10,
      maxReconnectDelay: 30000,
      useExponentialBackOff: true,
      backOffMultiplier: 2,
      maxReconnectAttempts: -1,
      startupMaxReconnectAttempts: 0,
      reconnectDelayJitter: 0,
      randomize: true,
      priorityBackup: false,
    });
  });

  it('parses failover:(…) with several schemes, in the order written', () => {
    const { brokers } = parseFailoverUri(
      'failover:(tcp://a:61613,ssl://b:61614,tls://c:61615,ws://d:15674/ws,wss://e/stomp)',
    );
    assert.deepEqual(
      brokers.map((b) => b.uri),
      ['tcp://a:61613', 'ssl://b:61614', 'ssl://c:61615', 'ws://d:15674/ws', 'wss://e:443/stomp'],
    );
    assert.deepEqual(
      brokers.map((b) => b.scheme),
      ['tcp', 'ssl', 'ssl', 'ws', 'wss'],
    );
    assert.equal(brokers[2]!.host, 'c');
  });

  it('accepts failover:a,b without parentheses, failover://(…), and any case in schemes', () => {
    for (const uri of [
      'failover:tcp://a:1,tcp://b:2',
      'failover://(tcp://a:1,tcp://b:2)',
      'FAILOVER:(TCP://a:1,Tcp://b:2)',
      'tcp://a:1,tcp://b:2',
    ]) {
      const { brokers } = parseFailoverUri(uri);
      assert.deepEqual(
        brokers.map((b) => b.uri),
        ['tcp://a:1', 'tcp://b:2'],
        uri,
      );
    }
  });

  it('keeps a ws:// path, defaults ws/wss ports to 80/443, and the path to /', () => {
    const ws = parseFailoverUri('ws://127.0.0.1:15674/ws').brokers[0]!;
    assert.deepEqual(ws, {
      scheme: 'ws',
      host: '127.0.0.1',
      port: 15674,
      path: '/ws',
      uri: 'ws://127.0.0.1:15674/ws',
    });
    const bare = parseBrokerUri('ws://example.org');
    assert.equal(bare.port, 80);
    assert.equal(bare.path, '/');
    assert.equal(parseBrokerUri('wss://example.org/a/b').port, 443);
    assert.equal(parseBrokerUri('wss://example.org/a/b').path, '/a/b');
  });

  it('keeps a ws query inside parentheses; outside them ? starts the failover options', () => {
    const inside = parseFailoverUri('failover:(ws://h:1/ws?vhost=a,tcp://b:2)?randomize=false');
    assert.equal(inside.brokers[0]!.path, '/ws?vhost=a');
    assert.equal(inside.brokers[0]!.uri, 'ws://h:1/ws?vhost=a');
    assert.equal(inside.options.randomize, false);
    const outside = parseFailoverUri('ws://h:1/ws?randomize=false');
    assert.equal(outside.brokers[0]!.path, '/ws');
    assert.equal(outside.options.randomize, false);
  });

  it('tcp:// and ssl:// brokers have no path property', () => {
    assert.equal('path' in parseBrokerUri('tcp://a:1'), false);
    assert.equal('path' in parseBrokerUri('ssl://a:1'), false);
  });

  it('parses IPv6 hosts in brackets, without the brackets in host', () => {
    const cases: [string, string, string][] = [
      ['tcp://[::1]:61613', '::1', 'tcp://[::1]:61613'],
      ['ssl://[2001:db8::1]:61614', '2001:db8::1', 'ssl://[2001:db8::1]:61614'],
      ['tcp://[1:2:3:4:5:6:7:8]:1', '1:2:3:4:5:6:7:8', 'tcp://[1:2:3:4:5:6:7:8]:1'],
      ['tcp://[::ffff:192.0.2.1]:1', '::ffff:192.0.2.1', 'tcp://[::ffff:192.0.2.1]:1'],
      ['tcp://[fe80::1%25eth0]:1', 'fe80::1%eth0', 'tcp://[fe80::1%25eth0]:1'],
      ['ws://[::1]:15674/ws', '::1', 'ws://[::1]:15674/ws'],
      ['wss://[::1]', '::1', 'wss://[::1]:443/'],
    ];
    for (const [uri, host, canonical] of cases) {
      const broker = parseBrokerUri(uri);
      assert.equal(broker.host, host, uri);
      assert.equal(broker.uri, canonical, uri);
    }
    const { brokers } = parseFailoverUri('failover:(tcp://[::1]:61613,tcp://[2001:db8::2]:61613)');
    assert.deepEqual(
      brokers.map((b) => [b.host, b.port]),
      [
        ['::1', 61613],
        ['2001:db8::2', 61613],
      ],
    );
  });

  it('parses per-broker credentials, percent-decoded, and keeps them out of uri', () => {
    const { brokers } = parseFailoverUri(
      'failover:(tcp://alice:s3cret@a:61613,ssl://us%40er:p%3Ass%2Cw%C3%B6rd@b:61614,tcp://bob@[::1]:1,tcp://c:2)',
    );
    assert.deepEqual(brokers[0], {
      scheme: 'tcp',
      host: 'a',
      port: 61613,
      login: 'alice',
      passcode: 's3cret',
      uri: 'tcp://a:61613',
    });
    assert.equal(brokers[1]!.login, 'us@er');
    assert.equal(brokers[1]!.passcode, 'p:ss,wörd');
    assert.equal(brokers[1]!.uri, 'ssl://b:61614');
    assert.equal(brokers[2]!.login, 'bob');
    assert.equal('passcode' in brokers[2]!, false);
    assert.equal('login' in brokers[3]!, false);
    assert.equal(parseBrokerUri('ws://u:p@h:1/ws').passcode, 'p');
  });

  it('takes the last @ as the end of the credentials, and allows an empty passcode', () => {
    const broker = parseBrokerUri('tcp://a:b@c@host:1');
    assert.equal(broker.login, 'a');
    assert.equal(broker.passcode, 'b@c');
    assert.equal(broker.host, 'host');
    assert.equal(parseBrokerUri('tcp://a:@host:1').passcode, '');
  });

  it('freezes what it returns', () => {
    const parsed = parseFailoverUri('failover:(tcp://a:1)');
    assert.ok(Object.isFrozen(parsed));
    assert.ok(Object.isFrozen(parsed.brokers));
    assert.ok(Object.isFrozen(parsed.brokers[0]));
    assert.ok(Object.isFrozen(parsed.options));
  });
});

describe('failover URI: options [failover: ActiveMQ semantics]', () => {
  const all =
    'initialReconnectDelay=7&maxReconnectDelay=8000&useExponentialBackOff=false&backOffMultiplier=1.5' +
    '&maxReconnectAttempts=4&startupMaxReconnectAttempts=-1&randomize=false&priorityBackup=true' +
    '&reconnectDelayJitter=3';
  const expected = {
    initialReconnectDelay: 7,
    maxReconnectDelay: 8000,
    useExponentialBackOff: false,
    backOffMultiplier: 1.5,
    maxReconnectAttempts: 4,
    startupMaxReconnectAttempts: -1,
    reconnectDelayJitter: 3,
    randomize: false,
    priorityBackup: true,
  };

  it('parses every option separated by &', () => {
    const { options } = parseFailoverUri(`failover:(tcp://a:61613,ssl://b:61614)?${all}`);
    assert.deepEqual(options, expected);
  });

  it('parses every option separated by , (stompest) and by a mix of both', () => {
    const comma = all.replaceAll('&', ',');
    assert.deepEqual(parseFailoverUri(`failover:(tcp://a:1,tcp://b:2)?${comma}`).options, expected);
    assert.deepEqual(parseFailoverUri(`failover:tcp://a:1,tcp://b:2?${comma}`).options, expected);
    let i = 0;
    const mixed = all.replace(/&/g, () => (i++ % 2 === 0 ? ',' : '&'));
    assert.deepEqual(parseFailoverUri(`tcp://a:1?${mixed}`).options, expected);
  });

  it('has stompest defaults except startupMaxReconnectAttempts = brokers - 1', () => {
    assert.deepEqual(FAILOVER_DEFAULTS, {
      initialReconnectDelay: 10,
      maxReconnectDelay: 30000,
      useExponentialBackOff: true,
      backOffMultiplier: 2,
      maxReconnectAttempts: -1,
      reconnectDelayJitter: 0,
      randomize: true,
      priorityBackup: false,
    });
    const three = parseFailoverUri('failover:(tcp://a:1,tcp://b:2,tcp://c:3)');
    assert.equal(three.options.startupMaxReconnectAttempts, 2);
    const explicit = parseFailoverUri(
      'failover:(tcp://a:1,tcp://b:2,tcp://c:3)?startupMaxReconnectAttempts=0',
    );
    assert.equal(explicit.options.startupMaxReconnectAttempts, 0);
  });

  it('accepts an empty option list, signs, and decimal multipliers; the last duplicate wins', () => {
    assert.equal(parseFailoverUri('failover:(tcp://a:1)?').options.randomize, true);
    const { options } = parseFailoverUri(
      'tcp://a:1?initialReconnectDelay=+5&backOffMultiplier=3.0&randomize=true&randomize=false',
    );
    assert.equal(options.initialReconnectDelay, 5);
    assert.equal(options.backOffMultiplier, 3);
    assert.equal(options.randomize, false);
    assert.equal(parseFailoverUri('tcp://a:1?backOffMultiplier=.5').options.backOffMultiplier, 0.5);
  });
});

describe('failover URI: errors [failover: URI errors]', () => {
  it('rejects an unknown scheme, naming it', () => {
    assertInvalid(() => parseFailoverUri('http://a:1'), /unknown scheme 'http'/);
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1,stomp://b:2)'),
      /unknown scheme 'stomp'/,
    );
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1, tcp://b:2)'),
      /unknown scheme ' tcp'/,
    );
  });

  it('rejects a broker without a scheme', () => {
    assertInvalid(() => parseFailoverUri('localhost:61613'), /no scheme/);
    assertInvalid(() => parseFailoverUri('tcp:localhost:61613'), /no scheme/);
    assertInvalid(() => parseFailoverUri('tcp:/localhost'), /no scheme/);
  });

  it('rejects bad and missing ports, naming them', () => {
    assertInvalid(() => parseFailoverUri('tcp://a:port'), /bad port 'port'/);
    assertInvalid(() => parseFailoverUri('tcp://a:0'), /bad port '0'/);
    assertInvalid(() => parseFailoverUri('tcp://a:65536'), /bad port '65536'/);
    assertInvalid(() => parseFailoverUri('tcp://a:-1'), /bad port '-1'/);
    assertInvalid(() => parseFailoverUri('tcp://a:'), /bad port ''/);
    assertInvalid(() => parseFailoverUri('tcp://[::1]:99999'), /bad port '99999'/);
    assertInvalid(() => parseFailoverUri('tcp://a'), /missing port .*'tcp:\/\/a'/);
    assertInvalid(() => parseFailoverUri('ssl://a'), /missing port/);
  });

  it('rejects a missing or bad host', () => {
    assertInvalid(() => parseFailoverUri('tcp://:61613'), /missing host/);
    assertInvalid(() => parseFailoverUri('tcp://61613'), /missing port/);
    assertInvalid(() => parseFailoverUri('tcp://a b:1'), /bad host 'a b'/);
    assertInvalid(
      () => parseFailoverUri('tcp://::1:61613'),
      /IPv6 address must be written in brackets/,
    );
  });

  it('rejects bad IPv6 addresses', () => {
    assertInvalid(() => parseFailoverUri('tcp://[::1:61613'), /unterminated IPv6/);
    assertInvalid(
      () => parseFailoverUri('tcp://[1::2::3]:1'),
      /bad IPv6 address.*'::' may appear only once/,
    );
    assertInvalid(() => parseFailoverUri('tcp://[gggg::1]:1'), /bad group 'gggg'/);
    assertInvalid(() => parseFailoverUri('tcp://[1:2:3:4:5:6:7]:1'), /expected 8 groups/);
    assertInvalid(() => parseFailoverUri('tcp://[1:2:3:4:5:6:7:8:9]:1'), /expected 8 groups/);
    assertInvalid(() => parseFailoverUri('tcp://[1:2:3:4::5:6:7:8]:1'), /too many groups/);
    assertInvalid(() => parseFailoverUri('tcp://[]:1'), /bad IPv6 address/);
    assertInvalid(() => parseFailoverUri('tcp://[::1]x:1'), /unexpected 'x:1' after the IPv6/);
    assertInvalid(
      () => parseFailoverUri('tcp://[fe80::1%eth0]:1'),
      /zone must be written '%25zone'/,
    );
    assertInvalid(() => parseFailoverUri('tcp://[::256.0.0.1]:1'), /bad embedded IPv4/);
  });

  it('rejects unknown options, naming them (and suggesting the right case)', () => {
    assertInvalid(() => parseFailoverUri('tcp://a:1?foo=1'), /unknown option 'foo'/);
    assertInvalid(
      () => parseFailoverUri('tcp://a:1?Randomize=true'),
      /unknown option 'Randomize' \(did you mean 'randomize'\?\)/,
    );
    assertInvalid(() => parseFailoverUri('tcp://a:1?timeout=100'), /unknown option 'timeout'/);
    assertInvalid(() => parseFailoverUri('tcp://a:1??=False'), /unknown option '\?'/);
    assertInvalid(() => parseFailoverUri('tcp://a:1?__proto__=1'), /unknown option '__proto__'/);
  });

  it('rejects bad option values, naming option and value', () => {
    const cases: [string, RegExp][] = [
      ['randomize=1', /bad value '1' for option 'randomize'/],
      ['randomize=True', /bad value 'True' for option 'randomize'/],
      ['priorityBackup=yes', /bad value 'yes' for option 'priorityBackup'/],
      ['useExponentialBackOff=', /bad value '' for option 'useExponentialBackOff'/],
      ['maxReconnectDelay=False', /bad value 'False' for option 'maxReconnectDelay'/],
      ['initialReconnectDelay=1.5', /bad value '1.5' for option 'initialReconnectDelay'/],
      ['initialReconnectDelay=-5', /bad value '-5' for option 'initialReconnectDelay'/],
      ['reconnectDelayJitter=-1', /bad value '-1' for option 'reconnectDelayJitter'/],
      ['maxReconnectAttempts=-2', /bad value '-2' for option 'maxReconnectAttempts'/],
      ['startupMaxReconnectAttempts=x', /bad value 'x' for option 'startupMaxReconnectAttempts'/],
      ['backOffMultiplier=0', /bad value '0' for option 'backOffMultiplier'/],
      ['backOffMultiplier=abc', /bad value 'abc' for option 'backOffMultiplier'/],
      ['backOffMultiplier=Infinity', /bad value 'Infinity' for option 'backOffMultiplier'/],
      ['maxReconnectDelay=99999999999999999999', /bad value '99999999999999999999'/],
    ];
    for (const [query, message] of cases) {
      assertInvalid(() => parseFailoverUri(`tcp://a:1?${query}`), message);
    }
  });

  it('rejects an option without a value and an empty option', () => {
    assertInvalid(() => parseFailoverUri('tcp://a:1?randomize'), /option 'randomize' has no value/);
    assertInvalid(
      () => parseFailoverUri('tcp://a:1?randomize=false&&priorityBackup=true'),
      /empty option/,
    );
    assertInvalid(() => parseFailoverUri('tcp://a:1?randomize=false,'), /empty option/);
  });

  it('rejects unbalanced parentheses', () => {
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1,tcp://b:2'),
      /unbalanced parentheses: missing '\)'/,
    );
    assertInvalid(
      () => parseFailoverUri('failover:tcp://a:1,tcp://b:2)'),
      /unbalanced parentheses: unexpected '\)'/,
    );
    assertInvalid(
      () => parseFailoverUri('failover:((tcp://a:1))'),
      /unbalanced parentheses: nested/,
    );
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1)?randomize=(false)'),
      /unbalanced parentheses: unexpected '\(' in the options/,
    );
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1))'),
      /unexpected '\)' after the broker list/,
    );
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1)x'),
      /unexpected 'x' after the broker list/,
    );
  });

  it('rejects an empty broker list and empty brokers', () => {
    for (const uri of [
      '',
      'failover:',
      'failover:()',
      'failover:()?randomize=false',
      '?randomize=false',
    ]) {
      assertInvalid(() => parseFailoverUri(uri), /empty broker list/);
    }
    assertInvalid(
      () => parseFailoverUri('failover:(tcp://a:1,,tcp://b:2)'),
      /empty broker at position 2 of 3/,
    );
    assertInvalid(() => parseFailoverUri('failover:(tcp://a:1,)'), /empty broker at position 2/);
  });

  it('rejects paths and per-broker options on tcp/ssl, and fragments', () => {
    assertInvalid(() => parseFailoverUri('tcp://a:1/x'), /has a path \('\/x'\): tcp takes none/);
    assertInvalid(
      () => parseFailoverUri('failover:(ssl://a:1?verify=false)'),
      /per-broker options/,
    );
    assertInvalid(() => parseFailoverUri('ws://a:1/ws#top'), /fragment/);
  });

  it('rejects bad percent-encoding in credentials without showing them', () => {
    for (const uri of ['tcp://u:s3cr%zz@a:1', 'tcp://u:s3cr%ff@a:1', 'tcp://u:s3cr%2@a:1']) {
      assertInvalid(
        () => parseFailoverUri(uri),
        /bad percent-encoding in the passcode of broker 'tcp:\/\/\*\*\*@a:1'/,
      );
      assert.throws(
        () => parseFailoverUri(uri),
        (err: unknown) => err instanceof Error && !err.message.includes('s3cr'),
      );
    }
    assertInvalid(() => parseFailoverUri('tcp://%zz@a:1'), /bad percent-encoding in the login/);
    assertInvalid(() => parseFailoverUri('tcp://@a:1'), /empty credentials/);
  });

  it('never puts a password into an error message', () => {
    for (const uri of [
      'tcp://user:s3cret@a:port',
      'tcp://user:s3cret@a',
      'tcp://user:s3cret@a:1/x',
    ]) {
      assert.throws(
        () => parseFailoverUri(uri),
        (err: unknown) =>
          err instanceof StompInvalidUriError &&
          !err.message.includes('s3cret') &&
          err.message.includes('***@a'),
      );
    }
  });

  it('rejects a non-string argument with a coded error', () => {
    assertInvalid(() => parseFailoverUri(42 as unknown as string), /must be a string, got number/);
    assertInvalid(() => parseBrokerUri(null as unknown as string), /must be a string/);
  });
});
