// Layer "mtu": big packets survive between nodes. Each probe pod's MTU is read from the interface
// that holds its pod IP (reported as the run's pod MTU); a packet of exactly that MTU with DF set
// crosses to a pod on every other node, and one byte more is refused by the sender's own stack
// (not silently lost); a large HTTP body (known size and sha256) arrives whole pod → pod across
// nodes and through the ClusterIP. The negative control makes a path-MTU black hole on a live node.
import type { V1Pod } from '@kubernetes/client-node';
import { addrProbe, dfPingProbe, linkProbe, PAYLOAD, payloadProbe, type Iface } from '../probes/mtu.js';
import { httpProbe } from '../probes/http.js';
import { podMtuExpected, verifyDfPing, verifyPayload, verifyPodMtu } from '../verdicts/mtu.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import type { ProbeRef, RunEnv } from '../workload/setup.js';
import type { ProbeOutput } from '../probes/batch.js';
import { fanOut, key, label, runFanout } from '../workload/fanout.js';
import { steadyConvergence, steadyConvergenceEvidence, steadyNotConverged, type SteadyConvergence } from './services.js';
import { mustFail } from './controls.js';
import { hostCidr, isIPv6 } from '../util/cidr.js';
import type { Answer, CheckDef, ProbeAsk } from './types.js';
import { defined, must, nodeAccess, podSources, podTarget, unlessManaged } from './common.js';
import { judgeHttp, type HttpAsk, type HttpExpect, type HttpTarget } from './pod-ips.js';
import type { NodeAccess } from '../cluster/connection.js';

const name = (p: V1Pod) => p.metadata!.name!;
const ip = (p: V1Pod) => p.status!.podIP!;
const probeTarget = (p: ProbeRef) => `pod ${p.namespace}/${p.pod} ${p.ip} on ${p.node}`;
const svcTarget = (env: RunEnv) => `my-nginx ${env.nginxServiceIP}:80${PAYLOAD.path}`;

/**
 * What one MTU ask expects, as data: `addr` — the pod's address list has an interface holding
 * `holds` (read with the same pod's `link` ask: that interface's MTU, at least 576); `df` — a packet
 * of exactly the sender's interface MTU with DF set is answered by `to`, one byte more is refused
 * locally; `payload` — the body arrives whole, `bytes` long with sha256 `sha256`.
 */
export type MtuExpect = { kind: 'addr'; holds: string } | { kind: 'link' } | { kind: 'df' } | { kind: 'payload'; bytes: number; sha256: string };
export type MtuAsk = ProbeAsk<MtuExpect>;
export type MtuAnswer = Answer<MtuExpect>;
export const BODY = { kind: 'payload', bytes: PAYLOAD.bytes, sha256: PAYLOAD.sha256 } as const;

/** A pod's interface asks: its address list (expected to hold `holds`, by default its own IP) and its link list. */
export const ifaceAsks = (from: ProbeRef, holds = from.ip): MtuAsk[] => [
  { from, probe: addrProbe('mtu-addr'), to: `its interface holding ${holds}`, expect: { kind: 'addr', holds } },
  { from, probe: linkProbe('mtu-link'), to: 'its links', expect: { kind: 'link' } },
];
const ifaceProbes = (env: RunEnv): MtuAsk[] => podSources(env).flatMap((from) => ifaceAsks(from));

/** Probe pods on different nodes (one probe pod per node): every ordered pair. */
const crossProbePairs = (env: RunEnv): Array<[ProbeRef, ProbeRef]> =>
  env.probes.flatMap((f) => env.probes.filter((t) => t.node !== f.node).map((t) => [f, t] as [ProbeRef, ProbeRef]));
const crossNginxPairs = (env: RunEnv): Array<[ProbeRef, V1Pod]> =>
  env.probes.flatMap((f) => env.nginx.filter((t) => t.spec!.nodeName !== f.node).map((t) => [f, t] as [ProbeRef, V1Pod]));

