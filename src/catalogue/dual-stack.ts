// Services, DNS and MTU asked in each IP family the cluster has (#19). The run creates five
// Services selecting the seed workload (optional setup objects: a single-stack cluster's API refuses
// the ones it cannot give, and those checks say not applicable for the missing family):
//   knc-single-ipv4 / knc-single-ipv6  SingleStack of one family
//   knc-prefer-dual / knc-require-dual  PreferDualStack / RequireDualStack (one ClusterIP per family)
//   knc-headless-dual                   headless, PreferDualStack (A and AAAA records per Ready pod)
// Each check says its family in its id or its title; every ClusterIP is asked from every probe pod
// in a hold window (a bounded gate for the Service the run made, then every request counts).
import type { V1EndpointSlice, V1Endpoints, V1Pod } from '@kubernetes/client-node';
import { IP_FAMILIES, addressOfFamily, isIPv6, type IPFamily } from '../util/cidr.js';
import { clusterFamilies, familyMissing, rangesOf } from '../cluster/facts.js';
import { OPTIONAL_ANNOTATION, podAddresses, type ProbeRef, type RunEnv } from '../workload/setup.js';
import type { Obj } from '../workload/manifests.js';
import { label, runFanout } from '../workload/fanout.js';
import { pollUntil } from '../util/poll.js';
import { samplesProbe } from '../probes/window.js';
import { dnsHoldProbe, parseDnsHold } from '../probes/dns.js';
import { dfPingProbe, payloadProbe, PAYLOAD } from '../probes/mtu.js';
import { verifyCoverage, verifyWindow, type SampleExpectation, type WindowTally } from '../verdicts/window.js';
import { dnsHoldVerdict, type HoldWant } from '../verdicts/dns-hold.js';
import { BODY, ifaceAsks, judgeIfaces, judgeMtuPairs, type MtuAsk, type MtuExpect } from './mtu.js';
import { readyAddressesOf, verifyFamilySlices, verifyPrimaryEndpoints, verifyServiceFamilies } from '../verdicts/dual-stack.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { mustFail } from './controls.js';
import { must, nodeAccess, podSources, unlessManaged } from './common.js';
import { familyTag, inFamily } from './families.js';
import type { Answer, CheckDef, Observations, PhaseContext, ProbeAsk } from './types.js';

export const DUAL_SERVICES = {
  v4: 'knc-single-ipv4',
  v6: 'knc-single-ipv6',
  prefer: 'knc-prefer-dual',
  require: 'knc-require-dual',
  headless: 'knc-headless-dual',
} as const;

const service = (name: string, spec: Record<string, unknown>): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, annotations: { [OPTIONAL_ANNOTATION]: 'true' } },
  spec: { selector: { run: 'my-nginx' }, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }], ...spec },
});

const OBJECTS: Record<string, Obj> = {
  [DUAL_SERVICES.v4]: service(DUAL_SERVICES.v4, { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] }),
  [DUAL_SERVICES.v6]: service(DUAL_SERVICES.v6, { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] }),
  [DUAL_SERVICES.prefer]: service(DUAL_SERVICES.prefer, { ipFamilyPolicy: 'PreferDualStack' }),
  [DUAL_SERVICES.require]: service(DUAL_SERVICES.require, { ipFamilyPolicy: 'RequireDualStack' }),
  [DUAL_SERVICES.headless]: service(DUAL_SERVICES.headless, { ipFamilyPolicy: 'PreferDualStack', clusterIP: 'None' }),
};

/** Requests per source and ClusterIP; coverage of both nginx pods over every source's windows. */
const REQUESTS = 6;
const GATE_S = 10;
const name = (p: V1Pod) => p.metadata!.name!;

const svcOf = (env: RunEnv, svc: string) => env.objects.find((o) => o.kind === 'Service' && o.metadata?.name === svc);
const clusterIPsOf = (env: RunEnv, svc: string): string[] => {
  const s = svcOf(env, svc);
  return ((s?.spec?.clusterIPs as string[] | undefined) ?? (s?.spec?.clusterIP ? [s.spec.clusterIP as string] : [])).filter((ip) => ip !== 'None');
};
const isDual = (env: Pick<RunEnv, 'facts'>) => clusterFamilies(env.facts).length === IP_FAMILIES.length;
const singleStackWhy = (env: Pick<RunEnv, 'facts'>, what: string) =>
  isDual(env) ? undefined : `the cluster is single-stack (${clusterFamilies(env.facts).join('') || 'no family found'}): ${what}`;
