// The DNS name-form matrix as data: for each Service, each name form, asked from a pod in the
// Service's namespace and from a pod in another namespace, the expected answer — the ClusterIP,
// or NXDOMAIN for the bare name across namespaces — and the verdicts on dig and getent answers.
import type { DigResult, GetentResult, ResolvConf } from '../probes/dns.js';
import { aRecords, records } from '../probes/dns.js';
import { isIPv6, sameIp } from '../util/cidr.js';
import { CheckFailure } from './failure.js';

export interface DnsTarget {
  service: string;
  namespace: string;
  clusterIP: string;
}

export interface DnsCell {
  id: string;
  /** The name exactly as asked. */
  name: string;
  form: 'svc' | 'svc.ns' | 'svc.ns.svc' | 'svc.ns.svc.domain';
  fromNamespace: string;
  target: DnsTarget;
  expect: { answer: string } | 'NXDOMAIN';
  /**
   * The bare name across namespaces: the asking pod's search suffixes (<ns>.svc.<domain>, svc.<domain>,
   * <domain>), under each of which it is asked as an absolute name and must be NXDOMAIN — the resolver's
   * own steps, without the final bare-name step that an upstream forwarder answers.
   */
  suffixes?: string[];
}

export function nameForms(t: DnsTarget, domain: string): Array<[DnsCell['form'], string]> {
  return [
    ['svc', t.service],
    ['svc.ns', `${t.service}.${t.namespace}`],
    ['svc.ns.svc', `${t.service}.${t.namespace}.svc`],
    ['svc.ns.svc.domain', `${t.service}.${t.namespace}.svc.${domain}`],
  ];
}

export function buildMatrix(targets: DnsTarget[], fromNamespaces: string[], domain: string): DnsCell[] {
  return fromNamespaces.flatMap((fromNamespace, fi) =>
    targets.flatMap((target, ti) =>
      nameForms(target, domain).map(([form, name], ni) => ({
        id: `f${fi}t${ti}n${ni}`,
        name,
        form,
        fromNamespace,
        target,
        // the bare name resolves only through the asking pod's own namespace search domain
        ...(form === 'svc' && fromNamespace !== target.namespace
          ? { expect: 'NXDOMAIN' as const, suffixes: [`${fromNamespace}.svc.${domain}`, `svc.${domain}`, domain] }
          : { expect: { answer: target.clusterIP } }),
      })),
    ),
  );
}

/** The record type that holds an address: AAAA for IPv6 (a Service of an IPv6-only cluster), A for IPv4. */
export const addressType = (ip: string): 'A' | 'AAAA' => (isIPv6(ip) ? 'AAAA' : 'A');
/** The record type a cell is asked (and judged) in: its Service's ClusterIP family. */
export const cellType = (c: DnsCell) => addressType(c.target.clusterIP);
const expected = (c: DnsCell) => (c.expect === 'NXDOMAIN' ? 'NXDOMAIN' : `${addressType(c.expect.answer)} ${c.expect.answer}`);
const fromText = (c: DnsCell, via: string) => `a pod in ${c.fromNamespace} (${via})`;

/** What dig saw, in one line: status, address records (A, then AAAA), the server that answered. */
export const digSeen = (r: DigResult) => `${r.status} [${[...aRecords(r), ...records(r, 'AAAA')].join(', ')}] from server ${r.server ?? '-'}`;

/** Who asks, as failures name it: the check's id and the asking pod (its node), or by default "a pod in <ns>". */
export interface AskedBy {
  check?: string;
  /** e.g. "pod ns/probe-0 on node-1" (the via is added in brackets). */
  from?: string;
}
const fromOf = (c: DnsCell, via: string, by: AskedBy) => (by.from ? `${by.from} (${via})` : fromText(c, via));

/** dig verdict: status and A records as expected, answered by the cluster DNS server. */
export function verifyDig(c: DnsCell, r: DigResult, dnsIP: string | string[], via: string, command: string, by: AskedBy = {}): CheckFailure | undefined {
  const servers = ([] as string[]).concat(dnsIP);
  const seen = digSeen(r);
  const fail = (exp: string) => new CheckFailure({ check: by.check ?? 'dns-name-form', from: fromOf(c, via, by), to: c.name, expected: exp, seen, command });
  if (!r.server || !servers.includes(r.server)) return fail(`an answer from the cluster DNS ${servers.join(' or ')}`);
  if (c.expect === 'NXDOMAIN') return r.status === 'NXDOMAIN' ? undefined : fail('NXDOMAIN');
  const a = records(r, addressType(c.expect.answer));
  return r.status === 'NOERROR' && a.length === 1 && sameIp(a[0], c.expect.answer) ? undefined : fail(expected(c));
}

/** libc verdict: found with exactly the ClusterIP, or not found. */
export function verifyGetent(c: DnsCell, r: GetentResult, command: string, by: AskedBy = {}): CheckFailure | undefined {
  const ok = c.expect === 'NXDOMAIN' ? r.notFound : r.found && r.addresses.length === 1 && sameIp(r.addresses[0], c.expect.answer);
  if (ok) return undefined;
  return new CheckFailure({
    check: by.check ?? 'dns-name-form-libc',
    from: fromOf(c, 'getent/libc', by),
    to: c.name,
    expected: c.expect === 'NXDOMAIN' ? 'not found' : expected(c),
    seen: r.found ? `found [${r.addresses.join(', ')}] as ${r.canonicalName}` : r.notFound ? 'not found' : 'no answer (getent killed or failed)',
    command,
  });
}

/** resolv.conf of a ClusterFirst pod: the DNS Service as nameserver, the namespace search path, ndots:5. */
export function verifyResolvConf(
  from: string,
  ns: string,
  domain: string,
  dnsIP: string | string[],
  rc: ResolvConf,
  check = 'resolv-conf',
): CheckFailure | undefined {
  const servers = ([] as string[]).concat(dnsIP);
  const search = [`${ns}.svc.${domain}`, `svc.${domain}`, domain];
  const ok = servers.includes(rc.nameservers[0]) && search.every((d, i) => rc.search[i] === d) && rc.options.ndots === '5';
  if (ok) return undefined;
  return new CheckFailure({
    check,
    from,
    to: '/etc/resolv.conf',
    expected: `nameserver ${servers.join(' or ')}, search ${search.join(' ')}, options ndots:5`,
    seen: `nameserver ${rc.nameservers.join(',') || '-'}, search ${rc.search.join(' ') || '-'}, ndots:${rc.options.ndots ?? '-'}`,
    command: 'cat /etc/resolv.conf',
  });
}

/**
 * dig verdict for a name with several A records (a headless Service: one per Ready pod): NOERROR
 * from the cluster DNS with exactly the addresses `want` (a set; at least one).
 */
export function verifyARecords(from: string, name: string, r: DigResult, dnsIP: string | string[], want: string[], command: string): CheckFailure | undefined {
  const servers = ([] as string[]).concat(dnsIP);
  const a = [...aRecords(r)].sort();
  const w = [...want].sort();
  if (w.length > 0 && r.status === 'NOERROR' && !!r.server && servers.includes(r.server) && a.join() === w.join()) return undefined;
  return new CheckFailure({
    check: 'dns-a-records',
    from,
    to: name,
    expected: `NOERROR from the cluster DNS ${servers.join(' or ')} with A {${w.join(', ')}}${w.length ? '' : ' (at least one)'}`,
    seen: digSeen(r),
    command,
  });
}
