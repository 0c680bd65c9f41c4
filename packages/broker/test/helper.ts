// Test helpers: brokers wired to duplexPair(), and the STOMP peer (from testkit) that talks to them.
import { duplexPair } from 'node:stream';
import type { HeadersInit } from '@stompede/core';
import { type Broker, type BrokerOptions, createBroker } from '@stompede/broker';
import { Peer } from '@stompede/testkit';

export { Peer };

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
