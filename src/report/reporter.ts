// Reporters of a run. FileReporter writes the four reports (results.json, junit.xml, summary.md,
// report.html) and one diagnostics file per failed check, once, from the run's records.
// ConsoleReporter prints progress and a line per check, then the verdict and the likely cause.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, RunResult } from '../catalogue/run-result.js';
import type { CheckRecord } from '../catalogue/types.js';
import { causeLines } from '../catalogue/cause.js';
import { writeDiagnostics } from './diagnostics.js';
import { toResultsFile, type ResultsFile } from './results.js';
import { toJUnit } from './junit.js';
import { toMarkdown } from './markdown.js';
import { toHtml } from './html.js';

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file); // readers never see half a report
}

/** Renders the four reports from one ResultsFile. */
export function writeReports(dir: string, file: ResultsFile): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(path.join(dir, 'results.json'), `${JSON.stringify(file, null, 2)}\n`);
  writeAtomic(path.join(dir, 'junit.xml'), toJUnit(file));
  writeAtomic(path.join(dir, 'summary.md'), toMarkdown(file));
  writeAtomic(path.join(dir, 'report.html'), toHtml(file));
}

/**
 * Adds a section (e.g. upstream conformance) to the reports already in `dir` — the same cluster's
 * kube-netcheck run — or starts them when there are none, and renders all four again.
 */
export function addSection(dir: string, name: string, data: unknown): ResultsFile {
  let file: ResultsFile;
  try {
    file = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as ResultsFile;
  } catch {
    const now = new Date().toISOString();
    file = { startedAt: now, writtenAt: now, summary: { total: 0, passed: 0, failed: 0, skipped: 0 }, results: [] };
  }
  file.sections = { ...file.sections, [name]: data };
  file.writtenAt = new Date().toISOString();
  writeReports(dir, file);
  return file;
}

export class FileReporter implements Reporter {
  constructor(readonly dir: string) {}

  done(run: RunResult): void {
    mkdirSync(this.dir, { recursive: true });
    const file = toResultsFile(run);
    file.results = writeDiagnostics(this.dir, file.results);
    writeReports(this.dir, file);
  }
}

const MARK = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' } as const;

export class ConsoleReporter implements Reporter {
  constructor(
    private readonly out: (line: string) => void,
    private readonly opts: { checks?: boolean } = { checks: true },
  ) {}

  onProgress(line: string): void {
    this.out(line);
  }

  onRecord(r: CheckRecord): void {
    if (!this.opts.checks) return;
    const why = r.status === 'failed' ? `\n    ${(r.error ?? '').split('\n').join('\n    ')}` : r.status === 'skipped' ? ` (${r.reason})` : '';
    this.out(`${MARK[r.status]} ${r.check} [${r.durationMs}ms]${why}`);
  }

  done(run: RunResult): void {
    const s = run.summary;
    const t = run.timings;
    this.out(
      `timing: setup ${t.setupMs}ms, ${t.phases.map((p) => `${p.phase} ${p.enterMs + p.fanoutMs + p.verifyMs}ms`).join(', ')}, teardown ${t.teardownMs}ms; ${run.execs} execs, ${run.probes} probes`,
    );
    for (const line of causeLines(run.cause)) this.out(line);
    this.out(`checks: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.total})`);
  }
}
