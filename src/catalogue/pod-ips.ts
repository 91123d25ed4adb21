// Layer "pod-ip": every pod has its own IP, reachable as podIP:80 from every node and from pods on
// the same node, other nodes and another namespace — answered by the pod asked (its /whoami server
// name), and without NAT (nginx sees the client pod's own IP).
import type { V1Pod } from '@kubernetes/client-node';
import { httpProbe } from '../probes/http.js';
import { httpOutcome, verifyNoNat, verifyPage, verifyServedBy } from '../verdicts/http.js';
import { verifyPodIPs } from '../verdicts/pod-ips.js';
import { hostPort, unusedAddress, hostCidr, isIPv6 } from '../util/cidr.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import type { ProbeOutput } from '../probes/batch.js';
import { mustFail } from './controls.js';
import type { ProbeRef, RunEnv } from '../workload/setup.js';
import { label, runFanout } from '../workload/fanout.js';
import type { Answer, CheckDef, Observations, ProbeAsk } from './types.js';
import { defined, must, nodeAccess, podTarget, unlessManaged } from './common.js';
import type { NodeAccess } from '../cluster/connection.js';
import type { ReachabilityRow } from './matrices.js';

const allSources = (env: RunEnv) => [...env.probes, env.otherProbe, ...env.nodeViews];
const name = (p: V1Pod) => p.metadata!.name!;
const ip = (p: V1Pod) => p.status!.podIP!;

/** A pod asked on podIP:80: a target pod (one per probed node) or an nginx replica of the workload. */
export interface HttpTarget {
  pod: string;
  ip: string;
  node: string;
  /** An nginx replica: its welcome page is asked too (the target pods answer /whoami only). */
  nginx: boolean;
}

/**
 * What one ask expects, as data: `page` — the nginx welcome page; `whoami` — the answer comes from
 * `server` (the pod asked) and, for the no-NAT checks, names `client` (the asking pod's own IP) as
 * the address the server saw.
 */
export interface HttpExpect {
  kind: 'page' | 'whoami';
  target: HttpTarget;
  server?: string;
  client?: string;
}
export type HttpAsk = ProbeAsk<HttpExpect>;

export const httpTargets = (env: RunEnv): HttpTarget[] => [
  ...env.targets.map((t) => ({ pod: t.pod, ip: t.ip, node: t.node, nginx: false })),
  ...env.nginx.map((p) => ({ pod: name(p), ip: ip(p), node: p.spec!.nodeName!, nginx: true })),
];
const targetText = (t: HttpTarget) => `${t.pod} ${hostPort(t.ip, 80)} on ${t.node}`;

/** The asks of `from` to `t`: /whoami (answered by, or no NAT), and for nginx replicas the page. */
function asksTo(from: ProbeRef, t: HttpTarget, nat: boolean): HttpAsk[] {
  const to = targetText(t);
  const who: HttpAsk = {
    from,
    to,
    probe: httpProbe(`who-${t.pod}`, t.ip, 80, '/whoami'),
    expect: nat ? { kind: 'whoami', target: t, client: from.ip } : { kind: 'whoami', target: t, server: t.pod },
  };
  if (nat || !t.nginx) return [who];
  return [{ from, to, probe: httpProbe(`page-${t.pod}`, t.ip, 80, '/'), expect: { kind: 'page', target: t } }, who];
}

/** One (ask, output) pair judged: the page is nginx's, /whoami names the pod asked, or the client's own IP. */
export function judgeHttp(check: string, a: Answer<HttpExpect>): CheckFailure | undefined {
  const e = a.ask.expect!;
  const from = label(a.ask.from);
  const to = a.ask.to ?? targetText(e.target);
  if (e.kind === 'page') return verifyPage(check, from, to, a.out);
  if (e.client !== undefined) return verifyNoNat(check, from, to, e.client, a.out);
  return verifyServedBy(check, from, to, e.server ?? e.target.pod, a.out);
}

/** Which pairs a check asks: sources, and which (source, target) pairs it keeps. */
interface PairPlan {
  sources: (env: RunEnv) => ProbeRef[];
  keep: (f: ProbeRef, t: HttpTarget) => boolean;
  nat: boolean;
  /** The ordered node pairs (from node → to node) it must cover, from the probed nodes. */
  cover: (nodes: string[]) => Array<[string, string]>;
  /** Why there is no pair at all (single node …). */
  none: string;
}

