// The NetworkPolicy convergence loop (src/catalogue/netpol.ts convergeRounds), its probing handed
// in: in the run's first denying case (the one that can say "not enforced") a round after a
// differing one asks only the cells that differed, and only a full round says "converged".
import { describe, expect, it } from '@jest/globals';
import { CASES, PORTS, apiSpec, convergeRounds, type MatrixView, type Plan } from '../../src/catalogue/netpol.js';
import { cellKey, diffRound, matrixCells, type Round } from '../../src/verdicts/truth-table.js';

const pods = ['x', 'y', 'z'].flatMap((ns) => ['a', 'b', 'c'].map((p) => `${ns}/${p}`));
const cells = matrixCells(pods, pods, PORTS);
const denyIngress = CASES.find((c) => c.id === 'deny-ingress')!.expect({} as MatrixView);
const planFor = (keep?: Set<string>): Plan => {
  const cs = keep ? cells.filter((c) => keep.has(cellKey(c))) : cells;
  return { cells: cs, asks: [], identity: (p) => p, ...(keep ? {} : { narrow: (k: Set<string>) => planFor(k) }) };
};
/** A cluster whose engine starts denying at round `enforcedAt` (never: no engine). */
function cluster(enforcedAt = Infinity) {
  let n = 0;
  return async (p: Plan): Promise<Round> => {
    n++;
    const results = new Map(
      p.cells.map((c) => {
        const denied = n >= enforcedAt && c.to.startsWith('x/');
        return [cellKey(c), denied ? { outcome: 'timeout' as const, ms: 2000, said: 'timed out' } : { outcome: 'ok' as const, ms: 3, said: c.to }];
      }),
    );
    return { results, notRun: new Map(), starved: new Map() };
  };
}

describe('NetworkPolicy convergence in the first denying case', () => {
  it('without an engine: one full round, then only the denied cells (a third of the table) until the bound; the last round read over the full one', async () => {
    const r = await convergeRounds(cluster(), planFor(), denyIngress, 60, 5);
    expect(r.converged).toBe(false);
    const denied = diffRound(denyIngress, cells, (await cluster()(planFor())) as Round, (p) => p).length;
    expect(denied).toBe(cells.filter((c) => c.to.startsWith('x/')).length);
    expect(r.asked[0]).toBe(cells.length);
    expect(r.asked.slice(1).every((n) => n === denied)).toBe(true);
    expect(r.asked.length).toBeGreaterThan(2);
    // the verdict reads every cell: the narrowed last round keeps the full round's other cells
    expect(r.last!.results.size).toBe(cells.length);
    expect(diffRound(denyIngress, cells, r.last!, (p) => p)).toHaveLength(denied);
  });
  it('an engine that enforces from the third round: the narrowed round matches, a full round confirms, converged', async () => {
    const r = await convergeRounds(cluster(3), planFor(), denyIngress, 5_000, 1);
    expect(r.converged).toBe(true);
    expect(r.asked).toEqual([cells.length, cells.filter((c) => c.to.startsWith('x/')).length, cells.filter((c) => c.to.startsWith('x/')).length, cells.length]);
  });
  it('any other case (no narrow): every round is the whole table', async () => {
    const { narrow: _, ...plain } = planFor();
    const r = await convergeRounds(cluster(2), plain, denyIngress, 5_000, 1);
    expect(r.converged).toBe(true);
    expect(r.asked).toEqual([cells.length, cells.length]);
  });
});

describe("the policies in results.json's NetworkPolicy sections", () => {
  it("read as the API stores them: a rule's peers under `from`, not the client model's `_from`", () => {
    const spec = CASES.find((c) => c.id === 'or-peers')!.world({
      runId: 'r1',
      namespaces: { x: 'knc-r1-x', y: 'knc-r1-y', z: 'knc-r1-z' },
    } as unknown as MatrixView).policies['or-peers'].spec;
    expect(JSON.stringify(spec)).toContain('"_from":');
    const shown = apiSpec(spec) as { ingress: Array<Record<string, unknown>> };
    expect(shown.ingress[0]).toHaveProperty('from');
    expect(shown.ingress[0]).not.toHaveProperty('_from');
    expect(JSON.stringify(shown)).not.toContain('_from');
  });
});
