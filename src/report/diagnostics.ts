// One text file per failed check under <report dir>/diagnostics/: the failure (with the exact
// probe and its output), then every piece of evidence (events, pods, CoreDNS / kube-proxy logs).
// The results row then names its file, so the reports can link to it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CheckResult } from './results.js';

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);

function render(value: unknown, indent = ''): string {
  if (typeof value === 'string')
    return value
      .split('\n')
      .map((l) => indent + l)
      .join('\n');
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${indent}== ${k}\n${render(v, indent + '  ')}`)
      .join('\n');
  }
  return indent + JSON.stringify(value, null, 2);
}

/** Writes the files and returns the rows with `evidence.diagnosticsFile` set on failed ones. */
export function writeDiagnostics(reportDir: string, rows: readonly CheckResult[]): CheckResult[] {
  const dir = path.join(reportDir, 'diagnostics');
  return rows.map((r, i) => {
    if (r.status !== 'failed') return r;
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${String(i + 1).padStart(2, '0')}-${slug(r.check)}.txt`);
    writeFileSync(file, `check: ${r.check}\nfrom: ${r.from}\nto: ${r.to}\nduration: ${r.durationMs} ms\n\n${render(r.evidence)}\n`);
    return { ...r, evidence: { ...(r.evidence as object), diagnosticsFile: path.relative(reportDir, file) } };
  });
}
