// Layer "nodes": every node Ready and handing out pod IPs; for a cluster kube-netcheck created, the
// host's safety net. Node count and roles are reported, not assumed.
import type { V1Node } from '@kubernetes/client-node';
import { addressInCidr, inCidr } from '../util/cidr.js';
import { routeDevice } from '../verdicts/virtual-ip.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { mustFail } from './controls.js';
import type { CheckDef } from './types.js';
import { defined, hostRouteGet, must, unlessManaged } from './common.js';
import { label } from '../workload/fanout.js';
import type { RunEnv } from '../workload/setup.js';

const nodeReady = (n: V1Node) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
/** An address well inside a range (its base + 7), for `ip route get`. */
const inside = (cidr: string) => addressInCidr(cidr, 7);

/**
 * What the host is asked, with the outcome expected as data: `ip route get ip` for an address
 * inside `range`, expected to find no route (the safety net routes the cluster's ranges nowhere).
 */
export interface RouteAsk {
  range: string;
  ip: string;
  expect: 'no route';
}
/** A route ask and what `ip route get` printed. */
export interface RouteAnswer {
  ask: RouteAsk;
  out: string;
}

/** The asks of the safety net: an address well inside each pod and service range. */
export const safetyNetAsks = (ranges: string[]): RouteAsk[] => ranges.map((range) => ({ range, ip: inside(range), expect: 'no route' }));

/** The safety-net verdict on one (ask, output) pair: the host must not route the address anywhere. */
export function verifyUnrouted(a: RouteAnswer): CheckFailure | undefined {
  const dev = routeDevice(a.out);
  return dev === undefined
    ? undefined
    : new CheckFailure({
        check: 'nodes.safety-net',
        from: 'the host',
        to: `${a.ask.range} (${a.ask.ip})`,
        expected: 'no route (unreachable)',
        seen: `routed via ${dev}: ${a.out.trim()}`,
        command: `ip route get ${a.ask.ip}`,
      });
}

const routeGet = async (env: RunEnv, ask: RouteAsk): Promise<RouteAnswer> => ({ ask, out: await hostRouteGet(env, ask.ip) });

export const NODE_CHECKS: CheckDef[] = [
  {
    id: 'nodes.ready',
    phase: 'cluster',
    title: 'every node is Ready (count and roles reported)',
    layer: 'nodes',
    tags: ['cluster'],
    from: 'api',
    to: 'nodes',
    gather: async ({ env }) => (await env.kube.core.listNode()).items,
    verify: (o) => {
      const nodes = o.gathered as V1Node[];
      must(nodes.length > 0, { check: 'nodes.ready', from: 'the API', to: 'nodes', expected: 'at least one node', seen: 'no nodes' });
      throwAll(
        nodes
          .filter((n) => !nodeReady(n))
          .map(
            (n) =>
              new CheckFailure({
                check: 'nodes.ready',
                from: 'the API',
                to: `node ${n.metadata!.name}`,
                expected: 'Ready=True',
                seen: (n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ') || 'no conditions',
              }),
          ),
      );
      const cp = o.env.facts.nodes.filter((n) => n.controlPlane).length;
      return {
        nodes: nodes.length,
        controlPlanes: cp,
        workers: nodes.length - cp,
        list: nodes.map((n) => `${n.metadata!.name} ${n.status!.nodeInfo!.kubeletVersion} ${n.status!.nodeInfo!.containerRuntimeVersion}`),
      };
    },
  },
  {
    id: 'nodes.pod-ips',
    phase: 'cluster',
    title: 'a pod on every node got its own IP (inside the pod range when the range is known)',
    layer: 'nodes',
    tags: ['cluster', 'pod-ip'],
    from: 'api',
    to: 'a probe pod per node',
    verify: (o) => {
      const { facts, probes, nodes } = o.env;
      const missing = nodes.filter((n) => !probes.some((p) => p.node === n.name));
      const seen = new Map<string, string>();
      const failures = [
        ...missing.map(
          (n) => new CheckFailure({ check: 'nodes.pod-ips', from: 'the API', to: `node ${n.name}`, expected: 'a Ready probe pod with an IP', seen: 'none' }),
        ),
        ...probes.map((p) => {
          const dup = seen.get(p.ip);
          seen.set(p.ip, p.pod);
          if (!p.ip) return new CheckFailure({ check: 'nodes.pod-ips', from: 'the API', to: label(p), expected: 'a pod IP', seen: 'none' });
          if (dup)
            return new CheckFailure({
              check: 'nodes.pod-ips',
              from: 'the API',
              to: label(p),
              expected: 'an IP of its own',
              seen: `${p.ip}, also held by ${dup}`,
            });
          if (facts.podSubnets.length && !facts.podSubnets.some((c) => inCidr(p.ip, c)))
            return new CheckFailure({
              check: 'nodes.pod-ips',
              from: 'the API',
              to: label(p),
              expected: `an IP inside the pod range ${facts.podSubnets.join(',')}`,
              seen: p.ip,
            });
          return undefined;
        }),
      ].filter(defined);
      throwAll(failures);
      return {
        podRange: facts.podSubnets.length ? `${facts.podSubnets.join(',')} (from ${facts.sources.podSubnets})` : 'not discoverable on this cluster',
        nodesProbed: `${nodes.length} of ${facts.nodes.length}`,
        pods: probes.map((p) => `${p.pod} ${p.node} ${p.ip}`),
      };
    },
  },
  {
    id: 'nodes.safety-net',
    phase: 'cluster',
    title: 'host safety net: the pod and service ranges are unreachable from the host',
    layer: 'nodes',
    tags: ['cluster', 'safety-net'],
    from: 'the host',
    to: 'pod + service ranges',
    notApplicable: unlessManaged('a host-side check'),
    gather: ({ env }) => Promise.all(safetyNetAsks([...env.facts.podSubnets, ...env.facts.serviceSubnets]).map((a) => routeGet(env, a))),
    verify: (o) => {
      const seen = o.gathered as RouteAnswer[];
      must(seen.length >= 2, {
        check: 'nodes.safety-net',
        from: 'the host',
        to: 'pod + service ranges',
        expected: 'both ranges known',
        seen: `${seen.length} ranges`,
      });
      throwAll(seen.map(verifyUnrouted).filter(defined));
      return Object.fromEntries(seen.map((s) => [s.ask.range, s.out.trim()]));
    },
  },
  {
    id: 'nodes.safety-net.negative',
    phase: 'cluster',
    title: 'verdict self-test: the safety-net verdict fails for an address the host does route (a node IP)',
    layer: 'nodes',
    tags: ['cluster', 'safety-net', 'negative-control', 'verdict-self-test'],
    controls: 'nodes.safety-net',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'broken safety net',
    notApplicable: unlessManaged('a host-side check'),
    // the host's real route to a node, asked with the safety net's expectation (no route) as if the node's address were a cluster range
    gather: ({ env }) => routeGet(env, { range: `${env.facts.nodes[0].internalIP}/32`, ip: env.facts.nodes[0].internalIP, expect: 'no route' }),
    verify: (o) => {
      const a = o.gathered as RouteAnswer;
      const ip = a.ask.ip;
      return mustFail({ from: 'the host', to: ip }, () => verifyUnrouted(a), {
        check: 'nodes.safety-net',
        from: 'the host',
        to: `${ip}/32 (${ip})`,
        expected: 'no route (unreachable)',
        seen: /^routed via \S+: /,
      });
    },
  },
];
