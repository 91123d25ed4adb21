// Property 3 — CoreDNS: kube-dns answers; pods get its ClusterIP and the namespace search path;
// every name form resolves (or not) as the matrix says, over UDP and TCP, with dig and as libc
// resolves; PTR, headless A records and SRV for a named port.
// Setup: shared run. Assess: one exec per asking pod with the whole matrix fanned out inside.
import { beforeAll, describe, expect } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadRunState, type ProbeRef, type RunState } from '../../src/fixtures/run.js';
import { listPods, isReady } from '../../src/fixtures/pods.js';
import { digProbe, getentProbe, nslookupProbe, parseDig, parseGetent, parseNslookup, parseResolvConf, aRecords } from '../../src/probes/dns.js';
import type { Probe } from '../../src/probes/fanout.js';
import { check, negativeControl, recordMatrix } from '../../src/checks/check.js';
import type { DnsRow } from '../../src/report/matrices.js';
import { CheckFailure, throwAll } from '../../src/checks/failure.js';
import { buildMatrix, verifyDig, verifyGetent, verifyResolvConf, type DnsCell } from '../../src/checks/dns-matrix.js';
import { endpointsSet } from '../../src/checks/endpoints.js';
import { key, label, runFanouts, type Fanout } from '../../src/checks/run-probes.js';

let s: RunState;
let kube: Kube;
let dnsSvc: V1Service;
let nginxSvc: V1Service;
let matrix: DnsCell[];
let fanouts: Map<string, Fanout>;
let askers: ProbeRef[];
const dnsIP = () => dnsSvc.spec!.clusterIP!;
const domain = () => s.facts.clusterDomain;
const fqdn = (svc: string, ns: string) => `${svc}.${ns}.svc.${domain()}`;
const defined = <T>(x: T | undefined): x is T => x !== undefined;

function matrixProbes(cells: DnsCell[]): Probe[] {
  return cells.flatMap((c) => [
    digProbe(`udp-${c.id}`, c.name, { search: true, transport: 'udp' }),
    digProbe(`tcp-${c.id}`, c.name, { search: true, transport: 'tcp' }),
    getentProbe(`libc-${c.id}`, c.name),
    nslookupProbe(`bb-${c.id}`, c.name),
  ]);
}

beforeAll(async () => {
  s = loadRunState();
  kube = makeKube({ kubeconfig: s.kubeconfig });
  [dnsSvc, nginxSvc] = await Promise.all([
    kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' }),
    kube.core.readNamespacedService({ name: 'my-nginx', namespace: s.workloadNs }),
  ]);
  askers = [s.probes.find((p) => p.node === s.otherProbe.node) ?? s.probes[0], s.otherProbe];
  matrix = buildMatrix(
    [
      { service: 'my-nginx', namespace: s.workloadNs, clusterIP: nginxSvc.spec!.clusterIP! },
      { service: 'kube-dns', namespace: 'kube-system', clusterIP: dnsIP() },
    ],
    askers.map((a) => a.namespace),
    domain(),
  );
  const extra = (i: number): Probe[] => (i > 0 ? [] : [
    digProbe('ptr-nginx', nginxSvc.spec!.clusterIP!, { type: 'PTR', server: dnsIP() }),
    digProbe('ptr-dns', dnsIP(), { type: 'PTR', server: dnsIP() }),
    digProbe('headless', fqdn('my-nginx-headless', s.workloadNs), { server: dnsIP() }),
    digProbe('srv', `_http._tcp.${fqdn('my-nginx-headless', s.workloadNs)}`, { type: 'SRV', server: dnsIP() }),
    digProbe('srv-clusterip', `_http._tcp.${fqdn('my-nginx', s.workloadNs)}`, { type: 'SRV', server: dnsIP() }),
    digProbe('nx', `no-such-service.${s.workloadNs}`, { search: true }),
    getentProbe('nx-libc', `no-such-service.${s.workloadNs}`),
  ]);
  fanouts = await runFanouts(kube, [
    ...askers.map((from, i) => ({
      from,
      probes: [{ id: 'resolv', argv: ['cat', '/etc/resolv.conf'] }, ...matrixProbes(matrix.filter((c) => c.fromNamespace === from.namespace)), ...extra(i)],
    })),
    { from: s.nodeViews[0], probes: [{ id: 'resolv', argv: ['cat', '/etc/resolv.conf'] }] },
  ]);
  recordMatrix('dns', matrix.flatMap((c) => (['udp', 'tcp', 'libc'] as const).map((via): DnsRow => {
    const o = out(askerOf(c), `${via}-${c.id}`);
    const expected = c.expect === 'NXDOMAIN' ? 'NXDOMAIN' : c.expect.answer;
    if (via === 'libc') {
      const g = parseGetent(o.output, o.exitCode);
      return { fromNamespace: c.fromNamespace, service: c.target.service, form: c.form, name: c.name, via, expected, got: g.found ? g.addresses.join(',') : g.notFound ? 'not found' : 'no answer', ok: !verifyGetent(c, g, o.command) };
    }
    const d = parseDig(o.output);
    return { fromNamespace: c.fromNamespace, service: c.target.service, form: c.form, name: c.name, via, expected, got: d.status === 'NOERROR' ? aRecords(d).join(',') : d.status, ok: !verifyDig(c, d, dnsIP(), via, o.command) };
  })));
});

