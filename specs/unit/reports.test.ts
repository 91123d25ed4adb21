import { describe, expect, it } from '@jest/globals';
import { toJUnit } from '../../src/report/junit.js';
import { toMarkdown } from '../../src/report/markdown.js';
import type { ResultsFile } from '../../src/report/results.js';
import { likelyCause } from '../../src/catalogue/cause.js';
import type { CheckRecord } from '../../src/catalogue/types.js';

function sample(): ResultsFile {
  const results: CheckRecord[] = [
    {
      id: 'pod-ip.cross-node',
      layer: 'pod-ip',
      check: 'podIP:80 serves nginx from a pod on another node',
      tags: ['pod-ip'],
      from: 'probe pods',
      to: 'nginx',
      status: 'passed',
      durationMs: 12,
      evidence: ['a -> b'],
    },
    {
      id: 'service.endpoints',
      layer: 'service',
      check: 'Endpoints list exactly the ready pods',
      tags: ['service'],
      from: 'api',
      to: 'svc/my-nginx',
      status: 'failed',
      durationMs: 1500,
      error: '[endpoints] from the API to svc/x: expected Endpoints = ready pods {10.244.1.2:80}, saw {} (the empty set)\n  probe: <none> & "quoted"\u0001',
    },
    {
      id: 'nodes.safety-net',
      layer: 'nodes',
      check: 'host safety net',
      tags: ['cluster'],
      from: 'the host',
      to: 'CIDRs',
      status: 'skipped',
      durationMs: 0,
      reason: 'not applicable: a host-side check',
    },
  ];
  return { runId: 'rabc1234', startedAt: 'x', writtenAt: 'y', summary: { total: 3, passed: 1, failed: 1, skipped: 1 }, results, cause: likelyCause(results) };
}

describe('JUnit report', () => {
  const xml = toJUnit(sample());
  it('has one testcase per check and the counts', () => {
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toMatch(/<testsuites name="kube-netcheck" tests="3" failures="1" skipped="1" errors="0" time="1\.512">/);
  });
  it('reports the failure with its first line as message, escaped', () => {
    expect(xml).toContain('<failure message="[endpoints] from the API to svc/x: expected Endpoints = ready pods {10.244.1.2:80}, saw {} (the empty set)">');
    expect(xml).toContain('probe: &lt;none&gt; &amp; &quot;quoted&quot;?');
    // eslint-disable-next-line no-control-regex -- none of these control characters may be left
    expect(xml).not.toMatch(/[\u0000-\u0008]/);
  });
  it('marks skipped checks', () => {
    expect(xml).toMatch(/name="host safety net" time="0\.000">\n {6}<skipped message="not applicable: a host-side check"\/>/);
  });
});

describe('Markdown summary', () => {
  const md = toMarkdown(sample());
  it('says how many failed and lists every check with an icon', () => {
    expect(md).toMatch(/^## kube-netcheck run rabc1234: 1 failed/);
    expect(md).toContain('1 passed, 1 failed, 1 skipped (3 checks)');
    expect(md).toContain('| ✅ | podIP:80 serves nginx from a pod on another node | probe pods → nginx | 12 |');
    expect(md).toContain('| ⏭️ | host safety net (not applicable: a host-side check) | the host → CIDRs | 0 |');
    expect(md).toContain('**likely cause: layer "service" — Endpoints list exactly the ready pods: [endpoints] from the API to svc/x');
  });
  it('prints each failure in full', () => {
    expect(md).toMatch(/### Failures\n\n\*\*Endpoints list exactly the ready pods\*\*\n\n```\n\[endpoints\] from the API/);
  });
});
