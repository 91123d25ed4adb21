// The one probe-pod lifecycle. Every pod kube-netcheck runs itself — the run's probe pods, node
// views and HTTP targets (setupRun), the grader's probe namespace, its client pods in students'
// namespaces and its policy-control target — is built from a manifests/probes template (probePod),
// created through createPods (a fresh namespace's ServiceAccount refusal retried by the one retry
// wrapper, util/retry.ts, that retryOnConflict uses too), waited for until Ready (waitPodsReady: a
// pod that cannot start ends the wait at once) and deleted again (deletePods; a namespace of ours
// goes whole with teardownRun).
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { errorLine, isServiceAccountPending } from '../kube/errors.js';
import { retry } from '../util/retry.js';
import { MANIFESTS_DIR, loadYamlDocs, setImage, stamp, type Obj } from './manifests.js';
import { waitPodsReady } from './pods.js';

export interface ProbeRef {
  namespace: string;
  pod: string;
  node: string;
  ip: string;
  /** status.podIPs: every address of the pod (dual-stack: one per family, the primary first = ip). */
  ips?: string[];
  hostNetwork: boolean;
}

/** A probe pod from a manifests/probes template: named, stamped for the run, optionally pinned to a node. */
export function probePod(template: Obj, name: string, node: string | undefined, ns: string, image: string, labels: Record<string, string>): Obj {
  const o = setImage(stamp(template, ns, labels), image);
  o.metadata!.name = name;
  if (node) {
    o.spec.nodeName = node;
    o.spec.tolerations = [{ operator: 'Exists' }];
  }
  return o;
}

/** A template of manifests/probes ("probe-pod", "node-view-pod", "target-pod"). */
export const probeTemplate = (name: string): Obj => loadYamlDocs(path.join(MANIFESTS_DIR, `probes/${name}.yaml`))[0];

export const probeRef = (p: V1Pod): ProbeRef => ({
  namespace: p.metadata!.namespace!,
  pod: p.metadata!.name!,
  node: p.spec!.nodeName!,
  ip: p.status!.podIP!,
  ips: podAddresses(p),
  hostNetwork: !!p.spec!.hostNetwork,
});

/** A pod's addresses, every family (status.podIPs; a status without it: podIP). */
export const podAddresses = (p: V1Pod): string[] => (p.status?.podIPs?.length ? p.status.podIPs.map((x) => x.ip) : p.status?.podIP ? [p.status.podIP] : []);

/** Pod names are DNS labels: node names may be longer or carry dots. */
export const podName = (prefix: string, node: string, i: number) =>
  `${prefix}-${i}-${node.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');

/**
 * How long a pod's creation is retried while its namespace's ServiceAccount is not there yet: the
 * controller makes it within a second or two of the namespace; any other refusal ends it at once.
 */
export const SERVICE_ACCOUNT_WAIT_MS = 15_000;

/**
 * Creates one pod, again while the API refuses it because the namespace's ServiceAccount does not
 * exist yet (a namespace created a moment ago). Any other error is thrown as the API gave it (its
 * status intact: a caller may tell a policy's 403/422 from other failures).
 */
export function createPod(kube: Kube, pod: Obj, o: { onRetry?: (err: unknown, attempt: number) => void; deadlineMs?: number } = {}): Promise<V1Pod> {
  const namespace = pod.metadata!.namespace!;
  return retry(() => kube.core.createNamespacedPod({ namespace, body: pod as V1Pod }), {
    retryable: isServiceAccountPending,
    deadlineMs: o.deadlineMs ?? SERVICE_ACCOUNT_WAIT_MS,
    firstDelayMs: 100,
    maxDelayMs: 1_000,
    onRetry: o.onRetry,
  });
}

/** Creates the pods at once (each through createPod); the first refusal is thrown, naming the pod and the API's words. */
export async function createPods(kube: Kube, pods: Obj[]): Promise<V1Pod[]> {
  const made = await Promise.allSettled(pods.map((p) => createPod(kube, p)));
  const failed = made.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    const p = pods[failed];
    throw new Error(`creating Pod ${p.metadata?.namespace}/${p.metadata?.name}: ${errorLine((made[failed] as PromiseRejectedResult).reason)}`);
  }
  return made.map((r) => (r as PromiseFulfilledResult<V1Pod>).value);
}

export interface StartPodsOptions {
  /** Selects exactly these pods in their namespace (they all carry it). */
  selector: string;
  timeoutMs?: number;
  /** The flag that chooses their image, named when one cannot start. */
  override?: { image: string };
}

/** Creates the pods (all in one namespace) and waits until each is Ready; resolves to them, sorted by node. */
export async function startPods(kube: Kube, pods: Obj[], o: StartPodsOptions): Promise<ProbeRef[]> {
  await createPods(kube, pods);
  const ready = await waitPodsReady(kube, pods[0].metadata!.namespace!, o.selector, { count: pods.length, timeoutMs: o.timeoutMs, override: o.override });
  return ready.map(probeRef).sort((a, b) => a.node.localeCompare(b.node));
}

/** Deletes pods of ours at once, without grace (a pod already gone is fine). */
export async function deletePods(kube: Kube, pods: Array<{ namespace: string; pod: string }>): Promise<void> {
  await Promise.all(pods.map(({ namespace, pod }) => kube.core.deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 0 }).catch(() => undefined)));
}

export interface ProbeNamespaceOptions {
  namespace: string;
  labels: Record<string, string>;
  image: string;
  /** One probe pod pinned to each of these nodes; default one pod wherever the scheduler puts it. */
  nodes?: string[];
  timeoutMs?: number;
  /** Called with the namespace creation as soon as it is sent: cleanup waits for it. */
  onCreate?: (creating: Promise<unknown>) => void;
}

/**
 * Probe pods outside a full run: a labelled namespace of the caller's with one probe pod per node
 * (or one wherever the scheduler puts it), Ready; teardownRun deletes the namespace by its labels.
 * The grader uses it. Resolves to the Ready pods (sorted by node).
 */
export async function startProbeNamespace(kube: Kube, o: ProbeNamespaceOptions): Promise<ProbeRef[]> {
  const creating = kube.core.createNamespace({ body: { metadata: { name: o.namespace, labels: o.labels } } });
  o.onCreate?.(creating.catch(() => undefined));
  await creating;
  const template = probeTemplate('probe-pod');
  const pods = (o.nodes?.length ? o.nodes : [undefined]).map((n, i) =>
    probePod(template, n ? podName('probe', n, i) : 'probe', n, o.namespace, o.image, o.labels),
  );
  return startPods(kube, pods, { selector: 'app.kubernetes.io/component=probe', timeoutMs: o.timeoutMs ?? 90_000, override: { image: 'KNC_PROBE_IMAGE' } });
}
