// Durable subscriptions belong to the user who made them: another user presenting the same
// client-id and subscription name gets a subscription of their own, not the owner's backlog.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, hashPassword } from '@stompede/broker';
import { connected, memoryBroker } from '../helper.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('durable subscriptions and users', () => {
  let broker: Broker;
  before(async () => {
    broker = memoryBroker({
      users: {
        alice: { password: await hashPassword('a-pass', FAST) },
        bob: { password: await hashPassword('b-pass', FAST) },
      },
      allowAnonymous: false,
    });
  });
  after(() => broker.close());

  const login = (user: string, password: string) => ({
    'accept-version': '1.2',
    host: '/',
    login: user,
    passcode: password,
    'client-id': 'shared-app',
  });
  const durable = {
    id: '0',
    destination: '/topic/owned',
    'activemq.subscriptionName': 'feed',
  };

  test("[Security durable] another user's client-id does not reach the owner's backlog", async () => {
    const alice = await connected(broker, login('alice', 'a-pass'));
    alice.send('SUBSCRIBE', { ...durable, receipt: 's' });
    await alice.next('RECEIPT');
    alice.send('DISCONNECT', { receipt: 'd' });
    await alice.next('RECEIPT');
    await alice.ended;

    const producer = await connected(broker, login('bob', 'b-pass'));
    await producer.sendSync('SEND', { destination: '/topic/owned' }, 'for alice');
    producer.close();

    // Bob, same client-id and name: a new, empty subscription of his own.
    const bob = await connected(broker, login('bob', 'b-pass'));
    bob.send('SUBSCRIBE', durable);
    await bob.sendSync('SEND', { destination: '/topic/owned' }, 'after bob subscribed');
    assert.deepEqual(
      (await bob.messages(1)).map((f) => f.text),
      ['after bob subscribed'],
    );
    bob.close();

    // Alice gets what was published while she was away, then the later message too.
    const back = await connected(broker, login('alice', 'a-pass'));
    back.send('SUBSCRIBE', durable);
    const texts = (await back.messages(2)).map((f) => f.text);
    assert.deepEqual(texts, ['for alice', 'after bob subscribed']);
    back.close();
  });
});
