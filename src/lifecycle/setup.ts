// Setup for the cluster specs: a kind cluster (created or reused via scripts/cluster-up.sh, or
// the one KNC_KUBECONFIG points at), then the run's namespaces, workload and probe pods.
// SIGINT/SIGTERM during the run delete what the run created.
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { makeKube } from '../kube/client.js';
import { setupRun, teardownRun } from '../fixtures/run.js';
import { fragmentsDir } from '../report/fragments.js';

interface ClusterInfo {
  kubeconfig: string;
  nginxImage: string;
  probeImage: string;
}

async function clusterInfo(): Promise<ClusterInfo> {
  if (process.env.KNC_KUBECONFIG) {
    return {
      kubeconfig: process.env.KNC_KUBECONFIG,
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
  const t0 = Date.now();
  const state = await setupRun({ kubeconfig: info.kubeconfig, images: { nginx: info.nginxImage, probe: info.probeImage } });
  process.stderr.write(`\nkube-netcheck run ${state.runId}: namespaces ${state.workloadNs}, ${state.otherNs} ready in ${Date.now() - t0}ms\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: deleting run ${state.runId}'s namespaces\n`);
      teardownRun(makeKube({ kubeconfig: state.kubeconfig }), state.runId)
        .catch((err) => process.stderr.write(`cleanup failed: ${(err as Error).message}\n`))
        .finally(() => process.exit(130));
    });
  }
}