const out = (from: ProbeRef, id: string) => fanouts.get(key(from))!.get(id)!;
const askerOf = (c: DnsCell) => askers.find((a) => a.namespace === c.fromNamespace)!;
const cellEvidence = (c: DnsCell, id: string) => ({ from: c.fromNamespace, name: c.name, expect: c.expect, got: out(askerOf(c), id).output.trim().split('\n').slice(-12).join('\n') });

describe('CoreDNS', () => {
  check('Service kube-dns has a ClusterIP, ports 53/UDP 53/TCP 9153/TCP, and Ready CoreDNS pods behind it', { tags: ['dns'], from: 'api', to: 'kube-system/kube-dns' }, async () => {
    const ports = (dnsSvc.spec!.ports ?? []).map((p) => `${p.port}/${p.protocol}`).sort();
    expect(dnsIP()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(ports).toEqual(['53/TCP', '53/UDP', '9153/TCP']);
    const pods = (await listPods(kube, 'kube-system', 'k8s-app=kube-dns')).filter(isReady);
    expect(pods.length).toBeGreaterThanOrEqual(1);
    const eps = await endpointsSet(kube, 'kube-system', 'kube-dns');
    for (const p of pods) expect(eps).toContain(`${p.status!.podIP}:53`);
    return { clusterIP: dnsIP(), ports, readyPods: pods.map((p) => p.metadata!.name) };
  });
  check('a pod resolv.conf: kube-dns ClusterIP as nameserver, <ns>.svc/svc/cluster search path, ndots:5', { tags: ['dns', 'resolv.conf'], from: 'probe pods', to: '/etc/resolv.conf' }, async () => {
    throwAll(askers.map((a) => verifyResolvConf(label(a), a.namespace, domain(), dnsIP(), parseResolvConf(out(a, 'resolv').output))).filter(defined));
    return askers.map((a) => out(a, 'resolv').output);
  });
  for (const transport of ['udp', 'tcp'] as const) {
    check(`name-form matrix over ${transport.toUpperCase()} (dig +search): ClusterIP or NXDOMAIN as expected, answered by kube-dns`, { tags: ['dns', 'matrix', transport], from: 'both namespaces', to: 'my-nginx, kube-dns' }, async () => {
      throwAll(matrix.map((c) => { const o = out(askerOf(c), `${transport}-${c.id}`); return verifyDig(c, parseDig(o.output), dnsIP(), `dig ${transport}`, o.command); }).filter(defined));
      return matrix.map((c) => cellEvidence(c, `${transport}-${c.id}`));
    });
  }
  check('name-form matrix as applications resolve (libc getent: search path + ndots)', { tags: ['dns', 'matrix', 'libc'], from: 'both namespaces', to: 'my-nginx, kube-dns' }, async () => {
    throwAll(matrix.map((c) => { const o = out(askerOf(c), `libc-${c.id}`); return verifyGetent(c, parseGetent(o.output, o.exitCode), o.command); }).filter(defined));
    return matrix.map((c) => cellEvidence(c, `libc-${c.id}`));
  });
  check('busybox nslookup agrees on fully qualified names (its search-path handling is not trusted)', { tags: ['dns', 'busybox'], from: 'both namespaces', to: 'FQDN forms' }, async () => {
    const fq = matrix.filter((c) => c.form === 'svc.ns.svc.domain');
    throwAll(fq.map((c) => {
      const o = out(askerOf(c), `bb-${c.id}`);
      const r = parseNslookup(o.output);
      const want = (c.expect as { answer: string }).answer;
      return r.addresses.includes(want) ? undefined : new CheckFailure({ check: 'dns-busybox', from: fromNs(c), to: c.name, expected: `address ${want}`, seen: JSON.stringify(r), command: o.command });
    }).filter(defined));
    return matrix.map((c) => ({ name: c.name, from: c.fromNamespace, parsed: parseNslookup(out(askerOf(c), `bb-${c.id}`).output) }));
  });
  check('PTR of each ClusterIP gives the Service FQDN', { tags: ['dns', 'ptr'], from: 'probe pod', to: 'ClusterIPs' }, async () => {
    const ptr = (id: string) => parseDig(out(askers[0], id).output).answers.filter((a) => a.type === 'PTR').map((a) => a.data);
    expect(ptr('ptr-nginx')).toEqual([`${fqdn('my-nginx', s.workloadNs)}.`]);
    expect(ptr('ptr-dns')).toEqual([`${fqdn('kube-dns', 'kube-system')}.`]);
    return { nginx: ptr('ptr-nginx'), dns: ptr('ptr-dns') };
  });
  check('headless Service: one A record per ready pod', { tags: ['dns', 'headless', 'extended'], from: 'probe pod', to: 'my-nginx-headless' }, async () => {
    const pods = (await listPods(kube, s.workloadNs, 'run=my-nginx')).filter(isReady).map((p) => p.status!.podIP!).sort();
    const a = aRecords(parseDig(out(askers[0], 'headless').output)).sort();
    expect(a).toEqual(pods);
    return { records: a };
  });
  check('SRV _http._tcp answers for the named port (headless: per pod; ClusterIP: the Service)', { tags: ['dns', 'srv', 'extended'], from: 'probe pod', to: '_http._tcp' }, async () => {
    const srv = (id: string) => parseDig(out(askers[0], id).output).answers.filter((a) => a.type === 'SRV').map((a) => a.data);
    const headless = srv('srv');
    expect(headless).toHaveLength(2);
    for (const rec of headless) expect(rec).toMatch(new RegExp(`^\\d+ \\d+ 80 \\S+\\.my-nginx-headless\\.${s.workloadNs}\\.svc\\.`));
    expect(srv('srv-clusterip')).toEqual([expect.stringMatching(new RegExp(`^\\d+ \\d+ 80 my-nginx\\.${s.workloadNs}\\.svc\\.${domain().replace(/\./g, '\\.')}\\.$`))]);
    return { headless, clusterIP: srv('srv-clusterip') };
  });
});

const fromNs = (c: DnsCell) => `a pod in ${c.fromNamespace}`;

describe('CoreDNS — negative controls', () => {
  negativeControl('the resolution check fails for a name that does not exist (dig and libc)', 'dns', () => {
    const cell: DnsCell = { id: 'nx', name: `no-such-service.${s.workloadNs}`, form: 'svc.ns', fromNamespace: askers[0].namespace, target: { service: 'no-such-service', namespace: s.workloadNs, clusterIP: nginxSvc.spec!.clusterIP! }, expect: { answer: nginxSvc.spec!.clusterIP! } };
    const d = out(askers[0], 'nx');
    expect(verifyDig(cell, parseDig(d.output), dnsIP(), 'dig udp', d.command)?.message).toMatch(/\[dns-name-form\] from a pod in \S+ \(dig udp\) to no-such-service\.\S+: expected A \S+, saw NXDOMAIN/);
    const g = out(askers[0], 'nx-libc');
    expect(verifyGetent(cell, parseGetent(g.output, g.exitCode), g.command)?.message).toMatch(/saw not found/);
  });
  negativeControl('the bare name across namespaces really is NXDOMAIN, so expecting the ClusterIP there fails', 'dns', () => {
    const bare = matrix.find((c) => c.form === 'svc' && c.expect === 'NXDOMAIN' && c.target.service === 'my-nginx')!;
    const wrong: DnsCell = { ...bare, expect: { answer: bare.target.clusterIP } };
    const o = out(askerOf(bare), `udp-${bare.id}`);
    expect(verifyDig(wrong, parseDig(o.output), dnsIP(), 'dig udp', o.command)?.message).toMatch(/expected A \S+, saw NXDOMAIN/);
  });
  negativeControl('the resolv.conf check fails for a pod that does not use cluster DNS (hostNetwork, dnsPolicy Default)', 'dns', () => {
    const v = s.nodeViews[0];
    expect(verifyResolvConf(label(v), v.namespace, domain(), dnsIP(), parseResolvConf(out(v, 'resolv').output))?.message).toMatch(/\[resolv-conf\] from node .*: expected nameserver/);
  });
});
