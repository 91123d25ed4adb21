// Layers "coredns" (the DNS Service and its pods) and "dns" (what pods get from it): resolv.conf,
// the name-form matrix (svc, svc.ns, svc.ns.svc, svc.ns.svc.<domain>) from the Service's own and
// another namespace over UDP, TCP and libc, PTR, headless A records and SRV. The cluster domain
// and the nameserver pods use are discovered (a NodeLocal DNSCache address is recognised).
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { retrying } from '../probes/http.js';
import { aRecords, digProbe, getentProbe, nslookupProbe, parseDig, parseGetent, parseNslookup, parseResolvConf, records } from '../probes/dns.js';
import { buildMatrix, verifyDig, verifyGetent, verifyResolvConf, type DnsCell } from '../verdicts/dns-matrix.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { clusterDnsServers } from '../cluster/facts.js';
import { isReady, listPods } from '../workload/pods.js';
import { WORKLOAD, type ProbeRef, type RunEnv } from '../workload/setup.js';
import type { DnsRow } from './matrices.js';
import { label } from '../workload/fanout.js';
import type { CheckDef, Observations, ProbeAsk } from './types.js';
import { defined, must } from './common.js';

const domain = (env: RunEnv) => env.facts.clusterDomain;
const fqdn = (env: RunEnv, svc: string, ns: string) => `${svc}.${ns}.svc.${domain(env)}`;
const servers = (env: RunEnv) => clusterDnsServers(env.facts);
/** One asker per namespace: the workload namespace's probe on the other probe's node, and the other probe. */
const askers = (env: RunEnv): ProbeRef[] => [env.probes.find((p) => p.node === env.otherProbe.node) ?? env.probes[0], env.otherProbe];

interface DnsSnapshot {
  nginxIP: string;
  matrix: DnsCell[];
}

/** The matrix needs the my-nginx ClusterIP: read once at setup (env.nginxService). */
function snapshot(env: RunEnv): DnsSnapshot {
  const nginxIP = env.nginxServiceIP;
  return {
    nginxIP,
    matrix: buildMatrix(
      [
        { service: WORKLOAD.service, namespace: env.workloadNs, clusterIP: nginxIP },
        { service: 'kube-dns', namespace: 'kube-system', clusterIP: env.facts.dnsServiceIP },
      ],
      askers(env).map((a) => a.namespace),
      domain(env),
    ),
  };
}

const askerOf = (env: RunEnv, c: DnsCell) => askers(env).find((a) => a.namespace === c.fromNamespace)!;

function matrixProbes(env: RunEnv): ProbeAsk[] {
  return snapshot(env).matrix.flatMap((c) => {
    const from = askerOf(env, c);
    return [
      { from, probe: digProbe(`udp-${c.id}`, c.name, { search: true, transport: 'udp' }) },
      { from, probe: digProbe(`tcp-${c.id}`, c.name, { search: true, transport: 'tcp' }) },
      { from, probe: getentProbe(`libc-${c.id}`, c.name) },
      { from, probe: nslookupProbe(`bb-${c.id}`, c.name) },
    ];
  });
}

const resolvProbes = (env: RunEnv): ProbeAsk[] => [...askers(env), env.nodeViews[0]].map((from) => ({ from, probe: { id: 'resolv', argv: ['cat', '/etc/resolv.conf'] } }));

function dnsRows(o: Observations): { dns: DnsRow[] } {
  const { matrix } = snapshot(o.env);
  return {
    dns: matrix.flatMap((c) => (['udp', 'tcp', 'libc'] as const).map((via): DnsRow => {
      const out = o.out(askerOf(o.env, c), `${via}-${c.id}`);
      const expected = c.expect === 'NXDOMAIN' ? 'NXDOMAIN' : c.expect.answer;
      if (via === 'libc') {
        const g = parseGetent(out.output, out.exitCode);
        return { fromNamespace: c.fromNamespace, service: c.target.service, form: c.form, name: c.name, via, expected, got: g.found ? g.addresses.join(',') : g.notFound ? 'not found' : 'no answer', ok: !verifyGetent(c, g, out.command) };
      }
      const d = parseDig(out.output);
      return { fromNamespace: c.fromNamespace, service: c.target.service, form: c.form, name: c.name, via, expected, got: d.status === 'NOERROR' ? aRecords(d).join(',') : d.status, ok: !verifyDig(c, d, servers(o.env), via, out.command) };
    })),
  };
}

