// What kube-netcheck needs to know about a cluster, discovered rather than assumed:
// pod and service ranges, the cluster domain, the DNS Service, the nodes.
import yaml from 'js-yaml';
import type { Kube } from '../kube/client.js';

export interface NodeFacts {
  name: string;
  internalIP: string;
  podCIDRs: string[];
  controlPlane: boolean;
}

export interface ClusterFacts {
  podSubnets: string[];
  serviceSubnets: string[];
  clusterDomain: string;
  dnsServiceIP: string;
  nodes: NodeFacts[];
}

interface KubeadmNetworking {
  podSubnet?: string;
  serviceSubnet?: string;
  dnsDomain?: string;
}

async function kubeadmNetworking(kube: Kube): Promise<KubeadmNetworking> {
  try {
    const cm = await kube.core.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' });
    const cc = yaml.load(cm.data?.ClusterConfiguration ?? '') as { networking?: KubeadmNetworking } | undefined;
    return cc?.networking ?? {};
  } catch {
    return {}; // not a kubeadm cluster: fall back to what the nodes and Services say
  }
}

const split = (s?: string) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

export async function discoverFacts(kube: Kube): Promise<ClusterFacts> {
  const [net, nodeList, dns] = await Promise.all([
    kubeadmNetworking(kube),
    kube.core.listNode(),
    kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' }),
  ]);
  const nodes: NodeFacts[] = nodeList.items.map((n) => ({
    name: n.metadata!.name!,
    internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    podCIDRs: n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []),
    controlPlane: 'node-role.kubernetes.io/control-plane' in (n.metadata?.labels ?? {}),
  }));
  const podSubnets = split(net.podSubnet);
  return {
    podSubnets: podSubnets.length ? podSubnets : nodes.flatMap((n) => n.podCIDRs),
    serviceSubnets: split(net.serviceSubnet),
    clusterDomain: net.dnsDomain ?? 'cluster.local',
    dnsServiceIP: dns.spec?.clusterIP ?? '',
    nodes,
  };
}