const famOf = (ip: string): IPFamily => (isIPv6(ip) ? 'IPv6' : 'IPv4');
const winId = (svc: string, ip: string) => `ds-${svc}-${familyTag(famOf(ip))}`;
const to = (svc: string, ip: string) => `${svc} ${ip}:80 (${famOf(ip)})`;

interface ServiceCase {
  id: string;
  svc: string;
  title: string;
  /** ipFamilies the API must have given the Service on this cluster. */
  want: (env: RunEnv) => IPFamily[];
  notApplicable: (env: RunEnv) => string | undefined;
}

const CASES: ServiceCase[] = [
  ...IP_FAMILIES.map((f): ServiceCase => ({
    id: `service.single-stack.${familyTag(f)}`,
    svc: f === 'IPv4' ? DUAL_SERVICES.v4 : DUAL_SERVICES.v6,
    title: `${f}: a SingleStack ${f} Service gets one ${f} ClusterIP in the ${f} service range, answered from every probe pod by its Ready pods; its EndpointSlices are addressType ${f} only, listing their ${f} addresses`,
    want: () => [f],
    notApplicable: (env) =>
      familyMissing(env.facts, f) ??
      singleStackWhy(env, `every Service is SingleStack ${f}; service.cluster-ip and service.endpoints ask the seed Service, which is one`),
  })),
  {
    id: 'service.prefer-dual-stack',
    svc: DUAL_SERVICES.prefer,
    title:
      'PreferDualStack: the Service gets one ClusterIP per family (the primary first), both answered from every probe pod; one EndpointSlice per family; Endpoints in the primary family',
    want: (env) => clusterFamilies(env.facts),
    notApplicable: (env) => singleStackWhy(env, 'a PreferDualStack Service gets the one family, as the seed Service (service.cluster-ip) has'),
  },
  {
    id: 'service.require-dual-stack',
    svc: DUAL_SERVICES.require,
    title:
      'RequireDualStack: the Service gets one ClusterIP per family (the primary first), both answered from every probe pod; one EndpointSlice per family; Endpoints in the primary family',
    want: (env) => clusterFamilies(env.facts),
    notApplicable: (env) => singleStackWhy(env, 'the API refuses a RequireDualStack Service there, as it should'),
  },
];

interface ApiView {
  slices: V1EndpointSlice[];
  endpoints?: V1Endpoints;
}

/**
 * The Service's EndpointSlices and Endpoints, once they list the nginx pods Ready at setup (the
 * controllers may trail the Service the run just created: bounded wait, then judged as seen).
 */
async function apiView({ env }: PhaseContext, svc: string, families: IPFamily[]): Promise<ApiView> {
  const read = async (): Promise<ApiView> => {
    const [slices, endpoints] = await Promise.all([
      env.kube.discovery.listNamespacedEndpointSlice({ namespace: env.workloadNs, labelSelector: `kubernetes.io/service-name=${svc}` }),
      env.kube.core.readNamespacedEndpoints({ name: svc, namespace: env.workloadNs }).catch(() => undefined),
    ]);
    return { slices: slices.items, endpoints };
  };
  const settled = (v: ApiView) => !verifyFamilySlices('wait', svc, v.slices, env.nginx, families).length;
  return pollUntil({
    what: `EndpointSlices of ${svc} listing the Ready nginx pods per family`,
    timeoutMs: 20_000,
    intervalMs: 500,
    probe: read,
    done: settled,
  }).catch(() => read());
}

const windowExpect = (env: RunEnv, requests = REQUESTS): SampleExpectation => ({ kind: 'answer', requests, want: [], allowed: env.nginx.map(name).sort() });

