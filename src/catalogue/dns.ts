// Layers "coredns" (the DNS Service and its pods) and "dns" (what pods get from it): resolv.conf,
// the name-form matrix (svc, svc.ns, svc.ns.svc, svc.ns.svc.<domain>) from the Service's own and
// another namespace over UDP, TCP and libc, PTR, headless A records and SRV. The cluster domain
// and the nameserver pods use are discovered (a NodeLocal DNSCache address is recognised).
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  aRecords,
  digProbe,
  dnsHoldProbe,
  getentProbe,
  nslookupProbe,
  parseDig,
  parseDnsHold,
  parseGetent,
  parseNslookup,
  parseResolvConf,
  parseSuffixAsks,
  records,
  suffixProbe,
} from '../probes/dns.js';
import type { ProbeOutput } from '../probes/batch.js';
import { addressType, buildMatrix, cellType, verifyDig, verifyGetent, verifyResolvConf, type DnsCell } from '../verdicts/dns-matrix.js';
import { dnsHoldVerdict, type HoldWant } from '../verdicts/dns-hold.js';
import { mustFail } from './controls.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { clusterDnsServers } from '../cluster/facts.js';
import { isReady, listPods } from '../workload/pods.js';
import { WORKLOAD, type ProbeRef, type RunEnv } from '../workload/setup.js';
import type { DnsRow } from './matrices.js';
import { label, runFanout } from '../workload/fanout.js';
import type { Answer, CheckDef, Observations, ProbeAsk } from './types.js';
import { defined, must, nodeAccess, unlessManaged } from './common.js';
import { hostCidr, hostPort, isIPv4, isIPv6, unusedAddress } from '../util/cidr.js';
import type { NodeAccess } from '../cluster/connection.js';

const domain = (env: RunEnv) => env.facts.clusterDomain;
const fqdn = (env: RunEnv, svc: string, ns: string) => `${svc}.${ns}.svc.${domain(env)}`;
const servers = (env: RunEnv) => clusterDnsServers(env.facts);
/** The cluster DNS Service as found from the pods' nameserver (src/cluster/dns-service.ts), whatever its name and namespace. */
export const dnsSvc = (env: RunEnv): { namespace: string; name: string } => env.facts.dnsService ?? { namespace: 'kube-system', name: 'kube-dns' };
const dnsSvcName = (env: RunEnv) => `${dnsSvc(env).namespace}/${dnsSvc(env).name}`;
/**
 * Who asks the name-form matrix: the probe pod on EVERY probed node (the workload namespace's half
 * of the matrix: a node whose Service rules for :53 are broken fails, named) and the other
 * namespace's probe (its half).
 */
export const dnsAskers = (env: RunEnv): ProbeRef[] => [...env.probes, env.otherProbe];
/** The asker of the single-pod DNS probes (PTR, NXDOMAIN, headless): the workload namespace's probe on the other probe's node. */
const firstAsker = (env: RunEnv): ProbeRef => env.probes.find((p) => p.node === env.otherProbe.node) ?? env.probes[0];

export type Via = 'udp' | 'tcp' | 'libc' | 'bb';
/** What a matrix ask expects, as data: its cell (name, form, expected answer) and how it is asked. */
export interface DnsExpect {
  via: Via;
  cell: DnsCell;
}
export type DnsAsk = ProbeAsk<DnsExpect>;

/** The matrix cells (my-nginx and kube-dns, the four name forms, asked from each namespace). */
export function matrixCells(env: RunEnv): DnsCell[] {
  return buildMatrix(
    [
      { service: WORKLOAD.service, namespace: env.workloadNs, clusterIP: env.nginxServiceIP },
      { service: dnsSvc(env).name, namespace: dnsSvc(env).namespace, clusterIP: env.facts.dnsServiceIP },
    ],
    [env.workloadNs, env.otherNs],
    domain(env),
  );
}

/** A cell asked in its Service's family: A / getent ahostsv4 for an IPv4 ClusterIP, AAAA / getent ahostsv6 for an IPv6 one. */
const probeFor = (via: Via, c: DnsCell) =>
  c.suffixes && via !== 'bb'
    ? suffixProbe(`${via}-${c.id}`, c.name, c.suffixes, via === 'libc' ? 'libc' : via, cellType(c))
    : via === 'libc'
      ? getentProbe(`libc-${c.id}`, c.name, 6, familyOfType(cellType(c)))
      : via === 'bb'
        ? nslookupProbe(`bb-${c.id}`, c.name)
        : digProbe(`${via}-${c.id}`, c.name, { search: true, transport: via, type: cellType(c) });
