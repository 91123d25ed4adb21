// Layer "pod-ip": every pod has its own IP, reachable as podIP:80 from every node and from pods on
// the same node, other nodes and another namespace — answered by the pod asked (its /whoami server
// name), and without NAT (nginx sees the client pod's own IP).
import type { V1Pod } from '@kubernetes/client-node';
import { httpProbe } from '../probes/http.js';
import { httpOutcome, verifyNoNat, verifyPage, verifyServedBy } from '../verdicts/http.js';
import { verifyPodIPs } from '../verdicts/pod-ips.js';
import { unusedAddress } from '../util/cidr.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import type { ProbeRef, RunEnv } from '../workload/setup.js';
import { label, runFanout } from '../workload/fanout.js';
import type { CheckDef, Observations, ProbeAsk } from './types.js';
import { eachPair, must, nodeAccess, pairLabel, podTarget, unlessManaged } from './common.js';
import type { NodeAccess } from '../cluster/connection.js';
import type { ReachabilityRow } from './matrices.js';

const allSources = (env: RunEnv) => [...env.probes, env.otherProbe, ...env.nodeViews];
const name = (p: V1Pod) => p.metadata!.name!;
const ip = (p: V1Pod) => p.status!.podIP!;

/** page + whoami from every source to every nginx pod (the same probes serve every check below). */
function reachProbes(env: RunEnv): ProbeAsk[] {
  return allSources(env).flatMap((from) => env.nginx.flatMap((p) => [
    { from, probe: httpProbe(`page-${name(p)}`, ip(p), 80, '/') },
    { from, probe: httpProbe(`who-${name(p)}`, ip(p), 80, '/whoami') },
  ]));
}

/** The page is nginx's, and /whoami says the pod asked is the pod that answered. */
const reached = (check: string) => (o: Observations) => (from: ProbeRef, to: V1Pod) =>
  verifyPage(check, label(from), podTarget(to), o.out(from, `page-${name(to)}`)) ??
  verifyServedBy(check, label(from), podTarget(to), name(to), o.out(from, `who-${name(to)}`));

const noNat = (check: string) => (o: Observations) => (from: ProbeRef, to: V1Pod) =>
  verifyNoNat(check, label(from), podTarget(to), from.ip, o.out(from, `who-${name(to)}`));

const sameNode = (from: ProbeRef, to: V1Pod) => from.node === to.spec!.nodeName;

function pairs(sources: ProbeRef[], env: RunEnv, keep: (f: ProbeRef, t: V1Pod) => boolean): Array<[ProbeRef, V1Pod]> {
  return sources.flatMap((f) => env.nginx.filter((t) => keep(f, t)).map((t) => [f, t] as [ProbeRef, V1Pod]));
}

function pairCheck(id: string, title: string, tags: string[], from: string, to: string, sources: (env: RunEnv) => ProbeRef[], keep: (f: ProbeRef, t: V1Pod) => boolean, verdict: (check: string) => (o: Observations) => (f: ProbeRef, t: V1Pod) => CheckFailure | undefined, none: string): CheckDef {
  return {
    id,
    title,
    layer: 'pod-ip',
    tags,
    from,
    to,
    probes: reachProbes,
    matrix: reachabilityRows,
    verify: (o) => eachPair(id, pairs(sources(o.env), o.env, keep), verdict(id)(o), (f, t) => pairLabel(f, podTarget(t)), none),
  };
}

function reachabilityRows(o: Observations): { reachability: ReachabilityRow[] } {
  return {
    reachability: allSources(o.env).flatMap((from) => o.env.nginx.map((to): ReachabilityRow => {
      const page = o.out(from, `page-${name(to)}`);
      return {
        from: from.hostNetwork ? `node ${from.node}` : `pod ${from.namespace}/${from.pod}`,
        fromKind: from.hostNetwork ? 'node' : 'pod',
        fromNode: from.node,
        to: name(to),
        toNode: to.spec!.nodeName!,
        toIP: ip(to),
        outcome: httpOutcome(page),
        ok: !reached('matrix')(o)(from, to),
        ms: page.durationMs,
      };
    })),
  };
}

