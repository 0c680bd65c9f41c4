import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, hashPassword } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { connected, memoryBroker, pair } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('authentication', () => {
  let broker: Broker;
  before(async () => {
    broker = memoryBroker({
      users: {
        alice: { password: await hashPassword('wonderland', FAST) },
        bob: { password: await hashPassword('builder', FAST), vhosts: ['/b'] },
      },
      vhosts: ['/', '/b'],
      allowAnonymous: false,
      loginThrottle: { baseDelay: 1, maxDelay: 8 },
    });
  });
  after(() => broker.close());

  test('[Authentication] a user with the right passcode is CONNECTED', async () => {
    const p = await connected(broker, {
      'accept-version': '1.2',
      host: '/',
      login: 'alice',
      passcode: 'wonderland',
    });
    const conn = [...broker.sessions].at(-1)!;
    assert.equal(conn.principal.user, 'alice');
    await p.sendSync('SEND', { destination: '/queue/auth' }, 'hi');
    p.close();
  });

  test('[Authentication] frames pipelined after CONNECT wait for the password check', async () => {
    // stomp.py, stompit and our CLI write CONNECT, SUBSCRIBE and SEND back to back; the password
    // check is asynchronous (scrypt), so those frames must be held, not refused.
    const p = pair(broker);
    p.send('CONNECT', {
      'accept-version': '1.2',
      host: '/',
      login: 'alice',
      passcode: 'wonderland',
    });
    p.send('SUBSCRIBE', { id: '0', destination: '/queue/pipelined' });
    p.send('SEND', { destination: '/queue/pipelined', receipt: 'r1' }, 'early');
    await p.next('CONNECTED');
    const message = await p.next('MESSAGE');
    assert.equal(message.text, 'early');
    p.close();
  });

  test('[Authentication] frames pipelined after a failed CONNECT are not processed', async () => {
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'alice', passcode: 'nope' });
    p.send('SEND', { destination: '/queue/never', receipt: 'r2' }, 'must not arrive');
    const error = await p.error(ErrorCode.AUTHENTICATION_FAILED);
    assert.match(error.header('message') ?? '', /authentication failed/);
    await p.ended;
    broker.authenticator.throttle.success('local');
    const q = await connected(broker, {
      'accept-version': '1.2',
      host: '/',
      login: 'alice',
      passcode: 'wonderland',
    });
    // FIFO: had the refused session's SEND been enqueued, it would arrive before the marker.
    q.send('SEND', { destination: '/queue/never' }, 'marker');
    q.send('SUBSCRIBE', { id: '0', destination: '/queue/never' });
    assert.equal((await q.next('MESSAGE')).text, 'marker');
    q.close();
  });

  test('[Authentication] wrong passcode and unknown user get the same ERROR', async () => {
    const answers: string[] = [];
    for (const [login, passcode] of [
      ['alice', 'wrong'],
      ['mallory', 'wonderland'],
      ['alice', ''],
    ] as const) {
      const p = pair(broker);
      p.send('CONNECT', { 'accept-version': '1.2', host: '/', login, passcode });
      const f = await p.error(ErrorCode.AUTHENTICATION_FAILED);
      answers.push(`${f.header('message') ?? ''}|${f.text}`);
      await p.ended;
    }
    assert.equal(new Set(answers).size, 1, answers.join('\n'));
    assert.match(answers[0]!, /authentication failed/);
    assert.match(answers[0]!, new RegExp(ErrorCode.AUTHENTICATION_FAILED));
    assert.doesNotMatch(answers[0]!, /mallory|alice/);
    broker.authenticator.throttle.success('local');
  });

  test('[Authentication] anonymous clients are refused when allowAnonymous is false', async () => {
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: '/' });
    const f = await p.error(ErrorCode.AUTHENTICATION_FAILED);
    assert.match(f.header('message') ?? '', /authentication required/);
    await p.ended;
  });

  test('[Login throttling] each failure from an address raises its delay; a success resets it', async () => {
    const throttle = broker.authenticator.throttle;
    throttle.success('local');
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = pair(broker);
      p.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'alice', passcode: 'no' });
      await p.error(ErrorCode.AUTHENTICATION_FAILED);
      await p.ended;
      delays.push(throttle.delay('local'));
    }
    assert.deepEqual(delays, [1, 2, 4, 8]);
    const ok = await connected(broker, {
      'accept-version': '1.2',
      host: '/',
      login: 'alice',
      passcode: 'wonderland',
    });
    assert.equal(throttle.delay('local'), 0);
    ok.close();
  });

  test('[Authentication] failed logins are counted by code', () => {
    assert.ok((broker.errorCounts.byCode.get(ErrorCode.AUTHENTICATION_FAILED) ?? 0) >= 4);
  });

  test('[1.2 CONNECT host] a user limited to some virtual hosts is refused elsewhere', async () => {
    const ok = await connected(broker, {
      'accept-version': '1.2',
      host: '/b',
      login: 'bob',
      passcode: 'builder',
    });
    ok.close();
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'bob', passcode: 'builder' });
    const f = await p.error(ErrorCode.FORBIDDEN);
    assert.match(f.header('message') ?? '', /may not use virtual host "\/"/);
    await p.ended;
  });

  test('[1.0 CONNECT] STOMP 1.0 clients log in the same way', async () => {
    const p = await connected(broker, { login: 'alice', passcode: 'wonderland' });
    p.close();
  });
});

describe('authentication without users', () => {
  test('[Authentication] with no users, credentials are ignored and everyone is anonymous', async () => {
    const broker = memoryBroker();
    const p = await connected(broker, {
      'accept-version': '1.2',
      host: '/',
      login: 'guest',
      passcode: 'guest',
    });
    assert.equal([...broker.sessions][0]!.principal.user, 'anonymous');
    p.close();
    await broker.close();
  });

  test('[Authentication] no users and allowAnonymous false: nobody gets in, and is told why', async () => {
    const broker = memoryBroker({ allowAnonymous: false });
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: '/' });
    const f = await p.error(ErrorCode.AUTHENTICATION_FAILED);
    assert.match(f.header('message') ?? '', /no users/);
    await broker.close();
  });
});
