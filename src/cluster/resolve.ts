// The one typed Target a run works on, resolved once at the entry (CLI or Jest fixture) and passed
// explicitly from there: which kubeconfig and context, whether kube-netcheck manages the cluster
// (a kind cluster it created: host-side checks and node faults apply), and the images to run.
import { existingCluster, type ClusterFlags } from './flags.js';
import { kindUp, type KindCluster } from './kind.js';

export interface Images {
  nginx: string;
  probe: string;
}

export interface Target {
  kubeconfig: string;
  context?: string;
  /** The kind cluster kube-netcheck manages (its node containers can be reached with docker exec). */
  managed?: { cluster: string; cni: string; shape: string };
  images: Images;
  /** Images nobody named (flag or environment): preferNodeImages may swap them for ones the nodes already hold. */
  defaulted?: Array<keyof Images>;
}

/** Images on a cluster we did not build: public ones unless the user says otherwise. */
export const DEFAULT_IMAGES: Images = {
  nginx: 'nginx:1.27',
  probe: 'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
};

export interface TargetFlags extends ClusterFlags {
  nginxImage?: string;
  probeImage?: string;
  nodeImage?: string;
  cni?: string;
  cniManifest?: string;
  shape?: string;
}

/** A cluster the user named, as it is. */
export function userTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target | undefined {
  const c = existingCluster(flags, env);
  if (!c) return undefined;
  const nginx = flags.nginxImage ?? env.KNC_NGINX_IMAGE;
  const probe = flags.probeImage ?? env.KNC_PROBE_IMAGE;
  return {
    ...c,
    images: { nginx: nginx ?? DEFAULT_IMAGES.nginx, probe: probe ?? DEFAULT_IMAGES.probe },
    defaulted: [...(nginx ? [] : ['nginx' as const]), ...(probe ? [] : ['probe' as const])],
  };
}

/** The names kube-netcheck's offline builds carry (scripts/lib/image-names.sh). */
export const OFFLINE_IMAGE_PREFIX: Images = { nginx: 'kube-netcheck.local/nginx:', probe: 'kube-netcheck.local/probe:' };

/**
 * For images nobody named: when every node already holds one of kube-netcheck's offline images,
 * use it instead of the public default — nothing is pulled, no registry is asked (a cluster on a
 * machine without a registry, like the ones `cluster up` builds, has nothing else).
 */
export function preferNodeImages(t: Target, nodeImages: string[][]): Target {
  if (!t.defaulted?.length || !nodeImages.length) return t;
  const images = { ...t.images };
  for (const k of t.defaulted) {
    const candidates = nodeImages[0].filter((n) => n.startsWith(OFFLINE_IMAGE_PREFIX[k])).sort();
    const onEvery = candidates.filter((n) => nodeImages.every((names) => names.includes(n)));
    if (onEvery.length) images[k] = onEvery[onEvery.length - 1];
  }
  return { ...t, images };
}

/** The managed kind cluster as a Target (created or reused now). */
export function managedTarget(k: KindCluster, flags: TargetFlags): Target {
  return {
    kubeconfig: k.kubeconfig,
    managed: { cluster: k.cluster, cni: k.cni, shape: k.shape },
    images: { nginx: flags.nginxImage ?? k.nginxImage, probe: flags.probeImage ?? k.probeImage },
  };
}

/** The user's cluster, else the managed kind cluster brought up (created or reused) now. */
export async function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env, log?: (line: string) => void): Promise<Target> {
  return userTarget(flags, env) ?? managedTarget(await kindUp({ nodeImage: flags.nodeImage, cni: flags.cni, cniManifest: flags.cniManifest, shape: flags.shape, log }, env), flags);
}

/** preferNodeImages with the nodes' image lists read from the cluster; a list it cannot read leaves the defaults. */
export async function withNodeImages(t: Target): Promise<Target> {
  if (!t.defaulted?.length) return t;
  const { makeKube } = await import('../kube/client.js');
  const nodes = await makeKube({ kubeconfig: t.kubeconfig, context: t.context })
    .core.listNode()
    .then((l) => l.items.map((n) => (n.status?.images ?? []).flatMap((i) => i.names ?? [])), () => [] as string[][]);
  return preferNodeImages(t, nodes);
}
