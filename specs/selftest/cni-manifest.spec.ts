// A CNI of the user's own, brought up the way a user would (issue: validate any CNI): one of the
// built-in CNIs rendered to a plain manifest file, then `kube-netcheck run --cni-manifest FILE` on
// a kind cluster of its own — created without a CNI, the file applied with kubectl, every node Ready
// with a pod IP — and the whole suite, NetworkPolicy included, on that overlay with a policy engine.
// The cluster is deleted afterwards (no --keep). This is also CI's "overlay + policy engine" run.
import { expect, test } from '@jest/globals';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CNI = 'flannel-vxlan+policy';

test(`a user's CNI manifest (${CNI} rendered to a file): cluster up from it, the whole suite passes, NetworkPolicy enforced`, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'knc-byo-'));
  const cluster = `knc-byo-${process.pid}`;
  try {
    await execa('bash', [path.join(ROOT, 'scripts/build/cni-images.sh'), CNI], { cwd: ROOT, stderr: 'inherit' });
    const manifest = path.join(dir, 'my-cni.yaml');
    writeFileSync(manifest, (await execa('bash', [path.join(ROOT, 'scripts/cni/render.sh'), CNI], { cwd: ROOT })).stdout);
    const r = await execa('node', [path.join(ROOT, 'bin/kube-netcheck.js'), 'run', '--cni-manifest', manifest, '--report-dir', path.join(dir, 'reports')], {
      cwd: ROOT,
      env: { KNC_CLUSTER: cluster, KNC_KUBECONFIG: undefined, KNC_MANAGED_CLUSTER: undefined, CI: 'true' },
      reject: false,
      all: true,
    });
    const out = r.all ?? '';
    expect(out).toMatch(new RegExp(`cluster: kind cluster ${cluster} \\(created now\\): shape default, CNI manifest:my-cni\\.yaml;`));
    const results = JSON.parse(readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as {
      cluster: { cni: string; podMtu?: number };
      results: Array<{ id: string; status: string }>;
    };
    // Every check passes but one known finding: kube-network-policies v0.8.0 denies a pod's own node
    // under default-deny ingress, which the NetworkPolicy documentation says is always allowed
    // (docs/netpol.md, "netpol.from-node"). That verdict is the CNI's, not ours: it may fail here, nothing else may.
    const failed = results.results.filter((x) => x.status === 'failed').map((x) => x.id);
    expect([failed.filter((id) => id !== 'netpol.from-node'), r.exitCode]).toEqual([[], failed.length ? 1 : 0]);
    expect(out).toMatch(/^checks: \d+ passed, [01] failed/m);
    // the CNI as found: flannel's and kube-network-policies' DaemonSets, an overlay MTU below the node's
    expect(results.cluster.cni).toMatch(/kube-flannel/);
    expect(results.cluster.cni).toMatch(/kube-network-policies/);
    expect(results.cluster.podMtu).toBeLessThan(1500);
    const policy = results.results.filter((x) => x.id.startsWith('policy.'));
    expect(policy.length).toBeGreaterThan(5);
    expect(policy.filter((x) => x.status !== 'passed')).toEqual([]);
  } finally {
    await execa('bash', [path.join(ROOT, 'scripts/cluster-down.sh')], { cwd: ROOT, env: { KNC_CLUSTER: cluster }, reject: false });
    rmSync(dir, { recursive: true, force: true });
  }
}, 1_200_000);