const dfAsk = (from: ProbeRef, to: ProbeRef, id = `df-${to.pod}`): MtuAsk => ({
  from,
  probe: dfPingProbe(id, from.ip, to.ip),
  to: probeTarget(to),
  expect: { kind: 'df' },
});
const dfProbes = (env: RunEnv): MtuAsk[] => [...crossProbePairs(env).map(([from, to]) => dfAsk(from, to)), ...ifaceProbes(env)];
const bigPodProbes = (env: RunEnv): MtuAsk[] =>
  crossNginxPairs(env).map(([from, to]) => ({ from, probe: payloadProbe(`big-${name(to)}`, ip(to), 80), to: `${podTarget(to)}${PAYLOAD.path}`, expect: BODY }));

const of = (answers: MtuAnswer[], kind: MtuExpect['kind']) => answers.filter((a) => a.ask.expect?.kind === kind);

/**
 * Each source's interface (or the failure standing for it), from its `addr` answer and the `link`
 * answer of the same pod: the interface holding the address the ask expects, with its MTU.
 */
export function ifacesOf(check: string, answers: MtuAnswer[]): Map<string, { from: ProbeRef; iface: Iface | CheckFailure }> {
  const links = new Map(of(answers, 'link').map((a) => [key(a.ask.from), a.out]));
  const out = new Map<string, { from: ProbeRef; iface: Iface | CheckFailure }>();
  for (const a of of(answers, 'addr')) {
    const e = a.ask.expect as { kind: 'addr'; holds: string };
    const link = links.get(key(a.ask.from));
    const iface = link
      ? verifyPodMtu(check, label(a.ask.from), e.holds, a.out, link)
      : new CheckFailure({
          check,
          from: label(a.ask.from),
          to: a.ask.to ?? e.holds,
          expected: 'its link list asked with its address list',
          seen: 'no link ask',
        });
    out.set(key(a.ask.from), { from: a.ask.from, iface });
  }
  return out;
}

/** pod-interface: every source's interface holding its IP, with an MTU; evidence "dev mtu N" per source. */
export function judgeIfaces(check: string, answers: MtuAnswer[]): Record<string, string> {
  const seen = [...ifacesOf(check, answers).values()];
  must(seen.length > 0, { check, from: 'the run', to: 'probe pods', expected: 'at least one pod asked for its interfaces', seen: 'none' });
  throwAll(seen.map((s) => s.iface).filter((i): i is CheckFailure => i instanceof CheckFailure));
  return Object.fromEntries(seen.map((s) => [label(s.from), `${(s.iface as Iface).dev} mtu ${(s.iface as Iface).mtu}`]));
}

/**
 * A pair check over (ask, output) pairs: every `df` answer judged against its sender's MTU (from the
 * sender's own interface answers), every `payload` answer against the body it expects; at least one
 * pair (`none` says why there is none). Evidence: one line per pair.
 */
export function judgeMtuPairs(check: string, answers: MtuAnswer[], none: string): string[] {
  const pairs = [...of(answers, 'df'), ...of(answers, 'payload')];
  must(pairs.length > 0, { check, from: 'the run', to: 'pairs to probe', expected: 'at least one source → target pair', seen: `none: ${none}` });
  const ifaces = ifacesOf(check, answers);
  const judged = pairs.map((a) => {
    const from = label(a.ask.from);
    const to = a.ask.to ?? a.ask.probe.id;
    const e = a.ask.expect!;
    if (e.kind === 'payload') {
      const line = `${from} -> ${to}: ${e.bytes} bytes, sha256 ${e.sha256.slice(0, 16)}… in ${a.out.durationMs}ms`;
      return { line, failure: verifyPayload(check, from, to, a.out, e) };
    }
    const i = ifaces.get(key(a.ask.from))?.iface;
    if (i === undefined) {
      const failure = new CheckFailure({ check, from, to, expected: "the sender's interface asked (its MTU)", seen: 'no interface ask for the sender' });
      return { line: '', failure };
    }
    if (i instanceof CheckFailure) return { line: '', failure: i };
    return { line: `${from} -> ${to}: mtu ${i.mtu} with DF answered, mtu+1 refused locally`, failure: verifyDfPing(check, from, to, a.out, i.mtu) };
  });
  throwAll(judged.map((j) => j.failure).filter(defined));
  return judged.map((j) => j.line);
}

