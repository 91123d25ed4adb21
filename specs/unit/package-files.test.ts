// What `npm pack` puts in the published package (package.json "files"): the CLI, the compiled
// library, the manifests and the scripts the CLI runs — not the dev-only scripts (benchmarks, the
// linters, the chromium install for the HTML render test, the engine self-test, the docs'
// side-by-side table) and nothing of the tests. Read with `npm pack --dry-run --json
// --ignore-scripts` (the build that `prepare` would run is the unit tests' own `npm run build`).
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_ONLY } from '../support/package-files.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the published package', () => {
  it('holds the CLI, dist/, manifests/ and the scripts the CLI runs; no dev-only script, no test file, no source', async () => {
    const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path).sort();
    // what an installed kube-netcheck needs at run time
    for (const f of [
      'bin/kube-netcheck.js',
      'dist/bundle/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'scripts/cluster-up.sh',
      'scripts/cluster-down.sh',
      'scripts/lib/common.sh',
      'scripts/conformance/run.sh',
      'manifests/rbac.yaml',
      'package.json',
      'README.md',
    ]) {
      expect([f, files.includes(f)]).toEqual([f, true]);
    }
    expect(files.filter((f) => DEV_ONLY.includes(f))).toEqual([]);
    expect(files.filter((f) => !/^(bin|dist|manifests|scripts)\//.test(f) && !['package.json', 'README.md'].includes(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(specs|src)\/|\.(test|spec)\.|(^|\/)\.built$/.test(f))).toEqual([]);
  }, 60_000);
});
