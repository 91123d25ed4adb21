// Teardown for the cluster specs: delete the run's namespaces, merge the per-spec results into
// one JSON file, and delete the cluster unless KEEP_CLUSTER=1 or it was not ours.
import { execa } from 'execa';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { makeKube } from '../kube/client.js';
import { loadRunState, teardownRun } from '../fixtures/run.js';
import { fragmentsDir } from '../report/fragments.js';
import { ResultsCollector, type CheckResult } from '../report/results.js';

export async function globalTeardown(): Promise<void> {
  const state = loadRunState();
  const results = new ResultsCollector(state.runId);
  for (const f of readdirSync(fragmentsDir()).filter((f) => f.endsWith('.json'))) {
    for (const r of JSON.parse(readFileSync(path.join(fragmentsDir(), f), 'utf8')) as CheckResult[]) results.record(r);
  }
  const file = await results.write();
  process.stderr.write(`\nkube-netcheck results: ${file} (${JSON.stringify(results.toJSON().summary)})\n`);
  await teardownRun(makeKube({ kubeconfig: state.kubeconfig }), state.runId);
  if (!process.env.KNC_KUBECONFIG && process.env.KEEP_CLUSTER !== '1') {
    await execa('bash', ['scripts/cluster-down.sh'], { stdio: 'inherit' });
  }
}
