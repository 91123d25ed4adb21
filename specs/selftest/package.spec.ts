// kube-netcheck as people install it: `npm pack`, then `npm install --omit=dev` of the tarball into
// an empty directory, then `npx kube-netcheck run --kubeconfig <the live cluster>` there — exit 0
// with all four reports, no dev dependency (Jest, TypeScript, tsx) needed at run time, and none of
// the dev-only scripts or test files in what was installed.
import { expect, test } from '@jest/globals';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jestTarget } from '../support/netcheck.js';
import { DEV_ONLY } from '../support/package-files.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the packed tarball, installed without dev dependencies, runs the checks on the live cluster and writes the reports', async () => {
  const t = jestTarget();
  const dir = mkdtempSync(path.join(tmpdir(), 'knc-package-'));
  try {
    await execa('npm', ['pack', '--pack-destination', dir], { cwd: ROOT });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    await execa('npm', ['init', '-y'], { cwd: dir });
    await execa('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', `./${tgz}`], { cwd: dir });
    const installed = path.join(dir, 'node_modules');
    for (const dev of ['jest', 'typescript', 'tsx', 'ts-jest', 'eslint', 'prettier'])
      expect([dev, existsSync(path.join(installed, dev))]).toEqual([dev, false]);
    const pkg = path.join(installed, 'kube-netcheck');
    for (const f of [...DEV_ONLY, 'specs', 'src', 'eslint.config.js', 'jest.config.ts']) expect([f, existsSync(path.join(pkg, f))]).toEqual([f, false]);
    for (const f of ['scripts/cluster-up.sh', 'dist/bundle/main.js']) expect([f, existsSync(path.join(pkg, f))]).toEqual([f, true]);
    const r = await execa(
      'npx',
      [
        'kube-netcheck',
        'run',
        '--kubeconfig',
        t.kubeconfig,
        '--nginx-image',
        t.images.nginx,
        '--probe-image',
        t.images.probe,
        '--only',
        'pod-ip.cross-node,dns.matrix-udp',
        '--report-dir',
        'reports',
      ],
      { cwd: dir, reject: false, all: true, env: { KNC_KUBECONFIG: undefined, KNC_MANAGED_CLUSTER: undefined } },
    );
    // the id prefixes also select the per-family variants (pod-ip.cross-node.ipv4/.ipv6): not applicable on one family
    expect([r.exitCode, r.all?.split('\n').slice(-6).join('\n')]).toEqual([0, expect.stringMatching(/checks: 2 passed, 0 failed, \d+ skipped \(\d+\)/)]);
    for (const f of ['results.json', 'junit.xml', 'summary.md', 'report.html']) expect([f, existsSync(path.join(dir, 'reports', f))]).toEqual([f, true]);
    const results = JSON.parse(readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as { results: Array<{ id: string; status: string }> };
    expect(results.results.filter((x) => x.status !== 'skipped').map((x) => `${x.id} ${x.status}`)).toEqual([
      'pod-ip.cross-node passed',
      'dns.matrix-udp passed',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
