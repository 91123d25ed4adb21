import { describe, it, expect } from '@jest/globals';
import { decodeXml, failureSummary, parseJunit, specName } from '../../src/conformance/e2e-junit.js';

describe('conformance JUnit reader: the shapes Ginkgo writes', () => {
  const doc = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1">
  <testsuite name="Kubernetes e2e suite" tests="4" failures="1">
    <testcase name="[It] [sig-network] A &amp; B [Conformance]" classname="Kubernetes e2e suite" status="passed" time="1.2345"></testcase>
    <testcase name="[sig-network] C [Conformance]" status="failed" time="60"><failure type="failed">
  [FAILED] Timed out after 60.000s.
  Expected &lt;bool&gt;: false
  In [It] at: dns.go:1 @ 11/29/26 12:00:00
</failure><system-err>noise</system-err></testcase>
    <testcase name="[sig-network] D" status="skipped" time="0"><skipped message="skipped - no IPv6"></skipped></testcase>
    <testcase name="[sig-network] E" status="timedout" time="300.5"/>
  </testsuite>
</testsuites>`;

  it('reads name (without the [It] prefix), status, duration and the failure line', () => {
    expect(parseJunit(doc)).toEqual([
      { name: '[sig-network] A & B [Conformance]', status: 'passed', durationMs: 1235 },
      { name: '[sig-network] C [Conformance]', status: 'failed', durationMs: 60_000, message: '[FAILED] Timed out after 60.000s.' },
      { name: '[sig-network] D', status: 'skipped', durationMs: 0, message: 'skipped - no IPv6' },
      { name: '[sig-network] E', status: 'failed', durationMs: 300_500, message: '[TIMEDOUT]' },
    ]);
  });

  it('keeps only the selected tests when told which', () => {
    const only = new Set(['[sig-network] D', '[sig-network] E']);
    expect(parseJunit(doc, { only }).map((t) => t.name)).toEqual(['[sig-network] D', '[sig-network] E']);
  });

  it('decodes the XML entities Ginkgo escapes', () => {
    expect(decodeXml('&lt;a&gt; &quot;b&quot; &apos;c&apos; &amp; &#xA;&#65;&unknown;')).toBe(`<a> "b" 'c' & \nA&unknown;`);
    expect(specName('[It] [sig-network] X')).toBe('[sig-network] X');
    expect(failureSummary('\n\n  first\n[TIMEDOUT] A suite timeout occurred\n')).toBe('[TIMEDOUT] A suite timeout occurred');
    expect(failureSummary('  ')).toBeUndefined();
  });
});

describe('conformance JUnit reader: several e2e.test processes merged (--isolate)', () => {
  const ran = (n: string, status: string) => `<testcase name="[It] ${n}" classname="Kubernetes e2e suite" status="${status}" time="2"></testcase>`;
  const out = (n: string) =>
    `<testcase name="[It] ${n}" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>`;
  const merged = `<testsuites><testsuite>${ran('A', 'passed')}${out('B')}${out('A')}${ran('B', 'timedout')}${out('C')}</testsuite></testsuites>`;

  it('each selected test once, from the process that ran it; one that never ran is skipped', () => {
    expect(parseJunit(merged, { only: new Set(['A', 'B', 'C']) })).toEqual([
      { name: 'A', status: 'passed', durationMs: 2000 },
      { name: 'B', status: 'failed', durationMs: 2000, message: '[TIMEDOUT]' },
      { name: 'C', status: 'skipped', durationMs: 0, message: 'skipped' },
    ]);
  });
});
