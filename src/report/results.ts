import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  /** Stable check name, e.g. "pod-to-pod-cross-node". */
  check: string;
  tags: string[];
  /** Source endpoint (pod/node/namespace) and target; free-form but short. */
  from: string;
  to: string;
  status: CheckStatus;
  durationMs: number;
  /** What was observed: command output, IPs seen, error text. */
  evidence?: unknown;
}

export interface ResultsFile {
  runId?: string;
  startedAt: string;
  writtenAt: string;
  summary: Record<CheckStatus, number> & { total: number };
  results: CheckResult[];
}

const STATUSES: readonly CheckStatus[] = ['passed', 'failed', 'skipped'];

/** reports/results.json, or $KNC_REPORT_DIR/results.json. */
export function defaultReportPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.KNC_REPORT_DIR || 'reports', 'results.json');
}

export class ResultsCollector {
  private readonly results: CheckResult[] = [];
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly runId?: string) {}

  record(result: CheckResult): void {
    if (!result.check) throw new Error('result.check must be a non-empty string');
    if (!STATUSES.includes(result.status)) throw new Error(`invalid status ${JSON.stringify(result.status)} for ${result.check}`);
    if (!Number.isFinite(result.durationMs) || result.durationMs < 0) {
      throw new Error(`invalid durationMs ${result.durationMs} for ${result.check}`);
    }
    this.results.push({ ...result, tags: [...result.tags] });
  }

  all(): readonly CheckResult[] {
    return this.results;
  }

  toJSON(): ResultsFile {
    const summary = { total: this.results.length, passed: 0, failed: 0, skipped: 0 };
    for (const r of this.results) summary[r.status]++;
    return {
      ...(this.runId ? { runId: this.runId } : {}),
      startedAt: this.startedAt,
      writtenAt: new Date().toISOString(),
      summary,
      results: [...this.results],
    };
  }

  /** Writes the JSON report (creating its directory), plus `extra` top-level fields, and returns the path written. */
  async write(file: string = defaultReportPath(), extra: Record<string, unknown> = {}): Promise<string> {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...this.toJSON(), ...extra }, null, 2) + '\n', 'utf8');
    await rename(tmp, file); // readers never see a half-written report
    return file;
  }
}
