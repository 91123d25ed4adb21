// The tool's own clean-up: SIGINT during a run deletes every namespace that run created (exit 130),
// and no kube-netcheck command ever writes, truncates or deletes a kubeconfig it did not create.
import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSelector } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { jestConnection, jestTarget } from '../support/netcheck.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/kube-netcheck.js');

describe('cleanup', () => {
  test('SIGINT during a run deletes every namespace that run created, exit 130', async () => {
    const { target: t, kube } = await jestConnection();
    const reportDir = mkdtempSync(path.join(tmpdir(), 'knc-sigint-'));
    const child = execa('node', [CLI, 'run', '--kubeconfig', t.kubeconfig, '--report-dir', reportDir, '--only', 'pod-ip'], {
      env: { KNC_NGINX_IMAGE: t.images.nginx, KNC_PROBE_IMAGE: t.images.probe, KNC_KUBECONFIG: undefined, KNC_MANAGED_CLUSTER: undefined },
      reject: false,
      all: true,
    });
    let out = '';
    child.all!.on('data', (b: Buffer) => (out += b.toString()));
    // the run's id is printed before anything is created; wait until its namespaces exist
    const runId = await pollUntil({
      what: 'the run to print its id',
      timeoutMs: 30_000,
      intervalMs: 100,
      probe: async () => /^run (r\w+): /m.exec(out)?.[1],
      done: (id) => !!id,
    });
    const before = await pollUntil({
      what: `the namespaces of run ${runId}`,
      timeoutMs: 30_000,
      intervalMs: 100,
      probe: async () => (await kube.core.listNamespace({ labelSelector: runSelector(runId) })).items.map((n) => n.metadata!.name),
      done: (l) => l.length === 2,
    });
    child.kill('SIGINT');
    const res = await child;
    const left = await pollUntil({
      what: `namespaces labelled ${runSelector(runId)} to be gone`,
      timeoutMs: 60_000,
      intervalMs: 250,
      probe: async () => (await kube.core.listNamespace({ labelSelector: runSelector(runId) })).items.map((n) => `${n.metadata!.name}:${n.status!.phase}`),
      done: (l) => l.length === 0,
    });
    expect(before).toHaveLength(2);
    expect(res.exitCode).toBe(130);
    expect(res.all).toMatch(new RegExp(`SIGINT: deleting run ${runId}'s namespaces`));
    expect(left).toEqual([]);
    rmSync(reportDir, { recursive: true, force: true });
  }, 150_000);

  test('a kubeconfig the user points kube-netcheck at (KNC_KUBECONFIG) is byte-for-byte unchanged by cluster up, cluster down, run and cleanup', async () => {
    const t = jestTarget();
    const dir = mkdtempSync(path.join(tmpdir(), 'knc-kubeconfig-'));
    const user = path.join(dir, 'my-kubeconfig');
    copyFileSync(t.kubeconfig, user);
    const bytes = readFileSync(user);
    // cluster down of a cluster that does not exist: its code path runs, nothing real is deleted
    const env = { KNC_KUBECONFIG: user, KNC_NGINX_IMAGE: t.images.nginx, KNC_PROBE_IMAGE: t.images.probe, KNC_MANAGED_CLUSTER: undefined };
    const steps: Array<[string, string[], Record<string, string | undefined>]> = [
      ...(t.managed ? [['cluster up', ['cluster', 'up'], { KNC_CLUSTER: t.managed.cluster }] as [string, string[], Record<string, string | undefined>]] : []),
      ['cluster down', ['cluster', 'down'], { KNC_CLUSTER: 'knc-absent-for-this-test' }],
      ['run', ['run', '--only', 'nodes.ready', '--report-dir', path.join(dir, 'reports')], {}],
      ['cleanup', ['cleanup'], {}],
    ];
    const seen: string[] = [];
    for (const [name, args, extra] of steps) {
      const r = await execa('node', [CLI, ...args], { cwd: ROOT, env: { ...env, ...extra }, reject: false, all: true });
      seen.push(`${name}: exit ${r.exitCode}`);
      expect([name, r.exitCode, readFileSync(user).equals(bytes)]).toEqual([name, 0, true]);
    }
    expect(seen).toHaveLength(steps.length);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);
});
