// Evidence gathered when a check fails: the run's recent events and, for DNS and Service checks,
// the last lines of the CoreDNS and kube-proxy logs — saved with the failure in results.json.
import { makeKube, type Kube } from '../kube/client.js';
import { loadRunState } from '../fixtures/run.js';
import { listPods, recentEvents } from '../fixtures/pods.js';

async function logsOf(kube: Kube, namespace: string, selector: string, tailLines = 30): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await listPods(kube, namespace, selector)) {
    const name = p.metadata!.name!;
    out[name] = await kube.core.readNamespacedPodLog({ name, namespace, tailLines }).catch((e: Error) => `(no log: ${e.message})`);
  }
  return out;
}

export async function failureEvidence(tags: string[]): Promise<Record<string, unknown>> {
  try {
    const s = loadRunState();
    const kube = makeKube({ kubeconfig: s.kubeconfig, context: s.context });
    const evidence: Record<string, unknown> = {
      events: { [s.workloadNs]: await recentEvents(kube, s.workloadNs), [s.otherNs]: await recentEvents(kube, s.otherNs) },
    };
    if (tags.includes('dns')) evidence.corednsLogs = await logsOf(kube, 'kube-system', 'k8s-app=kube-dns');
    if (tags.includes('service')) evidence.kubeProxyLogs = await logsOf(kube, 'kube-system', 'k8s-app=kube-proxy');
    return evidence;
  } catch (err) {
    return { evidenceError: (err as Error).message };
  }
}
