// docs/cni-matrix.md's NetworkPolicy rows (src/cli/cni-matrix.ts), rendered from real runs' results.json
// (specs/unit/fixtures/cni-matrix-*.json, trimmed: evidence dropped, see the fixtures README): one row per
// truth-table case for a CNI with an engine; a CNI without one reads "NetworkPolicy is not enforced" once.
import { describe, expect, it } from '@jest/globals';
import { columnFromResults, matrixMarkdown, netpolCell, netpolUnenforced } from '../../src/cli/cni-matrix.js';
import { CATALOGUE } from '../../src/catalogue/index.js';
import type { ResultsFile } from '../../src/report/results.js';
import { fixtureText } from './fixture-files.js';

const load = (cni: string) => columnFromResults(cni, JSON.parse(fixtureText(`cni-matrix-${cni}.json`)) as ResultsFile);
const flannel = load('flannel-host-gw');
const router = load('kube-router');
const md = matrixMarkdown([flannel, router], '2026-12-07', 'kube-netcheck cni-matrix');
const netpolIds = CATALOGUE.filter((d) => d.tags.includes('netpol')).map((d) => d.id);
const section = md.slice(md.indexOf('## NetworkPolicy truth tables, per case'));
const rowOf = (id: string) => section.split('\n').find((l) => l.startsWith(`| \`${id}\` `));
const cellsOf = (line: string) =>
  line
    .split(' | ')
    .slice(1)
    .map((c) => c.replace(/ \|$/, ''));

describe('cni-matrix: NetworkPolicy per case', () => {
  it('finds the case that said "not enforced" on the CNI without an engine, and none on kube-router', () => {
    expect(netpolUnenforced(flannel)).toBe('netpol.deny-ingress');
    expect(netpolUnenforced(router)).toBeUndefined();
  });

  it('says "NetworkPolicy is not enforced" once for flannel-host-gw, and gives it no per-case column', () => {
    // once in the per-case section (titles of the verdict self-tests quote the phrase: not counted)
    expect(section.match(/^- .*NetworkPolicy is not enforced/gm)).toHaveLength(1);
    // and once in flannel-host-gw's column of the main table: the truth tables' summary row
    const main = md.slice(md.indexOf('| check |'), md.indexOf('## NetworkPolicy truth tables, per case'));
    const flannelCells = main
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => cellsOf(l)[0]);
    expect(flannelCells.filter((c) => c === 'not enforced')).toHaveLength(1);
    expect(section).toMatch(/^- \*\*flannel-host-gw: NetworkPolicy is not enforced\*\* \(`netpol\.deny-ingress`/m);
    expect(section).toMatch(/^\| case \| kube-router \|$/m);
    const summary = md.split('\n').find((l) => l.startsWith('| `netpol.*` '))!;
    expect(cellsOf(summary)[0]).toBe('not enforced');
    // the older policy checks keep their rows in the main table; no truth-table case is a row there
    for (const id of netpolIds) expect(main).not.toContain(`| \`${id}\` `);
  });

  it("renders one row per truth-table case, each cell from that case's record on kube-router", () => {
    const records = router.result!.records;
    const tables = router.result!.sections!.netpol as Record<string, { convergence?: { ms: number } }>;
    for (const id of netpolIds) {
      const line = rowOf(id);
      expect(line).toBeDefined();
      const [cell] = cellsOf(line!);
      const r = records.find((x) => x.id === id);
      if (!r) {
        expect(cell).toBe('—'); // a case newer than the run (the admin cases): never a pass
        continue;
      }
      if (r.status === 'passed') {
        const ms = tables[id]?.convergence?.ms;
        expect(cell).toBe(ms === undefined ? 'pass' : `pass (${(ms / 1000).toFixed(1)} s)`);
      } else if (r.status === 'failed') expect(cell).toMatch(/^\*\*FAIL\*\* /);
      else expect(cell).toMatch(/^n\/a: /);
    }
    // the counting row matches the records
    const n = (st: string) => records.filter((x) => x.tags.includes('netpol') && x.status === st).length;
    expect(rowOf('')).toBeUndefined();
    expect(section).toContain(`| cases | ${n('passed')} pass / ${n('failed')} fail / ${n('skipped')} n/a |`);
  });

  it('names the failure kind and the differing cells of a real failure, and the reason of a skip', () => {
    const ports = router.result!.records.find((x) => x.id === 'netpol.ports')!;
    expect(ports.status).toBe('failed');
    expect(netpolCell(ports, undefined)).toBe('**FAIL** not run, 42 cells');
    expect(cellsOf(rowOf('netpol.sctp')!)[0]).toBe('n/a: no SCTP in this kernel');
    expect(netpolCell(undefined, undefined)).toBe('—');
  });
});
