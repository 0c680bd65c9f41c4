// The cluster as the admin API's `GET /api/cluster`, the console's overview and `stompede status`
// show it (ClusterReport): this node, and the NATS servers its streams are led and replicated by.
import type { ClusterNodeReport, ClusterReport } from '@stompede/broker';
import type { ClusterStatus } from './admin.js';

/** What the streams say of one NATS server. */
interface ServerSeen {
  leads: number;
  behind: number;
  maxLag: number;
}

/**
 * The report of a node whose cluster status is `s`. Stompede nodes do not know one another (each
 * talks to NATS only), so the nodes listed are this one and the NATS servers named by the
 * streams' leaders and replicas: a server leading a stream, or a replica that is current, is
 * `up`; a replica that is not current is `unknown` (lagging or down), with its lag.
 */
export function clusterReportOf(s: ClusterStatus): ClusterReport {
  const servers = new Map<string, ServerSeen>();
  const seen = (name: string): ServerSeen => {
    let e = servers.get(name);
    if (e === undefined) servers.set(name, (e = { leads: 0, behind: 0, maxLag: 0 }));
    return e;
  };
  for (const st of s.streams) {
    if (st.leader !== '') seen(st.leader).leads++;
    for (const r of st.replicas) {
      const e = seen(r.name);
      if (!r.current) {
        e.behind++;
        e.maxLag = Math.max(e.maxLag, r.lag);
      }
    }
  }
  const self: ClusterNodeReport = {
    name: s.node,
    role: 'broker',
    status: s.nats.state === 'connected' ? 'up' : 'unknown',
    self: true,
    note:
      s.nats.state === 'connected'
        ? `connected to NATS at ${s.nats.server ?? '?'}`
        : `NATS ${s.nats.state}${s.nats.lastError === undefined ? '' : `: ${s.nats.lastError}`}`,
  };
  const stores = [...servers.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, e]): ClusterNodeReport => {
      const notes: string[] = [];
      if (e.leads > 0) notes.push(`leader of ${String(e.leads)} stream${e.leads === 1 ? '' : 's'}`);
      if (e.behind > 0)
        notes.push(
          `behind on ${String(e.behind)} stream${e.behind === 1 ? '' : 's'} (lag ${String(e.maxLag)})`,
        );
      return {
        name,
        role: 'store',
        status: e.behind > 0 && e.leads === 0 ? 'unknown' : 'up',
        ...(notes.length === 0 ? {} : { note: notes.join(', ') }),
      };
    });
  return {
    node: s.node,
    nodes: [self, ...stores],
    details: {
      nats: s.nats.state,
      natsServer: s.nats.server ?? null,
      natsVersion: s.nats.version ?? null,
      natsReconnects: s.nats.reconnects,
      pendingAcks: s.pendingAcks,
      pulledWaiting: s.pulledWaiting,
      inflightBytes: s.inflightBytes,
      storedSubscriptions: s.storedSubscriptions,
      publishFailures: s.publishFailures,
      ...(s.streamsError === undefined ? {} : { streamsError: s.streamsError }),
    },
  };
}