const familyOfType = (t: 'A' | 'AAAA') => (t === 'AAAA' ? 'IPv6' : 'IPv4');

/** Every asker's cells (its own namespace's) asked over `via` (busybox: the fully qualified forms only). */
export function matrixAsks(env: RunEnv, via: Via): DnsAsk[] {
  const cells = matrixCells(env).filter((c) => via !== 'bb' || c.form === 'svc.ns.svc.domain');
  // busybox is informational (its search-path handling is not trusted): one pod per namespace
  const askers = via === 'bb' ? [firstAsker(env), env.otherProbe] : dnsAskers(env);
  return askers.flatMap((from) =>
    cells.filter((c) => c.fromNamespace === from.namespace).map((cell) => ({ from, to: cell.name, probe: probeFor(via, cell), expect: { via, cell } })),
  );
}

/** One matrix answer judged (dig over UDP/TCP, libc, busybox on FQDNs), the failure naming the asking pod and its node. */
export function judgeDns(check: string, a: Answer<DnsExpect>, dnsServers: string[]): CheckFailure | undefined {
  const { via, cell } = a.ask.expect!;
  const by = { check, from: label(a.ask.from) };
  if (cell.suffixes && via !== 'bb') return judgeSuffixes(check, a, dnsServers);
  if (via === 'libc') return verifyGetent(cell, parseGetent(a.out.output, a.out.exitCode), a.out.command, by);
  if (via === 'bb') {
    const r = parseNslookup(a.out.output);
    const want = (cell.expect as { answer: string }).answer;
    return r.addresses.includes(want)
      ? undefined
      : new CheckFailure({
          check,
          from: `${by.from} (busybox nslookup)`,
          to: cell.name,
          expected: `address ${want}`,
          seen: JSON.stringify(r),
          command: a.out.command,
        });
  }
  return verifyDig(cell, parseDig(a.out.output), dnsServers, `dig ${via}`, a.out.command, by);
}

/**
 * The bare name across namespaces, asked under each search suffix as an absolute name: every one
 * NXDOMAIN (dig: from the cluster DNS; libc: not found), and every suffix asked.
 */
function judgeSuffixes(check: string, a: Answer<DnsExpect>, dnsServers: string[]): CheckFailure | undefined {
  const { via, cell } = a.ask.expect!;
  const blocks = parseSuffixAsks(a.out.output);
  const want = cell.suffixes!.map((x) => `${cell.name}.${x}.`);
  const from = label(a.ask.from);
  if (blocks.map((b) => b.name).join() !== want.join())
    return new CheckFailure({
      check,
      from: `${from} (${via})`,
      to: cell.name,
      expected: `${cell.name} asked under each search suffix: ${want.join(', ')}`,
      seen: blocks.length ? `asked ${blocks.map((b) => b.name).join(', ')}` : `no answer (exit ${a.out.exitCode}): ${a.out.output.trim().slice(0, 160)}`,
      command: a.out.command,
    });
  for (const b of blocks) {
    const one: DnsCell = { ...cell, name: b.name, suffixes: undefined };
    const f =
      via === 'libc'
        ? verifyGetent(one, parseGetent(b.output, b.exitCode), a.out.command, { check, from })
        : verifyDig(one, parseDig(b.output), dnsServers, `dig ${via}`, a.out.command, { check, from });
    if (f) return f;
  }
  return undefined;
}

const gotText = (a: Answer<DnsExpect>) => {
  if (a.ask.expect!.cell.suffixes && a.ask.expect!.via !== 'bb') {
    const libc = a.ask.expect!.via === 'libc';
    return parseSuffixAsks(a.out.output)
      .map((b) => {
        if (!libc) return parseDig(b.output).status;
        const g = parseGetent(b.output, b.exitCode);
        return g.found ? g.addresses.join(',') : g.notFound ? 'not found' : 'no answer';
      })
      .join(' / ');
  }
  if (a.ask.expect!.via === 'libc') {
    const g = parseGetent(a.out.output, a.out.exitCode);
    return g.found ? g.addresses.join(',') : g.notFound ? 'not found' : 'no answer';
  }
  if (a.ask.expect!.via === 'bb') return parseNslookup(a.out.output).addresses.join(',') || 'no address';
  const d = parseDig(a.out.output);
  return d.status === 'NOERROR' ? [...aRecords(d), ...records(d, 'AAAA')].join(',') : d.status;
};

/**
 * The verdict of a matrix check over its (ask, output) pairs: every answer as expected, and every
 * probed node asked (a node without its probe pod is a gap, never a pass).
 */
