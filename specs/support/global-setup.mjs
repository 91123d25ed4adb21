// Jest global setup for the cluster specs: the cluster they run on, resolved once per Jest run by
// the same resolver as the CLI's (src/cluster/resolve.ts, loaded from source with tsx): a cluster
// the user names (KNC_KUBECONFIG [+ KNC_CONTEXT], as for the CLI) is used as it is; otherwise the
// kind cluster kube-netcheck manages is brought up by the reuse rule (an existing one reused as it
// is unless KNC_CNI / KNC_SHAPE / KNC_NODE_IMAGE name another) and its one JSON line handed to
// the spec files through KNC_MANAGED_CLUSTER (they run in this same process).
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  if (process.env.KNC_MANAGED_CLUSTER) return;
  const { resolveCluster } = await tsImport('../../src/cluster/resolve.ts', import.meta.url);
  const r = await resolveCluster({}, process.env, { log: (line) => process.stderr.write(`${line}\n`) });
  if (!r.managed) return;
  process.env.KNC_MANAGED_CLUSTER = JSON.stringify(r.managed.cluster);
  process.stderr.write(
    `jest: kind cluster ${r.managed.cluster.cluster} (${r.managed.cluster.created ? 'created' : 'reused'}): shape ${r.managed.cluster.shape}, CNI ${r.managed.cluster.cni}\n`,
  );
  // the teardown deletes only a cluster this Jest run created (never one it reused: the reuse rule)
  globalThis.__kncCreatedCluster = r.managed.cluster.created === true;
}
