// The one resolver of "the cluster we talk to", for the CLI, the Jest specs and the library alike:
// the cluster the user names (flags, KNC_KUBECONFIG + KNC_CONTEXT: cluster/flags.ts) as it is, else
// the kind cluster kube-netcheck manages, brought up by the reuse rule (cluster/kind.ts planManaged).
// It yields one Connection (cluster/connection.ts): the typed Target — which kubeconfig and context,
// whether kube-netcheck manages the cluster (a kind cluster it created: host-side checks and node
// faults apply), the images to run — with the kubeconfig loaded once, passed down from the entry.
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import { pollUntil } from '../util/poll.js';
import { mirrorImage } from './registry.js';
import { connect, retarget, type Connection } from './connection.js';
import { existingCluster, type ClusterFlags } from './flags.js';
import { upManaged, type ClusterIpFamily, type KindCluster, type ManagedPlan } from './kind.js';

export interface Images {
  nginx: string;
  probe: string;
}

export interface Target {
  kubeconfig: string;
  context?: string;
  /** The kind cluster kube-netcheck manages (its node containers can be reached with docker exec). */
  managed?: { cluster: string; cni: string; shape: string; ipFamily?: ClusterIpFamily; created?: boolean };
  images: Images;
  /** Images nobody named (flag or environment): preferNodeImages may swap them for ones the nodes already hold. */
  defaulted?: Array<keyof Images>;
}

/**
 * Images on a cluster we did not build: public ones unless the user says otherwise. The probe image
 * is Kubernetes' own e2e agnhost (kept current by SIG Testing, pulled by every conformance run, so
 * mirrors of registry.k8s.io carry it): Alpine with busybox (sh, wget, ping, timeout, awk, sleep),
 * bind-tools (dig), musl's getent, iproute2 (ip), curl, netcat-openbsd and bash — every tool the
 * probes call (PROBE_TOOLS; setup asks the image before anything runs). jessie-dnsutils, the old
 * default, has no wget, ping, ip or busybox.
 */
export const DEFAULT_IMAGES: Images = {
  nginx: 'nginx:1.27',
  probe: 'registry.k8s.io/e2e-test-images/agnhost:2.56',
};

/** The node annotation `cluster up` sets: "loading" while it loads kube-netcheck's images, then their names (comma-separated). */
export const IMAGES_MARKER = 'kube-netcheck.local/images';

export interface TargetFlags extends ClusterFlags {
  nginxImage?: string;
  probeImage?: string;
  nodeImage?: string;
  cni?: string;
  cniManifest?: string;
  shape?: string;
  ipFamily?: ClusterIpFamily;
  /** A mirror every image of the run is pulled from (--registry / KNC_REGISTRY): cluster/registry.ts. */
  registry?: string;
}

/** A cluster the user named, as it is. */
export function userTarget(flags: TargetFlags, env: NodeJS.ProcessEnv): Target | undefined {
  const c = existingCluster(flags, env);
  if (!c) return undefined;
  const nginx = flags.nginxImage ?? env.KNC_NGINX_IMAGE;
  const probe = flags.probeImage ?? env.KNC_PROBE_IMAGE;
  const registry = flags.registry ?? (env.KNC_REGISTRY || undefined);
  const m = (image: string) => (registry ? mirrorImage(image, registry) : image);
  return {
    ...c,
    images: { nginx: m(nginx ?? DEFAULT_IMAGES.nginx), probe: m(probe ?? DEFAULT_IMAGES.probe) },
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
    managed: { cluster: k.cluster, cni: k.cni, shape: k.shape, ipFamily: k.ipFamily, created: k.created },
    images: { nginx: flags.nginxImage ?? k.nginxImage, probe: flags.probeImage ?? k.probeImage },
  };
}

export interface ResolveHooks {
  /** Checks the user's cluster before anything runs (the CLI's preflight) and hands back the kubeconfig it loaded. */
  check?(t: Target): Promise<KubeConfig>;
  /** Before the managed cluster is brought up (the CLI checks Docker and says what happens). */
  beforeManaged?(): Promise<void>;
  /** The managed cluster this run's entry already brought up (the Jest global setup, for the spec files): used as it is. */
  managed?: KindCluster;
  /** Where cluster-up.sh's progress goes (default: stderr). */
  log?: (line: string) => void;
}

export interface Resolved {
  conn: Connection;
  /** The managed kind cluster, when that is the one; `plan` says whether it was created, reused as it is or made as named. */
  managed?: { cluster: KindCluster; plan?: ManagedPlan };
}

/** The user's cluster as it is, else the managed kind cluster by the reuse rule; one Connection either way. */
export async function resolveCluster(flags: TargetFlags, env: NodeJS.ProcessEnv, hooks: ResolveHooks = {}): Promise<Resolved> {
  const user = userTarget(flags, env);
  if (user) return { conn: await withNodeImages(connect(user, await hooks.check?.(user))) };
  if (hooks.managed) return { conn: connect(managedTarget(hooks.managed, flags)), managed: { cluster: hooks.managed } };
  await hooks.beforeManaged?.();
  const { cluster, plan } = await upManaged(
    { nodeImage: flags.nodeImage, cni: flags.cni, cniManifest: flags.cniManifest, shape: flags.shape, ipFamily: flags.ipFamily, log: hooks.log },
    env,
  );
  return { conn: connect(managedTarget(cluster, flags)), managed: { cluster, plan } };
}

/**
 * What the nodes hold, for preferNodeImages: the names in the cluster's own marker (IMAGES_MARKER,
 * set by `cluster up` once the images are in every node) when every node carries it — not the
 * nodes' image lists, which the kubelet reports many seconds after `kind load` — else those lists.
 * `pending`: some node says its images are still being loaded.
 */
export function nodeImageNames(nodes: V1Node[]): { names: string[][]; pending: boolean } {
  const marks = nodes.map((n) => n.metadata?.annotations?.[IMAGES_MARKER]);
  if (marks.some((m) => m === 'loading')) return { names: [], pending: true };
  if (marks.length && marks.every((m) => m)) return { names: marks.map((m) => m!.split(',').filter(Boolean)), pending: false };
  return { names: nodes.map((n) => (n.status?.images ?? []).flatMap((i) => i.names ?? [])), pending: false };
}

/**
 * preferNodeImages with what the nodes hold, read over the connection; while `cluster up` is still
 * loading kube-netcheck's images into this cluster, waits for it (bounded) rather than choose
 * public images that would send every node to a registry. A list it cannot read leaves the defaults.
 */
export async function withNodeImages(c: Connection, timeoutMs = 300_000): Promise<Connection> {
  if (!c.target.defaulted?.length) return c;
  const read = () =>
    c.kube.core.listNode().then(
      (l) => nodeImageNames(l.items),
      () => ({ names: [] as string[][], pending: false }),
    );
  const seen = await pollUntil({
    what: `cluster up to finish loading kube-netcheck's images (node annotation ${IMAGES_MARKER})`,
    timeoutMs,
    intervalMs: 1000,
    probe: read,
    done: (r) => !r.pending,
    describe: () => 'still "loading"',
  });
  return retarget(c, preferNodeImages(c.target, seen.names));
}
