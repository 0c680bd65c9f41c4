// Waiting until every NATS server knows about a new subscription.
//
// A server tells its cluster peers about a client's subscription asynchronously (a route
// message), so a message published through another server in the next instant may not be
// forwarded yet. A STOMP client expects a receipted SUBSCRIBE to see every message sent after it,
// from any node. So after subscribing, the node subscribes once more to a probe subject of its
// own and publishes to it through a connection to each other server: the route between two
// servers carries a server's subscription announcements in order, so when a probe arrives
// through server Y, Y had already learnt of the first subscription too.
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ResolvedClusterOptions } from '../options.js';
import { authOptions } from './link.js';

/** ms to wait for probes before going on (a server that just went down sends none). */
const PROBE_TIMEOUT = 2000;

interface Probe {
  readonly nc: NatsConnection;
  /** False while the connection is down (its probes would not arrive). */
  up: boolean;
}

/** Probe connections to every configured server. */
export class InterestProbe {
  private readonly probes = new Map<string, Promise<Probe | undefined>>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly main: NatsConnection,
    private readonly options: ResolvedClusterOptions,
    /** The probe subject prefix of this node (`<prefix>.c.<node>.probe`). */
    private readonly subjectPrefix: string,
  ) {}

  /**
   * Resolve once every reachable server knows every subscription `main` made before this call
   * (or after a timeout: a server that is down forwards nothing anyway).
   */
  async confirm(): Promise<void> {
    const subject = `${this.subjectPrefix}.${String(++this.seq)}`;
    const seen = new Set<string>();
    const sub = this.main.subscribe(subject, {
      callback: (_err, msg) => {
        seen.add(new TextDecoder().decode(msg.data));
      },
    });
    try {
      await this.main.flush();
      const current = this.main.getServer();
      const others = this.options.servers.filter((s) => !sameServer(s, current));
      const probes = await Promise.all(others.map((s) => this.probe(s)));
      const live = probes.filter((p): p is Probe => p?.up === true);
      // A probe published before its server learnt of the probe subscription is dropped: send
      // again until each server's probe came back.
      const deadline = Date.now() + PROBE_TIMEOUT;
      let pause = 1;
      while (seen.size < live.length && Date.now() < deadline) {
        for (const [i, p] of live.entries()) {
          if (!seen.has(String(i))) p.nc.publish(subject, String(i));
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 50);
      }
    } finally {
      sub.unsubscribe();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const probes = await Promise.all(this.probes.values());
    await Promise.all(probes.filter((p) => p !== undefined).map((p) => p.nc.close()));
  }

  /** A connection to exactly `server` (opened on first use; undefined while it is down). */
  private probe(server: string): Promise<Probe | undefined> {
    let p = this.probes.get(server);
    if (p === undefined) {
      p = connect({
        servers: [server],
        name: `${this.options.nodeName} (interest probe)`,
        noRandomize: true,
        ignoreClusterUpdates: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: 1000,
        ...authOptions(this.options),
      }).then(
        (nc) => {
          const probe: Probe = { nc, up: true };
          void (async () => {
            for await (const s of nc.status()) {
              if (s.type === 'disconnect') probe.up = false;
              else if (s.type === 'reconnect') probe.up = true;
            }
          })();
          return probe;
        },
        () => {
          // Down now: try again on the next probe.
          this.probes.delete(server);
          return undefined;
        },
      );
      this.probes.set(server, p);
    }
    return p.then((probe) => (probe === undefined || this.closed ? undefined : probe));
  }
}

/** True when URL `a` names `hostPort` (as `getServer()` reports it). */
function sameServer(a: string, hostPort: string): boolean {
  const url = new URL(a.includes('://') ? a : `nats://${a}`);
  return `${url.hostname}:${url.port || '4222'}` === hostPort;
}