function serviceCheck(c: ServiceCase): CheckDef {
  return {
    id: c.id,
    title: c.title,
    layer: 'service',
    tags: ['service', 'ip-family', ...c.id.split('.').slice(1)],
    from: 'probe pods',
    to: `Service ${c.svc}, every ClusterIP`,
    setupObjects: [OBJECTS[c.svc]],
    notApplicable: c.notApplicable,
    probes: (env) => podSources(env).flatMap((from) => clusterIPsOf(env, c.svc).map((ip) => windowAsk(env, from, c.svc, ip))),
    gather: (ctx) => apiView(ctx, c.svc, c.want(ctx.env)),
    verify: (o) => {
      const env = o.env;
      const want = c.want(env);
      const refused = env.refused[`Service/${c.svc}`];
      must(!refused, { check: c.id, from: 'the API', to: `Service ${c.svc}`, expected: `created (ipFamilies ${want.join(',')})`, seen: `refused: ${refused}` });
      const s = svcOf(env, c.svc)!;
      const ranges = Object.fromEntries(want.map((f) => [f, rangesOf(env.facts, f).service]));
      const v = o.gathered as ApiView;
      throwAll([
        ...verifyServiceFamilies(c.id, s as never, { families: want, ranges }),
        ...verifyFamilySlices(c.id, c.svc, v.slices, env.nginx, want),
        ...verifyPrimaryEndpoints(c.id, c.svc, v.endpoints, env.nginx, want[0]),
      ]);
      return {
        ...judgeWindows(c.id, o.answers<WindowExpect>()),
        endpointSlices: sliceSummary(v.slices),
        endpoints: `${want[0]} only (the Service's primary family)`,
      };
    },
  };
}

const sliceSummary = (slices: V1EndpointSlice[]) =>
  slices.map((s) => `${s.metadata?.name} ${s.addressType}: ${(s.endpoints ?? []).flatMap((e) => e.addresses).join(', ')}`);

/** A hold window to one ClusterIP: what is asked (the address, its family) and what must answer, as data. */
export interface WindowExpect {
  ip: string;
  window: SampleExpectation;
  /** The pods each of which must answer at least once over every source's window to this address. */
  cover: string[];
}
type WindowAsk = ProbeAsk<WindowExpect>;

function windowAsk(
  env: RunEnv,
  from: ProbeRef,
  svc: string,
  ip: string,
  o: { id?: string; requests?: number; gateS?: number; timeoutS?: number } = {},
): WindowAsk {
  const requests = o.requests ?? REQUESTS;
  return {
    from,
    to: to(svc, ip),
    expect: { ip, window: windowExpect(env, requests), cover: env.nginx.map(name).sort() },
    probe: samplesProbe(o.id ?? winId(svc, ip), { host: ip, port: 80, requests, ...(o.timeoutS ? { timeoutS: o.timeoutS } : { gateS: o.gateS ?? GATE_S }) }),
  };
}

/** One window answer judged against its ask's expectation: the tally, or the failure. */
const judgeWindow = (check: string, a: Answer<WindowExpect>) => verifyWindow(check, label(a.ask.from), a.ask.to!, a.out, a.ask.expect!.window);

/** Every window answer (per ClusterIP, every source), then each ClusterIP answered by every allowed pod over all its sources. */
export function judgeWindows(check: string, answers: Array<Answer<WindowExpect>>): Record<string, string[]> {
  must(answers.length > 0, {
    check,
    from: 'the run',
    to: "the Service's ClusterIPs",
    expected: 'a window from every probe pod to every ClusterIP',
    seen: 'none asked',
  });
  const out: Record<string, string[]> = {};
  const failures: CheckFailure[] = [];
  for (const ip of [...new Set(answers.map((a) => a.ask.expect!.ip))]) {
    const mine = answers.filter((a) => a.ask.expect!.ip === ip);
    const judged = mine.map((a) => ({ a, r: judgeWindow(check, a) }));
    const bad = judged.map((j) => j.r).filter((r): r is CheckFailure => r instanceof CheckFailure);
    const tallies = judged.filter((j): j is { a: Answer<WindowExpect>; r: WindowTally } => !(j.r instanceof CheckFailure));
    const { window, cover } = mine[0].ask.expect!;
    const cov = bad.length
      ? undefined
      : verifyCoverage(
          check,
          'every probe pod',
          mine[0].ask.to!,
          tallies.map((t) => t.r),
          cover,
        );
    failures.push(...bad, ...(cov ? [cov] : []));
    out[mine[0].ask.to!] = tallies.map(({ a, r }) => `${label(a.ask.from)}: ${r.answered}/${window.requests} answered ${JSON.stringify(r.servers)}`);
  }
  throwAll(failures);
  return out;
}

