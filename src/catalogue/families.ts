// IP families (#19): what the cluster has per family, and the pod-IP checks asked in each family.
//
// The layers' own checks ask each pod's primary address (status.podIP: the cluster's primary
// family). On a dual-stack cluster the other family is asked by the `<check>.ipv4` / `<check>.ipv6`
// variants below: the same plans and verdicts (pod-ips.ts), the same fan-out execs, every address
// replaced by the pod's address of that family (status.podIPs), probe ids suffixed with the family.
// A variant is not applicable, with the reason, when the cluster lacks the family or when the family
// is the primary one (the base check asks it). Helpers for other layers: familyEnv, familyApplies.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { addressOfFamily, inCidr, ipFamily, IP_FAMILIES, type IPFamily } from '../util/cidr.js';
import { clusterFamilies, familyMissing, nodeAddresses, primaryFamily, rangesOf, type ClusterFacts } from '../cluster/facts.js';
import { podAddresses, type ProbeRef, type RunEnv } from '../workload/setup.js';
import { label, runFanout } from '../workload/fanout.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { judgeHttp, judgePairs, planAsks, PLANS, type HttpAsk, type HttpExpect } from './pod-ips.js';
import { mustFail } from './controls.js';
import { must, nodeAccess, unlessManaged } from './common.js';
import type { Answer, CheckDef, Observations } from './types.js';

export const familyTag = (f: IPFamily) => f.toLowerCase() as 'ipv4' | 'ipv6';

/**
 * Why a check asking `family` does not apply: the cluster lacks it, or (`primaryCoveredBy`) it is the
 * cluster's primary family, which the base check already asks.
 */
export function familyApplies(env: Pick<RunEnv, 'facts'>, family: IPFamily, primaryCoveredBy?: string): string | undefined {
  const missing = familyMissing(env.facts, family);
  if (missing) return missing;
  if (primaryCoveredBy && primaryFamily(env.facts) === family) return `${family} is this cluster's primary family: ${primaryCoveredBy} asks it`;
  return undefined;
}

/** A probe pod as seen in one family: `ip` is its address of that family ('' when it has none). */
export const inFamily = (r: ProbeRef, family: IPFamily): ProbeRef => ({ ...r, ip: addressOfFamily(r.ips ?? [r.ip], family) ?? '' });

/** An nginx pod whose status.podIP is its address of `family` ('' when it has none). */
function podInFamily(p: V1Pod, family: IPFamily): V1Pod {
  return { ...p, status: { ...p.status, podIP: addressOfFamily(podAddresses(p), family) ?? '' } };
}

/** The run as seen in one family: every pod's `ip` (and nginx pods' podIP) is its address of that family. */
export function familyEnv(env: RunEnv, family: IPFamily): RunEnv {
  const f = (r: ProbeRef) => inFamily(r, family);
  return {
    ...env,
    probes: env.probes.map(f),
    otherProbe: f(env.otherProbe),
    nodeViews: env.nodeViews.map(f),
    targets: env.targets.map(f),
    nginx: env.nginx.map((p) => podInFamily(p, family)),
  };
}

/** Pods of the run that have no address of `family` (each one a failure of a check asking that family). */
export function withoutFamily(env: RunEnv, family: IPFamily): CheckFailure[] {
  const fe = familyEnv(env, family);
  const refs = [...fe.probes, fe.otherProbe, ...fe.targets].filter((r) => !r.ip);
  const pods = fe.nginx.filter((p) => !p.status?.podIP);
  return [
    ...refs.map(
      (r) =>
        new CheckFailure({
          check: `ip-family.${familyTag(family)}`,
          from: 'the API',
          to: label(r),
          expected: `an ${family} address (status.podIPs)`,
          seen: (r.ips ?? [r.ip]).join(',') || 'none',
        }),
    ),
    ...pods.map(
      (p) =>
        new CheckFailure({
          check: `ip-family.${familyTag(family)}`,
          from: 'the API',
          to: `pod ${p.metadata!.namespace}/${p.metadata!.name}`,
          expected: `an ${family} address (status.podIPs)`,
          seen: podAddresses(env.nginx.find((n) => n.metadata!.name === p.metadata!.name)!).join(',') || 'none',
        }),
    ),
  ];
}

/** Asks of a pod-ip plan in one family: ids and targets say the family (`who-target-0-x-ipv6`, "… (IPv6)"). */
export function familyAsks(env: RunEnv, family: IPFamily, plan: (typeof PLANS)[keyof typeof PLANS]): HttpAsk[] {
  const fe = familyEnv(env, family);
  const ok = (r: ProbeRef) => !!r.ip;
  const planned = planAsks(fe, { ...plan, sources: (e: RunEnv) => plan.sources(e).filter(ok) });
  return planned
    .filter((a) => !!a.expect!.target.ip)
    .map((a) => ({ ...a, to: `${a.to} (${family})`, probe: { ...a.probe, id: `${a.probe.id}-${familyTag(family)}` } }));
}

