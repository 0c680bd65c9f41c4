// Destinations made elsewhere (issue 16: a queue created on another cluster node): with an engine
// that has Engine.exists, a client that may use a destination but not create it is not refused
// for a destination this broker has not seen before the engine was asked. Staged here with a
// local engine whose `exists` answers for "the other node".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Broker, LocalEngine, hashPassword } from '@stompede/broker';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { connected, memoryBroker } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };

/** A local engine that also knows the destinations `elsewhere` (made by another node). */
class SharedEngine extends LocalEngine {
  readonly asked: string[] = [];
  readonly elsewhere = new Set<string>();
  down = false;

  exists(vhost: string, destination: string): Promise<boolean> {
    this.asked.push(destination);
    if (this.down) {
      return Promise.reject(
        new StompProtocolError(ErrorCode.UNAVAILABLE, 'the cluster did not answer in time'),
      );
    }
    return Promise.resolve(this.elsewhere.has(`${vhost} ${destination}`));
  }
}

async function start(): Promise<{ broker: Broker; engine: SharedEngine }> {
  const password = await hashPassword('pw', FAST);
  const engine = new SharedEngine();
  const broker = memoryBroker({
    engine,
    users: { reader: { password }, writer: { password }, owner: { password } },
    permissions: [
      { user: 'reader', destinations: ['/queue/>', '/topic/>'], rights: ['read'] },
      { user: 'writer', destinations: '/queue/>', rights: ['write'] },
      { user: 'owner', destinations: '/queue/>', rights: 'all' },
    ],
  });
  return { broker, engine };
}

const as = (broker: Broker, user: string) =>
  connected(broker, { 'accept-version': '1.2', host: '/', login: user, passcode: 'pw' });

describe('permissions for destinations made elsewhere (Engine.exists)', () => {
  test('[Permissions] read or write without create: a destination the engine knows is served, and asked for once', async () => {
    const { broker, engine } = await start();
    engine.elsewhere.add('/ /queue/made.there');
    const w = await as(broker, 'writer');
    await w.sendSync('SEND', { destination: '/queue/made.there' }, 'hello');
    const r = await as(broker, 'reader');
    r.send('SUBSCRIBE', { id: 's', destination: '/queue/made.there' });
    assert.equal((await r.messages(1))[0]!.text, 'hello');
    await w.sendSync('SEND', { destination: '/queue/made.there' }, 'again');
    assert.deepEqual(engine.asked, ['/queue/made.there'], 'known from then on');
    await broker.close();
  });

  test('[Permissions] a destination that exists nowhere is still refused with ERR_STOMP_FORBIDDEN; the create right asks nothing', async () => {
    const { broker, engine } = await start();
    const r = await as(broker, 'reader');
    r.send('SUBSCRIBE', { id: 's', destination: '/queue/nowhere', receipt: 'x' });
    const f = await r.error(ErrorCode.FORBIDDEN);
    assert.match(f.header('message') ?? '', /no create permission on \/queue\/nowhere/);
    const o = await as(broker, 'owner');
    await o.sendSync('SEND', { destination: '/queue/mine' }, 'x');
    // No right to read at all: nothing to ask either.
    const w = await as(broker, 'writer');
    w.send('SUBSCRIBE', { id: 's', destination: '/queue/mine2', receipt: 'y' });
    await w.error(ErrorCode.FORBIDDEN);
    assert.deepEqual(engine.asked, ['/queue/nowhere']);
    await broker.close();
  });

  test('[Permissions] an engine that cannot answer gives the client its coded error, not a refusal', async () => {
    const { broker, engine } = await start();
    engine.down = true;
    const r = await as(broker, 'reader');
    r.send('SUBSCRIBE', { id: 's', destination: '/queue/unknown', receipt: 'x' });
    await r.error(ErrorCode.UNAVAILABLE);
    await broker.close();
  });
});
