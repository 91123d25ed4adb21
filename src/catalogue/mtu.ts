// Layer "mtu": big packets survive between nodes. Each probe pod's MTU is read from the interface
// that holds its pod IP (reported as the run's pod MTU); a packet of exactly that MTU with DF set
// crosses to a pod on every other node, and one byte more is refused by the sender's own stack
// (not silently lost); a large HTTP body (known size and sha256) arrives whole pod → pod across
// nodes and through the ClusterIP. The negative control makes a path-MTU black hole on a live node.
import type { V1Pod } from '@kubernetes/client-node';
import { addrProbe, dfPingProbe, linkProbe, PAYLOAD, payloadProbe, type Iface } from '../probes/mtu.js';
import { httpProbe } from '../probes/http.js';
import type { ProbeOutput } from '../probes/batch.js';
import { verifyDfPing, verifyPayload, verifyPodMtu } from '../verdicts/mtu.js';
import { verifyPage, verifyServedBy } from '../verdicts/http.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import type { ProbeRef, RunEnv } from '../workload/setup.js';
import { label, runFanout } from '../workload/fanout.js';
import { mustFail } from './controls.js';
import type { CheckDef, Observations, ProbeAsk } from './types.js';
import { defined, eachPair, must, nodeAccess, pairLabel, podSources, podTarget, unlessManaged } from './common.js';
import type { NodeAccess } from '../cluster/connection.js';

const name = (p: V1Pod) => p.metadata!.name!;
const ip = (p: V1Pod) => p.status!.podIP!;
const probeTarget = (p: ProbeRef) => `pod ${p.namespace}/${p.pod} ${p.ip} on ${p.node}`;
const svcTarget = (env: RunEnv) => `my-nginx ${env.nginxServiceIP}:80${PAYLOAD.path}`;

/** Every pod source's address and link lists (the MTU of the interface holding its IP). */
const ifaceProbes = (env: RunEnv): ProbeAsk[] =>
  podSources(env).flatMap((from) => [
    { from, probe: addrProbe('mtu-addr') },
    { from, probe: linkProbe('mtu-link') },
  ]);

function ifaceOf(o: Observations, from: ProbeRef): Iface | CheckFailure {
  return verifyPodMtu('mtu.pod-interface', label(from), from.ip, o.out(from, 'mtu-addr'), o.out(from, 'mtu-link'));
}

/** The source's MTU, or a failure that stands for the pair's verdict. */
function mtuOf(o: Observations, from: ProbeRef): number | CheckFailure {
  const i = ifaceOf(o, from);
  return i instanceof CheckFailure ? i : i.mtu;
}

/** Probe pods on different nodes (one probe pod per node): every ordered pair. */
const crossProbePairs = (env: RunEnv): Array<[ProbeRef, ProbeRef]> =>
  env.probes.flatMap((f) => env.probes.filter((t) => t.node !== f.node).map((t) => [f, t] as [ProbeRef, ProbeRef]));
const crossNginxPairs = (env: RunEnv): Array<[ProbeRef, V1Pod]> =>
  env.probes.flatMap((f) => env.nginx.filter((t) => t.spec!.nodeName !== f.node).map((t) => [f, t] as [ProbeRef, V1Pod]));

const dfProbes = (env: RunEnv): ProbeAsk[] => [
  ...crossProbePairs(env).map(([from, to]) => ({ from, probe: dfPingProbe(`df-${to.pod}`, from.ip, to.ip) })),
  ...ifaceProbes(env),
];
const bigPodProbes = (env: RunEnv): ProbeAsk[] => crossNginxPairs(env).map(([from, to]) => ({ from, probe: payloadProbe(`big-${name(to)}`, ip(to), 80) }));
const bigSvcProbes = (env: RunEnv): ProbeAsk[] =>
  podSources(env).map((from) => ({ from, probe: payloadProbe('big-svc', env.nginxServiceIP, 80, PAYLOAD.path, 10, 4) }));

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
  const route = [`${client}/32`, ...(via ? ['via', via] : []), 'dev', dev, ...(via ? ['onlink'] : []), 'mtu', 'lock', String(BLACKHOLE_MTU)];
  const icmp = ['OUTPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-d', `${server}/32`, '-j', 'DROP'];
  const flush = () => sh(['sysctl', '-q', '-w', 'net.ipv4.route.flush=1']);
  await sh(['iptables', '-I', ...icmp.slice(0, 1), '1', ...icmp.slice(1)]);
  const undo: string[] = [];
  try {
    await sh(['ip', 'route', 'add', ...route]);
    try {
      await flush();
      return await body();
    } finally {
      await sh(['ip', 'route', 'del', `${client}/32`]).catch((e: Error) => undo.push(`ip route del ${client}/32: ${e.message}`));
      await flush().catch((e: Error) => undo.push(`route cache flush: ${e.message}`));
    }
  } finally {
    await sh(['iptables', '-D', ...icmp]).catch((e: Error) => undo.push(`iptables -D ${icmp.join(' ')}: ${e.message}`));
    // a black hole left on a node matters more than what the body threw: this error wins on purpose
    // eslint-disable-next-line no-unsafe-finally
    if (undo.length) throw new Error(`removing the black hole on node ${node} failed: ${undo.join('; ')}`);
  }
}

