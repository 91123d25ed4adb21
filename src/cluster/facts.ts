// What kube-netcheck needs to know about a cluster, discovered rather than assumed, each with where
// it came from: pod and service ranges, the cluster domain, the DNS Service and what pods use as
// their nameserver, kube-proxy's presence, the CNI's DaemonSets, the nodes. Facts are reported;
// they are not pass/fail assumptions.
import yaml from 'js-yaml';
import { AppsV1Api, NetworkingV1Api, VersionApi } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { cidrFamily, familiesOf, ipFamily, IP_FAMILIES, type IPFamily } from '../util/cidr.js';

export interface NodeFacts {
  name: string;
  internalIP: string;
  /** Every InternalIP of the node (dual-stack: one per family, the primary first). */
  internalIPs?: string[];
  /** node.spec.podCIDRs — many CNIs allocate elsewhere, so this may be empty. */
  podCIDRs: string[];
  controlPlane: boolean;
  /** Has a NoSchedule/NoExecute taint: ordinary pods (the workload) do not land there. */
  tainted: boolean;
}

export interface DaemonSetFacts {
  name: string;
  images: string[];
}

export interface ClusterFacts {
  podSubnets: string[];
  serviceSubnets: string[];
  clusterDomain: string;
  /** Where each of the three came from, for the report ('' when not found). */
  sources: { podSubnets: string; serviceSubnets: string; clusterDomain: string };
  /** The cluster DNS Service's ClusterIP ('' until a probe pod's nameserver named the Service: see findDnsService). */
  dnsServiceIP: string;
  /** The cluster DNS Service's spec.clusterIPs (dual-stack: one per family). */
  dnsServiceIPs?: string[];
  /** The cluster DNS Service's selector, as a label selector (CoreDNS pods are found through it, in dnsService.namespace). */
  dnsSelector: string;
  /** The cluster DNS Service, found from the nameserver pods use (whatever its name and namespace), and how it was found. */
  dnsService?: { namespace: string; name: string; how: string };
  /** The nameserver pods get in resolv.conf (the kube-dns ClusterIP, or a NodeLocal DNSCache address). */
  podNameserver?: string;
  kubeProxy: boolean;
  /** DaemonSets in kube-system other than kube-proxy: the CNI and friends. */
  daemonSets: DaemonSetFacts[];
  version: string;
  nodes: NodeFacts[];
}

/** NodeLocal DNSCache's conventional link-local listen address (the docs' example; Kubespray uses 169.254.25.10). */
export const NODELOCAL_DNS_IP = '169.254.20.10';

/**
 * A nameserver in 169.254.0.0/16 (IPv4 link-local): nothing but something on the pod's own node can
 * answer there, so a pod given one is served by a node-local DNS cache (NodeLocal DNSCache listens
 * at any address of that range its operator chose) in front of the cluster DNS Service.
 */
export const isLinkLocal = (ip?: string): boolean => !!ip && /^169\.254\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/.test(ip);

interface KubeadmNetworking {
  podSubnet?: string;
  serviceSubnet?: string;
  dnsDomain?: string;
}

const split = (s?: string) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
const quiet = <T>(p: Promise<T>) => p.catch(() => undefined);

async function kubeadmNetworking(kube: Kube): Promise<KubeadmNetworking> {
  const cm = await quiet(kube.core.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' }));
  try {
    const cc = yaml.load(cm?.data?.ClusterConfiguration ?? '') as { networking?: KubeadmNetworking } | undefined;
    return cc?.networking ?? {};
  } catch {
    return {};
  }
}

/** The ServiceCIDR objects (networking.k8s.io/v1, Kubernetes ≥ 1.33), the API's own word on the service range. */
async function serviceCIDRs(kube: Kube): Promise<string[]> {
  const list = await quiet(kube.kc.makeApiClient(NetworkingV1Api).listServiceCIDR());
  return (list?.items ?? []).flatMap((c) => c.spec?.cidrs ?? []);
}

/** A flag of the kube-apiserver / kube-controller-manager static pods, when they are visible. */
async function controlPlaneFlag(kube: Kube, component: string, flag: string): Promise<string[]> {
  const pods = await quiet(kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: `component=${component}` }));
  for (const p of pods?.items ?? []) {
    for (const c of p.spec?.containers ?? []) {
      const arg = [...(c.command ?? []), ...(c.args ?? [])].find((a) => a.startsWith(`--${flag}=`));
      if (arg) return split(arg.slice(flag.length + 3));
    }
  }
  return [];
}

/** The first source that yields a non-empty value. */
async function firstOf<T>(tries: Array<[string, () => Promise<T[]> | T[]]>): Promise<[T[], string]> {
  for (const [source, get] of tries) {
    const v = await get();
    if (v.length) return [v, source];
  }
  return [[], ''];
}

/** The cluster domain and nameserver a ClusterFirst pod in `ns` got: search "<ns>.svc.<domain> …". */
export function domainFromResolvConf(text: string, ns: string): { domain?: string; nameserver?: string } {
  const nameserver = /^nameserver\s+(\S+)/m.exec(text)?.[1];
  const search = /^search\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  const prefix = `${ns}.svc.`;
  const first = search.find((d) => d.startsWith(prefix));
  return { domain: first?.slice(prefix.length) || undefined, nameserver };
}

