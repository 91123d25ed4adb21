// The managed kind cluster as a provider: create-or-reuse, delete, where its kubeconfig is. The
// expensive part (offline image builds) is scripts/build/ — `make images` — and cluster-up.sh
// only builds what is missing; this module calls those scripts and reads their one JSON line.
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface KindCluster {
  cluster: string;
  kubeconfig: string;
  nginxImage: string;
  probeImage: string;
  offline: boolean;
  cni: string;
  shape: string;
}

export interface KindOptions {
  nodeImage?: string;
  cni?: string;
  cniManifest?: string;
  shape?: string;
  /** Where the scripts' progress goes (default: stderr). */
  log?: (line: string) => void;
}

/** The environment the scripts read: only kube-netcheck's own variables, never the user's kubeconfig. */
export function scriptEnv(o: KindOptions, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  if (o.nodeImage) out.KNC_NODE_IMAGE = o.nodeImage;
  if (o.cni) out.KNC_CNI = o.cni;
  if (o.cniManifest) out.KNC_CNI_MANIFEST = path.resolve(o.cniManifest);
  if (o.shape) out.KNC_SHAPE = o.shape;
  return out;
}

export class KindError extends Error {
  override readonly name = 'KindError';
  constructor(readonly script: string, readonly exitCode: number | string | undefined, readonly tail: string) {
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

/** Creates the kind cluster, or reuses it by name; resolves when it is usable. */
export async function kindUp(o: KindOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<KindCluster> {
  const stdout = await script('cluster-up.sh', o, env);
  const info = JSON.parse(stdout.trim().split('\n').pop()!) as Partial<KindCluster>;
  return { cni: 'flannel-host-gw', shape: 'default', ...info } as KindCluster;
}

/** Deletes the kind cluster and its safety-net routes. */
export async function kindDown(o: KindOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await script('cluster-down.sh', o, env);
}

/** Where cluster-up.sh writes the managed cluster's kubeconfig (never a user's file). */
export function kindKubeconfig(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.KNC_CACHE || '/var/cache/kube-netcheck', `kubeconfig-${env.KNC_CLUSTER || 'kube-netcheck'}`);
}