export const planAsks = (env: RunEnv, p: PairPlan): HttpAsk[] =>
  p.sources(env).flatMap((f) =>
    httpTargets(env)
      .filter((t) => p.keep(f, t))
      .flatMap((t) => asksTo(f, t, p.nat)),
  );

const arrow = (a: string, b: string) => `${a} -> ${b}`;
const everyOrdered = (nodes: string[]) => nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => [a, b] as [string, string]));
const eachSame = (nodes: string[]) => nodes.map((a) => [a, a] as [string, string]);
const everyPair = (nodes: string[]) => nodes.flatMap((a) => nodes.map((b) => [a, b] as [string, string]));

/**
 * Verdict over a check's (ask, output) pairs: every answer as expected, at least one pair, and
 * every ordered node pair the plan must cover asked (a node without its probe or target pod is a
 * gap, never a silent pass). Evidence: the pairs, requests and node pairs covered.
 */
export function judgePairs(check: string, answers: Answer<HttpExpect>[], nodes: string[], p: Pick<PairPlan, 'cover' | 'none'>) {
  must(answers.length > 0, { check, from: 'the run', to: 'pairs to probe', expected: 'at least one source -> target pair', seen: `none: ${p.none}` });
  const asked = new Set(answers.map((a) => arrow(a.ask.from.node, a.ask.expect!.target.node)));
  const want = p.cover(nodes).map(([a, b]) => arrow(a, b));
  const missing = want.filter((w) => !asked.has(w));
  must(!missing.length, {
    check,
    from: 'the run',
    to: 'node pairs',
    expected: `every node pair of the ${nodes.length} probed nodes asked (${want.length})`,
    seen: `${want.length - missing.length}; never asked: ${missing.join(', ')}`,
  });
  throwAll(answers.map((a) => judgeHttp(check, a)).filter(defined));
  return { requests: answers.length, nodePairs: want, pairs: [...new Set(answers.map((a) => `${label(a.ask.from)} -> ${a.ask.to}`))] };
}

function pairCheck(id: string, title: string, tags: string[], from: string, to: string, plan: PairPlan): CheckDef {
  return {
    id,
    title,
    layer: 'pod-ip',
    tags,
    from,
    to,
    probes: (env) => planAsks(env, plan),
    matrix: reachabilityRows,
    verify: (o) =>
      judgePairs(
        id,
        o.answers<HttpExpect>(),
        o.env.nodes.map((n) => n.name),
        plan,
      ),
  };
}

/** The grid: every source × every pod asked in the phase (whichever checks planned the probes). */
function reachabilityRows(o: Observations): { reachability: ReachabilityRow[] } {
  const rows: ReachabilityRow[] = [];
  for (const from of allSources(o.env)) {
    for (const t of httpTargets(o.env)) {
      let who: ProbeOutput;
      try {
        who = o.out(from, `who-${t.pod}`);
      } catch {
        continue; // not asked from this source in this selection
      }
      const answer: Answer<HttpExpect> = {
        ask: { from, probe: { id: `who-${t.pod}`, argv: [] }, expect: { kind: 'whoami', target: t, server: t.pod } },
        out: who,
      };
      rows.push({
        from: from.hostNetwork ? `node ${from.node}` : `pod ${from.namespace}/${from.pod}`,
        fromKind: from.hostNetwork ? 'node' : 'pod',
        fromNode: from.node,
        to: t.pod,
        toNode: t.node,
        toIP: t.ip,
        outcome: httpOutcome(who),
        ok: !judgeHttp('matrix', answer),
        ms: who.durationMs,
      });
    }
  }
  return { reachability: rows };
}

/** iptables for an IPv4 address, ip6tables for an IPv6 one (an IPv6-only cluster's pods). */
const tablesFor = (ip: string) => (isIPv6(ip) ? 'ip6tables' : 'iptables');