// --- DNS per family ---

const domain = (env: RunEnv) => env.facts.clusterDomain;
const fqdn = (env: RunEnv, svc: string) => `${svc}.${env.workloadNs}.svc.${domain(env)}`;
const serviceVia = (env: RunEnv) => [...new Set([env.facts.dnsServiceIP, env.facts.podNameserver].filter((x): x is string => !!x))];
const dnsServers = (env: RunEnv) => env.dnsPods.map((p) => p.ip);
const DNS_ROUNDS = 2;
const rtype = (f: IPFamily) => (f === 'IPv6' ? 'AAAA' : 'A');

interface DnsExpect {
  name: string;
  search: boolean;
  want: HoldWant;
}

function dnsAsk(id: string, from: ProbeRef, e: DnsExpect, env: RunEnv): ProbeAsk<DnsExpect> {
  return {
    from,
    to: `${e.name} ${e.want.type}${e.search ? ' (search path)' : ''}`,
    expect: e,
    probe: dnsHoldProbe(id, e.name, e.want.type, e.want.n, dnsServers(env), serviceVia(env), { rounds: DNS_ROUNDS, search: e.search }),
  };
}

function judgeDnsAsks(check: string, o: Observations) {
  const answers = o.answers<DnsExpect>();
  must(answers.length > 0, { check, from: 'the run', to: 'DNS names', expected: 'names to ask', seen: 'none' });
  const failures: CheckFailure[] = [];
  const evidence: Record<string, string> = {};
  for (const a of answers) {
    const e = a.ask.expect!;
    const v = dnsHoldVerdict(
      check,
      label(a.ask.from),
      e.name,
      parseDnsHold(a.out.output),
      dnsServers(o.env),
      serviceVia(o.env),
      DNS_ROUNDS,
      e.want,
      a.out.command,
    );
    failures.push(...v.failures);
    evidence[`${a.ask.to} from ${label(a.ask.from)}`] = `${e.want.what}: ${v.evidence.hold}`;
  }
  throwAll(failures);
  return evidence;
}

/** The dual-stack Service's address of a family, exact (one record), for A or AAAA. */
const addrWant = (f: IPFamily, ip: string | undefined): HoldWant =>
  ip ? { type: rtype(f), n: 1, exact: [ip], what: `${rtype(f)} ${ip} (its ${f} ClusterIP)` } : { type: rtype(f), n: 0, what: `no ${rtype(f)} record` };

function aaaaAsks(env: RunEnv): ProbeAsk[] {
  const svc = DUAL_SERVICES.prefer;
  const ips = clusterIPsOf(env, svc);
  const ns = env.workloadNs;
  const inNs = env.probes.find((p) => p.node === env.otherProbe.node) ?? env.probes[0];
  const forms: Array<[string, string, ProbeRef, boolean]> = [
    ['short', svc, inNs, true],
    ['namespace', `${svc}.${ns}`, env.otherProbe, true],
    ['svc', `${svc}.${ns}.svc`, env.otherProbe, true],
    ['fqdn', fqdn(env, svc), env.otherProbe, false],
  ];
  const asks: ProbeAsk[] = [];
  for (const f of clusterFamilies(env.facts))
    for (const [form, n, from, search] of forms)
      asks.push(dnsAsk(`aaaa-${form}-${familyTag(f)}`, from, { name: n, search, want: addrWant(f, addressOfFamily(ips, f)) }, env));
  // dual-stack: a SingleStack IPv4 Service has no AAAA record, a SingleStack IPv6 one no A record
  if (isDual(env))
    for (const [f, single] of [
      ['IPv6', DUAL_SERVICES.v4],
      ['IPv4', DUAL_SERVICES.v6],
    ] as Array<[IPFamily, string]>)
      if (clusterIPsOf(env, single).length)
        asks.push(dnsAsk(`aaaa-none-${single}`, inNs, { name: fqdn(env, single), search: false, want: addrWant(f, undefined) }, env));
  return asks;
}

