// The NetworkPolicy grids of report.html (src/report/html.ts) on two cases of a real run's
// sections.netpol (fixtures/netpol-tables.json): one cell per (source, protocol/port, target), the
// differing cells marked and carrying what was expected and seen.
import { describe, expect, it } from '@jest/globals';
import { toHtml, type HtmlInput } from '../../src/report/html.js';
import { fixtureText } from './fixture-files.js';

type Table = { title: string; targets: string[]; expected: Record<string, Record<string, string>>; observed: Record<string, Record<string, string>> };
const tables = JSON.parse(fixtureText('netpol-tables.json')) as Record<string, Table>;
const input = { runId: 'r1', summary: { total: 2, passed: 0, failed: 2, skipped: 0 }, results: [], sections: { netpol: tables } } as unknown as HtmlInput;
const html = toHtml(input);

describe('report.html NetworkPolicy grids', () => {
  it('draws one cell per table cell, with expected and observed as data-*', () => {
    for (const [id, t] of Object.entries(tables)) {
      const section = html.slice(html.indexOf(`data-case="${id}"`), html.indexOf('</details>', html.indexOf(`data-case="${id}"`)));
      const cells = [
        ...section.matchAll(/<td class="np [^"]*" data-from="([^"]+)" data-to="([^"]+)" data-port="([^"]+)" data-expected="(.)" data-observed="(.)"/g),
      ];
      const rows = Object.values(t.expected).flatMap((r) => Object.values(r));
      expect(cells).toHaveLength(rows.length * t.targets.length);
      for (const [, from, to, port, want, saw] of cells) {
        const i = t.targets.indexOf(to);
        expect(want).toBe(t.expected[port][from][i]);
        expect(saw).toBe(t.observed[port][from][i]);
      }
    }
  });
  it('marks exactly the differing cells (class differs, a title saying what was expected), and counts them', () => {
    const differs = [...html.matchAll(/<td class="np differs"[^>]*data-expected="(.)" data-observed="(.)" title="expected (.), saw (.)"/g)];
    const expected = Object.values(tables).reduce(
      (n, t) =>
        n +
        Object.keys(t.expected).reduce(
          (m, p) => m + Object.keys(t.expected[p]).reduce((k, f) => k + [...t.expected[p][f]].filter((c, i) => c !== t.observed[p][f][i]).length, 0),
          0,
        ),
      0,
    );
    expect(expected).toBeGreaterThan(0);
    expect(differs).toHaveLength(expected);
    for (const [, want, saw, w2, s2] of differs) expect([want, saw]).toEqual([w2, s2]);
    expect(html).toMatch(/<b>\d+ cells differ<\/b>/);
  });
  it('is absent when the run has no NetworkPolicy cases', () => {
    expect(toHtml({ ...input, sections: {} } as HtmlInput)).not.toContain('NetworkPolicy truth tables');
  });
});
