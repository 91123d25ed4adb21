// The datapath grid of report.html on a real full run's results.json (fixtures/results-full-datapath.json:
// `run --keep` on the default cluster, flannel host-gw, 14:09, every check; kept: the records and the
// datapath rows), and why make check's report once lacked the externalTrafficPolicy Local rows: its
// `--skip policy` matched the Local checks' titles ("externalTrafficPolicy"), so they never ran.
import { describe, expect, it } from '@jest/globals';
import { toHtml, type HtmlInput } from '../../src/report/html.js';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { selectChecks } from '../../src/catalogue/select.js';
import { matrixMarkdown } from '../../src/cli/cni-matrix.js';
import type { RunResult } from '../../src/engine/run-suite.js';
import { fixtureText } from './fixture-files.js';

type Real = HtmlInput & { results: Array<{ id: string; status: string; tags: string[] }>; matrices: { datapath: Array<{ path: string }> } };
const real = (): Real => JSON.parse(fixtureText('results-full-datapath.json')) as Real;
const LOCAL = 'NodePort externalTrafficPolicy Local, node -> other node';

describe('the datapath grid on a real full run', () => {
  it('draws one table per path, the eTP=Local one with its 6 windows (3 node views x 2 other nodes)', () => {
    const f = real();
    const paths = [...new Set(f.matrices.datapath.map((r) => r.path))];
    expect(paths).toContain(LOCAL);
    const html = toHtml(f);
    for (const p of paths) expect([p, html.includes(`aria-label="${p.replace(/>/g, '&gt;')}"`)]).toEqual([p, true]);
    const local = html.slice(html.indexOf(`aria-label="${LOCAL.replace(/>/g, '&gt;')}"`));
    const table = local.slice(0, local.indexOf('</table>'));
    expect((table.match(/data-grid="datapath"/g) ?? []).length).toBe(6);
    expect((table.match(/data-ok="true"/g) ?? []).length).toBe(6);
  });
  it("make check's --skip policy still selects every datapath check that drew rows in the real run", () => {
    const drew = real()
      .results.filter((r) => r.tags.includes('datapath') && r.status === 'passed')
      .map((r) => r.id as string);
    expect(drew).toEqual(expect.arrayContaining(['service.nodeport.local', 'service.internal-traffic-local']));
    const kept = selectChecks(CATALOGUE, { skip: ['policy'] }).map((c) => c.id);
    expect(drew.filter((id) => !kept.includes(id))).toEqual([]);
  });
  it('the cni-matrix page has a row for every datapath check and the opt-in disruption layer', () => {
    const f = real();
    const result = { records: f.results, summary: f.summary } as unknown as RunResult;
    const md = matrixMarkdown([{ cni: 'flannel-host-gw', clusterUpMs: 1000, suiteMs: 60_000, result }], '2026-12-07', 'kube-netcheck cni-matrix');
    const row = (id: string) => md.split('\n').find((l) => l.startsWith(`| \`${id}\` `)) ?? '';
    for (const id of ['service.hairpin', 'service.nodeport.from-pods', 'service.nodeport.local', 'service.hostport', 'service.udp'])
      expect([id, row(id).endsWith('| pass |')]).toEqual([id, true]);
    // not run in that file (opt-in): the row is there, its cell says so
    expect(row('disruption.restarts').endsWith('| — |')).toBe(true);
    expect(row('disruption.cut.negative')).not.toBe('');
  });
});
