import type { Duplex } from 'node:stream';
import type { ConnectionInfo } from '../connection.js';

/** Where a listener accepts connections. */
export interface ListenerAddress {
  /** `tcp`, `tls` or `ws`. */
  readonly protocol: 'tcp' | 'tls' | 'ws';
  readonly host: string;
  /** The actual port (the one picked when 0 was asked for). */
  readonly port: number;
  /** The WebSocket path. */
  readonly path?: string;
  /** A URL for it, e.g. `stomp://127.0.0.1:61613` or `ws://127.0.0.1:15674/ws`. */
  readonly url: string;
}

/** A running listener. */
export interface Listener {
  readonly address: ListenerAddress;
  /** Stop accepting connections (open ones are left to the broker). */
  close(): Promise<void>;
}

/** What listeners hand their streams to. */
export type Accept = (stream: Duplex, info: ConnectionInfo) => void;
