// The NetworkPolicy reachability matrix's workload: three namespaces of the run (logical x, y, z:
// knc-<run>-x …) × three pods (a, b, c), each serving TCP and UDP on 80 and 81 and probing its row
// (manifests/netpol/matrix-pod.yaml). Created on first use (by the first NetworkPolicy case), with
// the run's labels, so the run's teardown and `kube-netcheck cleanup` remove them like the rest.
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { MANIFESTS_DIR, loadYamlDocs, setImage, stamp, type Obj } from './manifests.js';
import { createPods } from './probe-pods.js';
import { waitPodsReady } from './pods.js';
import { probeRef, type ProbeRef, type RunEnv } from './setup.js';

export const MATRIX_NAMESPACES = ['x', 'y', 'z'] as const;
export const MATRIX_PODS = ['a', 'b', 'c'] as const;

/** Labels the matrix's policies select on (values: the logical names; EXTRA is what the update cases add). */
export const NS_KEY = 'kube-netcheck/netpol-ns';
export const POD_KEY = 'kube-netcheck/netpol-pod';
export const EXTRA_KEY = 'kube-netcheck/netpol-extra';
const COMPONENT = 'app.kubernetes.io/component';

export interface MatrixPod {
  /** "x/a" */
  peer: string;
  ref: ProbeRef;
}

export interface Matrix {
  /** logical → real namespace name */
  namespaces: Record<string, string>;
  /** peer "x/a" → pod */
  pods: Map<string, MatrixPod>;
  /** The nodes the pods were spread over. */
  nodes: string[];
}

export const matrixNamespace = (runId: string, ns: string) => `knc-${runId}-${ns}`;

/** The nodes to spread the matrix over: the probed schedulable nodes (all probed nodes if none is). */
export function spreadNodes(env: Pick<RunEnv, 'nodes'>): string[] {
  const open = env.nodes.filter((n) => !n.tainted).map((n) => n.name);
  return open.length ? open : env.nodes.map((n) => n.name);
}

/** One matrix pod, pinned to `node`: name = the logical pod name, labels = the run's + the matrix's. */
export function matrixPod(env: Pick<RunEnv, 'labels' | 'target' | 'runId'>, ns: string, pod: string, node: string): Obj {
  const [t] = loadYamlDocs(path.join(MANIFESTS_DIR, 'netpol/matrix-pod.yaml'));
  // the nginx image: Debian-based (ours and the public nginx:1.27), so it has perl-base; the public
  // probe image (agnhost, Alpine) has no perl
  const o = setImage(stamp(t, matrixNamespace(env.runId, ns), env.labels), env.target.images.nginx);
  o.metadata!.name = pod;
  o.metadata!.labels = { ...o.metadata!.labels, [POD_KEY]: pod };
  o.spec.nodeName = node;
  o.spec.tolerations = [{ operator: 'Exists' }];
  return o;
}

const override = { image: '--nginx-image / KNC_NGINX_IMAGE (it needs perl: perl-base is in every Debian-based image)' };

async function waitMatrixPods(env: RunEnv, namespace: string, count: number): Promise<V1Pod[]> {
  return waitPodsReady(env.kube, namespace, `${COMPONENT}=netpol-matrix`, { count, override, timeoutMs: 90_000 });
}

/** Creates the matrix's namespaces and pods and waits until every pod runs. */
export async function createMatrix(env: RunEnv): Promise<Matrix> {
  const namespaces = Object.fromEntries(MATRIX_NAMESPACES.map((ns) => [ns, matrixNamespace(env.runId, ns)]));
  await Promise.all(
    MATRIX_NAMESPACES.map((ns) => env.kube.core.createNamespace({ body: { metadata: { name: namespaces[ns], labels: { ...env.labels, [NS_KEY]: ns } } } })),
  );
  const nodes = spreadNodes(env);
  let i = 0;
  const objs = MATRIX_NAMESPACES.flatMap((ns) => MATRIX_PODS.map((pod) => matrixPod(env, ns, pod, nodes[i++ % nodes.length])));
  // fresh namespaces: their ServiceAccount may not exist yet (the probe-pod lifecycle retries that refusal)
  await createPods(env.kube, objs);
  const ready = (await Promise.all(MATRIX_NAMESPACES.map((ns) => waitMatrixPods(env, namespaces[ns], MATRIX_PODS.length)))).flat();
  const pods = new Map<string, MatrixPod>();
  for (const p of ready) {
    const ns = MATRIX_NAMESPACES.find((n) => namespaces[n] === p.metadata!.namespace)!;
    const peer = `${ns}/${p.metadata!.name}`;
    pods.set(peer, { peer, ref: probeRef(p) });
  }
  return { namespaces, pods, nodes };
}

/** A pod created later (the "pod created after the policy" case): waits until it runs. */
export async function addMatrixPod(env: RunEnv, m: Matrix, ns: string, pod: string): Promise<MatrixPod> {
  const node = m.nodes[m.pods.size % m.nodes.length];
  await createPods(env.kube, [matrixPod(env, ns, pod, node)]);
  const pods = await waitPodsReady(env.kube, m.namespaces[ns], `${POD_KEY}=${pod}`, { count: 1, override, timeoutMs: 90_000 });
  const mp = { peer: `${ns}/${pod}`, ref: probeRef(pods[0]) };
  m.pods.set(mp.peer, mp);
  return mp;
}

export async function removeMatrixPod(env: RunEnv, m: Matrix, peer: string): Promise<void> {
  const p = m.pods.get(peer);
  if (!p) return;
  m.pods.delete(peer);
  await env.kube.core.deleteNamespacedPod({ name: p.ref.pod, namespace: p.ref.namespace, gracePeriodSeconds: 0 });
}