const cellEvidence = (o: Observations, c: DnsCell, id: string) => ({ from: c.fromNamespace, name: c.name, expect: c.expect, got: o.out(askerOf(o.env, c), id).output.trim().split('\n').slice(-12).join('\n') });

function matrixCheck(transport: 'udp' | 'tcp'): CheckDef {
  return {
    id: `dns.matrix-${transport}`,
    phase: 'cluster',
    title: `name-form matrix over ${transport.toUpperCase()} (dig +search): ClusterIP or NXDOMAIN as expected, answered by the cluster DNS`,
    layer: 'dns',
    tags: ['dns', 'matrix', transport],
    from: 'both namespaces',
    to: 'my-nginx, kube-dns',
    probes: matrixProbes,
    matrix: dnsRows,
    verify: (o) => {
      const { matrix } = snapshot(o.env);
      throwAll(matrix.map((c) => { const out = o.out(askerOf(o.env, c), `${transport}-${c.id}`); return verifyDig(c, parseDig(out.output), servers(o.env), `dig ${transport}`, out.command); }).filter(defined));
      return matrix.map((c) => cellEvidence(o, c, `${transport}-${c.id}`));
    },
  };
}

/** PTR and NXDOMAIN probes (the cluster phase: nothing the Service changes touch). */
const extraProbes = (env: RunEnv): ProbeAsk[] => {
  const from = askers(env)[0];
  const dnsIP = env.facts.dnsServiceIP;
  return [
    digProbe('ptr-nginx', env.nginxServiceIP, { type: 'PTR', server: dnsIP }),
    digProbe('ptr-dns', dnsIP, { type: 'PTR', server: dnsIP }),
    digProbe('nx', `no-such-service.${env.workloadNs}`, { search: true }),
    getentProbe('nx-libc', `no-such-service.${env.workloadNs}`),
  ].map((probe) => ({ from, probe }));
};

/** A test on a dig attempt's output: exactly `n` answers of `type` (the cluster DNS may trail pods that just turned Ready). */
const answersOf = (type: string, n: number) => `[ "$(printf '%s\\n' "$out" | grep -cE '[[:space:]]IN[[:space:]]+${type}[[:space:]]')" -eq ${n} ]`;

/** The headless Service's A and SRV records (the steady phase: one per nginx pod Ready at setup), asked again while their count is off. */
const headlessProbes = (env: RunEnv): ProbeAsk[] => {
  const from = askers(env)[0];
  const dnsIP = env.facts.dnsServiceIP;
  const n = env.nginx.length;
  return [
    retrying(digProbe('headless', fqdn(env, WORKLOAD.headless, env.workloadNs), { server: dnsIP }), 4, 0.5, answersOf('A', n)),
    retrying(digProbe('srv', `_http._tcp.${fqdn(env, WORKLOAD.headless, env.workloadNs)}`, { type: 'SRV', server: dnsIP }), 4, 0.5, answersOf('SRV', n)),
    digProbe('srv-clusterip', `_http._tcp.${fqdn(env, WORKLOAD.service, env.workloadNs)}`, { type: 'SRV', server: dnsIP }),
  ].map((probe) => ({ from, probe }));
};

const readyNginxIPs = async (env: RunEnv) => (await listPods(env.kube, env.workloadNs, WORKLOAD.selector)).filter(isReady).map((p) => p.status!.podIP!).sort();
const esc = (s: string) => s.replace(/\./g, '\\.');

