// Test helpers: brokers wired to duplexPair(), and the STOMP peer (from testkit) that talks to them.
import { duplexPair } from 'node:stream';
import type { HeadersInit } from '@stompede/core';
import { type Broker, type BrokerOptions, createBroker } from '@stompede/broker';
import { Peer, TestClock } from '@stompede/testkit';

export { Peer, TestClock };

/** A broker with no listeners, for unit tests over in-memory streams. */
export function memoryBroker(options: BrokerOptions = {}): Broker {
  return createBroker({ listeners: [], errorLinger: 100, closeTimeout: 500, ...options });
}

/** A peer connected to `broker` through a duplexPair. */
export function pair(broker: Broker): Peer {
  const [server, client] = duplexPair();
  broker.handle(server, { transport: 'memory' });
  return new Peer(client);
}

/** A connected peer. */
export async function connected(
  broker: Broker,
  headers: HeadersInit = { 'accept-version': '1.2', host: '/' },
): Promise<Peer> {
  const p = pair(broker);
  await p.connect(headers);
  return p;
}

/**
 * Wait until `predicate` holds for state the broker changes (checked on every turn of the event
 * loop); fails after `deadlineMs` so a test that goes wrong ends with a clear error.
 */
export async function eventually(
  predicate: () => boolean,
  what: string,
  deadlineMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${String(deadlineMs)} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