export function judgeMatrix(check: string, env: RunEnv, answers: Answer<DnsExpect>[], everyNode = true) {
  const asked = new Set(answers.filter((a) => a.ask.from.namespace === env.workloadNs).map((a) => a.ask.from.node));
  const missing = everyNode ? env.nodes.map((n) => n.name).filter((n) => !asked.has(n)) : [];
  must(answers.length > 0 && !missing.length, {
    check,
    from: 'the run',
    to: 'a probe pod on every node',
    expected: `the matrix asked from every one of the ${env.nodes.length} probed nodes`,
    seen: answers.length ? `never asked from ${missing.join(', ')}` : 'no asks',
  });
  throwAll(answers.map((a) => judgeDns(check, a, servers(env))).filter(defined));
  // each ask is one lookup (dig's or libc's): the requests the verdict judged
  return {
    nodes: [...asked],
    requests: answers.length,
    answers: answers.length,
    asked: answers.map((a) => `${a.ask.from.node} ${a.ask.from.namespace}: ${a.ask.to} -> ${gotText(a)}`),
  };
}

/** The grid: every asker × cell × transport the phase asked (whichever checks planned the probes). */
function dnsRows(o: Observations): { dns: DnsRow[] } {
  const rows: DnsRow[] = [];
  for (const via of ['udp', 'tcp', 'libc'] as const) {
    for (const ask of matrixAsks(o.env, via)) {
      let out: ProbeOutput;
      try {
        out = o.out(ask.from, ask.probe.id);
      } catch {
        continue; // not asked in this selection
      }
      const c = ask.expect!.cell;
      const a = { ask, out };
      rows.push({
        fromNamespace: c.fromNamespace,
        fromNode: ask.from.node,
        service: c.target.service,
        form: c.form,
        name: c.name,
        via,
        expected: c.expect === 'NXDOMAIN' ? 'NXDOMAIN' : c.expect.answer,
        got: gotText(a),
        ok: !judgeDns('matrix', a, servers(o.env)),
      });
    }
  }
  return { dns: rows };
}

function matrixCheck(transport: 'udp' | 'tcp'): CheckDef {
  return {
    id: `dns.matrix-${transport}`,
    phase: 'cluster',
    title: `name-form matrix over ${transport.toUpperCase()} (dig +search) from a pod on every node: ClusterIP or NXDOMAIN as expected, answered by the cluster DNS`,
    layer: 'dns',
    tags: ['dns', 'matrix', transport],
    from: 'a pod on every node, both namespaces',
    to: 'my-nginx, kube-dns',
    probes: (env) => matrixAsks(env, transport),
    matrix: dnsRows,
    verify: (o) => judgeMatrix(`dns.matrix-${transport}`, o.env, o.answers<DnsExpect>()),
  };
}

/** PTR asks (the cluster phase: nothing the Service changes touch): each ClusterIP and the Service FQDN its PTR must give. */
const ptrAsks = (env: RunEnv): Array<ProbeAsk<{ ptr: string }>> => {
  const from = firstAsker(env);
  const dnsIP = env.facts.dnsServiceIP;
  return [
    {
      from,
      to: env.nginxServiceIP,
      probe: digProbe('ptr-nginx', env.nginxServiceIP, { type: 'PTR', server: dnsIP }),
      expect: { ptr: `${fqdn(env, WORKLOAD.service, env.workloadNs)}.` },
    },
    {
      from,
      to: dnsIP,
      probe: digProbe('ptr-dns', dnsIP, { type: 'PTR', server: dnsIP }),
      expect: { ptr: `${fqdn(env, dnsSvc(env).name, dnsSvc(env).namespace)}.` },
    },
  ];
};

/** A name that does not exist, asked over dig and libc, with the (wrong) expectation that it resolves to my-nginx's ClusterIP. */
const nxAsks = (env: RunEnv): DnsAsk[] => {
  const from = firstAsker(env);
  const name = `no-such-service.${env.workloadNs}`;
  const cell: DnsCell = {
    id: 'nx',
    name,
    form: 'svc.ns',
    fromNamespace: from.namespace,
    target: { service: 'no-such-service', namespace: env.workloadNs, clusterIP: env.nginxServiceIP },
    expect: { answer: env.nginxServiceIP },
  };
  return [
    { from, to: name, probe: digProbe('nx', name, { search: true, type: cellType(cell) }), expect: { via: 'udp', cell } },
    { from, to: name, probe: getentProbe('nx-libc', name, 6, familyOfType(cellType(cell))), expect: { via: 'libc', cell } },
  ];
};