function headlessDualAsks(env: RunEnv): ProbeAsk[] {
  const from = env.probes.find((p) => p.node === env.otherProbe.node) ?? env.probes[0];
  return clusterFamilies(env.facts).map((f) => {
    const ips = readyAddressesOf(env.nginx, f).sort();
    return dnsAsk(
      `headless-dual-${familyTag(f)}`,
      from,
      {
        name: fqdn(env, DUAL_SERVICES.headless),
        search: false,
        want: { type: rtype(f), n: ips.length, exact: ips, what: `${rtype(f)} {${ips.join(', ')}} (one per Ready pod, ${f})` },
      },
      env,
    );
  });
}

function ptr6Asks(env: RunEnv): ProbeAsk[] {
  const from = env.probes.find((p) => p.node === env.otherProbe.node) ?? env.probes[0];
  const ip = addressOfFamily(clusterIPsOf(env, DUAL_SERVICES.prefer), 'IPv6');
  if (!ip) return [];
  const want = `${fqdn(env, DUAL_SERVICES.prefer)}.`;
  return [dnsAsk('ptr6', from, { name: ip, search: false, want: { type: 'PTR', n: 1, exact: [want], what: `PTR ${want} (under ip6.arpa)` } }, env)];
}

const noIPv6 = (env: RunEnv) => familyMissing(env.facts, 'IPv6');

const DNS_FAMILY_CHECKS: CheckDef[] = [
  {
    id: 'dns.aaaa',
    title:
      'IPv6 DNS: every name form of a PreferDualStack Service (short, namespace, svc, FQDN; search path and absolute) answers AAAA with its IPv6 ClusterIP (and A with its IPv4 one on dual-stack), from every cluster DNS pod and the DNS Service; dual-stack: a SingleStack Service has no record of the other family',
    layer: 'dns',
    tags: ['dns', 'ipv6', 'ip-family', 'aaaa'],
    from: 'probe pods (workload and other namespace)',
    to: `Service ${DUAL_SERVICES.prefer} by every name form`,
    setupObjects: [OBJECTS[DUAL_SERVICES.prefer], OBJECTS[DUAL_SERVICES.v4], OBJECTS[DUAL_SERVICES.v6]],
    notApplicable: noIPv6,
    probes: aaaaAsks,
    verify: (o) => {
      const refused = o.env.refused[`Service/${DUAL_SERVICES.prefer}`];
      must(!refused, { check: 'dns.aaaa', from: 'the API', to: `Service ${DUAL_SERVICES.prefer}`, expected: 'created', seen: `refused: ${refused}` });
      return judgeDnsAsks('dns.aaaa', o);
    },
  },
  {
    id: 'dns.ptr.ipv6',
    title: "IPv6 DNS: the PTR record of a Service's IPv6 ClusterIP (under ip6.arpa) names the Service, from every cluster DNS pod and the DNS Service",
    layer: 'dns',
    tags: ['dns', 'ipv6', 'ip-family', 'ptr'],
    from: 'a probe pod',
    to: `the IPv6 ClusterIP of ${DUAL_SERVICES.prefer}`,
    setupObjects: [OBJECTS[DUAL_SERVICES.prefer]],
    notApplicable: noIPv6,
    probes: ptr6Asks,
    verify: (o) => judgeDnsAsks('dns.ptr.ipv6', o),
  },
  {
    id: 'dns.headless.families',
    title:
      "headless Service in every family: a PreferDualStack headless Service answers A with every Ready pod's IPv4 address and AAAA with every Ready pod's IPv6 address (each DNS pod waited for, then every answer counts)",
    layer: 'dns',
    tags: ['dns', 'headless', 'ip-family'],
    from: 'a probe pod',
    to: `Service ${DUAL_SERVICES.headless}`,
    setupObjects: [OBJECTS[DUAL_SERVICES.headless]],
    notApplicable: noIPv6,
    probes: headlessDualAsks,
    verify: (o) => judgeDnsAsks('dns.headless.families', o),
  },
];

