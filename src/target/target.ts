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
  return {
    ...c,
    images: {
      nginx: flags.nginxImage ?? env.KNC_NGINX_IMAGE ?? DEFAULT_IMAGES.nginx,
      probe: flags.probeImage ?? env.KNC_PROBE_IMAGE ?? DEFAULT_IMAGES.probe,
    },
  };
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