/**
 * A pair check's evidence: the requests its verdict judged (a payload pair is one fetch; a DF pair
 * two pings: the MTU-sized one answered, the one a byte over refused by the sender) and one line
 * per pair.
 */
export function mtuPairsEvidence(answers: MtuAnswer[], pairs: string[]): { requests: number; pairs: string[] } {
  return { requests: of(answers, 'payload').length + 2 * of(answers, 'df').length, pairs };
}

/** One fetch of the payload through the ClusterIP from `from`, asked once: no second attempt (it would hide a lost one). */
export const svcPayloadAsk = (env: RunEnv, from: ProbeRef): MtuAsk => ({
  from,
  probe: payloadProbe('big-svc', env.nginxServiceIP, 80, PAYLOAD.path, 10),
  to: svcTarget(env),
  expect: BODY,
});

/**
 * What mtu.payload-cluster-ip gathers: first the steady Service converged (its EndpointSlices name
 * the pods, every node's kube-proxy synced them: src/catalogue/services.ts, shared with the Service
 * holds), then one fetch from every pod source, each of which counts — as (ask, output) pairs.
 */
export interface SvcPayloads {
  converged: SteadyConvergence;
  answers: MtuAnswer[];
  errors: Array<[ProbeRef, string]>;
}
async function svcPayloads(env: RunEnv): Promise<SvcPayloads> {
  const converged = await steadyConvergence(env);
  if (steadyNotConverged(converged)) return { converged, answers: [], errors: [] };
  const asks = podSources(env).map((from) => svcPayloadAsk(env, from));
  const f = await fanOut(env.kube, asks, { concurrency: env.settings.execConcurrency });
  const answers: MtuAnswer[] = [];
  const errors: Array<[ProbeRef, string]> = [];
  for (const ask of asks) {
    const out: ProbeOutput | undefined = f.outputs.get(key(ask.from))?.get(ask.probe.id);
    if (out) answers.push({ ask, out });
    else errors.push([ask.from, f.errors.get(key(ask.from)) ?? 'no output']);
  }
  return { converged, answers, errors };
}

/** The verdict of mtu.payload-cluster-ip: the convergence (which failing is the failure), then every source's one fetch intact. */
export function verifySvcPayloads(env: RunEnv, g: SvcPayloads): string[] {
  const to = svcTarget(env);
  const why = steadyNotConverged(g.converged);
  if (why) throw new CheckFailure({ check: 'mtu.payload-cluster-ip', from: 'the run', to, ...why });
  throwAll(
    g.errors.map(
      ([from, e]) => new CheckFailure({ check: 'mtu.payload-cluster-ip', from: label(from), to, expected: `${PAYLOAD.bytes} bytes`, seen: `not run: ${e}` }),
    ),
  );
  return judgeMtuPairs('mtu.payload-cluster-ip', g.answers, 'no probe pods');
}

/** The black hole's route MTU: below any full-size segment (1500/1450-byte pod MTUs), above the small pages (< 1000 bytes). */
const BLACKHOLE_MTU = 1200;

/**
 * A path-MTU black hole on `node`: packets it forwards towards `client` leave through a /32 route
 * with a smaller MTU (same gateway and device as now), and the "fragmentation needed" ICMP that
 * would tell the sender (`server`) to send smaller packets is dropped. Removed in `finally`,
 * whatever happened: the route first (while the ICMP is still dropped: a sender retransmitting
 * into the black hole must not learn the small MTU on the way out).
 *
 * The node's IPv4 route cache is flushed once the route is in (and again after it is gone): a
 * forwarded packet's MTU on a locked route comes from the cached next-hop exception for its
 * destination when there is one, and on kube-router nodes a stale one let full-size segments
 * through the black hole in most runs (the ICMP rule counted nothing; flushing the cache by hand
 * made every attempt fail as it should).
 */