export const DNS_CHECKS: CheckDef[] = [
  {
    id: 'coredns.service',
    phase: 'cluster',
    title: 'Service kube-dns has a ClusterIP, 53/UDP and 53/TCP, and its Endpoints are exactly its Ready DNS pods',
    layer: 'coredns',
    tags: ['dns', 'coredns'],
    from: 'api',
    to: 'kube-system/kube-dns',
    gather: async ({ env }) => {
      const [svc, eps] = await Promise.all([
        env.kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' }),
        env.kube.core.readNamespacedEndpoints({ name: 'kube-dns', namespace: 'kube-system' }).catch(() => undefined),
      ]);
      const pods = env.facts.dnsSelector ? await listPods(env.kube, 'kube-system', env.facts.dnsSelector) : [];
      return { svc, eps, pods };
    },
    verify: (o) => {
      const { svc, eps, pods } = o.gathered as { svc: V1Service; eps?: V1Endpoints; pods: V1Pod[] };
      const f = (expected: string, seen: string) => new CheckFailure({ check: 'coredns', from: 'the API', to: 'kube-system/kube-dns', expected, seen });
      const ports = (svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).sort();
      const ready = pods.filter(isReady);
      const want = ready.map((p) => `${p.status!.podIP}:53`).sort();
      const have = [...new Set((eps?.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).filter((p) => p.port === 53).map(() => `${a.ip}:53`))))].sort();
      throwAll([
        /^\d+\.\d+\.\d+\.\d+$/.test(svc.spec?.clusterIP ?? '') ? undefined : f('a ClusterIP', svc.spec?.clusterIP ?? 'none'),
        ports.includes('53/UDP') && ports.includes('53/TCP') ? undefined : f('ports 53/UDP and 53/TCP', ports.join(', ') || 'none'),
        ready.length > 0 ? undefined : f(`Ready DNS pods (selector ${o.env.facts.dnsSelector || 'none'})`, pods.length ? `${pods.length} pods, none Ready` : 'no pods'),
        want.join() === have.join() ? undefined : f(`Endpoints = Ready DNS pods {${want.join(', ')}}`, `{${have.join(', ')}}`),
      ].filter(defined));
      return { clusterIP: svc.spec!.clusterIP, ports, readyPods: ready.map((p) => `${p.metadata!.name} ${p.status!.podIP}`), endpoints: have, podNameserver: o.env.facts.podNameserver };
    },
  },
  {
    id: 'dns.resolv-conf',
    phase: 'cluster',
    title: 'a pod resolv.conf: the cluster DNS as nameserver, <ns>.svc/svc/<domain> search path, ndots:5',
    layer: 'dns',
    tags: ['dns', 'resolv.conf'],
    from: 'probe pods',
    to: '/etc/resolv.conf',
    probes: resolvProbes,
    verify: (o) => {
      const a = askers(o.env);
      throwAll(a.map((p) => verifyResolvConf(label(p), p.namespace, domain(o.env), servers(o.env), parseResolvConf(o.out(p, 'resolv').output))).filter(defined));
      const nodeLocal = o.env.facts.podNameserver && o.env.facts.podNameserver !== o.env.facts.dnsServiceIP;
      return { domain: `${domain(o.env)} (from ${o.env.facts.sources.clusterDomain})`, nameserver: nodeLocal ? `${o.env.facts.podNameserver} (NodeLocal DNSCache, in front of kube-dns ${o.env.facts.dnsServiceIP})` : o.env.facts.dnsServiceIP, files: a.map((p) => o.out(p, 'resolv').output) };
    },
  },
  matrixCheck('udp'),
  matrixCheck('tcp'),
  {
    id: 'dns.matrix-libc',
    phase: 'cluster',
    title: 'name-form matrix as applications resolve (libc getent: search path + ndots)',
    layer: 'dns',
    tags: ['dns', 'matrix', 'libc'],
    from: 'both namespaces',
    to: 'my-nginx, kube-dns',
    probes: matrixProbes,
    matrix: dnsRows,
    verify: (o) => {
      const { matrix } = snapshot(o.env);
      throwAll(matrix.map((c) => { const out = o.out(askerOf(o.env, c), `libc-${c.id}`); return verifyGetent(c, parseGetent(out.output, out.exitCode), out.command); }).filter(defined));
      return matrix.map((c) => cellEvidence(o, c, `libc-${c.id}`));
    },
  },
  {
    id: 'dns.busybox',
    phase: 'cluster',
    title: 'busybox nslookup agrees on fully qualified names (its search-path handling is not trusted)',
    layer: 'dns',
    tags: ['dns', 'busybox'],
    from: 'both namespaces',
    to: 'FQDN forms',
    probes: matrixProbes,
    verify: (o) => {
      const fq = snapshot(o.env).matrix.filter((c) => c.form === 'svc.ns.svc.domain');
      throwAll(fq.map((c) => {
        const out = o.out(askerOf(o.env, c), `bb-${c.id}`);
        const r = parseNslookup(out.output);
        const want = (c.expect as { answer: string }).answer;
        return r.addresses.includes(want) ? undefined : new CheckFailure({ check: 'dns-busybox', from: `a pod in ${c.fromNamespace}`, to: c.name, expected: `address ${want}`, seen: JSON.stringify(r), command: out.command });
      }).filter(defined));
      return fq.map((c) => ({ name: c.name, from: c.fromNamespace, parsed: parseNslookup(o.out(askerOf(o.env, c), `bb-${c.id}`).output) }));
    },
  },
  {
    id: 'dns.ptr',
    phase: 'cluster',
    title: 'PTR of each ClusterIP gives the Service FQDN',
    layer: 'dns',
    tags: ['dns', 'ptr'],
    from: 'probe pod',
    to: 'ClusterIPs',
    probes: extraProbes,
    verify: (o) => {
      const from = askers(o.env)[0];
      const ptr = (id: string) => records(parseDig(o.out(from, id).output), 'PTR');
      const want = { nginx: `${fqdn(o.env, WORKLOAD.service, o.env.workloadNs)}.`, dns: `${fqdn(o.env, 'kube-dns', 'kube-system')}.` };
      const got = { nginx: ptr('ptr-nginx'), dns: ptr('ptr-dns') };
      throwAll((['nginx', 'dns'] as const).map((k) => (got[k].join() === want[k] ? undefined : new CheckFailure({ check: 'dns-ptr', from: label(from), to: k === 'nginx' ? o.env.nginxServiceIP : o.env.facts.dnsServiceIP, expected: `PTR ${want[k]}`, seen: `[${got[k].join(', ')}]`, command: o.out(from, `ptr-${k}`).command }))).filter(defined));
      return got;
    },
  },
  {
    id: 'dns.headless',
    title: 'headless Service: NOERROR from the cluster DNS with one A record per Ready pod',
    layer: 'dns',
    tags: ['dns', 'headless', 'extended'],
    from: 'probe pod',
    to: 'my-nginx-headless',
    probes: headlessProbes,
    gather: ({ env }) => readyNginxIPs(env),
    verify: (o) => {
      const from = askers(o.env)[0];
      const out = o.out(from, 'headless');
      const d = parseDig(out.output);
      const want = o.gathered as string[];
      const a = aRecords(d).sort();
      must(want.length > 0 && d.status === 'NOERROR' && d.server === o.env.facts.dnsServiceIP && a.join() === want.join(), {
        check: 'dns-headless', from: label(from), to: fqdn(o.env, WORKLOAD.headless, o.env.workloadNs),
        expected: `NOERROR from ${o.env.facts.dnsServiceIP} with A {${want.join(', ')}} (one per Ready pod, at least one)`,
        seen: `${d.status} from ${d.server ?? '-'} with A {${a.join(', ')}}`, command: out.command,
      });
      return { records: a };
    },
  },
  {
    id: 'dns.srv',
    title: 'SRV _http._tcp answers for the named port (headless: one per Ready pod; ClusterIP: the Service)',
    layer: 'dns',
    tags: ['dns', 'srv', 'extended'],
    from: 'probe pod',
    to: '_http._tcp',
    probes: headlessProbes,
    gather: ({ env }) => readyNginxIPs(env),
    verify: (o) => {
      const from = askers(o.env)[0];
      const srv = (id: string) => records(parseDig(o.out(from, id).output), 'SRV');
      const headless = srv('srv');
      const clusterIP = srv('srv-clusterip');
      const ready = (o.gathered as string[]).length;
      const ns = o.env.workloadNs;
      const okHeadless = ready > 0 && headless.length === ready && headless.every((r) => new RegExp(`^\\d+ \\d+ 80 \\S+\\.${WORKLOAD.headless}\\.${ns}\\.svc\\.${esc(domain(o.env))}\\.$`).test(r));
      const okClusterIP = clusterIP.length === 1 && new RegExp(`^\\d+ \\d+ 80 ${WORKLOAD.service}\\.${ns}\\.svc\\.${esc(domain(o.env))}\\.$`).test(clusterIP[0]);
      throwAll([
        okHeadless ? undefined : new CheckFailure({ check: 'dns-srv', from: label(from), to: `_http._tcp.${fqdn(o.env, WORKLOAD.headless, ns)}`, expected: `${ready} records "<prio> <weight> 80 <pod>.${WORKLOAD.headless}.${ns}.svc.${domain(o.env)}."`, seen: `[${headless.join('; ')}]` }),
        okClusterIP ? undefined : new CheckFailure({ check: 'dns-srv', from: label(from), to: `_http._tcp.${fqdn(o.env, WORKLOAD.service, ns)}`, expected: `one record "<prio> <weight> 80 ${fqdn(o.env, WORKLOAD.service, ns)}."`, seen: `[${clusterIP.join('; ')}]` }),
      ].filter(defined));
      return { headless, clusterIP };
    },
  },
  {
    id: 'dns.nx.negative',
    phase: 'cluster',
    title: 'negative control: the resolution check fails for a name that does not exist (dig and libc)',
    layer: 'dns',
    tags: ['dns', 'negative-control'],
    controls: 'dns.matrix-udp',
    from: 'live cluster',
    to: 'a missing name',
    probes: extraProbes,
    verify: (o) => {
      const from = askers(o.env)[0];
      const cell: DnsCell = { id: 'nx', name: `no-such-service.${o.env.workloadNs}`, form: 'svc.ns', fromNamespace: from.namespace, target: { service: 'no-such-service', namespace: o.env.workloadNs, clusterIP: o.env.nginxServiceIP }, expect: { answer: o.env.nginxServiceIP } };
      const d = o.out(from, 'nx');
      const g = o.out(from, 'nx-libc');
      const fd = verifyDig(cell, parseDig(d.output), servers(o.env), 'dig udp', d.command)?.message ?? 'it passed';
      const fg = verifyGetent(cell, parseGetent(g.output, g.exitCode), g.command)?.message ?? 'it passed';
      must(/\[dns-name-form\] from a pod in \S+ \(dig udp\) to no-such-service\.\S+: expected A \S+, saw NXDOMAIN/.test(fd) && /saw not found/.test(fg), { check: 'negative-control', from: label(from), to: cell.name, expected: 'dig: saw NXDOMAIN; libc: saw not found', seen: `${fd} | ${fg}` });
      return { dig: fd, libc: fg };
    },
  },
  {
    id: 'dns.bare-cross-ns.negative',
    phase: 'cluster',
    title: 'negative control: the bare name across namespaces really is NXDOMAIN, so expecting the ClusterIP there fails',
    layer: 'dns',
    tags: ['dns', 'negative-control'],
    controls: 'dns.matrix-udp',
    from: 'live cluster',
    to: 'a wrong expectation',
    probes: matrixProbes,
    verify: (o) => {
      const bare = snapshot(o.env).matrix.find((c) => c.form === 'svc' && c.expect === 'NXDOMAIN' && c.target.service === WORKLOAD.service)!;
      const wrong: DnsCell = { ...bare, expect: { answer: bare.target.clusterIP } };
      const out = o.out(askerOf(o.env, bare), `udp-${bare.id}`);
      const f = verifyDig(wrong, parseDig(out.output), servers(o.env), 'dig udp', out.command)?.message ?? 'it passed';
      must(/expected A \S+, saw NXDOMAIN/.test(f), { check: 'negative-control', from: bare.fromNamespace, to: bare.name, expected: 'saw NXDOMAIN', seen: f });
      return f;
    },
  },
  {
    id: 'dns.resolv-conf.negative',
    phase: 'cluster',
    title: 'negative control: the resolv.conf check fails for a pod that does not use cluster DNS (hostNetwork, dnsPolicy Default)',
    layer: 'dns',
    tags: ['dns', 'negative-control'],
    controls: 'dns.resolv-conf',
    from: 'live cluster',
    to: 'a node view resolv.conf',
    probes: resolvProbes,
    verify: (o) => {
      const v = o.env.nodeViews[0];
      const f = verifyResolvConf(label(v), v.namespace, domain(o.env), servers(o.env), parseResolvConf(o.out(v, 'resolv').output))?.message ?? 'it passed';
      must(/\[resolv-conf\] from node .*: expected nameserver/.test(f), { check: 'negative-control', from: label(v), to: '/etc/resolv.conf', expected: 'the verdict to fail on the nameserver/search path', seen: f });
      return f;
    },
  },
];

export { esc };
