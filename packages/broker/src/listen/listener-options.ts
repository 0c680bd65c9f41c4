// Listener options (part of BrokerOptions): where and how the broker accepts connections.

/** A plain TCP listener. */
export interface TcpListenerOptions {
  readonly protocol: 'tcp';
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 61613; 0 picks a free port (see {@link Broker.addresses}). */
  readonly port?: number;
}

/** A TLS listener. */
export interface TlsListenerOptions {
  readonly protocol: 'tls';
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 61614. */
  readonly port?: number;
  /** Path to the PEM certificate chain. */
  readonly certFile: string;
  /** Path to the PEM private key. */
  readonly keyFile: string;
  /** Path to PEM CA certificates that client certificates must chain to. */
  readonly caFile?: string;
  /** Ask clients for a certificate and reject those without a valid one. Default false. */
  readonly requireClientCert?: boolean;
  /** Lowest protocol version accepted. Default `TLSv1.2`. */
  readonly minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /**
   * OpenSSL cipher list, e.g. `TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256`. The `TLS_…`
   * names are the TLS 1.3 suites (none listed: Node's default ones), the others the TLS 1.2
   * ciphers (none listed: TLS 1.2 clients are refused). Default: Node's default list.
   */
  readonly ciphers?: string;
  /**
   * Authenticate clients by certificate: the value of this subject field (`CN`, `emailAddress`,
   * `UID`, …) of a certificate verified against `caFile` names the user (docs/security.md).
   * Needs `caFile`. Default: certificates are not mapped to users.
   */
  readonly clientCertUser?: string;
}

/** A WebSocket listener (STOMP over WebSocket, as RabbitMQ Web-STOMP). */
export interface WsListenerOptions {
  readonly protocol: 'ws';
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 15674. */
  readonly port?: number;
  /** URL path to accept upgrades on. Default `/ws`. */
  readonly path?: string;
  /** Enable permessage-deflate. Default false. */
  readonly perMessageDeflate?: boolean;
  /**
   * Browser origins (`https://app.example.com`) allowed to open a WebSocket, or `*` for every
   * one. Always allowed: upgrades without `Origin` (non-browser clients), pages from the
   * broker's own host:port, and on a loopback listener pages from any loopback origin; others
   * get HTTP 403 (docs/security.md). Default: none listed.
   */
  readonly allowedOrigins?: readonly string[];
}

/** Any listener. */
export type ListenerOptions = TcpListenerOptions | TlsListenerOptions | WsListenerOptions;