// --- MTU in IPv6 ---

const v6Sources = (env: RunEnv) => env.probes.map((r) => inFamily(r, 'IPv6')).filter((r) => r.ip);
const crossV6 = (env: RunEnv): Array<[ProbeRef, ProbeRef]> =>
  v6Sources(env).flatMap((f) =>
    v6Sources(env)
      .filter((t) => t.node !== f.node)
      .map((t) => [f, t] as [ProbeRef, ProbeRef]),
  );
const nginxV6 = (p: V1Pod) => addressOfFamily(podAddresses(p), 'IPv6');
const crossNginxV6 = (env: RunEnv): Array<[ProbeRef, V1Pod]> =>
  v6Sources(env).flatMap((f) => env.nginx.filter((t) => t.spec!.nodeName !== f.node && nginxV6(t)).map((t) => [f, t] as [ProbeRef, V1Pod]));
const byPod = (env: RunEnv, r: ProbeRef) => env.probes.find((p) => p.pod === r.pod && p.namespace === r.namespace)!;

const v6Target = (t: ProbeRef) => `pod ${t.namespace}/${t.pod} ${t.ip} on ${t.node} (IPv6)`;
const nginxV6Target = (t: V1Pod) => `${name(t)} [${nginxV6(t)}]:80${PAYLOAD.path} on ${t.spec!.nodeName} (IPv6)`;

/** Each IPv6 source's interface asks (the one holding its IPv6 address), then a DF ping of its MTU to every other node's probe pod over IPv6. */
const mtu6Asks = (env: RunEnv): MtuAsk[] => [
  ...v6Sources(env).flatMap((r) => ifaceAsks(byPod(env, r), r.ip)),
  ...crossV6(env).map(([f, t]): MtuAsk => ({ from: byPod(env, f), probe: dfPingProbe(`df6-${t.pod}`, f.ip, t.ip), to: v6Target(t), expect: { kind: 'df' } })),
];

const MTU_FAMILY_CHECKS: CheckDef[] = [
  {
    id: 'mtu.ipv6',
    title:
      "IPv6 MTU: every probe pod's interface holding its IPv6 address has at least the IPv6 minimum MTU (1280); an IPv6 packet of exactly that MTU crosses to a pod on every other node whole (routers never fragment IPv6), one byte more is refused or fragmented by the sender itself",
    layer: 'mtu',
    tags: ['mtu', 'ipv6', 'ip-family', 'cross-node', 'df'],
    from: 'probe pods (IPv6)',
    to: 'probe pods on other nodes (IPv6)',
    notApplicable: noIPv6,
    probes: mtu6Asks,
    verify: (o) => {
      const check = 'mtu.ipv6';
      const answers = o.answers<MtuExpect>();
      // the interfaces first (each holding its IPv6 address, at least 1280), then every pair against its sender's MTU
      const podMtus = judgeIfaces(check, answers);
      return { podMtus, pairs: judgeMtuPairs(check, answers, 'no probe pods with IPv6 on two nodes') };
    },
  },
  {
    id: 'mtu.payload-cross-node.ipv6',
    title: `IPv6 MTU: a ${PAYLOAD.bytes}-byte HTTP body arrives intact (size and sha256) pod → pod across nodes over IPv6 (full-size segments, nobody on the way may fragment them)`,
    layer: 'mtu',
    tags: ['mtu', 'ipv6', 'ip-family', 'cross-node', 'payload'],
    from: 'probe pods (IPv6)',
    to: 'nginx on other nodes (IPv6)',
    notApplicable: noIPv6,
    probes: (env) =>
      crossNginxV6(env).map(([f, t]): MtuAsk => ({
        from: byPod(env, f),
        probe: payloadProbe(`big6-${name(t)}`, nginxV6(t)!, 80),
        to: nginxV6Target(t),
        expect: BODY,
      })),
    verify: (o) => judgeMtuPairs('mtu.payload-cross-node.ipv6', o.answers<MtuExpect>(), 'no probe pod and nginx pod with IPv6 on different nodes'),
  },
];

// --- negative control: IPv6 dropped from one probe pod; its IPv4 Service answers, its IPv6 one does not ---

