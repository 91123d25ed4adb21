// JUnit XML for CI systems: one <testcase> per check, failures with their message and evidence.
import { errorOf, type CheckResult, type ResultsFile } from './results.js';

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters, which probe output can contain
    // eslint-disable-next-line no-control-regex -- these control characters are what is replaced
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '?');

const secs = (ms: number) => (ms / 1000).toFixed(3);

function testcase(r: CheckResult): string {
  const head = `    <testcase classname="kube-netcheck.${esc(r.tags[0] ?? 'check')}" name="${esc(r.check)}" time="${secs(r.durationMs)}">`;
  const props = `      <system-out>${esc(`${r.from} -> ${r.to}\n${JSON.stringify(r.evidence ?? null, null, 2)}`)}</system-out>`;
  if (r.status === 'skipped') return `${head}\n      <skipped message="${esc(r.reason ?? '')}"/>\n    </testcase>`;
  if (r.status === 'failed') {
    const msg = errorOf(r) || 'failed';
    return `${head}\n      <failure message="${esc(msg.split('\n')[0])}">${esc(msg)}</failure>\n${props}\n    </testcase>`;
  }
  return `${head}\n${props}\n    </testcase>`;
}

export function toJUnit(f: ResultsFile): string {
  const time = secs(f.results.reduce((t, r) => t + r.durationMs, 0));
  const attrs = `tests="${f.summary.total}" failures="${f.summary.failed}" skipped="${f.summary.skipped}" errors="0" time="${time}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kube-netcheck" ${attrs}>`,
    `  <testsuite name="kube-netcheck${f.runId ? ` run ${esc(f.runId)}` : ''}" ${attrs} timestamp="${esc(f.startedAt)}">`,
    ...f.results.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
