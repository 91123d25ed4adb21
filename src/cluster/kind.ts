// The managed kind cluster as a provider: create-or-reuse, delete, where its kubeconfig is. The
// expensive part (offline image builds) is scripts/build/ — `make images` — and cluster-up.sh
// only builds what is missing; this module calls those scripts and reads their one JSON line.
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeAccess } from './connection.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The managed cluster's IP family (kind's networking.ipFamily; scripts/lib/cluster-config.sh has the ranges). */
export type ClusterIpFamily = 'ipv4' | 'ipv6' | 'dual';
export const CLUSTER_IP_FAMILIES: readonly ClusterIpFamily[] = ['ipv4', 'ipv6', 'dual'];

export interface KindCluster {
  cluster: string;
  kubeconfig: string;
  nginxImage: string;
  probeImage: string;
  offline: boolean;
  cni: string;
  shape: string;
  /** Created by this call (false: an existing cluster was reused). */
  created?: boolean;
  /** absent: ipv4 (what cluster-up.sh reported before families) */
  ipFamily?: ClusterIpFamily;
}

export interface KindOptions {
  nodeImage?: string;
  cni?: string;
  cniManifest?: string;
  shape?: string;
  /** ipv4 (the scripts' default), ipv6 or dual (KNC_IP_FAMILY) */
  ipFamily?: ClusterIpFamily;
  /** Where the scripts' progress goes (default: stderr). */
  log?: (line: string) => void;
}

/** The environment the scripts read: only kube-netcheck's own variables, never the user's kubeconfig. */
export function scriptEnv(o: KindOptions, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  if (o.nodeImage) out.KNC_NODE_IMAGE = o.nodeImage;
  if (o.cni) out.KNC_CNI = o.cni;
  if (o.cniManifest) out.KNC_CNI_MANIFEST = path.resolve(o.cniManifest);
  if (o.shape) out.KNC_SHAPE = o.shape;
  if (o.ipFamily) out.KNC_IP_FAMILY = o.ipFamily;
  return out;
}

export class KindError extends Error {
  override readonly name = 'KindError';
  constructor(
    readonly script: string,
    readonly exitCode: number | string | undefined,
    readonly tail: string,
  ) {
    super(`${script} exited ${exitCode}${tail ? `: ${tail}` : ''}`);
  }
}

async function script(name: string, o: KindOptions, env: NodeJS.ProcessEnv): Promise<string> {
  const file = path.join(ROOT, 'scripts', name);
  const child = execa('bash', [file], { cwd: ROOT, env: scriptEnv(o, env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', reject: false });
  let last = '';
  child.stderr?.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n').filter(Boolean)) {
      last = line;
      if (o.log) o.log(line);
      else process.stderr.write(`${line}\n`);
    }
  });
  const res = await child;
  if (res.exitCode !== 0) throw new KindError(`scripts/${name}`, res.exitCode ?? res.signal, last.replace(/^kube-netcheck: /, ''));
  return res.stdout;
}

/**
 * Runs scripts/cluster-up.sh as told: creates the kind cluster, or reuses it by name (recreating one
 * of another CNI, shape or node image). Commands go through upManaged, which applies the reuse rule.
 */
export async function kindUp(o: KindOptions = {}, env: NodeJS.ProcessEnv): Promise<KindCluster> {
  const stdout = await script('cluster-up.sh', o, env);
  const info = JSON.parse(stdout.trim().split('\n').pop()!) as Partial<KindCluster>;
  return { cni: 'flannel-host-gw', shape: 'default', ipFamily: 'ipv4', ...info } as KindCluster;
}

/** What is there under the managed cluster's name before anything is done to it. */
export interface FoundCluster {
  exists: boolean;
  /** Node containers that are not running ("name: state"). */
  notRunning: string[];
  /** What the cluster records it is (/etc/kube-netcheck/cluster on its control-plane node), when readable. */
  identity?: { shape: string; cni: string; pending: boolean; ipFamily?: ClusterIpFamily };
}

/** What bringing the managed cluster up will do, and why (the CLI says it). */
export type ManagedPlan =
  | { action: 'create'; why: string }
  | { action: 'as-named'; why: string }
  | { action: 'reuse'; cni: string; shape: string; ipFamily?: ClusterIpFamily; why: string }
  | { action: 'refuse'; why: string };

/** The command (or the environment, KNC_CNI…) names the cluster it wants: which of CNI, manifest, shape, node image. */
export function namedChoices(o: KindOptions, env: NodeJS.ProcessEnv): string[] {
  const named: Array<[string, unknown]> = [
    ['CNI', o.cni || env.KNC_CNI],
    ['CNI manifest', o.cniManifest || env.KNC_CNI_MANIFEST],
    ['shape', o.shape || env.KNC_SHAPE],
    ['IP family', o.ipFamily || env.KNC_IP_FAMILY],
    ['node image', o.nodeImage || env.KNC_NODE_IMAGE],
  ];
  return named.filter(([, v]) => !!v).map(([k]) => k);
}

/** What the command names where it names anything, with the defaults for the rest (as cluster-up.sh fills them in). */
export function namedCluster(o: KindOptions, env: NodeJS.ProcessEnv): { cni: string; shape: string; ipFamily: string } {
  const manifest = o.cniManifest || env.KNC_CNI_MANIFEST;
  return {
    cni: manifest ? `manifest:${path.basename(manifest)}` : o.cni || env.KNC_CNI || 'flannel-host-gw',
    shape: o.shape || env.KNC_SHAPE || 'default',
    ipFamily: o.ipFamily || env.KNC_IP_FAMILY || 'ipv4',
  };
}

/**
 * The reuse rule. A managed cluster that exists is reused AS IT IS (its CNI, shape, IP family and
 * node image) when the command names none of them; when it names some, the cluster is reused only
 * if it is exactly that (cluster-up.sh checks the node image and the rendered CNI too, KNC_REUSE=named).
 * Anything else — another CNI, shape or family than the cluster has, a node not running, a CNI
 * install that never finished — is refused (exit 2), never deleted: kube-netcheck deletes a
 * cluster only when asked to delete it (`cluster down`). No cluster yet: created as named.
 */
export function planManaged(o: KindOptions, env: NodeJS.ProcessEnv, found: FoundCluster): ManagedPlan {
  const named = namedChoices(o, env);
  if (!found.exists)
    return named.length ? { action: 'as-named', why: `the command names its ${named.join(', ')}` } : { action: 'create', why: 'no managed cluster yet' };
  if (found.notRunning.length) return { action: 'refuse', why: `node ${found.notRunning.join(', ')} not running` };
  if (!found.identity) return { action: 'refuse', why: 'its control-plane node does not say what it is' };
  if (found.identity.pending) return { action: 'refuse', why: `its CNI (${found.identity.cni}) install never finished` };
  if (named.length) {
    const want = namedCluster(o, env);
    const have = { cni: found.identity.cni, shape: found.identity.shape, ipFamily: found.identity.ipFamily ?? 'ipv4' };
    const differs = (['cni', 'shape', 'ipFamily'] as const).filter((k) => want[k] !== have[k]);
    const say = { cni: 'CNI', shape: 'shape', ipFamily: 'IP family' } as const;
    if (differs.length) {
      return {
        action: 'refuse',
        why: `it has ${differs.map((k) => `${say[k]} ${have[k]}`).join(', ')}, the command names ${differs.map((k) => `${say[k]} ${want[k]}`).join(', ')}`,
      };
    }
    return { action: 'as-named', why: `the command names its ${named.join(', ')}: reused only if it is exactly that` };
  }
  return {
    action: 'reuse',
    cni: found.identity.cni,
    shape: found.identity.shape,
    ipFamily: found.identity.ipFamily,
    why: 'no CNI or shape named: the cluster as it is',
  };
}

/** Reads an identity line "[pending ]shape=S cni=C [family=ipv6|dual] config=… [cni-key=…]" (undefined when it is none; no family: ipv4). */
export function parseIdentity(line: string): FoundCluster['identity'] {
  const shape = /(?:^|\s)shape=(\S+)/.exec(line)?.[1];
  const cni = /(?:^|\s)cni=(\S+)/.exec(line)?.[1];
  const family = /(?:^|\s)family=(\S+)/.exec(line)?.[1];
  const ipFamily = CLUSTER_IP_FAMILIES.find((f) => f === (family ?? 'ipv4'));
  return shape && cni && ipFamily ? { shape, cni, pending: /^pending\s/.test(line.trim()), ipFamily } : undefined;
}

export const clusterName = (env: NodeJS.ProcessEnv) => env.KNC_CLUSTER || 'kube-netcheck';

/** The managed cluster's node containers and recorded identity (docker; no change to anything). */
export async function inspectManaged(env: NodeJS.ProcessEnv): Promise<FoundCluster> {
  const name = clusterName(env);
  const ps = await execa('docker', [
    'ps',
    '-a',
    '--filter',
    `label=io.x-k8s.kind.cluster=${name}`,
    '--format',
    '{{.Names}}\t{{.State}}\t{{.Label "io.x-k8s.kind.role"}}',
  ]);
  const nodes = ps.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'))
    .map(([n, state, role]) => ({ n, state, role }));
  if (!nodes.length) return { exists: false, notRunning: [] };
  const notRunning = nodes.filter((x) => x.state !== 'running').map((x) => `${x.n}: ${x.state}`);
  const cp = nodes
    .filter((x) => x.role === 'control-plane' && x.state === 'running')
    .map((x) => x.n)
    .sort()[0];
  if (!cp) return { exists: true, notRunning };
  const rec = await execa('docker', ['exec', cp, 'cat', '/etc/kube-netcheck/cluster'], { reject: false });
  // a cluster from before the record was the default one (as cluster-up.sh reads it)
  const identity = rec.exitCode === 0 ? parseIdentity(rec.stdout) : { shape: 'default', cni: 'flannel-host-gw', pending: false, ipFamily: 'ipv4' as const };
  return { exists: true, notRunning, identity };
}

export class ClusterRefused extends Error {
  override readonly name = 'ClusterRefused';
}

/**
 * The managed kind cluster, up per the reuse rule (planManaged): created, reused as it is, or made
 * as the command names it. Refusal is a ClusterRefused naming the cluster and how to replace it.
 */
export async function upManaged(o: KindOptions, env: NodeJS.ProcessEnv): Promise<{ cluster: KindCluster; plan: ManagedPlan }> {
  const plan = planManaged(o, env, await inspectManaged(env));
  if (plan.action === 'refuse') {
    throw new ClusterRefused(
      `kind cluster ${clusterName(env)} cannot be used (${plan.why}); kube-netcheck deletes a cluster only when asked: delete it first (kube-netcheck cluster down) and bring it up as you want it, or give the new one another name (KNC_CLUSTER)`,
    );
  }
  const cluster =
    plan.action === 'reuse'
      ? await kindUp({ log: o.log, shape: plan.shape, ipFamily: plan.ipFamily }, { ...env, KNC_REUSE: 'as-is' })
      : await kindUp(o, { ...env, KNC_REUSE: 'named' }).catch((err: Error) => {
          // cluster-up.sh found the cluster is not what the command names (node image, CNI version): refused, nothing deleted
          if (err instanceof KindError && err.exitCode === 2 && /is not what the command names/.test(err.tail)) throw new ClusterRefused(err.tail);
          throw err;
        });
  return { cluster, plan };
}

/** How the CLI says what it found: "kind cluster X (created|reused as it is|…), shape S, CNI C". */
export function describeManaged(k: KindCluster, plan: ManagedPlan): string {
  const how = k.created ? 'created now' : plan.action === 'reuse' ? 'reused as it is' : 'reused (it is what the command names)';
  return `kind cluster ${k.cluster} (${how}): shape ${k.shape}, CNI ${k.cni}${k.ipFamily && k.ipFamily !== 'ipv4' ? `, IP family ${k.ipFamily}` : ''}`;
}

/** Node access for a kind cluster: its node containers are named after their nodes; the host is this machine. */
export function kindNodes(): NodeAccess {
  return {
    async exec(node, argv) {
      const r = await execa('docker', ['exec', node, ...argv]);
      return { stdout: r.stdout, stderr: r.stderr };
    },
    async hostRoute(ip) {
      return (await execa('ip', ['route', 'get', ip], { reject: false, all: true })).all ?? '';
    },
  };
}

/** Deletes the kind cluster and its safety-net routes. */
export async function kindDown(o: KindOptions = {}, env: NodeJS.ProcessEnv): Promise<void> {
  await script('cluster-down.sh', o, env);
}

/** Where cluster-up.sh writes the managed cluster's kubeconfig (never a user's file). */
export function kindKubeconfig(env: NodeJS.ProcessEnv): string {
  return path.join(env.KNC_CACHE || '/var/cache/kube-netcheck', `kubeconfig-${env.KNC_CLUSTER || 'kube-netcheck'}`);
}
