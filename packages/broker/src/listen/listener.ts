import type { AddressInfo, Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionInfo } from './peer.js';

/** Where a listener accepts connections. */
export interface ListenerAddress {
  /** `tcp`, `tls` or `ws`. */
  readonly protocol: 'tcp' | 'tls' | 'ws';
  readonly host: string;
  /** The actual port (the one picked when 0 was asked for). */
  readonly port: number;
  /** The WebSocket path. */
  readonly path?: string;
  /**
   * A URL for it that the client and `stompede send` take: `tcp://127.0.0.1:61613`,
   * `ssl://127.0.0.1:61614` or `ws://127.0.0.1:15674/ws` (an IPv6 host in brackets).
   */
  readonly url: string;
}

/** The outcome of reloading one TLS listener's certificate files (see `Broker.reloadCertificates`). */
export interface CertificateReload {
  /** The listener's URL. */
  readonly url: string;
  /** True when the new files are in use; false when they were refused and the old ones kept. */
  readonly reloaded: boolean;
  /** Why the new files were refused. */
  readonly error?: string;
  /** SHA-256 fingerprint of the certificate now served (`AA:BB:…`), when it could be read. */
  readonly fingerprint256?: string;
}

/** A running listener. */
export interface Listener {
  readonly address: ListenerAddress;
  /** Stop accepting connections (open ones are left to the broker). */
  close(): Promise<void>;
  /** Re-read certificate files (TLS listeners only); never rejects. */
  reload?(): Promise<CertificateReload>;
}

/** What listeners hand their streams to. */
export type Accept = (stream: Duplex, info: ConnectionInfo) => void;

/** Listen on `host:port`; the address bound (the port picked when 0 was asked for), or the error. */
export function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** `host` as the host part of a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