const POD_IP_VARIANTS: Array<[base: string, plan: keyof typeof PLANS, title: string, tags: string[], from: string, to: string]> = [
  [
    'pod-ip.from-node',
    'fromNode',
    'podIP:80 answers, from the pod asked, from every node (hostNetwork view) to a pod on every node',
    ['pod-ip', 'node'],
    'every node',
    'a target pod on every node, every nginx pod',
  ],
  [
    'pod-ip.same-node',
    'sameNode',
    'podIP:80 answers, from the pod asked, from a pod on the same node (every node)',
    ['pod-ip', 'same-node'],
    'probe pods',
    'the target and nginx pods on the same node',
  ],
  [
    'pod-ip.cross-node',
    'crossNode',
    'podIP:80 answers, from the pod asked, from a pod on another node (every ordered node pair)',
    ['pod-ip', 'cross-node'],
    'probe pods',
    'the target and nginx pods on other nodes',
  ],
  [
    'pod-ip.cross-namespace',
    'crossNs',
    'podIP:80 answers, from the pod asked, from a pod in another namespace',
    ['pod-ip', 'cross-namespace'],
    'other namespace',
    'a target pod on every node, every nginx pod',
  ],
  [
    'pod-ip.no-nat-same-node',
    'natSame',
    'no NAT: the server sees the client pod IP, same node (every node)',
    ['pod-ip', 'nat', 'same-node'],
    'probe pods',
    'the target and nginx pods on the same node',
  ],
  [
    'pod-ip.no-nat-cross-node',
    'natCross',
    'no NAT: the server sees the client pod IP, across nodes (every ordered node pair)',
    ['pod-ip', 'nat', 'cross-node'],
    'probe pods',
    'the target and nginx pods on other nodes',
  ],
];

/** `pod-ip.cross-node` asked in one family: `pod-ip.cross-node.ipv6`. */
function podIpVariant(family: IPFamily, [base, plan, title, tags, from, to]: (typeof POD_IP_VARIANTS)[number]): CheckDef {
  const id = `${base}.${familyTag(family)}`;
  return {
    id,
    title: `${family}: ${title}`,
    layer: 'pod-ip',
    tags: [...tags, familyTag(family), 'ip-family'],
    from,
    to: `${to} (${family} addresses)`,
    notApplicable: (env) => familyApplies(env, family, base),
    probes: (env) => familyAsks(env, family, PLANS[plan]),
    verify: (o) => {
      // a pod without an address of the family fails here, by name (not as a pair never asked)
      throwAll(withoutFamily(o.env, family).map((f) => new CheckFailure({ ...f.ctx, check: id })));
      return {
        family,
        ...judgePairs(
          id,
          o.answers<HttpExpect>(),
          o.env.nodes.map((n) => n.name),
          PLANS[plan],
        ),
      };
    },
  };
}

// --- what the cluster has per family: nodes, pods, Services (reported; a pod or node short of a family fails) ---

export interface ServiceFamilies {
  service: string;
  ipFamilies: string[];
  ipFamilyPolicy: string;
  clusterIPs: string[];
}

export interface FamilyReport {
  families: IPFamily[];
  primary?: IPFamily;
  ranges: Record<string, { pod: string[]; service: string[] }>;
  nodes: Array<{ node: string; addresses: string[] }>;
  pods: Array<{ pod: string; node: string; podIPs: string[] }>;
  services: ServiceFamilies[];
}

export const serviceFamilies = (s: V1Service): ServiceFamilies => ({
  service: `${s.metadata!.namespace}/${s.metadata!.name}`,
  ipFamilies: s.spec?.ipFamilies ?? [],
  ipFamilyPolicy: s.spec?.ipFamilyPolicy ?? '',
  clusterIPs: s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : []),
});

export function familyReport(facts: ClusterFacts, pods: V1Pod[], services: V1Service[]): FamilyReport {
  const families = clusterFamilies(facts);
  return {
    families,
    primary: primaryFamily(facts),
    ranges: Object.fromEntries(families.map((f) => [f, rangesOf(facts, f)])),
    nodes: facts.nodes.map((n) => ({ node: n.name, addresses: nodeAddresses(n) })),
    pods: pods.map((p) => ({ pod: `${p.metadata!.namespace}/${p.metadata!.name}`, node: p.spec?.nodeName ?? '', podIPs: podAddresses(p) })),
    services: services.map(serviceFamilies),
  };
}

