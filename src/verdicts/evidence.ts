// Evidence gathered when a check fails: the run's recent events and pods (node, phase, IP, waiting
// reason) and, for DNS and Service checks, the last lines of the CoreDNS and (when the cluster has
// it) kube-proxy logs — saved with the failure in results.json and its diagnostics file.
import type { Kube } from '../kube/client.js';
import type { RunEnv } from '../workload/setup.js';
import { listPods, podSummary, recentEvents } from '../workload/pods.js';

async function logsOf(kube: Kube, namespace: string, selector: string, tailLines = 30): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await listPods(kube, namespace, selector)) {
    const name = p.metadata!.name!;
    out[name] = await kube.core.readNamespacedPodLog({ name, namespace, tailLines }).catch((e: Error) => `(no log: ${e.message})`);
  }
  return out;
}

export async function failureEvidence(env: RunEnv, tags: string[]): Promise<Record<string, unknown>> {
  try {
    const { kube, workloadNs, otherNs, facts } = env;
    const pods = async (ns: string) => (await listPods(kube, ns)).map(podSummary).join('\n');
    const evidence: Record<string, unknown> = {
      events: { [workloadNs]: await recentEvents(kube, workloadNs), [otherNs]: await recentEvents(kube, otherNs) },
      pods: { [workloadNs]: await pods(workloadNs), [otherNs]: await pods(otherNs) },
    };
    if (tags.includes('dns') && facts.dnsSelector) evidence.corednsLogs = await logsOf(kube, facts.dnsService?.namespace ?? 'kube-system', facts.dnsSelector);
    if (tags.includes('service') && facts.kubeProxy) evidence.kubeProxyLogs = await logsOf(kube, 'kube-system', 'k8s-app=kube-proxy');
    return evidence;
  } catch (err) {
    return { evidenceError: (err as Error).message };
  }
}
