// Evidence gathered when a check fails: the run's recent events and pods (node, phase, IP, waiting
// reason) and, for DNS and Service checks, the last lines of the CoreDNS and kube-proxy logs —
// saved with the failure in results.json.
import { makeKube, type Kube } from '../kube/client.js';
import { loadRunState } from '../fixtures/run.js';
import { listPods, podSummary, recentEvents } from '../fixtures/pods.js';

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
    const pods = async (ns: string) => (await listPods(kube, ns)).map(podSummary).join('\n');
    const evidence: Record<string, unknown> = {
      events: { [s.workloadNs]: await recentEvents(kube, s.workloadNs), [s.otherNs]: await recentEvents(kube, s.otherNs) },
      pods: { [s.workloadNs]: await pods(s.workloadNs), [s.otherNs]: await pods(s.otherNs) },
    };
    if (tags.includes('dns')) evidence.corednsLogs = await logsOf(kube, 'kube-system', 'k8s-app=kube-dns');
    if (tags.includes('service')) evidence.kubeProxyLogs = await logsOf(kube, 'kube-system', 'k8s-app=kube-proxy');
    return evidence;
  } catch (err) {
    return { evidenceError: (err as Error).message };
  }
}