async function withPmtuBlackHole<T>(nodes: NodeAccess, node: string, client: string, server: string, body: () => Promise<T>): Promise<T> {
  const sh = (argv: string[]) => nodes.exec(node, argv);
  const now = (await sh(['ip', '-o', 'route', 'get', client])).stdout;
  const via = /\svia\s+(\S+)/.exec(now)?.[1];
  const dev = /\sdev\s+(\S+)/.exec(now)?.[1];
  if (!dev) throw new Error(`node ${node}: no route to ${client}: ${now}`);
  // IPv6 (an IPv6-only cluster): a /128 route, ICMPv6 "packet too big" dropped (ip6tables), the IPv6 route cache flushed
  const v6 = isIPv6(client);
  const tables = v6 ? 'ip6tables' : 'iptables';
  const route = [hostCidr(client), ...(via ? ['via', via] : []), 'dev', dev, ...(via ? ['onlink'] : []), 'mtu', 'lock', String(BLACKHOLE_MTU)];
  const tooBig = v6 ? ['-p', 'icmpv6', '--icmpv6-type', 'packet-too-big'] : ['-p', 'icmp', '--icmp-type', 'fragmentation-needed'];
  const icmp = ['OUTPUT', ...tooBig, '-d', hostCidr(server), '-j', 'DROP'];
  const flush = () => sh(['sysctl', '-q', '-w', `net.${v6 ? 'ipv6' : 'ipv4'}.route.flush=1`]);
  await sh([tables, '-I', ...icmp.slice(0, 1), '1', ...icmp.slice(1)]);
  const undo: string[] = [];
  try {
    await sh(['ip', 'route', 'add', ...route]);
    try {
      await flush();
      return await body();
    } finally {
      await sh(['ip', 'route', 'del', hostCidr(client)]).catch((e: Error) => undo.push(`ip route del ${hostCidr(client)}: ${e.message}`));
      await flush().catch((e: Error) => undo.push(`route cache flush: ${e.message}`));
    }
  } finally {
    await sh([tables, '-D', ...icmp]).catch((e: Error) => undo.push(`${tables} -D ${icmp.join(' ')}: ${e.message}`));
    // a black hole left on a node matters more than what the body threw: this error wins on purpose
    // eslint-disable-next-line no-unsafe-finally
    if (undo.length) throw new Error(`removing the black hole on node ${node} failed: ${undo.join('; ')}`);
  }
}

