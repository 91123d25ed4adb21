// The reuse rule on the live managed cluster (#14 item 2): `cluster up` with nothing named reuses
// the cluster as it is and says what it found; `cluster up --cni <another>` and `run --cni <another>`
// are refused (exit 2, CLUSTER_NOT_REUSABLE, naming what it has and what was named) and leave the
// cluster untouched: the same node containers (ids, start times), the same recorded identity.
import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jestTarget } from '../support/netcheck.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/kube-netcheck.js');
const t = jestTarget();
const managed = t.managed;

/** The cluster's node containers (name, id, start time) and the identity cluster-up.sh recorded in it. */
async function state(cluster: string): Promise<{ nodes: string[]; identity: string }> {
  const ps = await execa('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', '{{.Names}}']);
  const names = ps.stdout.split('\n').filter(Boolean).sort();
  const nodes = await Promise.all(
    names.map(async (n) => (await execa('docker', ['inspect', '-f', '{{.Name}} {{.Id}} {{.State.StartedAt}} {{.State.Status}}', n])).stdout),
  );
  const cp = names.find((n) => n.endsWith('-control-plane'))!;
  const identity = (await execa('docker', ['exec', cp, 'cat', '/etc/kube-netcheck/cluster'])).stdout.trim();
  return { nodes, identity };
}

/** The command's own environment: the cluster by name, and nothing else named (no KNC_CNI/SHAPE/… from the caller). */
const env = (cluster: string) => ({
  KNC_CLUSTER: cluster,
  KNC_CNI: undefined,
  KNC_CNI_MANIFEST: undefined,
  KNC_SHAPE: undefined,
  KNC_IP_FAMILY: undefined,
  KNC_NODE_IMAGE: undefined,
  KNC_KUBECONFIG: undefined,
  KNC_CONTEXT: undefined,
  KNC_MANAGED_CLUSTER: undefined,
});

describe('the reuse rule on the managed cluster', () => {
  const it = managed ? test : test.skip; // a cluster kube-netcheck did not create is never brought up or down by it

  it('cluster up with nothing named reuses it as it is; naming another CNI is refused with exit 2 and leaves it untouched', async () => {
    const cluster = managed!.cluster;
    const other = managed!.cni === 'kube-router' ? 'flannel-host-gw' : 'kube-router';
    const before = await state(cluster);
    expect(before.nodes.length).toBeGreaterThan(0);
    expect(before.identity).toContain(`cni=${managed!.cni}`);

    const up = await execa('node', [CLI, 'cluster', 'up'], { cwd: ROOT, env: env(cluster), reject: false, all: true });
    expect(up.exitCode).toBe(0);
    expect(up.all).toContain(`cluster ${cluster} ready: kind cluster ${cluster} (reused as it is): shape ${managed!.shape}, CNI ${managed!.cni}`);

    const refusedUp = await execa('node', [CLI, 'cluster', 'up', '--cni', other], { cwd: ROOT, env: env(cluster), reject: false, all: true });
    const refusedRun = await execa(
      'node',
      [CLI, 'run', '--cni', other, '--keep', '--only', 'nodes.ready', '--report-dir', path.join(ROOT, 'reports', 'reuse')],
      {
        cwd: ROOT,
        env: env(cluster),
        reject: false,
        all: true,
      },
    );
    for (const r of [refusedUp, refusedRun]) {
      expect(r.exitCode).toBe(2);
      expect(r.all).toMatch(
        new RegExp(`CLUSTER_NOT_REUSABLE: kind cluster ${cluster} cannot be used \\(it has CNI ${managed!.cni}, the command names CNI ${other}\\)`),
      );
      expect(r.all).not.toMatch(/recreating|Deleting cluster|creating kind cluster/);
    }
    // nothing was deleted, recreated or restarted
    expect(await state(cluster)).toEqual(before);
  }, 300_000);
});