const NEG_COMMENT = 'kube-netcheck ipv6 negative control';

function negPair(env: RunEnv): { from: ProbeRef; v4: string; v6: string } | undefined {
  const from = env.probes.find((p) => addressOfFamily(p.ips ?? [p.ip], 'IPv6') && addressOfFamily(p.ips ?? [p.ip], 'IPv4'));
  const v4 = clusterIPsOf(env, DUAL_SERVICES.v4)[0];
  const v6 = clusterIPsOf(env, DUAL_SERVICES.v6)[0];
  return from && v4 && v6 ? { from, v4, v6 } : undefined;
}

const NEGATIVE: CheckDef = {
  id: 'service.single-stack.ipv6.negative',
  title:
    "negative control: with one probe pod's IPv6 packets dropped on its node (ip6tables, IPv4 untouched), its SingleStack IPv6 Service fails naming IPv6 while its SingleStack IPv4 Service still answers",
  layer: 'service',
  tags: ['service', 'ipv6', 'ip-family', 'negative-control'],
  controls: 'service.single-stack.ipv6',
  controlKind: 'live',
  from: 'live cluster',
  to: 'an IPv6-only drop of one pod on its node',
  setupObjects: [OBJECTS[DUAL_SERVICES.v4], OBJECTS[DUAL_SERVICES.v6]],
  notApplicable: (env) =>
    unlessManaged("changing a node's ip6tables")(env) ??
    singleStackWhy(env, 'IPv4 must keep working beside the dropped IPv6') ??
    (negPair(env) ? undefined : 'no dual-stack probe pod, or a single-stack Service was not created'),
  fault: "the probe pod's node drops every IPv6 packet from it (ip6tables raw PREROUTING); IPv4 untouched",
  gather: async ({ env }) => {
    const { from, v4, v6 } = negPair(env)!;
    const src = addressOfFamily(from.ips ?? [from.ip], 'IPv6')!;
    const rule = (op: '-I' | '-D') => [
      'ip6tables',
      '-w',
      '-t',
      'raw',
      op,
      'PREROUTING',
      '-s',
      `${src}/128`,
      '-m',
      'comment',
      '--comment',
      NEG_COMMENT,
      '-j',
      'DROP',
    ];
    const asks = {
      v4: windowAsk(env, from, DUAL_SERVICES.v4, v4, { id: 'neg-v4', requests: 3, gateS: 5 }),
      v6: windowAsk(env, from, DUAL_SERVICES.v6, v6, { id: 'neg-v6', requests: 3, timeoutS: 1 }),
    };
    const dev = nodeAccess(env);
    await dev.exec(from.node, rule('-I'));
    try {
      const out = await runFanout(env.kube, from, [asks.v4.probe, asks.v6.probe]);
      return { v4: { ask: asks.v4, out: out.get('neg-v4')! }, v6: { ask: asks.v6, out: out.get('neg-v6')! } };
    } finally {
      await dev.exec(from.node, rule('-D'));
    }
  },
  verify: (o) => {
    const g = o.gathered as { v4: Answer<WindowExpect>; v6: Answer<WindowExpect> };
    const r4 = judgeWindow('service.single-stack.ipv4', g.v4);
    must(!(r4 instanceof CheckFailure), {
      check: 'negative-control',
      from: label(g.v4.ask.from),
      to: g.v4.ask.to!,
      expected: 'IPv4 from the same pod still answered',
      seen: r4 instanceof CheckFailure ? r4.message : '',
    });
    const where = { from: label(g.v6.ask.from), to: g.v6.ask.to! };
    const [failure] = mustFail(where, () => judgeWindow('service.single-stack.ipv6', g.v6), {
      check: 'service.single-stack.ipv6',
      ...where,
      to: /\(IPv6\)$/,
      seen: /^\{\}: 3 of 3 unanswered/,
    });
    return { ipv6: failure, ipv4: r4 };
  },
};

export const DUAL_STACK_CHECKS: CheckDef[] = [...CASES.map(serviceCheck), NEGATIVE];
export { DNS_FAMILY_CHECKS, MTU_FAMILY_CHECKS };