/**
 * The verdict on a family report: every node has an address of each family, every pod one address
 * per family, each inside that family's pod range (when known), the families in the primary's
 * order; every ClusterIP Service's ClusterIPs match its ipFamilies, each inside its family's
 * service range.
 */
export function verifyFamilies(check: string, r: FamilyReport): CheckFailure[] {
  const fail = (to: string, expected: string, seen: string) => new CheckFailure({ check, from: 'the API', to, expected, seen });
  const out: CheckFailure[] = [];
  const fam = (ip: string) => {
    try {
      return ipFamily(ip);
    } catch {
      return undefined;
    }
  };
  if (!r.families.length) out.push(fail('the cluster', 'at least one IP family (pod or service ranges, node addresses)', 'none found'));
  for (const n of r.nodes) {
    const have = n.addresses.map(fam);
    for (const f of r.families)
      if (!have.includes(f)) out.push(fail(`node ${n.node}`, `an ${f} InternalIP (the cluster is ${r.families.join('+')})`, n.addresses.join(',') || 'none'));
  }
  for (const p of r.pods) {
    const have = p.podIPs.map(fam);
    const want = r.families.join(',');
    if (have.join(',') !== want)
      out.push(fail(`pod ${p.pod} on ${p.node}`, `status.podIPs of the families ${want}, in that order`, p.podIPs.join(',') || 'none'));
    for (const ip of p.podIPs) {
      const f = fam(ip);
      const ranges = f ? (r.ranges[f]?.pod ?? []) : [];
      if (ranges.length && !ranges.some((c) => inCidr(ip, c)))
        out.push(fail(`pod ${p.pod} on ${p.node}`, `its ${f} address inside the pod range ${ranges.join(',')}`, ip));
    }
  }
  for (const s of r.services) {
    if (!s.clusterIPs.length || s.clusterIPs[0] === 'None') continue; // headless: no ClusterIP to place
    const seen = s.clusterIPs.map((ip) => fam(ip) ?? '?').join(',');
    if (seen !== s.ipFamilies.join(','))
      out.push(fail(`service ${s.service}`, `ClusterIPs of its ipFamilies ${s.ipFamilies.join(',')}`, `${s.clusterIPs.join(',')} (${seen})`));
    for (const ip of s.clusterIPs) {
      const f = fam(ip);
      const ranges = f ? (r.ranges[f]?.service ?? []) : [];
      if (ranges.length && !ranges.some((c) => inCidr(ip, c)))
        out.push(fail(`service ${s.service}`, `its ${f} ClusterIP inside the service range ${ranges.join(',')}`, ip));
    }
  }
  return out;
}

const FAMILY_CHECK = 'pod-ip.ip-families';

