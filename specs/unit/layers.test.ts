// The import rule of src/ (docs/architecture.md): a folder imports only from folders BELOW it in
// RANKS, never from one above it and never from a sibling on its own line. Every import is read
// with the TypeScript pre-processor (static, `import type`, `export … from`, dynamic `import()`),
// so a new arrow that runs back up fails here naming the file, the line and the import.
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The folders of src/, highest first. Folders on one line are siblings: they may not import each other. */
const RANKS: readonly (readonly string[])[] = [
  ['cli'],
  ['engine', 'grade', 'conformance', 'report'],
  ['catalogue'],
  ['verdicts'],
  ['workload'],
  ['probes'],
  ['cluster'],
  ['kube'],
  ['util'],
];
/** Files directly in src/ that sit above every folder (the library's entry point). Nothing imports them. */
const ROOT_FILES = ['index.ts'];
/** Sibling imports the lead agreed to, as "from-folder -> to-folder" (none so far). */
const SIDEWAYS_AGREED: readonly string[] = [];

const rankOf = (folder: string) => RANKS.findIndex((line) => line.includes(folder));

/** Every rule break in a set of sources keyed by their path inside src/ (e.g. "cli/run.ts"). */
function layerViolations(sources: ReadonlyMap<string, string>): { violations: string[]; crossFolder: number } {
  const violations: string[] = [];
  let crossFolder = 0;
  for (const [file, text] of sources) {
    const parts = file.split('/');
    const isRoot = parts.length === 1;
    if (isRoot && !ROOT_FILES.includes(file))
      violations.push(`src/${file}: a file directly in src/ that is not the entry point (put it in a folder of the rank list)`);
    const from = isRoot ? undefined : parts[0];
    if (from !== undefined && rankOf(from) < 0) violations.push(`src/${file}: folder src/${from}/ is not in the rank list (specs/unit/layers.test.ts RANKS)`);
    const info = ts.preProcessFile(text, true, true);
    for (const imp of info.importedFiles) {
      const spec = imp.fileName;
      if (!spec.startsWith('.')) continue; // a package (node:fs, @kubernetes/client-node)
      const line = text.slice(0, imp.pos).split('\n').length;
      const where = `src/${file}:${line} imports '${spec}'`;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (resolved.startsWith('..')) {
        violations.push(`${where}: outside src/`);
        continue;
      }
      const rparts = resolved.split('/');
      if (rparts.length === 1) {
        violations.push(`${where}: the entry point src/${resolved} (nothing in src/ imports it)`);
        continue;
      }
      const to = rparts[0];
      if (to === from) continue; // inside one folder
      crossFolder++;
      if (from === undefined) continue; // the entry point may import any folder
      const rf = rankOf(from);
      const rt = rankOf(to);
      if (rf < 0) continue; // already reported: the folder is not placed
      if (rt < 0) violations.push(`${where}: folder src/${to}/ is not in the rank list`);
      else if (rt < rf) violations.push(`${where}: UP from ${from}/ (rank ${rf}) to ${to}/ (rank ${rt}); imports run only down`);
      else if (rt === rf && !SIDEWAYS_AGREED.includes(`${from} -> ${to}`)) {
        violations.push(`${where}: ACROSS from ${from}/ to its sibling ${to}/ (both rank ${rf}); move the shared part down`);
      }
    }
  }
  return { violations, crossFolder };
}

function readSrc(): Map<string, string> {
  const root = fileURLToPath(new URL('../../src/', import.meta.url));
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|cts|js|mjs)$/.test(e.name)) out.set(path.relative(root, p).split(path.sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return out;
}

describe('imports in src/ run only down the rank list', () => {
  test('no import in src/ runs up or across', () => {
    const sources = readSrc();
    const { violations, crossFolder } = layerViolations(sources);
    expect(violations).toEqual([]);
    // the checker saw the code base's arrows (not an empty walk that passes by seeing nothing)
    expect(sources.size).toBeGreaterThan(50);
    expect(crossFolder).toBeGreaterThan(100);
  });

  test('every folder of src/ is placed in the rank list', () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const folders = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => rankOf(f) < 0)).toEqual([]);
  });

  test('the checker catches an upward import, naming file, line and import', () => {
    const { violations } = layerViolations(
      new Map([
        ['util/poll.ts', "// a comment\nimport { x } from '../kube/client.js';\n"],
        ['catalogue/nodes.ts', "import { label } from '../workload/fanout.js';\nimport { runSuite } from '../engine/run-suite.js';\n"],
      ]),
    );
    expect(violations).toEqual([
      "src/util/poll.ts:2 imports '../kube/client.js': UP from util/ (rank 8) to kube/ (rank 7); imports run only down",
      "src/catalogue/nodes.ts:2 imports '../engine/run-suite.js': UP from catalogue/ (rank 2) to engine/ (rank 1); imports run only down",
    ]);
  });

  test('type-only, re-export and dynamic imports count; a sibling import is caught too', () => {
    const { violations } = layerViolations(
      new Map([
        ['report/results.ts', "import type { RunResult } from '../engine/run-suite.js';\n"],
        ['probes/dns.ts', "export { pods } from '../workload/pods.js';\n"],
        ['kube/exec.ts', "async function f() {\n  return import('../cli/io.js');\n}\n"],
        ['grade/x.ts', "import { a } from './y.js';\nimport { b } from '../../package.json';\n"],
        ['newdir/a.ts', ''],
        ['helpers.ts', ''],
      ]),
    );
    expect(violations).toEqual([
      "src/report/results.ts:1 imports '../engine/run-suite.js': ACROSS from report/ to its sibling engine/ (both rank 1); move the shared part down",
      "src/probes/dns.ts:1 imports '../workload/pods.js': UP from probes/ (rank 5) to workload/ (rank 4); imports run only down",
      "src/kube/exec.ts:2 imports '../cli/io.js': UP from kube/ (rank 7) to cli/ (rank 0); imports run only down",
      "src/grade/x.ts:2 imports '../../package.json': outside src/",
      'src/newdir/a.ts: folder src/newdir/ is not in the rank list (specs/unit/layers.test.ts RANKS)',
      'src/helpers.ts: a file directly in src/ that is not the entry point (put it in a folder of the rank list)',
    ]);
  });
});
