// Deletes the managed kind cluster after the Jest run when this run created it, unless KEEP_CLUSTER=1
// (never a user's cluster, never a managed one that was there before: that one is reused as it is).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalTeardown() {
  if (!globalThis.__kncCreatedCluster || process.env.KEEP_CLUSTER === '1') return;
  execFileSync('bash', [path.join(ROOT, 'scripts/cluster-down.sh')], { cwd: ROOT, stdio: 'inherit' });
}
