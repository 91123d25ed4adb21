import { describe, expect, it } from '@jest/globals';
import { toJUnit } from '../../src/report/junit.js';
import { toMarkdown } from '../../src/report/markdown.js';
import { ResultsCollector } from '../../src/report/results.js';

function sample() {
  const c = new ResultsCollector('rabc1234');
  c.record({ check: 'podIP:80 serves nginx from a pod on another node', tags: ['pod-ip'], from: 'probe pods', to: 'nginx', status: 'passed', durationMs: 12, evidence: ['a -> b'] });
  c.record({ check: 'Endpoints list exactly the ready pods', tags: ['service'], from: 'api', to: 'svc/my-nginx', status: 'failed', durationMs: 1500, evidence: { error: '[endpoints] from the API to svc/x: expected Endpoints = ready pods {10.244.1.2:80}, saw {} (the empty set)\n  probe: <none> & "quoted"\u0001' } });
  c.record({ check: 'host safety net', tags: ['cluster'], from: 'the host', to: 'CIDRs', status: 'skipped', durationMs: 0 });
  return c.toJSON();
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
    expect(xml).not.toMatch(/[\u0000-\u0008]/);
  });
  it('marks skipped checks', () => {
    expect(xml).toMatch(/name="host safety net" time="0\.000">\n {6}<skipped\/>/);
  });
});

describe('Markdown summary', () => {
  const md = toMarkdown(sample());
  it('says how many failed and lists every check with an icon', () => {
    expect(md).toMatch(/^## kube-netcheck run rabc1234: 1 failed/);
    expect(md).toContain('1 passed, 1 failed, 1 skipped (3 checks)');
    expect(md).toContain('| ✅ | podIP:80 serves nginx from a pod on another node | probe pods → nginx | 12 |');
    expect(md).toContain('| ⏭️ | host safety net | the host → CIDRs | 0 |');
  });
  it('prints each failure in full', () => {
    expect(md).toMatch(/### Failures\n\n\*\*Endpoints list exactly the ready pods\*\*\n\n```\n\[endpoints\] from the API/);
  });
});