/** The masquerade fault: the source's node rewrites its pod's traffic to the target (managed kind clusters only). */
async function withMasquerade<T>(nodes: NodeAccess, from: ProbeRef, toIP: string, body: () => Promise<T>): Promise<T> {
  const rule = ['-t', 'nat', '-I', 'POSTROUTING', '1', '-s', hostCidr(from.ip), '-d', hostCidr(toIP), '-j', 'MASQUERADE'];
  await nodes.exec(from.node, [tablesFor(toIP), ...rule]);
  try {
    return await body();
  } finally {
    await nodes.exec(from.node, [tablesFor(toIP), ...rule.map((a) => (a === '-I' ? '-D' : a)).filter((a) => a !== '1')]);
  }
}

/**
 * The route fault: the source's node loses its route to one pod on another node (an `unreachable`
 * /32 route in front of the CNI's route for that pod's range: every other pair keeps its route),
 * removed in `finally`.
 */
async function withoutRoute<T>(nodes: NodeAccess, from: ProbeRef, toIP: string, body: () => Promise<T>): Promise<T> {
  const ip = (...a: string[]) => nodes.exec(from.node, ['ip', 'route', ...a]);
  await ip('add', 'unreachable', hostCidr(toIP));
  try {
    return await body();
  } finally {
    await ip('del', 'unreachable', hostCidr(toIP));
  }
}

/** A filter rule on one node (inserted first in `chain`), removed in `finally`: the fault of the same-node and from-node controls. */
async function withNodeRule<T>(nodes: NodeAccess, node: string, chain: string, match: string[], body: () => Promise<T>): Promise<T> {
  // the family of the addresses matched (an IPv6-only cluster's pods): ip6tables for IPv6
  const tables = tablesFor(match[match.indexOf('-d') + 1]?.replace(/\/\d+$/, '') ?? '');
  await nodes.exec(node, [tables, '-I', chain, '1', ...match, '-j', 'REJECT']);
  try {
    return await body();
  } finally {
    await nodes.exec(node, [tables, '-D', chain, ...match, '-j', 'REJECT']);
  }
}

/**
 * The same-node fault: two rules on the node, because a same-node packet takes one of two paths
 * depending on the CNI — routed (through the node's iptables FORWARD: a REJECT there) or bridged
 * (a Linux bridge: FORWARD sees it only where br_netfilter is on; kube-router's kube-bridge was
 * seen without it — an nftables bridge-family `forward` chain drops it there). Both match only this
 * pair's TCP packets. Returns the body's result and how many packets each rule matched: a fault no
 * packet met is no fault (the control says so instead of judging).
 */
async function withSameNodeBlock<T>(
  nodes: NodeAccess,
  node: string,
  fromIP: string,
  toIP: string,
  body: () => Promise<T>,
): Promise<{ value: T; hits: { forward: number; bridge: number } }> {
  const v6 = isIPv6(toIP);
  const match = ['-s', hostCidr(fromIP), '-d', hostCidr(toIP), '-p', 'tcp'];
  const table = `knc-same-node-${Math.random().toString(36).slice(2, 8)}`;
  const nft = (...a: string[]) => nodes.exec(node, ['nft', ...a]);
  await nodes.exec(node, [tablesFor(toIP), '-I', 'FORWARD', '1', ...match, '-j', 'REJECT']);
  try {
    await nft('add', 'table', 'bridge', table);
    await nft('add', 'chain', 'bridge', table, 'forward', '{ type filter hook forward priority -200; }');
    await nft(
      'add',
      'rule',
      'bridge',
      table,
      'forward',
      v6 ? 'ip6' : 'ip',
      'saddr',
      fromIP,
      v6 ? 'ip6' : 'ip',
      'daddr',
      toIP,
      'meta',
      'l4proto',
      'tcp',
      'counter',
      'drop',
    );
    const value = await body();
    const fwd = await nodes.exec(node, [tablesFor(toIP), '-t', 'filter', '-L', 'FORWARD', '1', '-v', '-x', '-n']);
    const br = await nft('list', 'table', 'bridge', table);
    return { value, hits: { forward: Number(/^\s*(\d+)/.exec(fwd.stdout)?.[1] ?? 0), bridge: Number(/packets (\d+)/.exec(br.stdout)?.[1] ?? 0) } };
  } finally {
    await nft('delete', 'table', 'bridge', table).catch(() => undefined);
    await nodes.exec(node, [tablesFor(toIP), '-D', 'FORWARD', ...match, '-j', 'REJECT']);
  }
}