const blackHolePair = (env: RunEnv) => crossNginxPairs(env)[0];
/** What the black-hole control's own fan-out asked under the fault: the large body and the two small pages. */
interface BlackHoleAnswers {
  big: MtuAnswer;
  small: Answer<HttpExpect>[];
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Two probe pods on different nodes (the DF ping control). */
const dfPair = (env: RunEnv) => crossProbePairs(env)[0];

export const MTU_CHECKS: CheckDef[] = [
  {
    id: 'mtu.pod-interface',
    title: 'every probe pod has an interface holding its pod IP, with an MTU (reported as the pod MTU)',
    layer: 'mtu',
    tags: ['mtu'],
    from: 'probe pods',
    to: 'their own interface',
    probes: ifaceProbes,
    verify: (o) => judgeIfaces('mtu.pod-interface', o.answers<MtuExpect>()),
    facts: (o) => {
      const mtus = Object.fromEntries(
        [...ifacesOf('mtu.pod-interface', o.answers<MtuExpect>()).values()]
          .filter((s) => !(s.iface instanceof CheckFailure))
          .map((s) => [`${s.from.namespace}/${s.from.pod}`, (s.iface as Iface).mtu]),
      );
      const values = Object.values(mtus) as number[];
      return values.length ? { podMtu: Math.min(...values), podMtus: mtus } : undefined;
    },
  },
  {
    id: 'mtu.df-cross-node',
    title: 'a packet of exactly the pod MTU with DF set crosses to a pod on every other node; one byte more is refused locally, not lost',
    layer: 'mtu',
    tags: ['mtu', 'cross-node', 'df'],
    from: 'probe pods',
    to: 'probe pods on other nodes',
    probes: dfProbes,
    verify: (o) => mtuPairsEvidence(o.answers<MtuExpect>(), judgeMtuPairs('mtu.df-cross-node', o.answers<MtuExpect>(), 'the cluster has a single node')),
  },
  {
    id: 'mtu.payload-cross-node',
    title: `a ${PAYLOAD.bytes}-byte HTTP body arrives intact (size and sha256) pod → pod across nodes`,
    layer: 'mtu',
    tags: ['mtu', 'cross-node', 'payload'],
    from: 'probe pods',
    to: 'nginx on other nodes',
    probes: bigPodProbes,
    verify: (o) => mtuPairsEvidence(o.answers<MtuExpect>(), judgeMtuPairs('mtu.payload-cross-node', o.answers<MtuExpect>(), 'the cluster has a single node')),
  },
  {
    id: 'mtu.payload-cluster-ip',
    title: `a ${PAYLOAD.bytes}-byte HTTP body arrives intact (size and sha256) through the ClusterIP, from pods on every node and another namespace`,
    layer: 'mtu',
    tags: ['mtu', 'service', 'payload'],
    from: 'probe pods',
    to: 'svc/my-nginx',
    gather: ({ env }) => svcPayloads(env),
    verify: (o) => {
      const g = o.gathered as SvcPayloads;
      return { requests: g.answers.length + g.errors.length, convergence: steadyConvergenceEvidence(g.converged), pairs: verifySvcPayloads(o.env, g) };
    },
  },
  {
    id: 'mtu.pmtu-blackhole.negative',
    title: 'negative control: under a path-MTU black hole between two nodes the large-payload check fails while the small-page checks still pass',
    layer: 'mtu',
    tags: ['mtu', 'negative-control'],
    controls: 'mtu.payload-cross-node',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a node dropping full-size packets silently',
    notApplicable: (env) =>
      unlessManaged("changing a node's routes and iptables")(env) ??
      (blackHolePair(env) ? undefined : 'no probe pod and nginx pod on different nodes (single node)'),
    // lane nginx: its fault touches the nginx pods' paths or their Services' rules; every control that asks nginx is in this lane
    faultLane: 'nginx',
    fault: "a path-MTU black hole on the nginx pod's node",
    gather: async ({ env }): Promise<BlackHoleAnswers> => {
      const [from, to] = blackHolePair(env);
      const big: MtuAsk = { from, probe: payloadProbe('bh-big', ip(to), 80, PAYLOAD.path, 3), to: `${podTarget(to)}${PAYLOAD.path}`, expect: BODY };
      const target: HttpTarget = { pod: name(to), ip: ip(to), node: to.spec!.nodeName!, nginx: true };
      const small: HttpAsk[] = [
        { from, probe: httpProbe('bh-page', ip(to), 80, '/'), to: podTarget(to), expect: { kind: 'page', target } },
        { from, probe: httpProbe('bh-who', ip(to), 80, '/whoami'), to: podTarget(to), expect: { kind: 'whoami', target, server: target.pod } },
      ];
      const out = await withPmtuBlackHole(nodeAccess(env), target.node, from.ip, target.ip, () =>
        runFanout(env.kube, from, [big.probe, ...small.map((a) => a.probe)]),
      );
      const answer = <E>(a: ProbeAsk<E>): Answer<E> => ({ ask: a, out: out.get(a.probe.id)! });
      return { big: answer(big), small: small.map(answer) };
    },
    verify: (o) => {
      const { big, small } = o.gathered as BlackHoleAnswers;
      const where = { from: label(big.ask.from), to: big.ask.to! };
      const large = mustFail(where, () => judgeMtuPairs('mtu.payload-cross-node', [big], 'no pair'), {
        check: 'mtu.payload-cross-node',
        ...where,
        expected: `${PAYLOAD.bytes} bytes with sha256 ${PAYLOAD.sha256.slice(0, 16)}…`,
        seen: new RegExp(`^(timeout|failed) after \\d+ms: \\d+ of ${PAYLOAD.bytes} bytes arrived`),
      });
      const failed = small.map((a) => judgeHttp('pod-ip.cross-node', a)).filter(defined);
      must(failed.length === 0, {
        check: 'negative-control',
        from: where.from,
        to: small[0].ask.to!,
        expected: 'the small-page checks (welcome page, /whoami) to still pass under the black hole',
        seen: failed.map((x) => x.message.split('\n')[0]).join('; '),
      });
      return {
        largePayload: large[0],
        smallPages: `${small.map((a) => (a.ask.expect!.kind === 'page' ? 'welcome page' : '/whoami')).join(' and ')} from ${small[0].ask.expect!.target.pod} answered in ${small.map((a) => a.out.durationMs).join('/')}ms`,
      };
    },
  },
  {
    id: 'mtu.pod-interface.negative',
    title: 'verdict self-test: the pod-interface verdict fails, naming the address list, for an address the pod does not hold',
    layer: 'mtu',
    tags: ['mtu', 'negative-control', 'verdict-self-test'],
    controls: 'mtu.pod-interface',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: "another pod's IP",
    notApplicable: (env) => (env.probes.length > 1 ? undefined : 'a single probe pod'),
    // the pod's real address and link lists, expected (as data) to hold the other pod's IP
    probes: (env) => ifaceAsks(env.probes[0], env.probes[1].ip),
    verify: (o) => {
      const [from, other] = o.env.probes;
      return mustFail({ from: label(from), to: other.ip }, () => judgeIfaces('mtu.pod-interface', o.answers<MtuExpect>()), {
        check: 'mtu.pod-interface',
        from: label(from),
        to: `its interface holding ${other.ip}`,
        expected: podMtuExpected(other.ip),
        seen: new RegExp(`^no interface holds it \\(ip addr exit 0: holds .*\\b${esc(from.ip)}\\b.*; ip link exit 0\\)$`),
      });
    },
  },
  {
    id: 'mtu.df-blackhole.negative',
    title: "negative control: the DF check fails (no reply to the full-size packet) when the sender's node silently drops packets above a smaller MTU",
    layer: 'mtu',
    tags: ['mtu', 'negative-control'],
    controls: 'mtu.df-cross-node',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a node dropping full-size packets silently',
    notApplicable: (env) =>
      unlessManaged("changing a node's routes and iptables")(env) ?? (dfPair(env) ? undefined : 'no two probe pods on different nodes (single node)'),
    // the sender's own interface (its MTU), asked in the phase's fan-out
    probes: (env) => ifaceAsks(dfPair(env)[0]),
    // lane target-pods: a ping between two probe pods; its route (to the receiving probe pod) and ICMP drop (to the sender) match no
    // target pod, nginx pod or DNS packet; kept apart from the nginx lane's path-MTU black hole (both set a route MTU)
    faultLane: 'target-pods',
    fault: "a path-MTU black hole on the sender's node",
    gather: async ({ env }): Promise<MtuAnswer> => {
      const [from, to] = dfPair(env);
      const ask = dfAsk(from, to, 'bh-df');
      // the echo request is forwarded by the sender's own node: the black hole sits there, towards the target pod
      const out = await withPmtuBlackHole(nodeAccess(env), from.node, to.ip, from.ip, () => runFanout(env.kube, from, [ask.probe]));
      return { ask, out: out.get(ask.probe.id)! };
    },
    verify: (o) => {
      const df = o.gathered as MtuAnswer;
      const ifaces = o.answers<MtuExpect>();
      const sender = ifacesOf('mtu.df-cross-node', ifaces).get(key(df.ask.from))?.iface;
      if (sender instanceof CheckFailure) throw sender;
      const mtu = sender?.mtu;
      const from = label(df.ask.from);
      const to = df.ask.to!;
      return mustFail({ from, to }, () => judgeMtuPairs('mtu.df-cross-node', [...ifaces, df], 'no pair'), {
        check: 'mtu.df-cross-node',
        from,
        to,
        expected: new RegExp(`^a reply to a ${mtu}-byte packet with DF set \\(`),
        seen: /^no reply \(exit 1\): ".*1 packets transmitted, 0 (packets )?received/s,
      });
    },
  },
];