/** The addresses pods send DNS to: the DNS Service's ClusterIP and the nameserver pods are given (a NodeLocal DNSCache), once each. */
const serviceVia = (env: RunEnv) => [...new Set([env.facts.dnsServiceIP, env.facts.podNameserver].filter((x): x is string => !!x))];
const HOLD_ROUNDS = 3;

/** What the strict headless probes expect: the name, the record type and the records. */
interface HoldExpect {
  name: string;
  type: 'A' | 'AAAA' | 'SRV';
  /** The DNS server pods asked one by one, and the Service addresses. */
  servers: string[];
  via: string[];
  want: HoldWant;
}

/**
 * The headless Service's A and SRV records (the steady phase: one per nginx pod Ready at setup):
 * each DNS server pod is waited for (bounded) until it serves them, then every answer of the hold
 * counts — no asking again until the count looks right.
 */
export function headlessAsks(env: RunEnv): Array<ProbeAsk<HoldExpect>> {
  const from = firstAsker(env);
  const ns = env.workloadNs;
  const name = fqdn(env, WORKLOAD.headless, ns);
  const ips = env.nginx
    .filter(isReady)
    .map((p) => p.status!.podIP!)
    .sort();
  const dnsPods = env.dnsPods.map((p) => p.ip);
  const via = serviceVia(env);
  const srvRe = new RegExp(`^\\d+ \\d+ 80 \\S+\\.${esc(WORKLOAD.headless)}\\.${esc(ns)}\\.svc\\.${esc(domain(env))}\\.$`);
  // the pods' primary addresses: A records on IPv4 (and dual-stack IPv4-first) clusters, AAAA on IPv6 ones
  const type = addressType(ips[0] ?? env.nginxServiceIP);
  const a: HoldExpect = {
    name,
    type,
    servers: dnsPods,
    via,
    want: { type, n: ips.length, exact: ips, what: `${type} {${ips.join(', ')}} (one per Ready pod)` },
  };
  const srv: HoldExpect = {
    name: `_http._tcp.${name}`,
    type: 'SRV',
    servers: dnsPods,
    via,
    want: {
      type: 'SRV',
      n: ips.length,
      test: (r) => srvRe.test(r),
      what: `${ips.length} SRV "<prio> <weight> 80 <pod>.${WORKLOAD.headless}.${ns}.svc.${domain(env)}."`,
    },
  };
  return [
    { from, to: a.name, probe: dnsHoldProbe('headless', a.name, type, a.want.n, a.servers, via, { rounds: HOLD_ROUNDS }), expect: a },
    { from, to: srv.name, probe: dnsHoldProbe('srv', srv.name, 'SRV', srv.want.n, srv.servers, via, { rounds: HOLD_ROUNDS }), expect: srv },
  ];
}

