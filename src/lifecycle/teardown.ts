// Teardown for the cluster specs: delete the run's namespaces, merge the per-spec results into
// reports/results.json (+ junit.xml, summary.md), and delete the cluster unless KEEP_CLUSTER=1 or it was not ours.
import { execa } from 'execa';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeKube } from '../kube/client.js';
import { loadRunState, teardownRun } from '../fixtures/run.js';
import { fragmentsDir } from '../report/fragments.js';
import { ResultsCollector, defaultReportPath, type CheckResult } from '../report/results.js';
import { writeDiagnostics } from '../report/diagnostics.js';
import { toJUnit } from '../report/junit.js';
import { toMarkdown } from '../report/markdown.js';
import { toHtml, type HtmlMatrices } from '../report/html.js';

export async function globalTeardown(): Promise<void> {
  const state = loadRunState();
  const results = new ResultsCollector(state.runId);
  let execs = 0;
  const matrices: Record<string, unknown[]> = {};
  const rows: CheckResult[] = [];
  for (const f of readdirSync(fragmentsDir()).filter((f) => f.endsWith('.json'))) {
    const fragment = JSON.parse(readFileSync(path.join(fragmentsDir(), f), 'utf8')) as { execs: number; results: CheckResult[]; matrices?: Record<string, unknown[]> };
    execs += fragment.execs;
    for (const [name, rows] of Object.entries(fragment.matrices ?? {})) (matrices[name] ??= []).push(...rows);
    rows.push(...fragment.results);
  }
  for (const r of writeDiagnostics(path.dirname(defaultReportPath()), rows)) results.record(r);
  const file = await results.write(undefined, { execs, matrices });
  const report = results.toJSON();
  writeFileSync(path.join(path.dirname(file), 'junit.xml'), toJUnit(report));
  writeFileSync(path.join(path.dirname(file), 'summary.md'), toMarkdown(report));
  writeFileSync(path.join(path.dirname(file), 'report.html'), toHtml({ ...report, execs, matrices: matrices as HtmlMatrices }));
  process.stderr.write(`\nkube-netcheck results: ${file} (${JSON.stringify(results.toJSON().summary)}, ${execs} execs)\n`);
  const t0 = Date.now();
  await teardownRun(makeKube({ kubeconfig: state.kubeconfig, context: state.context }), state.runId, { until: 'stopped' });
  process.stderr.write(`kube-netcheck run ${state.runId}: pods gone, namespaces terminating in ${Date.now() - t0}ms\n`);
  if (!process.env.KNC_KUBECONFIG && process.env.KEEP_CLUSTER !== '1') {
    await execa('bash', ['scripts/cluster-down.sh'], { stdio: 'inherit' });
  }
}
