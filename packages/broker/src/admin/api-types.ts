// The JSON the admin API answers, as types: the console, `stompede list|status|…` and scripts
// read these shapes, and docs/console.md lists them. Counters are totals since the broker started;
// rates are per second over the last sample interval (`sampleInterval`, 5 s by default).
// Times are milliseconds since the epoch; durations milliseconds.

/** Messages per second. */
export interface RatesJson {
  /** Messages published (SEND) to the destination, or to every destination. */
  readonly published: number;
  /** MESSAGE frames sent. */
  readonly delivered: number;
  /** Deliveries settled (ACK, or at once in `auto` mode). */
  readonly acked: number;
  /** Deliveries that were redeliveries. */
  readonly redelivered: number;
}

/** The cluster as this node sees it: `GET /api/cluster`, and `cluster` of the overview. */
export type ClusterJson =
  | { readonly clustered: false }
  | {
      readonly clustered: true;
      /** This node's name. */
      readonly node: string;
      /** The nodes this node knows of, itself included (see ClusterReport in engine.ts). */
      readonly nodes: readonly ClusterNodeJson[];
      /** Anything else the cluster engine reports, as it reports it. */
      readonly details?: Readonly<Record<string, unknown>>;
    };

/** One node of a cluster. */
export interface ClusterNodeJson {
  readonly name: string;
  /** `broker` for a stompede node; `store` for a server of the store the nodes share (NATS). */
  readonly role: string;
  readonly status: 'up' | 'down' | 'unknown';
  /** True for the node answering. */
  readonly self?: boolean;
  readonly address?: string;
  readonly version?: string;
  /** A short note, e.g. `leader of 4 streams` or `lag 12`. */
  readonly note?: string;
}

/** `GET /api/overview`: the broker at a glance. */
export interface OverviewJson {
  readonly time: number;
  readonly node: {
    /** The `server` header of CONNECTED (`serverName`). */
    readonly name: string;
    /** stompede's version. */
    readonly version: string;
    readonly pid: number;
    /** Node.js version. */
    readonly runtime: string;
    readonly startedAt: number;
    readonly uptime: number;
  };
  /** False during shutdown, or while the engine cannot serve (`/readyz` answers 503). */
  readonly ready: boolean;
  readonly connections: number;
  readonly counts: {
    readonly queues: number;
    readonly topics: number;
    readonly durableSubscriptions: number;
    readonly consumers: number;
    /** Messages held (waiting or unacknowledged). */
    readonly messages: number;
    /** Of those, delivered and not yet acknowledged. */
    readonly unacked: number;
  };
  readonly totals: RatesJson & {
    readonly nacked: number;
    readonly deadLettered: number;
    readonly dropped: number;
    readonly framesIn: number;
    readonly framesOut: number;
    readonly bytesIn: number;
    readonly bytesOut: number;
    readonly connectionsOpened: number;
    readonly connectionsRefused: number;
    readonly errorsSent: number;
  };
  readonly rates: RatesJson & { readonly bytesIn: number; readonly bytesOut: number };
  readonly memory: {
    /** Resident set size of the process. */
    readonly rss: number;
    readonly heapUsed: number;
    readonly heapTotal: number;
    /** Bytes of message data held in memory by the engine. */
    readonly messageBytes: number;
    /** `memoryLimit`: past it producers are paused. */
    readonly limit: number;
  };
  readonly disk: {
    /** The data directory; null without one (everything in memory, or a cluster node). */
    readonly dataDir: string | null;
    /** Free bytes of its disk at the last reading; null when not read. */
    readonly freeBytes: number | null;
    /** `persistence.diskFreeLimit`: below it persistent SENDs are refused. */
    readonly limitBytes: number | null;
    /** True while persistent SENDs are refused for lack of space. */
    readonly refusing: boolean;
    /** Bytes of the journal's files (`DIR/journal`). */
    readonly journalBytes: number | null;
  };
  /** ERROR frames sent and connections refused, by error code. */
  readonly errors: Readonly<Record<string, number>>;
  readonly sampleInterval: number;
  readonly cluster: ClusterJson;
  /** The engine's own report, when it gives one. */
  readonly engine?: Readonly<Record<string, unknown>>;
}

/** One point of `GET /api/history`: rates over the interval before `time`, levels at `time`. */
export interface HistoryPointJson extends RatesJson {
  readonly time: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connections: number;
  readonly messages: number;
}

/** `GET /api/history[?since=TIME]`: the broker-wide series (an hour), oldest first. */
export interface HistoryJson {
  readonly interval: number;
  readonly points: readonly HistoryPointJson[];
}

/**
 * What a destination row is: `other` counts together the destinations past the engine's
 * counting bound (10000).
 */
export type DestinationRowKind = 'queue' | 'topic' | 'durable' | 'temporary' | 'other';

/** One destination, in `GET /api/destinations` and `GET /api/destination`. */
export interface DestinationJson {
  readonly vhost: string;
  readonly destination: string;
  readonly kind: DestinationRowKind;
  /** Set for a durable topic subscription (`destination` is its topic). */
  readonly durable?: { readonly clientId: string; readonly name: string };
  /** Messages held (waiting or unacknowledged); null for a topic. */
  readonly depth: number | null;
  readonly unacked: number;
  readonly consumers: number;
  /** Totals since the start; null when the engine keeps none for it. */
  readonly counters: {
    readonly enqueued: number;
    readonly delivered: number;
    readonly acked: number;
    readonly nacked: number;
    readonly redelivered: number;
    readonly deadLettered: number;
    readonly dropped: number;
    readonly purged: number;
  } | null;
  readonly rates: RatesJson;
}

