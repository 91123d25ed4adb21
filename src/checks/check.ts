// check(): a Jest test that is also a row in the JSON results file (status, duration, source →
// target, evidence). Each spec file writes its rows to reports/checks/; the global teardown
// merges them into reports/results.json.
import { afterAll, test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ResultsCollector } from '../report/results.js';
import { fragmentsDir } from '../report/fragments.js';

export interface CheckMeta {
  tags: string[];
  from: string;
  to: string;
}

let collector: ResultsCollector | undefined;

function results(): ResultsCollector {
  if (!collector) {
    const c = new ResultsCollector();
    collector = c;
    afterAll(() => {
      mkdirSync(fragmentsDir(), { recursive: true });
      const file = path.join(fragmentsDir(), `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`);
      writeFileSync(file, JSON.stringify(c.all(), null, 2));
    });
  }
  return collector;
}

/** A named check. `fn` returns evidence (what it saw) or throws a CheckFailure. */
export function check(name: string, meta: CheckMeta, fn: () => Promise<unknown>, timeoutMs?: number): void {
  const rows = results();
  test(
    name,
    async () => {
      const start = Date.now();
      try {
        const evidence = await fn();
        rows.record({ check: name, ...meta, status: 'passed', durationMs: Date.now() - start, evidence });
      } catch (err) {
        rows.record({ check: name, ...meta, status: 'failed', durationMs: Date.now() - start, evidence: { error: (err as Error).message } });
        throw err;
      }
    },
    timeoutMs,
  );
}
