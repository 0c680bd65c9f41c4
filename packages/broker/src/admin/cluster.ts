// `GET /api/cluster`: the cluster as this node's engine reports it (EngineReport.cluster), or
// `{ "clustered": false }` on a single node. An engine that reports only a `cluster` object with
// a `node` name in its state (as the NATS engine did first) is shown as this node alone, with
// that object as the details.
import type { EngineReport } from '../engine.js';
import type { ClusterJson } from './api-types.js';

/** The cluster JSON of an engine's report. */
export function clusterJson(report: EngineReport | undefined): ClusterJson {
  const c = report?.cluster;
  if (c !== undefined) {
    return {
      clustered: true,
      node: c.node,
      nodes: c.nodes.map((n) => ({ ...n })),
      ...(c.details === undefined ? {} : { details: c.details }),
    };
  }
  const state = report?.state.cluster;
  if (typeof state === 'object' && state !== null && 'node' in state) {
    const node = String(state.node);
    return {
      clustered: true,
      node,
      nodes: [{ name: node, role: 'broker', status: 'up', self: true }],
      details: state,
    };
  }
  return { clustered: false };
}