/** The strict verdict of one headless ask (wait per server pod, then the hold). */
export function judgeHold(check: string, a: Answer<HoldExpect>) {
  const e = a.ask.expect!;
  must(e.want.n > 0, { check, from: 'the API', to: 'run=my-nginx', expected: 'at least one Ready nginx pod at setup', seen: 'none' });
  const { failures, evidence } = dnsHoldVerdict(
    check,
    label(a.ask.from),
    e.name,
    parseDnsHold(a.out.output),
    e.servers,
    e.via,
    HOLD_ROUNDS,
    e.want,
    a.out.command,
  );
  throwAll(failures);
  return evidence;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const DNS_CHECKS: CheckDef[] = [
  {
    id: 'coredns.service',
    phase: 'cluster',
    title: "the cluster DNS Service (the one behind the pods' nameserver) has a ClusterIP, 53/UDP and 53/TCP, and its Endpoints are exactly its Ready DNS pods",
    layer: 'coredns',
    tags: ['dns', 'coredns'],
    from: 'api',
    to: 'the cluster DNS Service (kube-system/kube-dns on kubeadm clusters)',
    gather: async ({ env }) => {
      const [svc, eps] = await Promise.all([
        env.kube.core.readNamespacedService(dnsSvc(env)),
        env.kube.core.readNamespacedEndpoints(dnsSvc(env)).catch(() => undefined),
      ]);
      const pods = env.facts.dnsSelector ? await listPods(env.kube, dnsSvc(env).namespace, env.facts.dnsSelector) : [];
      return { svc, eps, pods };
    },
    verify: (o) => {
      const { svc, eps, pods } = o.gathered as { svc: V1Service; eps?: V1Endpoints; pods: V1Pod[] };
      const f = (expected: string, seen: string) => new CheckFailure({ check: 'coredns.service', from: 'the API', to: dnsSvcName(o.env), expected, seen });
      const ports = (svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).sort();
      const ready = pods.filter(isReady);
      const want = ready.map((p) => `${p.status!.podIP}:53`).sort();
      const have = [
        ...new Set(
          (eps?.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).filter((p) => p.port === 53).map(() => `${a.ip}:53`))),
        ),
      ].sort();
      throwAll(
        [
          isIPv4(svc.spec?.clusterIP ?? '') || isIPv6(svc.spec?.clusterIP ?? '') ? undefined : f('a ClusterIP', svc.spec?.clusterIP ?? 'none'),
          ports.includes('53/UDP') && ports.includes('53/TCP') ? undefined : f('ports 53/UDP and 53/TCP', ports.join(', ') || 'none'),
          ready.length > 0
            ? undefined
            : f(`Ready DNS pods (selector ${o.env.facts.dnsSelector || 'none'})`, pods.length ? `${pods.length} pods, none Ready` : 'no pods'),
          want.join() === have.join() ? undefined : f(`Endpoints = Ready DNS pods {${want.join(', ')}}`, `{${have.join(', ')}}`),
        ].filter(defined),
      );
      return {
        service: dnsSvcName(o.env),
        found: o.env.facts.dnsService?.how,
        clusterIP: svc.spec!.clusterIP,
        ports,
        readyPods: ready.map((p) => `${p.metadata!.name} ${p.status!.podIP}`),
        endpoints: have,
        podNameserver: o.env.facts.podNameserver,
      };
    },
  },
  {
    id: 'dns.resolv-conf',
    phase: 'cluster',
    title: 'a pod resolv.conf (a pod on every node, both namespaces): the cluster DNS as nameserver, <ns>.svc/svc/<domain> search path, ndots:5',
    layer: 'dns',
    tags: ['dns', 'resolv.conf'],
    from: 'probe pods',
    to: '/etc/resolv.conf',
    probes: (env) => dnsAskers(env).map((from) => ({ from, to: '/etc/resolv.conf', probe: RESOLV, expect: { namespace: from.namespace } })),
    verify: (o) => {
      const as = o.answers<{ namespace: string }>();
      must(as.length > 0, { check: 'dns.resolv-conf', from: 'the run', to: 'probe pods', expected: 'resolv.conf of at least one pod', seen: 'no asks' });
      throwAll(
        as
          .map((a) =>
            verifyResolvConf(label(a.ask.from), a.ask.expect!.namespace, domain(o.env), servers(o.env), parseResolvConf(a.out.output), 'dns.resolv-conf'),
          )
          .filter(defined),
      );
      const nodeLocal = o.env.facts.podNameserver && o.env.facts.podNameserver !== o.env.facts.dnsServiceIP;
      return {
        domain: `${domain(o.env)} (from ${o.env.facts.sources.clusterDomain})`,
        nameserver: nodeLocal
          ? `${o.env.facts.podNameserver} (NodeLocal DNSCache, in front of ${dnsSvcName(o.env)} ${o.env.facts.dnsServiceIP})`
          : o.env.facts.dnsServiceIP,
        pods: as.map((a) => label(a.ask.from)),
        file: as[0].out.output,
      };
    },
  },
  matrixCheck('udp'),
  matrixCheck('tcp'),
  {
    id: 'dns.matrix-libc',
    phase: 'cluster',
    title: 'name-form matrix as applications resolve (libc getent: search path + ndots) from a pod on every node',
    layer: 'dns',
    tags: ['dns', 'matrix', 'libc'],
    from: 'a pod on every node, both namespaces',
    to: 'my-nginx, kube-dns',
    probes: (env) => matrixAsks(env, 'libc'),
    matrix: dnsRows,
    verify: (o) => judgeMatrix('dns.matrix-libc', o.env, o.answers<DnsExpect>()),
  },
  {
    id: 'dns.busybox',
    phase: 'cluster',
    title: 'busybox nslookup agrees on fully qualified names (its search-path handling is not trusted)',
    layer: 'dns',
    tags: ['dns', 'busybox'],
    from: 'both namespaces',
    to: 'FQDN forms',
    probes: (env) => matrixAsks(env, 'bb'),
    verify: (o) => judgeMatrix('dns.busybox', o.env, o.answers<DnsExpect>(), false),
  },
  {
    id: 'dns.ptr',
    phase: 'cluster',
    title: 'PTR of each ClusterIP gives the Service FQDN',
    layer: 'dns',
    tags: ['dns', 'ptr'],
    from: 'probe pod',
    to: 'ClusterIPs',
    probes: ptrAsks,
    verify: (o) => {
      const as = o.answers<{ ptr: string }>();
      must(as.length > 0, { check: 'dns.ptr', from: 'the run', to: 'ClusterIPs', expected: 'PTR asks', seen: 'none' });
      const got = as.map((a) => ({ a, ptr: records(parseDig(a.out.output), 'PTR') }));
      throwAll(
        got
          .map(({ a, ptr }) =>
            ptr.join() === a.ask.expect!.ptr
              ? undefined
              : new CheckFailure({
                  check: 'dns.ptr',
                  from: label(a.ask.from),
                  to: a.ask.to!,
                  expected: `PTR ${a.ask.expect!.ptr}`,
                  seen: `[${ptr.join(', ')}]`,
                  command: a.out.command,
                }),
          )
          .filter(defined),
      );
      return Object.fromEntries(got.map(({ a, ptr }) => [a.ask.to!, ptr]));
    },
  },
  {
    id: 'dns.headless',
    title: 'headless Service: every DNS server pod, then every answer of a hold, NOERROR with one A record per Ready pod',
    layer: 'dns',
    tags: ['dns', 'headless', 'extended'],
    from: 'probe pod',
    to: 'my-nginx-headless',
    probes: (env) => headlessAsks(env).filter((a) => a.expect!.type !== 'SRV'),
    verify: (o) => o.answers<HoldExpect>().map((a) => ({ name: a.ask.to, ...judgeHold('dns.headless', a) })),
  },
  {
    id: 'dns.srv',
    title: 'SRV _http._tcp answers for the named port (headless: every DNS server pod, then every answer of a hold, one per Ready pod; ClusterIP: the Service)',
    layer: 'dns',
    tags: ['dns', 'srv', 'extended'],
    from: 'probe pod',
    to: '_http._tcp',
    probes: (env) => [
      ...headlessAsks(env).filter((a) => a.expect!.type === 'SRV'),
      {
        from: firstAsker(env),
        to: `_http._tcp.${fqdn(env, WORKLOAD.service, env.workloadNs)}`,
        probe: digProbe('srv-clusterip', `_http._tcp.${fqdn(env, WORKLOAD.service, env.workloadNs)}`, { type: 'SRV', server: env.facts.dnsServiceIP }),
      },
    ],
    verify: (o) => {
      const [headless, clusterIP] = o.answers<HoldExpect>();
      const ns = o.env.workloadNs;
      const held = (() => {
        try {
          return { ok: judgeHold('dns.srv', headless) };
        } catch (err) {
          return { err };
        }
      })();
      const srv = records(parseDig(clusterIP.out.output), 'SRV');
      const okClusterIP = srv.length === 1 && new RegExp(`^\\d+ \\d+ 80 ${esc(WORKLOAD.service)}\\.${esc(ns)}\\.svc\\.${esc(domain(o.env))}\\.$`).test(srv[0]);
      const fs = [
        ...('err' in held ? failuresOfError(held.err) : []),
        okClusterIP
          ? undefined
          : new CheckFailure({
              check: 'dns.srv',
              from: label(clusterIP.ask.from),
              to: clusterIP.ask.to!,
              expected: `one record "<prio> <weight> 80 ${fqdn(o.env, WORKLOAD.service, ns)}."`,
              seen: `[${srv.join('; ')}]`,
              command: clusterIP.out.command,
            }),
      ].filter(defined);
      throwAll(fs);
      return { headless: held.ok, clusterIP: srv };
    },
  },
  {
    id: 'dns.dnat.negative',
    phase: 'cluster',
    title: "negative control: the name-form matrix fails, naming the node, when one node sends its pods' DNS to an address no DNS server holds",
    layer: 'dns',
    tags: ['dns', 'negative-control'],
    controls: 'dns.matrix-udp',
    controlKind: 'live',
    from: 'live cluster',
    to: "one node's DNAT for :53 broken",
    notApplicable: (env) =>
      unlessManaged("changing a node's iptables")(env) ??
      (env.facts.podSubnets.length || env.facts.nodes.some((n) => n.podCIDRs.length) ? undefined : 'the pod range is not discoverable on this cluster'),
    fault: "one node rewrites its probe pod's DNS (UDP and TCP :53 to the nameserver pods use) to a pod-range address nobody holds",
    gather: async ({ env }) => {
      const from = env.probes.find((p) => p.node === env.otherProbe.node) ?? env.probes[0];
      // the fully qualified my-nginx name over UDP, TCP and libc from that node's probe pod
      const asks = (['udp', 'tcp', 'libc'] as const)
        .flatMap((via) => matrixAsks(env, via))
        .filter((a) => a.from === from && a.expect!.cell.form === 'svc.ns.svc.domain' && a.expect!.cell.target.service === WORKLOAD.service)
        // libc gives up on its own only after resolv.conf's timeouts: 3 s bound it (dig's are 2 s)
        .map((a) => (a.expect!.via === 'libc' ? { ...a, probe: getentProbe(a.probe.id, a.expect!.cell.name, 3, familyOfType(cellType(a.expect!.cell))) } : a));
      // the pods of now, not of setup: the NetworkPolicy lane makes pods beside this phase (seen: its
      // matrix pod got the address setup had found free, and answered the DNAT with a refusal)
      const live = (await env.kube.core.listPodForAllNamespaces()).items.flatMap((p) => (p.status?.podIPs ?? []).map((x) => x.ip));
      const nowhere = unheldNear(env, from.node, [...env.podIPs, ...live]);
      const outs = await withDnsDnat(nodeAccess(env), from, env.facts.podNameserver || env.facts.dnsServiceIP, nowhere, () =>
        runFanout(
          env.kube,
          from,
          asks.map((a) => a.probe),
        ),
      );
      return { nowhere, answers: asks.map((ask) => ({ ask, out: outs.get(ask.probe.id)! })) };
    },
    verify: (o) => {
      const { nowhere, answers } = o.gathered as { nowhere: string; answers: Array<Answer<DnsExpect>> };
      const from = label(answers[0].ask.from);
      const where = { from, to: `DNS via ${o.env.facts.podNameserver || o.env.facts.dnsServiceIP} rewritten to ${nowhere}` };
      const byVia = (via: Via) => answers.filter((a) => a.ask.expect!.via === via);
      // every transport fails, each from that node's pod, with no answer at all (not a wrong one)
      return {
        udp: mustFail(
          where,
          () =>
            byVia('udp')
              .map((a) => judgeDns('dns.matrix-udp', a, servers(o.env)))
              .filter(defined),
          { check: 'dns.matrix-udp', from: `${from} (dig udp)`, seen: /^(TIMEOUT|NO-SERVER) \[\] from server -$/ },
        ),
        tcp: mustFail(
          where,
          () =>
            byVia('tcp')
              .map((a) => judgeDns('dns.matrix-tcp', a, servers(o.env)))
              .filter(defined),
          { check: 'dns.matrix-tcp', from: `${from} (dig tcp)`, seen: /^(TIMEOUT|NO-SERVER|REFUSED-CONNECTION) \[\] from server -$/ },
        ),
        libc: mustFail(
          where,
          () =>
            byVia('libc')
              .map((a) => judgeDns('dns.matrix-libc', a, servers(o.env)))
              .filter(defined),
          { check: 'dns.matrix-libc', from: `${from} (getent/libc)`, seen: /^no answer|^not found$/ },
        ),
      };
    },
  },
  {
    id: 'dns.nx.negative',
    phase: 'cluster',
    title: 'verdict self-test: the resolution verdict fails for a name that does not exist (dig and libc, asked live)',
    layer: 'dns',
    tags: ['dns', 'negative-control', 'verdict-self-test'],
    controls: 'dns.matrix-udp',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a missing name',
    probes: nxAsks,
    verify: (o) => {
      const [dig, libc] = o.answers<DnsExpect>();
      const { cell } = dig.ask.expect!;
      const from = label(dig.ask.from);
      const where = { from, to: cell.name };
      return {
        dig: mustFail(where, () => judgeDns('dns.matrix-udp', dig, servers(o.env)), {
          check: 'dns.matrix-udp',
          from: `${from} (dig udp)`,
          to: cell.name,
          expected: `${addressType(o.env.nginxServiceIP)} ${o.env.nginxServiceIP}`,
          seen: /^NXDOMAIN \[\] from server /,
        }),
        libc: mustFail(where, () => judgeDns('dns.matrix-libc', libc, servers(o.env)), {
          check: 'dns.matrix-libc',
          from: `${from} (getent/libc)`,
          to: cell.name,
          seen: 'not found',
        }),
      };
    },
  },
  {
    id: 'dns.bare-cross-ns.negative',
    phase: 'cluster',
    title: 'verdict self-test: the bare name across namespaces really is NXDOMAIN, so expecting the ClusterIP there fails',
    layer: 'dns',
    tags: ['dns', 'negative-control', 'verdict-self-test'],
    controls: 'dns.matrix-udp',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a wrong expectation',
    probes: (env) =>
      matrixAsks(env, 'udp').filter(
        (a) =>
          a.from === env.otherProbe &&
          a.expect!.cell.form === 'svc' &&
          a.expect!.cell.expect === 'NXDOMAIN' &&
          a.expect!.cell.target.service === WORKLOAD.service,
      ),
    verify: (o) => {
      const [a] = o.answers<DnsExpect>();
      const bare = a.ask.expect!.cell;
      const wrong: Answer<DnsExpect> = { ask: { ...a.ask, expect: { via: 'udp', cell: { ...bare, expect: { answer: bare.target.clusterIP } } } }, out: a.out };
      // the bare name is asked under each search suffix: the first (the asking pod's own namespace) is where a wrong answer would show
      return mustFail({ from: label(a.ask.from), to: bare.name }, () => judgeDns('dns.matrix-udp', wrong, servers(o.env)), {
        check: 'dns.matrix-udp',
        to: bare.suffixes?.length ? `${bare.name}.${bare.suffixes[0]}.` : bare.name,
        expected: `${addressType(bare.target.clusterIP)} ${bare.target.clusterIP}`,
        seen: /^NXDOMAIN \[\] from server /,
      });
    },
  },
  {
    id: 'dns.resolv-conf.negative',
    phase: 'cluster',
    title: 'verdict self-test: the resolv.conf verdict fails for a pod that does not use cluster DNS (hostNetwork, dnsPolicy Default)',
    layer: 'dns',
    tags: ['node-view', 'dns', 'negative-control', 'verdict-self-test'],
    controls: 'dns.resolv-conf',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a node view resolv.conf',
    probes: (env) => [{ from: env.nodeViews[0], to: '/etc/resolv.conf', probe: RESOLV }],
    verify: (o) => {
      const [a] = o.answers();
      const v = a.ask.from;
      return mustFail(
        { from: label(v), to: '/etc/resolv.conf' },
        () => verifyResolvConf(label(v), o.env.workloadNs, domain(o.env), servers(o.env), parseResolvConf(a.out.output), 'dns.resolv-conf'),
        {
          check: 'dns.resolv-conf',
          from: label(v),
          to: '/etc/resolv.conf',
          expected: /^nameserver /,
          seen: /^nameserver /,
        },
      );
    },
  },
];

