// The upstream sections of the reports (src/report/html.ts, markdown.ts): `kube-netcheck conformance`
// adds `conformance`, `conformance --netpol` adds `conformanceNetpol`; each is drawn under its own
// heading, beside the other, from a real run's section (fixtures/conformance-netpol-section.json).
import { describe, expect, it } from '@jest/globals';
import { toHtml, type HtmlInput } from '../../src/report/html.js';
import { toMarkdown } from '../../src/report/markdown.js';
import { conformanceOf, type ConformanceSection, type ResultsFile } from '../../src/report/results.js';
import { fixtureText } from './fixture-files.js';

const netpol = (JSON.parse(fixtureText('conformance-netpol-section.json')) as { conformanceNetpol: ConformanceSection }).conformanceNetpol;
const file = (sections: Record<string, unknown>) =>
  ({ runId: 'r1', summary: { total: 0, passed: 0, failed: 0, skipped: 0 }, results: [], sections }) as unknown as ResultsFile & HtmlInput;

describe('upstream sections in the reports', () => {
  it('the Netpol section alone: its own heading and every test, not the [Conformance] heading', () => {
    const f = file({ conformanceNetpol: netpol });
    expect(conformanceOf(f)).toBeUndefined();
    expect(conformanceOf(f, 'conformanceNetpol')).toBe(netpol);
    const html = toHtml(f);
    expect(html).toContain(`<h2 id="conformance-netpol">Upstream NetworkPolicy e2e: ${netpol.tests.length} passed, 0 failed, 0 skipped</h2>`);
    expect(html).not.toContain('id="conformance"');
    for (const t of netpol.tests) expect(html).toContain(`data-conformance="${t.name.replace(/"/g, '&quot;')}"`);
    expect(html).toContain(`${netpol.tests.length} tests in ${(netpol.wallMs / 1000).toFixed(0)} s`);
    const md = toMarkdown(f);
    expect(md).toContain(`### Upstream NetworkPolicy e2e: ${netpol.tests.length} passed, 0 failed, 0 skipped (${netpol.tests.length} tests, 1872 s)`);
    expect(md).not.toContain('### Upstream conformance');
  });
  it('both sections side by side, each under its heading, with its own counts', () => {
    const conf: ConformanceSection = { ...netpol, tests: [{ ...netpol.tests[0], status: 'failed', message: 'boom' }] };
    const f = file({ conformance: conf, conformanceNetpol: netpol });
    const html = toHtml(f);
    expect(html).toContain('<h2 id="conformance">Upstream conformance: 0 passed, 1 failed, 0 skipped</h2>');
    expect(html).toContain('<h2 id="conformance-netpol">Upstream NetworkPolicy e2e: 4 passed');
    expect(html.indexOf('id="conformance"')).toBeLessThan(html.indexOf('id="conformance-netpol"'));
    const md = toMarkdown(f);
    expect(md).toMatch(/### Upstream conformance: 0 passed, 1 failed[\s\S]*boom[\s\S]*### Upstream NetworkPolicy e2e: 4 passed/);
  });
});
