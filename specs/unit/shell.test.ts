// The shell scripts fail loudly and stay clean: shellcheck over scripts/ (scripts/lint.sh) finds
// nothing, and a `die` inside `$(...)` stops the script that called it (common.sh sets errexit,
// inherit_errexit and pipefail).
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('shell scripts', () => {
  it('shellcheck finds nothing in scripts/', async () => {
    const r = await execa('bash', [path.join(ROOT, 'scripts/lint.sh')], { reject: false, all: true });
    expect([r.exitCode, r.all?.split('\n').slice(-12).join('\n')]).toEqual([0, expect.stringMatching(/shellcheck: \d+ scripts clean/)]);
  }, 120_000);

  it('a die inside $(...) stops the script, with its line and exit code', async () => {
    const script = `source ${JSON.stringify(path.join(ROOT, 'scripts/lib/common.sh'))}
find_it() { die "nothing found" 3; }
x="$(find_it)"
echo "still running with x=$x"`;
    const r = await execa('bash', ['-c', script], {
      reject: false,
      all: true,
      env: { KNC_CACHE: path.join(ROOT, 'node_modules', '.cache', 'knc-shell-test') },
    });
    expect({ code: r.exitCode, out: r.all }).toEqual({ code: 3, out: 'kube-netcheck: nothing found' });
  });
});
