// `kube-netcheck cleanup`: delete every namespace (and admin network policy) any run left behind.
import { makeKube } from '../kube/client.js';
import { teardownRun } from '../workload/setup.js';
import { deleteLabelledAdminPolicies } from '../workload/admin-policy.js';
import { runSelector } from '../util/labels.js';
import { EXIT, type Io } from './io.js';
import { CLEANUP_PERMISSIONS, preflight } from './preflight.js';
import { anyCluster, type ClusterFlags } from '../cluster/flags.js';

export async function cleanupCommand(flags: ClusterFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const target = anyCluster(flags, env);
  io.out(`cluster: kubeconfig ${target.kubeconfig}${target.context ? `, context ${target.context}` : ''}`);
  const ok = await preflight(target, CLEANUP_PERMISSIONS);
  io.out(`cluster: context ${ok.context} at ${ok.server}, Kubernetes ${ok.version}`);
  const kube = makeKube(ok.kc);
  const selector = runSelector();
  const names = (await kube.core.listNamespace({ labelSelector: selector })).items.map((n) => n.metadata!.name!).sort();
  // cluster-scoped: the AdminNetworkPolicy / BaselineAdminNetworkPolicy objects of the truth tables
  for (const o of await deleteLabelledAdminPolicies(kube, selector)) io.out(`deleted ${o}`);
  if (!names.length) {
    io.out(`nothing to delete: no namespace labelled ${selector}`);
    return EXIT.OK;
  }
  io.out(`deleting ${names.length} namespace${names.length > 1 ? 's' : ''} labelled ${selector}: ${names.join(', ')}`);
  const t0 = Date.now();
  await teardownRun(kube);
  for (const n of names) io.out(`deleted namespace ${n}`);
  io.out(`cleanup done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return EXIT.OK;
}
