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

const nodeReady = (n: V1Node) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
/** An address well inside a range (its base + 7), for `ip route get`. */
const inside = (cidr: string) => addressInCidr(cidr, 7);

/** The safety-net verdict: the host must not route the address anywhere. */
export function verifyUnrouted(cidr: string, probeIP: string, routeGetOutput: string): CheckFailure | undefined {
  const dev = routeDevice(routeGetOutput);
  return dev === undefined
    ? undefined
    : new CheckFailure({
        check: 'nodes.safety-net',
        from: 'the host',
        to: `${cidr} (${probeIP})`,
        expected: 'no route (unreachable)',
        seen: `routed via ${dev}: ${routeGetOutput.trim()}`,
        command: `ip route get ${probeIP}`,
      });
}

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
    gather: async ({ env }) => {
      const ranges = [...env.facts.podSubnets, ...env.facts.serviceSubnets];
      return Promise.all(ranges.map(async (cidr) => ({ cidr, ip: inside(cidr), out: await hostRouteGet(env, inside(cidr)) })));
    },
    verify: (o) => {
      const seen = o.gathered as Array<{ cidr: string; ip: string; out: string }>;
      must(seen.length >= 2, {
        check: 'nodes.safety-net',
        from: 'the host',
        to: 'pod + service ranges',
        expected: 'both ranges known',
        seen: `${seen.length} ranges`,
      });
      throwAll(seen.map((s) => verifyUnrouted(s.cidr, s.ip, s.out)).filter(defined));
      return Object.fromEntries(seen.map((s) => [s.cidr, s.out.trim()]));
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
    gather: async ({ env }) => hostRouteGet(env, env.facts.nodes[0].internalIP),
    verify: (o) => {
      const ip = o.env.facts.nodes[0].internalIP;
      // the host's real route to a node, judged as if the node's address were a cluster range
      return mustFail({ from: 'the host', to: ip }, () => verifyUnrouted(`${ip}/32`, ip, o.gathered as string), {
        check: 'nodes.safety-net',
        from: 'the host',
        to: `${ip}/32 (${ip})`,
        expected: 'no route (unreachable)',
        seen: /^routed via \S+: /,
      });
    },
  },
];