const blackHolePair = (env: RunEnv) => crossNginxPairs(env)[0];
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
    verify: (o) => {
      const seen = podSources(o.env).map((from) => [from, ifaceOf(o, from)] as const);
      throwAll(seen.map(([, i]) => i).filter((i): i is CheckFailure => i instanceof CheckFailure));
      return Object.fromEntries(seen.map(([f, i]) => [label(f), `${(i as Iface).dev} mtu ${(i as Iface).mtu}`]));
    },
    facts: (o) => {
      const mtus = Object.fromEntries(
        podSources(o.env)
          .map((f) => [`${f.namespace}/${f.pod}`, ifaceOf(o, f)])
          .filter(([, i]) => !(i instanceof CheckFailure))
          .map(([k, i]) => [k, (i as Iface).mtu]),
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
    verify: (o) =>
      eachPair(
        'mtu.df-cross-node',
        crossProbePairs(o.env),
        (from, to) => {
          const mtu = mtuOf(o, from);
          return mtu instanceof CheckFailure ? mtu : verifyDfPing('mtu.df-cross-node', label(from), probeTarget(to), o.out(from, `df-${to.pod}`), mtu);
        },
        (f, t) => `${pairLabel(f, probeTarget(t))}: mtu ${mtuOf(o, f)} with DF answered, mtu+1 refused locally`,
        'the cluster has a single node',
      ),
  },
  {
    id: 'mtu.payload-cross-node',
    title: `a ${PAYLOAD.bytes}-byte HTTP body arrives intact (size and sha256) pod → pod across nodes`,
    layer: 'mtu',
    tags: ['mtu', 'cross-node', 'payload'],
    from: 'probe pods',
    to: 'nginx on other nodes',
    probes: bigPodProbes,
    verify: (o) =>
      eachPair(
        'mtu.payload-cross-node',
        crossNginxPairs(o.env),
        (from, to) => verifyPayload('mtu.payload-cross-node', label(from), `${podTarget(to)}${PAYLOAD.path}`, o.out(from, `big-${name(to)}`), PAYLOAD),
        (f, t) => `${pairLabel(f, podTarget(t))}: ${PAYLOAD.bytes} bytes, sha256 ${PAYLOAD.sha256.slice(0, 16)}… in ${o.out(f, `big-${name(t)}`).durationMs}ms`,
        'the cluster has a single node',
      ),
  },
  {
    id: 'mtu.payload-cluster-ip',
    title: `a ${PAYLOAD.bytes}-byte HTTP body arrives intact (size and sha256) through the ClusterIP, from pods on every node and another namespace`,
    layer: 'mtu',
    tags: ['mtu', 'service', 'payload'],
    from: 'probe pods',
    to: 'svc/my-nginx',
    probes: bigSvcProbes,
    verify: (o) => {
      const sources = podSources(o.env);
      must(sources.length > 0, { check: 'mtu.payload-cluster-ip', from: 'the run', to: svcTarget(o.env), expected: 'probe pods', seen: 'none' });
      throwAll(sources.map((from) => verifyPayload('mtu.payload-cluster-ip', label(from), svcTarget(o.env), o.out(from, 'big-svc'), PAYLOAD)).filter(defined));
      return sources.map((f) => `${pairLabel(f, svcTarget(o.env))}: ${PAYLOAD.bytes} bytes intact in ${o.out(f, 'big-svc').durationMs}ms`);
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
    fault: "a path-MTU black hole on the nginx pod's node",
    gather: async ({ env }) => {
      const [from, to] = blackHolePair(env);
      const out = await withPmtuBlackHole(nodeAccess(env), to.spec!.nodeName!, from.ip, ip(to), () =>
        runFanout(env.kube, from, [
          payloadProbe('bh-big', ip(to), 80, PAYLOAD.path, 3),
          httpProbe('bh-page', ip(to), 80, '/'),
          httpProbe('bh-who', ip(to), 80, '/whoami'),
        ]),
      );
      return { from, to, big: out.get('bh-big')!, page: out.get('bh-page')!, who: out.get('bh-who')! };
    },
    verify: (o) => {
      const { from, to, big, page, who } = o.gathered as { from: ProbeRef; to: V1Pod; big: ProbeOutput; page: ProbeOutput; who: ProbeOutput };
      const target = `${podTarget(to)}${PAYLOAD.path}`;
      const where = { from: label(from), to: target };
      const large = mustFail(where, () => verifyPayload('mtu.payload-cross-node', label(from), target, big, PAYLOAD), {
        check: 'mtu.payload-cross-node',
        ...where,
        expected: `${PAYLOAD.bytes} bytes with sha256 ${PAYLOAD.sha256.slice(0, 16)}…`,
        seen: new RegExp(`^(timeout|failed) after \\d+ms: \\d+ of ${PAYLOAD.bytes} bytes arrived`),
      });
      const small = [
        verifyPage('pod-ip.cross-node', label(from), podTarget(to), page),
        verifyServedBy('pod-ip.cross-node', label(from), podTarget(to), name(to), who),
      ].filter(defined);
      must(small.length === 0, {
        check: 'negative-control',
        from: label(from),
        to: podTarget(to),
        expected: 'the small-page checks (welcome page, /whoami) to still pass under the black hole',
        seen: small.map((x) => x.message.split('\n')[0]).join('; '),
      });
      return { largePayload: large[0], smallPages: `welcome page and /whoami from ${name(to)} answered in ${page.durationMs}/${who.durationMs}ms` };
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
    probes: ifaceProbes,
    verify: (o) => {
      const [from, other] = o.env.probes;
      // the pod's real address and link lists, asked for the other pod's IP
      return mustFail(
        { from: label(from), to: other.ip },
        () => verifyPodMtu('mtu.pod-interface', label(from), other.ip, o.out(from, 'mtu-addr'), o.out(from, 'mtu-link')),
        {
          check: 'mtu.pod-interface',
          from: label(from),
          to: `its interface holding ${other.ip}`,
          expected: 'an interface holding the pod IP, with an MTU of at least 576',
          seen: new RegExp(`^no interface holds it \\(ip addr exit 0: ".*${esc(from.ip)}.*"; ip link exit 0\\)$`),
        },
      );
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
    probes: ifaceProbes,
    fault: "a path-MTU black hole on the sender's node",
    gather: async ({ env }) => {
      const [from, to] = dfPair(env);
      // the echo request is forwarded by the sender's own node: the black hole sits there, towards the target pod
      const out = await withPmtuBlackHole(nodeAccess(env), from.node, to.ip, from.ip, () => runFanout(env.kube, from, [dfPingProbe('bh-df', from.ip, to.ip)]));
      return { from, to, out: out.get('bh-df')! };
    },
    verify: (o) => {
      const { from, to, out } = o.gathered as { from: ProbeRef; to: ProbeRef; out: ProbeOutput };
      const mtu = mtuOf(o, from);
      if (mtu instanceof CheckFailure) throw mtu;
      return mustFail({ from: label(from), to: probeTarget(to) }, () => verifyDfPing('mtu.df-cross-node', label(from), probeTarget(to), out, mtu), {
        check: 'mtu.df-cross-node',
        from: label(from),
        to: probeTarget(to),
        expected: new RegExp(`^a reply to a ${mtu}-byte packet with DF set \\(`),
        seen: /^no reply \(exit 1\): ".*1 packets transmitted, 0 (packets )?received/s,
      });
    },
  },
];
