// A Markdown summary for a CI step summary: counts, one row per check, then each failure in full.
import { conformanceOf, errorOf, UPSTREAM_SECTIONS, type ResultsFile } from './results.js';
import { causeLines } from '../catalogue/cause.js';

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' } as const;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(f: ResultsFile): string {
  const s = f.summary;
  const lines = [
    `## kube-netcheck${f.runId ? ` run ${f.runId}` : ''}: ${s.failed ? `${s.failed} failed` : 'all checks passed'}`,
    '',
    `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.total} checks)`,
    '',
    ...causeLines(f.cause).map((l) => `**${cell(l)}**\n`),
    ...(f.cluster
      ? [
          `Cluster: ${cell(
            Object.entries(f.cluster)
              .map(([k, v]) => `${k} ${v}`)
              .join(' · '),
          )}`,
          '',
        ]
      : []),
    '| | check | from → to | ms |',
    '|---|---|---|---|',
    ...f.results.map(
      (r) => `| ${ICON[r.status]} | ${cell(r.check)}${r.reason ? ` (${cell(r.reason)})` : ''} | ${cell(`${r.from} → ${r.to}`)} | ${r.durationMs} |`,
    ),
  ];
  const failed = f.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push('', '### Failures');
    for (const r of failed) lines.push('', `**${r.check}**`, '', '```', errorOf(r), '```');
  }
  for (const { key, title } of UPSTREAM_SECTIONS) {
    const up = conformanceOf(f, key);
    if (!up) continue;
    const n = (st: string) => up.tests.filter((t) => t.status === st).length;
    lines.push(
      '',
      `### ${title}: ${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped (${up.tests.length} tests, ${(up.wallMs / 1000).toFixed(0)} s)`,
      '',
      '| | test | s |',
      '|---|---|---|',
    );
    for (const t of up.tests)
      lines.push(`| ${ICON[t.status]} | ${cell(t.name)}${t.message ? ` — ${cell(t.message.slice(0, 200))}` : ''} | ${(t.durationMs / 1000).toFixed(1)} |`);
  }
  return lines.join('\n') + '\n';
}