/** `GET /api/destinations[?vhost=V]`. */
export interface DestinationsJson {
  readonly destinations: readonly DestinationJson[];
}

/** One subscription of a connection: `GET /api/subscriptions`, and in the detail pages. */
export interface SubscriptionJson {
  /** The connection (session id). */
  readonly connection: string;
  readonly user: string;
  readonly remoteAddress: string;
  readonly vhost: string;
  /** The subscription's `id` header. */
  readonly id: string;
  readonly destination: string;
  readonly ack: 'auto' | 'client' | 'client-individual';
  /** Most unacknowledged messages (client modes); null for `auto`. */
  readonly prefetch: number | null;
  /** Delivered and not yet acknowledged. */
  readonly unacked: number;
  /** The durable subscription's name, when it is one. */
  readonly durable: string | null;
}

/** `GET /api/subscriptions[?vhost=V]`. */
export interface SubscriptionsJson {
  readonly subscriptions: readonly SubscriptionJson[];
}

/** A point of a destination's series. */
export interface DestinationPointJson extends RatesJson {
  readonly time: number;
  readonly depth: number | null;
}

/** `GET /api/destination?vhost=V&destination=D[&client-id=C&name=N]`. */
export interface DestinationDetailJson {
  readonly destination: DestinationJson;
  readonly subscriptions: readonly SubscriptionJson[];
  readonly interval: number;
  /** Its recent series, oldest first; null when none is kept for it (see docs/console.md). */
  readonly history: readonly DestinationPointJson[] | null;
}

/** One message of `GET /api/messages?vhost=V&destination=D&count=N` (peek, left in place). */
export interface PeekedMessageJson {
  readonly messageId: string;
  /** Deliveries so far (0: never delivered). */
  readonly deliveryCount: number;
  /** Headers as sent, in order, repeats kept. */
  readonly headers: readonly (readonly [string, string])[];
  readonly persistent: boolean;
  /** Body bytes. */
  readonly size: number;
  /** The first bytes of the body (at most 64 KiB), base64. */
  readonly body: string;
  /** True when `body` holds only the first bytes. */
  readonly truncated: boolean;
}

/** `GET /api/messages`. */
export interface MessagesJson {
  readonly vhost: string;
  readonly destination: string;
  readonly messages: readonly PeekedMessageJson[];
}

/** What the broker knows of one connection (ConnectionJson without its rates). */
export interface ConnectionFacts {
  /** The session id (CONNECTED's `session` header). */
  readonly id: string;
  readonly user: string;
  readonly vhost: string;
  /** `tcp`, `tls` or `ws`. */
  readonly transport: string;
  readonly remoteAddress: string;
  /** The STOMP version spoken (before CONNECT: the lowest). */
  readonly version: string;
  /** False until CONNECTED was sent. */
  readonly connected: boolean;
  readonly connectedAt: number;
  /** Negotiated heart-beats in ms (0: none): what the broker sends, what it expects. */
  readonly heartBeat: { readonly send: number; readonly receive: number };
  readonly subscriptions: number;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  /** Bytes written (TCP and TLS; 0 for WebSocket). */
  readonly bytesOut: number;
  /** SEND frames received. */
  readonly messagesIn: number;
  /** MESSAGE frames sent. */
  readonly messagesOut: number;
}

/** One connection, in `GET /api/connections` and `GET /api/connection`. */
export interface ConnectionJson extends ConnectionFacts {
  /** Per second over the last sample interval. */
  readonly rates: {
    readonly messagesIn: number;
    readonly messagesOut: number;
    readonly bytesIn: number;
    readonly bytesOut: number;
  };
}

/** `GET /api/connections[?vhost=V]`. */
export interface ConnectionsJson {
  readonly connections: readonly ConnectionJson[];
}

/** `GET /api/connection?id=ID`. */
export interface ConnectionDetailJson {
  readonly connection: ConnectionJson;
  readonly subscriptions: readonly SubscriptionJson[];
}

/** `GET /api/users`: who may do what where (read-only; password hashes are never shown). */
export interface UsersJson {
  readonly allowAnonymous: boolean;
  readonly defaultVhost: string;
  /** The virtual hosts clients may name; null: any. */
  readonly vhosts: readonly string[] | null;
  readonly users: readonly {
    readonly name: string;
    readonly groups: readonly string[];
    /** Virtual hosts the user may connect to; null: every one. */
    readonly vhosts: readonly string[] | null;
    /** Whether a password is set (else only a client certificate logs in). */
    readonly password: boolean;
    /** Connections open now as this user. */
    readonly connections: number;
  }[];
  readonly groups: readonly { readonly name: string; readonly members: readonly string[] }[];
  readonly permissions: readonly {
    readonly user?: string;
    readonly group?: string;
    readonly vhost: string;
    readonly destinations: readonly string[];
    readonly rights: readonly string[];
  }[];
}

/** An action's answer, or an error's: `{ "error": "...", "code"?: "ERR_STOMP_..." }`. */
export interface ErrorJson {
  readonly error: string;
  readonly code?: string;
}