export const FAMILY_CHECKS: CheckDef[] = [
  {
    id: FAMILY_CHECK,
    title:
      "IP families: every node and pod has an address of each family the cluster has, inside that family's range; Services' ipFamilies, policy and ClusterIPs agree (reported per family)",
    layer: 'pod-ip',
    tags: ['pod-ip', 'ip-family'],
    from: 'api',
    to: "nodes, the run's pods, its Services and the cluster DNS Service",
    gather: async ({ env }) => {
      const [svcs, dns] = await Promise.all([
        env.kube.core.listNamespacedService({ namespace: env.workloadNs }),
        env.kube.core.readNamespacedService(env.facts.dnsService ?? { name: 'kube-dns', namespace: 'kube-system' }),
      ]);
      return [...svcs.items, dns];
    },
    verify: (o) => {
      const r = report(o);
      throwAll(verifyFamilies(FAMILY_CHECK, r));
      return r;
    },
    facts: (o) => ({ ipFamilies: report(o) }),
  },
  {
    id: `${FAMILY_CHECK}.negative`,
    title: "verdict self-test: the IP-families verdict fails, naming the family, for a pod short of one family's address",
    layer: 'pod-ip',
    tags: ['pod-ip', 'ip-family', 'negative-control', 'verdict-self-test'],
    controls: FAMILY_CHECK,
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a pod without one family',
    verify: (o) => {
      const r = report(o);
      const pod = r.pods[0];
      // single-stack: judged as if the cluster also had the other family; dual-stack: the pod's last address dropped
      const other = IP_FAMILIES.find((f) => !r.families.includes(f));
      const families = other ? [...r.families, other] : r.families;
      const lost = families[families.length - 1];
      const broken: FamilyReport = { ...r, families, pods: [{ ...pod, podIPs: other ? pod.podIPs : pod.podIPs.slice(0, -1) }], nodes: [], services: [] };
      const where = { from: 'the API', to: `pod ${pod.pod} on ${pod.node}` };
      const fs = mustFail(where, () => throwAll(verifyFamilies(FAMILY_CHECK, broken)), {
        check: FAMILY_CHECK,
        ...where,
        expected: `status.podIPs of the families ${families.join(',')}, in that order`,
        seen: (other ? pod.podIPs : pod.podIPs.slice(0, -1)).join(',') || 'none',
      });
      return { familyMissing: lost, failure: fs[0] };
    },
  },
  ...IP_FAMILIES.flatMap((f) => POD_IP_VARIANTS.map((v) => podIpVariant(f, v))),
  {
    id: 'pod-ip.cross-node.ipv6.negative',
    title:
      "negative control: with IPv6 dropped on one node pair (the client node routes the target's IPv6 address nowhere), the IPv6 cross-node check fails naming IPv6 while IPv4 on the same pair still passes",
    layer: 'pod-ip',
    tags: ['pod-ip', 'cross-node', 'ipv6', 'ip-family', 'negative-control'],
    controls: 'pod-ip.cross-node.ipv6',
    controlKind: 'live',
    from: 'live cluster',
    to: 'an IPv6-only route fault on one node pair',
    notApplicable: (env) =>
      unlessManaged("changing a node's routes")(env) ??
      (clusterFamilies(env.facts).length === 2 ? undefined : 'needs a dual-stack cluster (IPv4 must keep working on the pair)') ??
      (v6Pair(env) ? undefined : 'no probe pod and target pod with IPv6 addresses on different nodes'),
    // lane target-pods: its fault matches only a target pod's address (the pod-ip targets, which no control of another lane asks)
    faultLane: 'target-pods',
    fault: "the client node routes one pod's IPv6 address on another node nowhere (an unreachable /128 route); IPv4 untouched",
    gather: async ({ env }) => {
      const { v4, v6 } = v6Pair(env)!;
      const run = (asks: HttpAsk[]) =>
        runFanout(
          env.kube,
          asks[0].from,
          asks.map((a) => a.probe),
        );
      const dev = nodeAccess(env);
      const route = (op: 'add' | 'del') => dev.exec(v6.from.node, ['ip', '-6', 'route', op, 'unreachable', `${v6.expect!.target.ip}/128`]);
      await route('add');
      try {
        const out = await run([v4, v6]);
        return [v4, v6].map((ask) => ({ ask, out: out.get(ask.probe.id)! })) satisfies Answer<HttpExpect>[];
      } finally {
        await route('del');
      }
    },
    verify: (o) => {
      const [a4, a6] = o.gathered as Answer<HttpExpect>[];
      const base = 'pod-ip.cross-node';
      const f4 = judgeHttp(base, a4);
      must(!f4, {
        check: 'negative-control',
        from: label(a4.ask.from),
        to: a4.ask.to!,
        expected: 'IPv4 on the same pair still answered by the pod asked',
        seen: f4?.message ?? '',
      });
      const where = { from: label(a6.ask.from), to: a6.ask.to! };
      const [failure] = mustFail(where, () => judgeHttp('pod-ip.cross-node.ipv6', a6), {
        check: 'pod-ip.cross-node.ipv6',
        ...where,
        expected: `an answer from pod ${a6.ask.expect!.target.pod}`,
        seen: /^(timeout|fail) \(exit /,
      });
      return { ipv6: failure, ipv4: `${label(a4.ask.from)} -> ${a4.ask.to}: ${a4.out.output.trim()}` };
    },
  },
];

function report(o: Observations): FamilyReport {
  const e = o.env;
  const pods = [...e.nginx, ...[...e.probes, e.otherProbe, ...e.targets].map(refPod)];
  return familyReport(e.facts, pods, (o.gathered as V1Service[] | undefined) ?? []);
}

/** A probe pod as a V1Pod for the report (only what it reads: name, node, addresses). */
const refPod = (r: ProbeRef): V1Pod => ({
  metadata: { name: r.pod, namespace: r.namespace },
  spec: { nodeName: r.node, containers: [] },
  status: { podIP: r.ip, podIPs: (r.ips ?? [r.ip]).map((ip) => ({ ip })) },
});

/** One probe pod -> target pod on another node, both dual-stack: its IPv4 ask and its IPv6 ask. */
function v6Pair(env: RunEnv): { v4: HttpAsk; v6: HttpAsk } | undefined {
  const v6 = familyAsks(env, 'IPv6', PLANS.crossNode).find((a) => !a.expect!.target.nginx && a.expect!.kind === 'whoami');
  if (!v6) return undefined;
  const v4 = familyAsks(env, 'IPv4', PLANS.crossNode).find(
    (a) => a.from.pod === v6.from.pod && a.expect!.target.pod === v6.expect!.target.pod && a.expect!.kind === 'whoami',
  );
  return v4 ? { v4, v6 } : undefined;
}
