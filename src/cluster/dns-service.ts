// The cluster DNS Service, found from the nameserver a pod actually uses (its resolv.conf), whatever
// the Service's name and namespace: kubeadm's kube-system/kube-dns, Kubespray's kube-system/coredns,
// or any other. When pods are given a link-local nameserver (NodeLocal DNSCache, anywhere in
// 169.254/16), the Service behind the cache is found from the cache's own configuration: the
// DaemonSet whose containers name that address, its `-localip` list (the iptables mode also listens
// at the DNS Service's ClusterIP), its Corefile's `bind` and `forward` addresses, and its
// `-upstreamsvc` Service name.
import { AppsV1Api, type V1DaemonSet, type V1Service } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { isLinkLocal, type ClusterFacts } from './facts.js';

export interface DnsServiceCandidate {
  namespace: string;
  name: string;
  clusterIPs: string[];
  /** spec.selector as a label selector ("k=v,k2=v2"; '' when it has none). */
  selector: string;
  /** "53/UDP", "53/TCP", … */
  ports: string[];
}

/** A DaemonSet that names a link-local address in its containers' command/args: a node-local DNS cache candidate. */
export interface NodeCache {
  namespace: string;
  name: string;
  args: string[];
  /** The text of the ConfigMaps it mounts (its Corefile), by ConfigMap name. */
  configs: Record<string, string>;
}

export interface DnsInputs {
  services: DnsServiceCandidate[];
  caches: NodeCache[];
  /** Why the Services could not be listed (then only kube-system/kube-dns was read), for the report. */
  limited?: string;
}

export interface FoundDnsService {
  service: DnsServiceCandidate;
  how: string;
}

const IPV4 = /\b169\.254\.\d{1,3}\.\d{1,3}\b/;
const ipTokens = (text: string): string[] => text.match(/[0-9a-fA-F:.]*[0-9a-fA-F][0-9a-fA-F:.]*/g) ?? [];

