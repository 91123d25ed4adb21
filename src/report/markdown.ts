// A Markdown summary for a CI step summary: counts, one row per check, then each failure in full.
import type { ResultsFile } from './results.js';

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' } as const;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(f: ResultsFile): string {
  const s = f.summary;
  const lines = [
    `## kube-netcheck${f.runId ? ` run ${f.runId}` : ''}: ${s.failed ? `${s.failed} failed` : 'all checks passed'}`,
    '',
    `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.total} checks)`,
    '',
    '| | check | from → to | ms |',
    '|---|---|---|---|',
    ...f.results.map((r) => `| ${ICON[r.status]} | ${cell(r.check)} | ${cell(`${r.from} → ${r.to}`)} | ${r.durationMs} |`),
  ];
  const failed = f.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push('', '### Failures');
    for (const r of failed) lines.push('', `**${r.check}**`, '', '```', String((r.evidence as { error?: string } | undefined)?.error ?? ''), '```');
  }
  return lines.join('\n') + '\n';
}
