// check(): a Jest test that is also a row in the JSON results file (status, duration, source →
// target, evidence). Each spec file writes its rows to reports/checks/; the global teardown
// merges them into reports/results.json.
import { test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ResultsCollector } from '../report/results.js';
import { fragmentsDir } from '../report/fragments.js';
import { execsMade } from './run-probes.js';
import { failureEvidence } from './evidence.js';

export interface CheckMeta {
  tags: string[];
  from: string;
  to: string;
}

const collector = new ResultsCollector();
const matrices: Record<string, unknown[]> = {};
const fragment = path.join(fragmentsDir(), `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`);

/** Records a row and rewrites this spec file's fragment, so no hook ordering can lose a row. */
function record(row: Parameters<ResultsCollector['record']>[0]): void {
  collector.record(row);
  writeFragment();
}

function writeFragment(): void {
  mkdirSync(fragmentsDir(), { recursive: true });
  writeFileSync(fragment, JSON.stringify({ execs: execsMade(), results: collector.all(), matrices }, null, 2));
}

/** Adds rows to a named matrix (e.g. node × pod reachability) that reports draw as a grid. */
export function recordMatrix(name: string, rows: unknown[]): void {
  (matrices[name] ??= []).push(...rows);
  writeFragment();
}

/** A named check. `fn` returns evidence (what it saw) or throws a CheckFailure. */
export function check(name: string, meta: CheckMeta, fn: () => Promise<unknown>, timeoutMs?: number): void {
  checkImpl(name, meta, fn, timeoutMs);
}

/** A check that does not apply here (e.g. host-side checks on a cluster we did not create). */
check.skip = (name: string, meta: CheckMeta, _fn?: unknown, _timeoutMs?: number): void => {
  test.skip(name, () => undefined);
  record({ check: name, ...meta, status: 'skipped', durationMs: 0 });
};

function checkImpl(name: string, meta: CheckMeta, fn: () => Promise<unknown>, timeoutMs?: number): void {
  test(
    name,
    async () => {
      const start = Date.now();
      try {
        const evidence = await fn();
        record({ check: name, ...meta, status: 'passed', durationMs: Date.now() - start, evidence });
      } catch (err) {
        const durationMs = Date.now() - start;
        record({ check: name, ...meta, status: 'failed', durationMs, evidence: { error: (err as Error).message, ...(await failureEvidence(meta.tags)) } });
        throw err;
      }
    },
    timeoutMs,
  );
}

/** A negative control: shows on the live cluster that a check fails when its property is broken. */
export function negativeControl(name: string, property: string, fn: () => Promise<unknown> | unknown, timeoutMs?: number): void {
  check(name, negativeMeta(property), async () => fn(), timeoutMs);
}
negativeControl.skip = (name: string, property: string, _fn?: unknown): void => check.skip(name, negativeMeta(property));
const negativeMeta = (property: string): CheckMeta => ({ tags: ['negative-control', property], from: 'live cluster', to: `broken ${property}` });
