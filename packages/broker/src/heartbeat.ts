// The broker's side of heart-beat negotiation. It follows what the client asks, each way, kept
// between a floor and a ceiling (`heartbeat: [floor, ceiling]`), as RabbitMQ does: a client that
// asks for 1 s beats gets them (and learns within seconds that the broker is gone), one asking
// for 100 ms gets the floor, and none gets beats it did not ask for.
import { type HeartBeat, negotiateHeartBeat } from '@stompede/core';

/** What the broker answers to a client's `heart-beat` header, and the periods it then keeps. */
export interface BrokerHeartBeat {
  /** CONNECTED's `heart-beat`: what the broker can send, what it wants to receive. */
  readonly header: HeartBeat;
  /** Milliseconds between the broker's beats on an idle connection (0: none). */
  readonly send: number;
  /** Milliseconds the client may stay silent before the grace margin starts (0: not watched). */
  readonly receive: number;
}

function clamp(value: number, floor: number, ceiling: number): number {
  return Math.min(Math.max(value, floor), ceiling);
}

/**
 * The broker's heart-beats for a client that sent `client` (`[cx, cy]`: it can send every cx ms,
 * wants a beat every cy ms; 0 for none), within `[floor, ceiling]` (a ceiling of 0 turns
 * heart-beats off).
 *
 * Each way the broker offers the client's own period clamped to the bounds, so by the spec's
 * rule (the larger of the two offers) the negotiated period is the client's, raised to the floor.
 * A client asking for beats rarer than the ceiling still gets one every ceiling at least (sending
 * more often than agreed is allowed, and keeps idle proxies and NAT mappings open); a client that
 * can only beat rarer than the ceiling is watched at its own period, as the spec requires.
 */
export function brokerHeartBeat(
  bounds: readonly [number, number],
  client: HeartBeat,
): BrokerHeartBeat {
  const [floor, ceiling] = bounds;
  if (ceiling === 0) return { header: [0, 0], send: 0, receive: 0 };
  const [cx, cy] = client;
  const header: HeartBeat = [
    cy === 0 ? 0 : clamp(cy, floor, ceiling),
    cx === 0 ? 0 : clamp(cx, floor, ceiling),
  ];
  const agreed = negotiateHeartBeat(header, client);
  return { header, send: Math.min(agreed.send, ceiling), receive: agreed.receive };
}
