// Verdicts on a Service asked in each IP family (#19): the API's side of single-stack and
// dual-stack Services (ipFamilies in order, one ClusterIP per family inside that family's service
// range), its EndpointSlices per family (addressType IPv4 / IPv6, each listing every Ready pod's
// address of that family, no slice of a family the Service lacks) and its Endpoints (the legacy
// object carries the Service's primary family only: ipFamilies[0]). Pure: captured API objects in,
// failures out.
import type { V1EndpointSlice, V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { canonicalIp, inCidr, isIPv4, isIPv6, type IPFamily } from '../util/cidr.js';
import { CheckFailure } from './failure.js';

const fam = (ip: string): IPFamily | undefined => (isIPv4(ip) ? 'IPv4' : isIPv6(ip) ? 'IPv6' : undefined);
const set = (xs: string[]) => `{${[...xs].sort().join(', ')}}`;
const canon = (xs: string[]) => xs.map((x) => (fam(x) ? canonicalIp(x) : x)).sort();
const same = (a: string[], b: string[]) => canon(a).join() === canon(b).join();
const isPodReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const addressesOf = (p: V1Pod) => (p.status?.podIPs?.length ? p.status.podIPs.map((x) => x.ip) : p.status?.podIP ? [p.status.podIP] : []);

/** The Ready pods' addresses of one family (what a Service selecting them must list and reach). */
export function readyAddressesOf(pods: V1Pod[], family: IPFamily): string[] {
  return pods
    .filter(isPodReady)
    .flatMap(addressesOf)
    .filter((ip) => fam(ip) === family);
}

/** What a Service of the run should have been given by the API. */
export interface ServiceWant {
  /** ipFamilies, in order (the first one is the Service's primary family). */
  families: IPFamily[];
  /** The service ranges per family (empty: not known, not checked). */
  ranges: Partial<Record<IPFamily, string[]>>;
  /** headless (clusterIP None): no ClusterIP, only ipFamilies. */
  headless?: boolean;
}

/** The Service's ipFamilies and ClusterIPs: exactly `want.families`, one ClusterIP of each, in order, inside the family's range. */
export function verifyServiceFamilies(check: string, svc: V1Service, want: ServiceWant): CheckFailure[] {
  const name = `Service ${svc.metadata?.name} (${svc.spec?.ipFamilyPolicy ?? 'no ipFamilyPolicy'})`;
  const fail = (expected: string, seen: string) => new CheckFailure({ check, from: 'the API', to: name, expected, seen });
  const out: CheckFailure[] = [];
  const families = svc.spec?.ipFamilies ?? [];
  if (families.join(',') !== want.families.join(',')) out.push(fail(`spec.ipFamilies ${want.families.join(',')}`, families.join(',') || 'none'));
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  if (want.headless) {
    if (ips.join() !== 'None') out.push(fail('clusterIP None (headless)', ips.join(',') || 'none'));
    return out;
  }
  const seen = ips.map((ip) => fam(ip) ?? `not an address: ${ip}`);
  if (seen.join(',') !== want.families.join(','))
    out.push(fail(`one ClusterIP per family, in the order ${want.families.join(',')}`, `${ips.join(',') || 'none'} (${seen.join(',')})`));
  for (const ip of ips) {
    const f = fam(ip);
    const ranges = f ? (want.ranges[f] ?? []) : [];
    if (ranges.length && !ranges.some((c) => inCidr(ip, c))) out.push(fail(`its ${f} ClusterIP inside the service range ${ranges.join(',')}`, ip));
  }
  return out;
}

/** The ready addresses an EndpointSlice lists (a slice's endpoint without conditions.ready=false counts as ready, as kube-proxy reads it). */
const sliceReady = (s: V1EndpointSlice) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses);

/**
 * The Service's EndpointSlices, per family: for each of `families` at least one slice of that
 * addressType, their ready addresses together exactly `pods`' Ready addresses of that family; no
 * slice of any other addressType.
 */
export function verifyFamilySlices(check: string, service: string, slices: V1EndpointSlice[], pods: V1Pod[], families: IPFamily[]): CheckFailure[] {
  const to = `EndpointSlices of ${service}`;
  const fail = (expected: string, seen: string) => new CheckFailure({ check, from: 'the API', to, expected, seen });
  const mine = slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === service);
  const out: CheckFailure[] = [];
  const types = [...new Set(mine.map((s) => s.addressType))].sort();
  const extra = types.filter((t) => !families.includes(t as IPFamily));
  if (extra.length) out.push(fail(`slices of addressType ${families.join(', ')} only`, `addressType ${types.join(', ')}`));
  for (const f of families) {
    const of = mine.filter((s) => s.addressType === f);
    const want = readyAddressesOf(pods, f);
    const seen = of.flatMap(sliceReady);
    if (!of.length) out.push(fail(`an EndpointSlice of addressType ${f} listing ${set(want)}`, `none (slices: ${types.join(', ') || 'none'})`));
    else if (!want.length) out.push(fail(`Ready pods with an ${f} address to list`, 'none'));
    else if (!same(seen, want)) out.push(fail(`addressType ${f}: the Ready pods' ${f} addresses ${set(want)}`, set(seen)));
  }
  return out;
}

/** The Service's Endpoints object (one family only: the Service's primary one): exactly the Ready pods' addresses of `primary`. */
export function verifyPrimaryEndpoints(check: string, service: string, ep: V1Endpoints | undefined, pods: V1Pod[], primary: IPFamily): CheckFailure[] {
  const want = readyAddressesOf(pods, primary);
  const seen = (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
  if (ep && want.length && same(seen, want)) return [];
  return [
    new CheckFailure({
      check,
      from: 'the API',
      to: `Endpoints ${service}`,
      expected: `the Ready pods' addresses of the Service's primary family ${primary} ${set(want)}`,
      seen: ep ? set(seen) : 'no Endpoints object',
    }),
  ];
}