export function toCandidate(s: V1Service): DnsServiceCandidate {
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    clusterIPs: (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None'),
    selector: Object.entries(s.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    ports: (s.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`),
  };
}

/** A DaemonSet's containers' command and args, and the ConfigMaps it mounts. */
export function cacheOf(d: V1DaemonSet): Omit<NodeCache, 'configs'> & { configMaps: string[] } {
  const spec = d.spec?.template.spec;
  return {
    namespace: d.metadata?.namespace ?? '',
    name: d.metadata?.name ?? '',
    args: [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]),
    configMaps: (spec?.volumes ?? []).map((v) => v.configMap?.name).filter((n): n is string => !!n),
  };
}

/** The DaemonSets whose containers name a link-local IPv4 address (node-local DNS cache candidates; their ConfigMaps are read next). */
export const nodeCacheCandidates = (ds: V1DaemonSet[]) => ds.map(cacheOf).filter((d) => d.args.some((a) => IPV4.test(a)));

/**
 * What findDnsService needs, read once: every Service (all namespaces) and the DaemonSets that name a
 * link-local address, with their ConfigMaps. Without the right to list Services cluster-wide, only
 * kube-system/kube-dns is read (said in `limited`).
 */
export async function readDnsInputs(kube: Kube): Promise<DnsInputs> {
  const apps = kube.kc.makeApiClient(AppsV1Api);
  const [services, daemonSets] = await Promise.all([
    kube.core.listServiceForAllNamespaces().then(
      (l) => ({ items: l.items.map(toCandidate), limited: undefined }),
      async (err: Error) => {
        const kd = await kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' }).catch(() => undefined);
        return { items: kd ? [toCandidate(kd)] : [], limited: `Services not listable cluster-wide (${err.message.split('\n')[0].slice(0, 120)})` };
      },
    ),
    apps.listDaemonSetForAllNamespaces().catch(() => undefined),
  ]);
  const caches = await Promise.all(
    nodeCacheCandidates(daemonSets?.items ?? []).map(async (d) => {
      const configs: Record<string, string> = {};
      for (const name of d.configMaps) {
        const cm = await kube.core.readNamespacedConfigMap({ name, namespace: d.namespace }).catch(() => undefined);
        if (cm?.data) configs[name] = Object.values(cm.data).join('\n');
      }
      return { namespace: d.namespace, name: d.name, args: d.args, configs };
    }),
  );
  return { services: services.items, caches, ...(services.limited ? { limited: services.limited } : {}) };
}

/** The value of a flag in argv form ("-localip", "169.254.20.10,10.96.0.10" or "--localip=…"). */
function flagValues(args: string[], flag: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    const m = new RegExp(`^--?${flag}(?:=(.*))?$`).exec(a);
    if (m) out.push(m[1] ?? args[i + 1] ?? '');
    else if (new RegExp(`\\s--?${flag}[\\s=]`).test(` ${a}`)) out.push(new RegExp(`--?${flag}[\\s=]+(\\S+)`).exec(a)?.[1] ?? ''); // a shell command line
  });
  return out.filter(Boolean);
}

/** The addresses a node cache's Corefile binds and forwards to (runtime placeholders such as __PILLAR__CLUSTER__DNS__ are not addresses). */
function corefileAddresses(text: string): { bind: string[]; forward: string[] } {
  const of = (kw: string) =>
    [...text.matchAll(new RegExp(`^\\s*${kw}\\s+(.*)$`, 'gm'))].flatMap((m) =>
      ipTokens((kw === 'forward' ? m[1].replace(/^\S+\s+/, '') : m[1]).replace(/\{.*$/, '')).filter((t) => /^\d+\.\d+\.\d+\.\d+$|:/.test(t)),
    );
  return { bind: of('bind'), forward: of('forward') };
}

const named = (s: DnsServiceCandidate) => `${s.namespace}/${s.name}`;

/**
 * The cluster DNS Service for pods whose resolv.conf says `nameserver`:
 * - an ordinary address: the Service holding it as a ClusterIP;
 * - a link-local address (a node-local cache): the cache that names it (a DaemonSet's args), then the
 *   Service at one of the other addresses it listens at (`-localip`, Corefile `bind`), else the Service
 *   it forwards to (Corefile `forward`), else its `-upstreamsvc` Service (in the cache's namespace).
 * Undefined with the reason when none fits.
 */
export function findDnsService(nameserver: string | undefined, inputs: DnsInputs): FoundDnsService | { why: string } {
  if (!nameserver) return { why: "a probe pod's resolv.conf names no nameserver" };
  const byIP = (ip: string) => inputs.services.find((s) => s.clusterIPs.includes(ip));
  if (!isLinkLocal(nameserver)) {
    const s = byIP(nameserver);
    return s
      ? { service: s, how: `the Service whose ClusterIP is the nameserver ${nameserver} of a probe pod's resolv.conf` }
      : { why: `no Service has the ClusterIP ${nameserver}, the nameserver of a probe pod's resolv.conf${inputs.limited ? ` (${inputs.limited})` : ''}` };
  }
  const caches = inputs.caches.filter((c) => c.args.some((a) => ipTokens(a).includes(nameserver)));
  if (!caches.length) return { why: `pods ask ${nameserver} (link-local: a node-local DNS cache), and no DaemonSet names that address in its command or args` };
  for (const c of caches) {
    const cfg = Object.values(c.configs).map(corefileAddresses);
    const listen = [...flagValues(c.args, 'localip').flatMap((v) => v.split(',')), ...cfg.flatMap((x) => x.bind)].map((x) => x.trim());
    const tries: Array<[string[], string]> = [
      [listen, 'also listens at'],
      [cfg.flatMap((x) => x.forward), 'forwards to'],
    ];
    for (const [ips, verb] of tries) {
      for (const ip of ips.filter((x) => x && x !== nameserver)) {
        const s = byIP(ip);
        if (s)
          return {
            service: s,
            how: `pods ask ${nameserver}; the node-local DNS cache ${c.namespace}/${c.name} there ${verb} ${ip}, the ClusterIP of ${named(s)}`,
          };
      }
    }
    for (const name of flagValues(c.args, 'upstreamsvc')) {
      const s = inputs.services.find((x) => x.namespace === c.namespace && x.name === name);
      if (s)
        return { service: s, how: `pods ask ${nameserver}; the node-local DNS cache ${c.namespace}/${c.name} there names ${named(s)} as its -upstreamsvc` };
    }
  }
  return {
    why: `pods ask ${nameserver}; the node-local DNS cache ${caches.map((c) => `${c.namespace}/${c.name}`).join(', ')} names no address or Service that a Service of the cluster holds`,
  };
}

/** The facts of the DNS Service found (or, when none was found, kube-system/kube-dns if it exists, said as assumed, with the reason). */
export function applyDnsService(facts: ClusterFacts, nameserver: string | undefined, inputs: DnsInputs): string | undefined {
  const found = findDnsService(nameserver, inputs);
  let pick: FoundDnsService | undefined = 'service' in found ? found : undefined;
  if (!pick) {
    const kd = inputs.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
    if (kd) pick = { service: kd, how: `assumed (the conventional name): ${(found as { why: string }).why}` };
  }
  if (!pick) return (found as { why: string }).why;
  facts.dnsService = { namespace: pick.service.namespace, name: pick.service.name, how: pick.how };
  facts.dnsServiceIPs = pick.service.clusterIPs;
  facts.dnsServiceIP = pick.service.clusterIPs.find((ip) => ip === nameserver) ?? pick.service.clusterIPs[0] ?? '';
  facts.dnsSelector = pick.service.selector;
  return undefined;
}
