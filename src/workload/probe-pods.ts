// Probe pods outside a full run (setupRun makes the run's own): a labelled namespace of the
// caller's, the probe template from manifests/probes, optionally one pod pinned to each of some
// nodes, waited for until Ready. The grader uses it; teardownRun deletes the namespace by its labels.
import path from 'node:path';
import type { Kube } from '../kube/client.js';
import { MANIFESTS_DIR, loadYamlDocs } from './manifests.js';
import { createAll } from './apply.js';
import { waitPodsReady } from './pods.js';
import { probePod, probeRef, type ProbeRef } from './setup.js';

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

const podName = (node: string | undefined, i: number) =>
  node ? `probe-${i}-${node.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '') : 'probe';

/** Creates the namespace and its probe pods; resolves to the Ready pods (sorted by node). */
export async function startProbeNamespace(kube: Kube, o: ProbeNamespaceOptions): Promise<ProbeRef[]> {
  const creating = kube.core.createNamespace({ body: { metadata: { name: o.namespace, labels: o.labels } } });
  o.onCreate?.(creating.catch(() => undefined));
  await creating;
  const [template] = loadYamlDocs(path.join(MANIFESTS_DIR, 'probes/probe-pod.yaml'));
  const nodes = o.nodes?.length ? o.nodes : [undefined];
  const pods = nodes.map((n, i) => probePod(template, podName(n, i), n, o.namespace, o.image, o.labels));
  // a fresh namespace may not have its default ServiceAccount yet: pod creation is refused until
  // it does (polled for 15 s at most; any other refusal ends it at once)
  const created = new Set<string>();
  for (const deadline = Date.now() + 15_000; ;) {
    try {
      await createAll(
        kube,
        pods.filter((p) => !created.has(p.metadata!.name!)),
      );
      break;
    } catch (err) {
      if (!/service ?account/i.test((err as Error).message) || Date.now() > deadline) throw err;
      for (const p of (await kube.core.listNamespacedPod({ namespace: o.namespace })).items) created.add(p.metadata!.name!);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const ready = await waitPodsReady(kube, o.namespace, 'app.kubernetes.io/component=probe', {
    count: pods.length,
    timeoutMs: o.timeoutMs ?? 90_000,
    override: { image: 'KNC_PROBE_IMAGE' },
  });
  return ready.map(probeRef).sort((a, b) => a.node.localeCompare(b.node));
}
