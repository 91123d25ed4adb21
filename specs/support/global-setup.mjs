// Jest global setup for the cluster specs: the cluster they run on, resolved once per Jest run.
// A cluster the user names (KNC_KUBECONFIG, as for the CLI) is used as it is; otherwise the kind
// cluster kube-netcheck manages is created or reused (scripts/cluster-up.sh) and its one JSON line
// handed to the spec files through KNC_MANAGED_CLUSTER (they run in this same process).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalSetup() {
  if (process.env.KNC_KUBECONFIG || process.env.KNC_MANAGED_CLUSTER) return;
  const out = execFileSync('bash', [path.join(ROOT, 'scripts/cluster-up.sh')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.env.KNC_MANAGED_CLUSTER = out.trim().split('\n').pop();
  globalThis.__kncCreatedCluster = true;
}