/** A probe pod and the target pod on its own node. */
const samePair = (env: RunEnv): { from: ProbeRef; to: HttpTarget } | undefined => {
  for (const from of env.probes) {
    const to = httpTargets(env).find((t) => !t.nginx && t.node === from.node);
    if (to) return { from, to };
  }
  return undefined;
};

/** A node view and a target pod on another node (on one node: its own). */
const viewPair = (env: RunEnv): { from: ProbeRef; to: HttpTarget } | undefined => {
  const targets = httpTargets(env).filter((t) => !t.nginx);
  for (const from of env.nodeViews) {
    const to = targets.find((t) => t.node !== from.node) ?? targets.find((t) => t.node === from.node);
    if (to) return { from, to };
  }
  return undefined;
};

/** The uid the node views run as (manifests/probes/node-view-pod.yaml): the from-node fault matches only their packets. */
const NODE_VIEW_UID = '65534';

/** A probe pod and a target pod on another node (the first in node order), for the faults on one pair. */
const crossPair = (env: RunEnv): { from: ProbeRef; to: HttpTarget } | undefined => {
  for (const from of env.probes) {
    const to = httpTargets(env).find((t) => !t.nginx && t.node !== from.node);
    if (to) return { from, to };
  }
  return undefined;
};

const sameNode = (f: ProbeRef, t: HttpTarget) => f.node === t.node;
const crossNode = (f: ProbeRef, t: HttpTarget) => f.node !== t.node;
export const PLANS = {
  fromNode: { sources: (e: RunEnv) => e.nodeViews, keep: () => true, nat: false, cover: everyPair, none: 'no node views' },
  sameNode: { sources: (e: RunEnv) => e.probes, keep: sameNode, nat: false, cover: eachSame, none: 'no probe pod shares a node with a pod asked' },
  crossNode: { sources: (e: RunEnv) => e.probes, keep: crossNode, nat: false, cover: everyOrdered, none: 'the cluster has a single node' },
  crossNs: { sources: (e: RunEnv) => [e.otherProbe], keep: () => true, nat: false, cover: () => [], none: 'no probe pod in the other namespace' },
  natSame: { sources: (e: RunEnv) => e.probes, keep: sameNode, nat: true, cover: eachSame, none: 'no probe pod shares a node with a pod asked' },
  natCross: { sources: (e: RunEnv) => [...e.probes, e.otherProbe], keep: crossNode, nat: true, cover: everyOrdered, none: 'the cluster has a single node' },
} satisfies Record<string, PairPlan>;

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
      throwAll(verifyPodIPs('pod-ip.allocation', o.env.nginx, o.env.facts.podSubnets, { distinctNodes: schedulable >= 2 }));
      return { pods: o.env.nginx.map(podTarget), schedulableNodes: schedulable, podRange: o.env.facts.podSubnets.join(',') || 'unknown' };
    },
  },
  pairCheck(
    'pod-ip.from-node',
    'podIP:80 answers, from the pod asked, from every node (hostNetwork view) to a pod on every node',
    ['pod-ip', 'node', 'node-view'],
    'every node',
    'a target pod on every node, every nginx pod',
    PLANS.fromNode,
  ),
  pairCheck(
    'pod-ip.same-node',
    'podIP:80 answers, from the pod asked, from a pod on the same node (every node)',
    ['pod-ip', 'same-node'],
    'probe pods',
    'the target and nginx pods on the same node',
    PLANS.sameNode,
  ),
  pairCheck(
    'pod-ip.cross-node',
    'podIP:80 answers, from the pod asked, from a pod on another node (every ordered node pair)',
    ['pod-ip', 'cross-node'],
    'probe pods',
    'the target and nginx pods on other nodes',
    PLANS.crossNode,
  ),
  pairCheck(
    'pod-ip.cross-namespace',
    'podIP:80 answers, from the pod asked, from a pod in another namespace',
    ['pod-ip', 'cross-namespace'],
    'other namespace',
    'a target pod on every node, every nginx pod',
    PLANS.crossNs,
  ),
  pairCheck(
    'pod-ip.no-nat-same-node',
    'no NAT: the server sees the client pod IP, same node (every node)',
    ['pod-ip', 'nat', 'same-node'],
    'probe pods',
    'the target and nginx pods on the same node',
    PLANS.natSame,
  ),
  pairCheck(
    'pod-ip.no-nat-cross-node',
    'no NAT: the server sees the client pod IP, across nodes (every ordered node pair)',
    ['pod-ip', 'nat', 'cross-node'],
    'probe pods',
    'the target and nginx pods on other nodes',
    PLANS.natCross,
  ),
  {
    id: 'pod-ip.unheld.negative',
    // beside the Service changes: it looks at no nginx pod, and its address (the top of the
    // control plane's pod range) is not one a new pod gets
    phase: 'cluster',
    title: "verdict self-test: the reachability verdict fails, within the probe's timeout, for a pod-range address no pod holds (asked live)",
    layer: 'pod-ip',
    tags: ['pod-ip', 'negative-control', 'verdict-self-test'],
    controls: 'pod-ip.cross-node',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'broken pod-ip',
    notApplicable: (env) =>
      env.facts.podSubnets.length || env.facts.nodes.some((n) => n.podCIDRs.length) ? undefined : 'the pod range is not discoverable on this cluster',
    probes: (env) => {
      const t: HttpTarget = { pod: 'nobody', ip: unheld(env), node: 'no node', nginx: true };
      return [{ from: env.probes[0], to: `${t.ip}:80`, probe: httpProbe('unheld', t.ip, 80, '/', 1), expect: { kind: 'page', target: t } } satisfies HttpAsk];
    },
    verify: (o) => {
      const [a] = o.answers<HttpExpect>();
      const where = { from: label(a.ask.from), to: a.ask.to! };
      const fs = mustFail(where, () => judgeHttp('pod-ip.cross-node', a), {
        check: 'pod-ip.cross-node',
        ...where,
        expected: 'the nginx welcome page',
        seen: /^(timeout|fail) \(exit /,
      });
      must(a.out.durationMs < 3_500, {
        check: 'negative-control',
        ...where,
        expected: "the failure within 3.5 s (the probe's own timeout)",
        seen: `${a.out.durationMs}ms`,
      });
      return { failure: fs[0], ms: a.out.durationMs };
    },
  },
  {
    id: 'pod-ip.no-route.negative',
    title: 'negative control: the cross-node check fails, naming the pair, when the client node has no route to one pod on another node',
    layer: 'pod-ip',
    tags: ['pod-ip', 'cross-node', 'negative-control'],
    controls: 'pod-ip.cross-node',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a route removed for one node pair',
    notApplicable: (env) =>
      unlessManaged("changing a node's routes")(env) ?? (crossPair(env) ? undefined : 'no probe pod and target pod on different nodes (single node)'),
    // lane target-pods: its fault matches only a target pod's address (the pod-ip targets, which no control of another lane asks)
    faultLane: 'target-pods',
    fault: 'the client node routes one pod on another node nowhere (an unreachable /32 route)',
    gather: async ({ env }) => {
      const { from, to } = crossPair(env)!;
      const [ask] = asksTo(from, to, false);
      const out = await withoutRoute(nodeAccess(env), from, to.ip, () => runFanout(env.kube, from, [ask.probe]));
      return { ask, out: out.get(ask.probe.id)! } satisfies Answer<HttpExpect>;
    },
    verify: (o) => {
      const a = o.gathered as Answer<HttpExpect>;
      const where = { from: label(a.ask.from), to: a.ask.to! };
      return mustFail(where, () => judgePairs('pod-ip.cross-node', [a], [], PLANS.crossNode), {
        check: 'pod-ip.cross-node',
        ...where,
        expected: `an answer from pod ${a.ask.expect!.target.pod}`,
        seen: /^(timeout|fail) \(exit /,
      });
    },
  },
  {
    id: 'pod-ip.same-node-blocked.negative',
    title: "negative control: the same-node check fails, naming the pair, when the node rejects one pod's traffic to another pod on it",
    layer: 'pod-ip',
    tags: ['pod-ip', 'same-node', 'negative-control'],
    controls: 'pod-ip.same-node',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a node rejecting one same-node pair',
    notApplicable: (env) => unlessManaged("changing a node's iptables")(env) ?? (samePair(env) ? undefined : 'no probe pod and target pod on one node'),
    // lane target-pods: its fault matches only a target pod's address (the pod-ip targets, which no control of another lane asks)
    faultLane: 'target-pods',
    fault:
      "the node stops its probe pod's TCP packets to the target pod on the same node (iptables FORWARD REJECT for a routed path, an nftables bridge forward DROP for a bridged one; each rule's packet count read back)",
    gather: async ({ env }) => {
      const { from, to } = samePair(env)!;
      const [ask] = asksTo(from, to, false);
      const { value: out, hits } = await withSameNodeBlock(nodeAccess(env), from.node, from.ip, to.ip, () => runFanout(env.kube, from, [ask.probe]));
      return { ask, out: out.get(ask.probe.id)!, hits };
    },
    verify: (o) => {
      const { hits, ...a } = o.gathered as Answer<HttpExpect> & { hits: { forward: number; bridge: number } };
      const where = { from: label(a.ask.from), to: a.ask.to! };
      // the pair's failure is evidence of the fault only if the fault met the pair's packets
      must(hits.forward + hits.bridge > 0, {
        check: 'negative-control',
        ...where,
        expected: "the fault's rules to meet the pair's packets (iptables FORWARD or the bridge's forward hook)",
        seen: 'they matched no packet: this CNI takes the pair another way; inconclusive',
      });
      const fields = mustFail(where, () => judgePairs('pod-ip.same-node', [a], [], PLANS.sameNode), {
        check: 'pod-ip.same-node',
        ...where,
        expected: `an answer from pod ${a.ask.expect!.target.pod}`,
        seen: /^(timeout|fail) \(exit /,
      });
      return { failures: fields, faultMatched: { forwardPackets: hits.forward, bridgePackets: hits.bridge } };
    },
  },
  {
    id: 'pod-ip.node-blocked.negative',
    title: 'negative control: the from-node check fails, naming the node, when that node rejects its own traffic to one pod',
    layer: 'pod-ip',
    tags: ['node-view', 'pod-ip', 'node', 'negative-control'],
    controls: 'pod-ip.from-node',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a node rejecting its traffic to one pod',
    notApplicable: (env) => unlessManaged("changing a node's iptables")(env) ?? (viewPair(env) ? undefined : 'no node view and target pod'),
    // lane target-pods: its fault matches only a target pod's address (the pod-ip targets, which no control of another lane asks)
    faultLane: 'target-pods',
    fault: "the node rejects (iptables OUTPUT, only the node view's uid) its packets to one target pod",
    gather: async ({ env }) => {
      const { from, to } = viewPair(env)!;
      const [ask] = asksTo(from, to, false);
      const match = ['-d', hostCidr(to.ip), '-p', 'tcp', '-m', 'owner', '--uid-owner', NODE_VIEW_UID];
      const out = await withNodeRule(nodeAccess(env), from.node, 'OUTPUT', match, () => runFanout(env.kube, from, [ask.probe]));
      return { ask, out: out.get(ask.probe.id)! } satisfies Answer<HttpExpect>;
    },
    verify: (o) => {
      const a = o.gathered as Answer<HttpExpect>;
      const where = { from: label(a.ask.from), to: a.ask.to! };
      return mustFail(where, () => judgePairs('pod-ip.from-node', [a], [], PLANS.fromNode), {
        check: 'pod-ip.from-node',
        ...where,
        expected: `an answer from pod ${a.ask.expect!.target.pod}`,
        seen: /^(timeout|fail) \(exit /,
      });
    },
  },
  {
    id: 'pod-ip.wrong-pod.negative',
    title: 'verdict self-test: the reachability verdict fails when the pod that answers is not the pod asked',
    layer: 'pod-ip',
    tags: ['pod-ip', 'negative-control', 'verdict-self-test'],
    controls: 'pod-ip.same-node',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'another pod answering',
    // the probe on nginx pod a's own node asks pod a (the same-node path this control stands for)
    probes: (env) => {
      const a = httpTargets(env).find((t) => t.nginx)!;
      const from = env.probes.find((p) => p.node === a.node) ?? env.probes[0];
      return asksTo(from, a, false).filter((x) => x.expect!.kind === 'whoami');
    },
    verify: (o) => {
      const [a] = o.answers<HttpExpect>();
      const b =
        httpTargets(o.env).find((t) => t.nginx && t.pod !== a.ask.expect!.target.pod) ??
        o.env.targets.map((t) => ({ pod: t.pod, ip: t.ip, node: t.node, nginx: false }))[0];
      // pod a's real answer, judged as if pod b had been asked
      const wrong: Answer<HttpExpect> = { ask: { ...a.ask, to: targetText(b), expect: { kind: 'whoami', target: b, server: b.pod } }, out: a.out };
      const where = { from: label(a.ask.from), to: targetText(b) };
      return mustFail(where, () => judgeHttp('pod-ip.same-node', wrong), {
        check: 'pod-ip.same-node',
        ...where,
        expected: `an answer from pod ${b.pod}`,
        seen: `server=${a.ask.expect!.target.pod}`,
      });
    },
  },
  {
    id: 'pod-ip.outside-range.negative',
    title: 'verdict self-test: the pod-IP allocation verdict fails for an address outside the pod range',
    layer: 'pod-ip',
    tags: ['pod-ip', 'negative-control', 'verdict-self-test'],
    controls: 'pod-ip.allocation',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'broken pod-ip',
    notApplicable: (env) => (env.facts.podSubnets.length ? undefined : 'the pod range is not discoverable on this cluster'),
    verify: (o) => {
      const fake = structuredClone(o.env.nginx[0]);
      const nodeIP = o.env.facts.nodes[0].internalIP;
      fake.status!.podIP = nodeIP;
      return mustFail(
        { from: 'the API', to: 'a node IP as pod IP' },
        () => verifyPodIPs('pod-ip.allocation', [fake, ...o.env.nginx.slice(1)], o.env.facts.podSubnets, { distinctNodes: false }),
        {
          check: 'pod-ip.allocation',
          from: 'the API',
          to: name(fake),
          expected: `an IP inside the pod range ${o.env.facts.podSubnets.join(',')}`,
          seen: `${nodeIP} (outside the pod range)`,
        },
      );
    },
  },
  {
    id: 'pod-ip.masquerade.negative',
    title: 'negative control: the no-NAT check fails when the client node masquerades its pod traffic',
    layer: 'pod-ip',
    tags: ['pod-ip', 'nat', 'negative-control'],
    controls: 'pod-ip.no-nat-cross-node',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a masquerading node',
    notApplicable: (env) =>
      unlessManaged("changing a node's iptables")(env) ?? (crossPair(env) ? undefined : 'no probe pod and target pod on different nodes (single node)'),
    // lane target-pods: its fault matches only a target pod's address (the pod-ip targets, which no control of another lane asks)
    faultLane: 'target-pods',
    fault: "the client node masquerades the probe pod's traffic to one pod on another node",
    gather: async ({ env }) => {
      const { from, to } = crossPair(env)!;
      const [ask] = asksTo(from, to, true);
      const out = await withMasquerade(nodeAccess(env), from, to.ip, () => runFanout(env.kube, from, [ask.probe]));
      return { ask, out: out.get(ask.probe.id)! } satisfies Answer<HttpExpect>;
    },
    verify: (o) => {
      const a = o.gathered as Answer<HttpExpect>;
      const where = { from: label(a.ask.from), to: a.ask.to! };
      // the server must have answered (the fault is the address it saw, not reachability)
      return mustFail(where, () => judgeHttp('pod-ip.no-nat-cross-node', a), {
        check: 'pod-ip.no-nat-cross-node',
        ...where,
        expected: `the server to see client address ${a.ask.from.ip}`,
        seen: new RegExp(`^client=(?!${a.ask.from.ip.replace(/\./g, '\\.')} )\\S+ server=${a.ask.expect!.target.pod}$`),
      });
    },
  },
];

function unheld(env: RunEnv): string {
  const node = env.facts.nodes.find((n) => n.name === env.probes[0].node);
  const range = node?.podCIDRs[0] ?? env.facts.podSubnets[0];
  return unusedAddress(range, env.podIPs);
}
