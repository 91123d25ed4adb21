// Small pieces every check group uses: a failure builder, "every pair" verdicts, the probe sources.
import type { V1Pod } from '@kubernetes/client-node';
import { CheckFailure, type FailureContext } from '../verdicts/failure.js';
import type { ProbeRef, RunEnv } from '../workload/setup.js';
import type { NodeAccess } from '../cluster/connection.js';

export const defined = <T>(x: T | undefined | null): x is T => x !== undefined && x !== null;

/** Throws a CheckFailure unless `ok`. */
export function must(ok: boolean, ctx: FailureContext): void {
  if (!ok) throw new CheckFailure(ctx);
}

export const podTarget = (p: V1Pod) => `${p.metadata!.name} ${p.status!.podIP}:80 on ${p.spec!.nodeName}`;
export const podSources = (env: RunEnv): ProbeRef[] => [...env.probes, env.otherProbe];

/** The nodes and their host, through the cluster provider (a check never names how: docker, ssh…). */
export function nodeAccess(env: RunEnv): NodeAccess {
  if (!env.nodeAccess) throw new Error('no node access: only the kind cluster kube-netcheck manages has its nodes reached (see unlessManaged)');
  return env.nodeAccess;
}

/** `ip route get ADDR` on the host running the nodes: sends no packet, says where one would go. */
export async function hostRouteGet(env: RunEnv, ip: string): Promise<string> {
  return nodeAccess(env).hostRoute(ip);
}

/** Only a kind cluster kube-netcheck created can have its nodes and this host looked at or changed. */
export const unlessManaged = (what: string) => (env: RunEnv) =>
  env.nodeAccess ? undefined : `${what} needs the kind cluster kube-netcheck manages (this is a cluster it did not create)`;

/**
 * Not applicable because of the cluster's shape, whatever the check's own notApplicable says:
 * checks tagged `cross-node` need two probed nodes (a single-node cluster — minikube, k3s, a
 * one-node kind — has no pair of nodes to cross; it is not a failure); checks tagged `node-view`
 * need the hostNetwork node views, which a cluster may forbid.
 */
export function shapeNotApplicable(c: { tags: string[] }, env: Pick<RunEnv, 'nodes'> & Partial<Pick<RunEnv, 'nodeViewsRefused'>>): string | undefined {
  // checks tagged `node-view` ask from the hostNetwork node views, which a cluster may forbid (PodSecurity baseline, an admission policy)
  if (c.tags.includes('node-view') && env.nodeViewsRefused) return `node views (hostNetwork pods) are forbidden on this cluster: ${env.nodeViewsRefused}`;
  if (c.tags.includes('cross-node') && env.nodes.length < 2) {
    return `the cluster has a single node (${env.nodes.map((n) => n.name).join(', ') || 'none'}): no two nodes to probe across`;
  }
  return undefined;
}
