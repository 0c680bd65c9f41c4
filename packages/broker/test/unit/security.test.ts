import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InsecureConfigurationError,
  createBroker,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
} from '@stompede/broker';
import { DestinationPattern, LoginThrottle, isLoopback } from '@stompede/broker/internal';
import { ErrorCode } from '@stompede/core';

const FAST = { N: 1024, r: 8, p: 1 };

describe('secure by default', () => {
  test('[Security defaults] no configuration: loopback listeners, anonymous allowed', () => {
    const broker = createBroker();
    assert.deepEqual(
      broker.options.listeners.map((l) => l.host ?? '127.0.0.1'),
      ['127.0.0.1'],
    );
    assert.equal(broker.options.security.allowAnonymous, true);
    assert.equal(broker.options.security.enforced, false);
  });

  test('[Security defaults] a non-loopback listener with no users and no allowAnonymous is refused', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      assert.throws(
        () => createBroker({ listeners: [{ protocol: 'tcp', host, port: 0 }] }),
        (err: unknown) =>
          err instanceof InsecureConfigurationError &&
          err.code === ErrorCode.INVALID_ARGUMENT &&
          err.message.includes(host) &&
          /allowAnonymous/.test(err.message),
      );
    }
    assert.throws(
      () => createBroker({ listeners: [{ protocol: 'ws', host: '0.0.0.0', port: 0 }] }),
      InsecureConfigurationError,
    );
  });

  test('[Security defaults] explicit allowAnonymous, or users, make a public listener acceptable', async () => {
    const open = createBroker({
      listeners: [{ protocol: 'tcp', host: '0.0.0.0', port: 0 }],
      allowAnonymous: true,
    });
    assert.equal(open.options.security.allowAnonymous, true);
    const users = {
      alice: { password: await hashPassword('pw', FAST) },
    };
    const closed = createBroker({
      listeners: [{ protocol: 'tcp', host: '0.0.0.0', port: 0 }],
      users,
    });
    assert.equal(closed.options.security.allowAnonymous, false);
    // Loopback with users: anonymous still allowed unless said otherwise.
    assert.equal(createBroker({ users }).options.security.allowAnonymous, true);
    assert.equal(
      createBroker({ users, allowAnonymous: false }).options.security.allowAnonymous,
      false,
    );
  });

  test('[Security defaults] the admin server off loopback needs credentials', () => {
    assert.throws(() => createBroker({ admin: { host: '0.0.0.0' } }), InsecureConfigurationError);
    assert.equal(createBroker({ admin: { port: 0 } }).options.admin?.host, '127.0.0.1');
  });

  test('[Security defaults] loopback detection', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      assert.equal(isLoopback(h), true, h);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      assert.equal(isLoopback(h), false, h);
    }
  });
});

describe('password hashes', () => {
  test('[Passwords] scrypt$N$r$p$salt$hash, salted: two hashes of one password differ', async () => {
    const a = await hashPassword('correct horse', FAST);
    const b = await hashPassword('correct horse', FAST);
    assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('correct horse', parsePasswordHash(a)), true);
    assert.equal(await verifyPassword('correct horse', parsePasswordHash(b)), true);
    assert.equal(await verifyPassword('correct hors', parsePasswordHash(a)), false);
    assert.equal(await verifyPassword('', parsePasswordHash(a)), false);
  });

  test('[Passwords] the default cost is scrypt N=2^14 r=8 p=1', async () => {
    const h = await hashPassword('x');
    assert.match(h, /^scrypt\$16384\$8\$1\$/);
  });

  test('[Passwords] plain text and malformed hashes are refused without echoing them', async () => {
    for (const bad of [
      'hunter2',
      'scrypt$1000$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==',
      'scrypt$1024$8$1$!!$??',
    ]) {
      assert.throws(
        () => parsePasswordHash(bad, 'users.bob.password'),
        (err: Error) => err.message.startsWith('users.bob.password') && !err.message.includes(bad),
      );
    }
    assert.throws(
      () => createBroker({ users: { bob: { password: 'hunter2' } } }),
      /stompede passwd/,
    );
    // Costs are bounded so a configuration cannot make a login take seconds.
    assert.throws(() =>
      parsePasswordHash('scrypt$4194304$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=='),
    );
    await assert.rejects(hashPassword('x', { N: 3, r: 8, p: 1 }));
  });

  test('[Passwords] reserved and unknown names in users and groups are refused', async () => {
    const password = await hashPassword('pw', FAST);
    assert.throws(() => createBroker({ users: { anonymous: { password } } }), /reserved/);
    assert.throws(
      () => createBroker({ users: { a: { password } }, groups: { g: ['nobody'] } }),
      /nobody/,
    );
  });
});

describe('login throttle', () => {
  test('[Login throttling] the delay doubles per failure up to the ceiling; success resets', () => {
    let now = 0;
    const t = new LoginThrottle({ baseDelay: 100, maxDelay: 1000 }, () => now);
    assert.equal(t.delay('a'), 0);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.failure('a');
      seen.push(t.delay('a'));
    }
    assert.deepEqual(seen, [100, 200, 400, 800, 1000, 1000]);
    assert.equal(t.delay('b'), 0);
    t.success('a');
    assert.equal(t.delay('a'), 0);
    t.failure('a');
    now += 16 * 60_000;
    assert.equal(t.delay('a'), 0, 'forgotten after forgetAfter');
  });

  test('[Login throttling] the table is bounded: the least recently failing address goes first', () => {
    const t = new LoginThrottle({ maxEntries: 3 });
    for (const a of ['a', 'b', 'c']) t.failure(a);
    t.failure('a'); // a is now the most recent
    t.failure('d');
    assert.equal(t.size, 3);
    assert.equal(t.delay('b'), 0);
    assert.ok(t.delay('a') > 0 && t.delay('c') > 0 && t.delay('d') > 0);
    for (let i = 0; i < 10_000; i++) t.failure(`x${String(i)}`);
    assert.equal(t.size, 3);
  });
});

describe('destination patterns', () => {
  test('[Permissions] patterns: * is one segment, > the rest, > alone everything', () => {
    const cases: [string, string, boolean][] = [
      ['/queue/orders', '/queue/orders', true],
      ['/queue/orders', '/queue/orders.eu', false],
      ['/queue/orders.*', '/queue/orders.eu', true],
      ['/queue/orders.*', '/queue/orders.eu.paris', false],
      ['/queue/orders.>', '/queue/orders.eu.paris', true],
      ['/queue/orders.>', '/topic/orders.eu', false],
      ['/topic/a.>', '/topic/a.*', true],
      ['/topic/a.*', '/topic/a.>', false],
      ['/topic/*', '/topic/>', false],
      ['/topic/a.b', '/topic/a.*', false],
      ['>', '/topic/anything.at.all', true],
      ['>', '/queue/x', true],
    ];
    for (const [pattern, dest, expected] of cases) {
      assert.equal(new DestinationPattern(pattern).covers(dest), expected, `${pattern} ${dest}`);
    }
    assert.throws(() => new DestinationPattern('orders'), /must start with/);
  });
});
