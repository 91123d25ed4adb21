// Setup for the cluster specs: a kind cluster (created or reused via scripts/cluster-up.sh, or
// the one KNC_KUBECONFIG points at), then the run's namespaces, workload and probe pods.
// SIGINT/SIGTERM during the run delete what the run created.
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { makeKube } from '../kube/client.js';
import { setupRun, teardownRun } from '../fixtures/run.js';
import { newRunId } from '../util/labels.js';
import { fragmentsDir } from '../report/fragments.js';

interface ClusterInfo {
  kubeconfig: string;
  context?: string;
  nginxImage: string;
  probeImage: string;
}

async function clusterInfo(): Promise<ClusterInfo> {
  if (process.env.KNC_KUBECONFIG) {
    return {
      kubeconfig: process.env.KNC_KUBECONFIG,
      context: process.env.KNC_CONTEXT || undefined,
      nginxImage: process.env.KNC_NGINX_IMAGE ?? 'nginx:1.27',
      probeImage: process.env.KNC_PROBE_IMAGE ?? 'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
    };
  }
  const { stdout } = await execa('bash', ['scripts/cluster-up.sh'], { stderr: 'inherit' });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ClusterInfo;
}

export async function globalSetup(): Promise<void> {
  rmSync(fragmentsDir(), { recursive: true, force: true });
  const info = await clusterInfo();
  // handlers first: an interrupt at any point after this deletes whatever the run created
  const runId = newRunId();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: deleting run ${runId}'s namespaces\n`);
      teardownRun(makeKube({ kubeconfig: info.kubeconfig, context: info.context }), runId)
        .catch((err) => process.stderr.write(`cleanup failed: ${(err as Error).message}\n`))
        .finally(() => process.exit(130));
    });
  }
  const t0 = Date.now();
  let state;
  try {
    state = await setupRun({ runId, kubeconfig: info.kubeconfig, context: info.context, images: { nginx: info.nginxImage, probe: info.probeImage } });
  } catch (err) {
    // Jest skips the global teardown when the setup fails: clean up here, then fail
    await teardownRun(makeKube({ kubeconfig: info.kubeconfig, context: info.context }), runId).catch(() => undefined);
    throw err;
  }
  process.stderr.write(`\nkube-netcheck run ${state.runId}: namespaces ${state.workloadNs}, ${state.otherNs} ready in ${Date.now() - t0}ms\n`);
}