const RESOLV = { id: 'resolv', argv: ['cat', '/etc/resolv.conf'] };

const failuresOfError = (err: unknown): CheckFailure[] => {
  if (err instanceof CheckFailure) return [err];
  const many = (err as { failures?: CheckFailure[] }).failures;
  if (many) return many;
  throw err;
};

/** The top free address of the node's own pod range: DNS sent there stays on the node and is answered by nobody. */
function unheldNear(env: RunEnv, node: string, held: Iterable<string>): string {
  const range = env.facts.nodes.find((n) => n.name === node)?.podCIDRs[0] ?? env.facts.podSubnets[0];
  return unusedAddress(range, held);
}

/**
 * The DNS DNAT fault on one node (managed kind clusters: the node's container): the node rewrites
 * its probe pod's DNS (UDP and TCP to `server`:53) to `nowhere`:53 ahead of the Service rules,
 * so that node's pods get no DNS while every other node is untouched; removed in `finally`.
 */
async function withDnsDnat<T>(nodes: NodeAccess, from: ProbeRef, server: string, nowhere: string, body: () => Promise<T>): Promise<T> {
  const rule = (op: string, proto: string) => [
    op,
    'PREROUTING',
    ...(op === '-I' ? ['1'] : []),
    '-s',
    hostCidr(from.ip),
    '-d',
    hostCidr(server),
    '-p',
    proto,
    '--dport',
    '53',
    '-j',
    'DNAT',
    '--to-destination',
    hostPort(nowhere, 53),
  ];
  // the pod's own family's table: ip6tables on an IPv6 cluster
  const ipt = (args: string[]) => nodes.exec(from.node, [isIPv6(server) ? 'ip6tables' : 'iptables', '-t', 'nat', ...args]);
  const inserted: string[] = [];
  try {
    for (const proto of ['udp', 'tcp']) {
      await ipt(rule('-I', proto));
      inserted.push(proto);
    }
    return await body();
  } finally {
    // every rule that went in comes out (a failed removal fails the control loudly)
    for (const proto of inserted) await ipt(rule('-D', proto));
  }
}

export { esc };