/** The masquerade fault: the source's node rewrites its pod's traffic to the target (managed kind clusters only). */
async function withMasquerade<T>(nodes: NodeAccess, from: ProbeRef, toIP: string, body: () => Promise<T>): Promise<T> {
  const rule = ['-t', 'nat', '-I', 'POSTROUTING', '1', '-s', `${from.ip}/32`, '-d', `${toIP}/32`, '-j', 'MASQUERADE'];
  await nodes.exec(from.node, ['iptables', ...rule]);
  try {
    return await body();
  } finally {
    await nodes.exec(from.node, ['iptables', ...rule.map((a) => (a === '-I' ? '-D' : a)).filter((a) => a !== '1')]);
  }
}

const crossPair = (env: RunEnv) => {
  const from = env.probes.find((p) => env.nginx.some((n) => n.spec!.nodeName !== p.node));
  const to = from && env.nginx.find((n) => n.spec!.nodeName !== from.node);
  return from && to ? { from, to } : undefined;
};

export const POD_IP_CHECKS: CheckDef[] = [
  {
    id: 'pod-ip.allocation',
    title: 'nginx pods are Ready with distinct IPs inside the pod range (on distinct nodes when there are several schedulable nodes)',
    layer: 'pod-ip',
    tags: ['pod-ip'],
    from: 'api',
    to: 'run=my-nginx',
    verify: (o) => {
      const schedulable = o.env.facts.nodes.filter((n) => !n.tainted).length;
      throwAll(verifyPodIPs('pod-ip-allocation', o.env.nginx, o.env.facts.podSubnets, { distinctNodes: schedulable >= 2 }));
      return { pods: o.env.nginx.map(podTarget), schedulableNodes: schedulable, podRange: o.env.facts.podSubnets.join(',') || 'unknown' };
    },
  },
  pairCheck('pod-ip.from-node', 'podIP:80 answers, from the pod asked, from every node (hostNetwork view)', ['pod-ip', 'node'], 'every node', 'every nginx pod', (e) => e.nodeViews, () => true, reached, 'no node views'),
  pairCheck('pod-ip.same-node', 'podIP:80 answers, from the pod asked, from a pod on the same node', ['pod-ip', 'same-node'], 'probe pods', 'nginx on the same node', (e) => e.probes, sameNode, reached, 'no probe pod shares a node with an nginx pod'),
  pairCheck('pod-ip.cross-node', 'podIP:80 answers, from the pod asked, from a pod on another node', ['pod-ip', 'cross-node'], 'probe pods', 'nginx on other nodes', (e) => e.probes, (f, t) => !sameNode(f, t), reached, 'the cluster has a single node'),
  pairCheck('pod-ip.cross-namespace', 'podIP:80 answers, from the pod asked, from a pod in another namespace', ['pod-ip', 'cross-namespace'], 'other namespace', 'every nginx pod', (e) => [e.otherProbe], () => true, reached, 'no probe pod in the other namespace'),
  pairCheck('pod-ip.no-nat-same-node', 'no NAT: nginx sees the client pod IP, same node', ['pod-ip', 'nat', 'same-node'], 'probe pods', 'nginx on the same node', (e) => e.probes, sameNode, noNat, 'no probe pod shares a node with an nginx pod'),
  pairCheck('pod-ip.no-nat-cross-node', 'no NAT: nginx sees the client pod IP, across nodes', ['pod-ip', 'nat', 'cross-node'], 'probe pods', 'nginx on other nodes', (e) => [...e.probes, e.otherProbe], (f, t) => !sameNode(f, t), noNat, 'the cluster has a single node'),
  {
    id: 'pod-ip.unheld.negative',
    // beside the Service changes: it looks at no nginx pod, and its address (the top of the
    // control plane's pod range) is not one a new pod gets
    phase: 'cluster',
    title: 'negative control: the reachability check fails, within its timeout, for a pod-range address no pod holds',
    layer: 'pod-ip',
    tags: ['pod-ip', 'negative-control'],
    controls: 'pod-ip.cross-node',
    from: 'live cluster',
    to: 'broken pod-ip',
    notApplicable: (env) => (env.facts.podSubnets.length || env.facts.nodes.some((n) => n.podCIDRs.length) ? undefined : 'the pod range is not discoverable on this cluster'),
    probes: (env) => [{ from: env.probes[0], probe: httpProbe('unheld', unheld(env), 80, '/', 1) }],
    verify: (o) => {
      const from = o.env.probes[0];
      const addr = unheld(o.env);
      const out = o.out(from, 'unheld');
      const f = verifyPage('pod-ip-cross-node', label(from), `${addr}:80`, out);
      must(!!f && new RegExp(`\\[pod-ip-cross-node\\] from pod .* to ${addr.replace(/\./g, '\\.')}:80: expected the nginx welcome page, saw (timeout|fail)`).test(f.message) && out.durationMs < 3_500,
        { check: 'negative-control', from: label(from), to: addr, expected: 'the verdict to fail (timeout or refused) within 3.5 s', seen: f ? `${f.message} after ${out.durationMs}ms` : `it passed: ${out.output.slice(0, 80)}` });
      return f!.message;
    },
  },
  {
    id: 'pod-ip.wrong-pod.negative',
    title: 'negative control: the reachability check fails when the pod that answers is not the pod asked',
    layer: 'pod-ip',
    tags: ['pod-ip', 'negative-control'],
    controls: 'pod-ip.same-node',
    from: 'live cluster',
    to: 'another pod answering',
    probes: reachProbes,
    verify: (o) => {
      const [a, b] = o.env.nginx;
      // the probe on pod a's own node: the same-node path this control stands for (a cross-node
      // fault must not turn the control into a second reachability check)
      const from = o.env.probes.find((p) => p.node === a.spec!.nodeName) ?? o.env.probes[0];
      // pod a's real answer, judged as if pod b had been asked
      const f = verifyServedBy('pod-ip-same-node', label(from), podTarget(b), name(b), o.out(from, `who-${name(a)}`));
      must(!!f && f.message.includes(`expected an answer from pod ${name(b)}, saw server=${name(a)}`), { check: 'negative-control', from: label(from), to: podTarget(b), expected: 'the verdict to name the pod that answered', seen: f?.message ?? 'it passed' });
      return f!.message;
    },
  },
  {
    id: 'pod-ip.outside-range.negative',
    title: 'negative control: the pod-IP allocation check fails for an address outside the pod range',
    layer: 'pod-ip',
    tags: ['pod-ip', 'negative-control'],
    controls: 'pod-ip.allocation',
    from: 'live cluster',
    to: 'broken pod-ip',
    notApplicable: (env) => (env.facts.podSubnets.length ? undefined : 'the pod range is not discoverable on this cluster'),
    verify: (o) => {
      const fake = structuredClone(o.env.nginx[0]);
      fake.status!.podIP = o.env.facts.nodes[0].internalIP;
      const text = verifyPodIPs('pod-ip-allocation', [fake, ...o.env.nginx.slice(1)], o.env.facts.podSubnets, { distinctNodes: false }).map((f) => f.message).join('\n');
      must(/outside the pod range/.test(text), { check: 'negative-control', from: 'the API', to: 'a node IP as pod IP', expected: 'the verdict to say "outside the pod range"', seen: text || 'it passed' });
      return text;
    },
  },
  {
    id: 'pod-ip.masquerade.negative',
    title: 'negative control: the no-NAT check fails when the client node masquerades its pod traffic',
    layer: 'pod-ip',
    tags: ['pod-ip', 'nat', 'negative-control'],
    controls: 'pod-ip.no-nat-cross-node',
    from: 'live cluster',
    to: 'a masquerading node',
    notApplicable: (env) => unlessManaged('changing a node\'s iptables')(env) ?? (crossPair(env) ? undefined : 'no probe pod and nginx pod on different nodes (single node)'),
    fault: 'the client node masquerades the probe pod\'s traffic to one nginx pod',
    gather: async ({ env }) => {
      const { from, to } = crossPair(env)!;
      const f = await withMasquerade(nodeAccess(env), from, ip(to), () => runFanout(env.kube, from, [httpProbe('who', ip(to), 80, '/whoami')]));
      return { from, to, out: f.get('who')! };
    },
    verify: (o) => {
      const { from, to, out } = o.gathered as { from: ProbeRef; to: V1Pod; out: ReturnType<Observations['out']> };
      const f = verifyNoNat('no-nat-cross-node', label(from), podTarget(to), from.ip, out);
      must(!!f && new RegExp(`expected the server to see client address ${from.ip.replace(/\./g, '\\.')}, saw client=\\S+`).test(f.message), { check: 'negative-control', from: label(from), to: podTarget(to), expected: 'the no-NAT verdict to fail with the rewritten client address', seen: f?.message ?? 'it passed' });
      return f!.message;
    },
  },
];

function unheld(env: RunEnv): string {
  const node = env.facts.nodes.find((n) => n.name === env.probes[0].node);
  const range = node?.podCIDRs[0] ?? env.facts.podSubnets[0];
  return unusedAddress(range, env.podIPs);
}