export async function discoverFacts(kube: Kube): Promise<ClusterFacts> {
  const apps = kube.kc.makeApiClient(AppsV1Api);
  const [net, nodeList, daemonSets, version] = await Promise.all([
    kubeadmNetworking(kube),
    kube.core.listNode(),
    quiet(apps.listNamespacedDaemonSet({ namespace: 'kube-system' })),
    quiet(kube.kc.makeApiClient(VersionApi).getCode()),
  ]);
  const nodes: NodeFacts[] = nodeList.items.map((n) => ({
    name: n.metadata!.name!,
    internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
    podCIDRs: n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []),
    controlPlane: 'node-role.kubernetes.io/control-plane' in (n.metadata?.labels ?? {}),
    tainted: (n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
  }));
  nodes.sort((a, b) => a.name.localeCompare(b.name));
  const [podSubnets, podSource] = await firstOf<string>([
    ['kubeadm-config ClusterConfiguration.networking.podSubnet', () => split(net.podSubnet)],
    ['kube-controller-manager --cluster-cidr', () => controlPlaneFlag(kube, 'kube-controller-manager', 'cluster-cidr')],
    ['node.spec.podCIDRs', () => [...new Set(nodes.flatMap((n) => n.podCIDRs))]],
  ]);
  const [serviceSubnets, svcSource] = await firstOf<string>([
    ['ServiceCIDR API (networking.k8s.io/v1)', () => serviceCIDRs(kube)],
    ['kubeadm-config ClusterConfiguration.networking.serviceSubnet', () => split(net.serviceSubnet)],
    ['kube-apiserver --service-cluster-ip-range', () => controlPlaneFlag(kube, 'kube-apiserver', 'service-cluster-ip-range')],
  ]);
  return {
    podSubnets,
    serviceSubnets,
    clusterDomain: net.dnsDomain ?? 'cluster.local',
    sources: {
      podSubnets: podSource,
      serviceSubnets: svcSource,
      clusterDomain: net.dnsDomain ? 'kubeadm-config ClusterConfiguration.networking.dnsDomain' : 'the default (cluster.local), until a pod says otherwise',
    },
    // the DNS Service is known once a pod's resolv.conf names its nameserver (findDnsService)
    dnsServiceIP: '',
    dnsServiceIPs: [],
    dnsSelector: '',
    kubeProxy: (daemonSets?.items ?? []).some((d) => d.metadata?.name === 'kube-proxy'),
    daemonSets: (daemonSets?.items ?? [])
      .filter((d) => d.metadata?.name !== 'kube-proxy')
      .map((d) => ({ name: d.metadata!.name!, images: (d.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '') })),
    version: version?.gitVersion ?? '',
    nodes,
  };
}

/** The addresses a pod may legitimately get its DNS answers from: the DNS Service's ClusterIP, and the node-local cache (a link-local nameserver) it was given. */
export function clusterDnsServers(f: Pick<ClusterFacts, 'dnsServiceIP' | 'podNameserver'>): string[] {
  return [f.dnsServiceIP, ...(f.podNameserver !== f.dnsServiceIP && isLinkLocal(f.podNameserver) ? [f.podNameserver!] : [])];
}

// --- IP families: what the cluster has, per family. The helpers the per-family checks call. ---

type FamilyFacts = Pick<ClusterFacts, 'podSubnets' | 'serviceSubnets' | 'nodes'> & Partial<Pick<ClusterFacts, 'dnsServiceIP' | 'dnsServiceIPs'>>;

/** The node addresses of a node (every InternalIP; older facts: the one). */
export const nodeAddresses = (n: NodeFacts): string[] => (n.internalIPs?.length ? n.internalIPs : n.internalIP ? [n.internalIP] : []);

/**
 * The primary family: the first service range's (the API server's first --service-cluster-ip-range
 * is what a SingleStack Service gets), else the first pod range's, else the first node address's.
 */
export function primaryFamily(f: FamilyFacts): IPFamily | undefined {
  const first = [f.serviceSubnets[0], f.podSubnets[0]].find(Boolean);
  try {
    if (first) return cidrFamily(first);
    const ip = f.nodes.flatMap(nodeAddresses)[0];
    return ip ? ipFamily(ip) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The families the cluster has, the primary first: those of its pod and service ranges and the
 * kube-dns Service's ClusterIPs; only when none of those is known, the nodes' InternalIPs (a node of
 * a single-stack cluster may well hold an address of the other family).
 */
export function clusterFamilies(f: FamilyFacts): IPFamily[] {
  const known = familiesOf([...f.podSubnets, ...f.serviceSubnets, ...(f.dnsServiceIPs ?? [f.dnsServiceIP ?? ''])]);
  const found = known.length ? known : familiesOf(f.nodes.flatMap(nodeAddresses));
  const primary = primaryFamily(f);
  return primary && found.includes(primary) ? [primary, ...found.filter((x) => x !== primary)] : found;
}

/** Why a check of `family` does not apply here, or undefined when the cluster has that family. */
export function familyMissing(f: FamilyFacts, family: IPFamily): string | undefined {
  const have = clusterFamilies(f);
  if (have.includes(family)) return undefined;
  return `the cluster has no ${family} (${have.join(' and ') || 'no family found'} only: pod ranges ${f.podSubnets.join(',') || 'unknown'}, service ranges ${f.serviceSubnets.join(',') || 'unknown'})`;
}

/** The cluster's ranges of one family. */
export function rangesOf(f: Pick<ClusterFacts, 'podSubnets' | 'serviceSubnets'>, family: IPFamily): { pod: string[]; service: string[] } {
  const of = (rs: string[]) =>
    rs.filter((r) => {
      try {
        return cidrFamily(r) === family;
      } catch {
        return false;
      }
    });
  return { pod: of(f.podSubnets), service: of(f.serviceSubnets) };
}

/** "IPv4 and IPv6 (dual-stack, IPv4 primary)", "IPv6 (single-stack)". */
export function describeFamilies(f: FamilyFacts): string {
  const have = clusterFamilies(f);
  if (!have.length) return 'unknown';
  return have.length === IP_FAMILIES.length ? `${have.join(' and ')} (dual-stack, ${have[0]} primary)` : `${have[0]} (single-stack)`;
}
