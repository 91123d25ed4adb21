// The NetworkPolicy truth-table engine (src/verdicts/truth-table.ts, src/probes/matrix.ts) on real
// probe output: the matrix client's lines as it printed them (fixtures/netpol-*.txt, see the
// fixtures README) — allowed, denied (refused / timed out), a flapping engine, a missing probe.
import { describe, it, expect } from '@jest/globals';
import { cellId, matrixProbe, parseMatrixOutput } from '../../src/probes/matrix.js';
import {
  NOT_ENFORCED,
  TableFailure,
  cellKey,
  diffRound,
  expectedOf,
  judgeCase,
  matrixCells,
  roundOf,
  seenOf,
  sideBySide,
  tableRows,
  targetsOf,
  expectedSymbol,
  holdRound,
  starvedWhy,
  type Convergence,
  type Expectation,
  type Round,
} from '../../src/verdicts/truth-table.js';
import { coveringCidr, hostCidr } from '../../src/util/cidr.js';
import { cellLimitMs } from '../../src/catalogue/netpol.js';
import { fixtureText } from './fixture-files.js';

const local = parseMatrixOutput(fixtureText('netpol-cells-netns.txt'));

describe('the matrix client output', () => {
  it('reads every cell: the answer, refused, a dropped TCP and a dropped UDP port', () => {
    expect(local.get('0.TCP80')).toEqual({ outcome: 'ok', ms: expect.any(Number), said: 'knc-local-x/a' });
    expect(local.get('0.UDP80')?.outcome).toBe('ok');
    expect(local.get('1.TCP80')).toMatchObject({ outcome: 'refused', said: 'Connection refused' });
    expect(local.get('1.UDP80')?.outcome).toBe('refused');
    expect(local.get('0.TCP81')?.outcome).toBe('timeout');
    expect(local.get('0.UDP81')).toMatchObject({ outcome: 'timeout', said: 'no answer' });
    expect(local.get('0.TCP81')!.ms).toBeGreaterThanOrEqual(1000);
  });
  it('seen: the right pod answering is allowed, another pod is neither allowed nor denied, refused and timeout are denied', () => {
    expect(seenOf(local.get('0.TCP80'), 'knc-local-x/a')).toBe('allow');
    expect(seenOf(local.get('0.TCP80'), 'knc-local-x/b')).toBe('wrong-pod');
    expect(seenOf(local.get('1.TCP80'), 'knc-local-x/a')).toBe('deny');
    expect(seenOf(local.get('0.UDP81'), 'knc-local-x/a')).toBe('deny');
    expect(seenOf(undefined, 'knc-local-x/a')).toBe('not-run');
    expect(seenOf({ outcome: 'closed', ms: 3, said: 'closed without an answer' }, 'x')).toBe('error');
  });
  it('the probe: one argv per source row, cells as id,proto,host,port, bounded twice', () => {
    const p = matrixProbe('netpol-x', [{ id: cellId(2, 'UDP', 81), protocol: 'UDP', host: '10.244.1.5', port: 81 }], 1000);
    expect(p.argv.slice(0, 6)).toEqual(['timeout', '-s', 'KILL', '9', 'perl', '-e']);
    expect(p.argv.slice(7)).toEqual(['1000', '2.UDP81,udp,10.244.1.5,81']);
    expect(() => matrixProbe('x', [{ id: 'a b', protocol: 'TCP', host: 'h', port: 1 }])).toThrow(/shell-safe/);
    // a cell expected allowed gets a longer budget: the first argument is the longest (perl's alarm), a shorter one rides on its cell
    const q = matrixProbe(
      'netpol-y',
      [
        { id: '0.TCP80', protocol: 'TCP', host: '10.244.1.5', port: 80, limitMs: 5000 },
        { id: '1.TCP80', protocol: 'TCP', host: '10.244.2.6', port: 80 },
      ],
      2000,
    );
    expect(q.argv.slice(2, 4)).toEqual(['KILL', '13']);
    expect(q.argv.slice(7)).toEqual(['5000', '0.TCP80,tcp,10.244.1.5,80', '1.TCP80,tcp,10.244.2.6,80,2000']);
  });
});

// A 3-pod matrix (x/a, x/b, y/a): the rows built from the captured lines, relabelled per cell.
const PEERS = ['x/a', 'x/b', 'y/a'];
const identity = (peer: string) => `knc-r1-${peer.split('/')[0]}/${peer.split('/')[1]}`;
const PORTS = [
  { protocol: 'TCP' as const, port: 80 },
  { protocol: 'UDP' as const, port: 81 },
];
const cells = matrixCells(PEERS, PEERS, PORTS);
const OK = fixtureText('netpol-cells-netns.txt')
  .split('\n')
  .find((l) => l.includes(' 0.TCP80 '))!;
const REFUSED = fixtureText('netpol-cells-netns.txt')
  .split('\n')
  .find((l) => l.includes(' 1.TCP80 '))!;
const DROPPED = fixtureText('netpol-cells-netns.txt')
  .split('\n')
  .find((l) => l.includes(' 0.UDP81 '))!;
/** A real line for a cell: the server's answer rewritten to the target's identity when it answered. */
const line = (id: string, kind: 'ok' | 'refused' | 'dropped', to: string) =>
  (kind === 'ok' ? OK.replace('knc-local-x/a', identity(to)) : kind === 'refused' ? REFUSED : DROPPED).replace(/^KNC-CELL \S+/, `KNC-CELL ${id}`);

/** Every source's output, the cell kinds from `verdictOf`. */
function round(verdictOf: (from: string, to: string, proto: string) => 'ok' | 'refused' | 'dropped' | 'missing'): Round {
  const targets = targetsOf(cells);
  return roundOf(cells, (from) => ({
    output: cells
      .filter((c) => c.from === from)
      .map((c) => ({ c, v: verdictOf(c.from, c.to, c.protocol) }))
      .filter(({ v }) => v !== 'missing')
      .map(({ c, v }) => line(cellId(targets.indexOf(c.to), c.protocol, c.port), v as 'ok', c.to))
      .join('\n'),
  }));
}

const DENY_INTO_XA: Expectation = {
  default: 'allow',
  defaultBecause: 'no policy',
  rules: [
    { to: 'x/a', verdict: 'deny', because: 'deny-ingress on x/a' },
    { to: 'x/a', from: 'y/*', protocol: 'TCP', verdict: 'allow', because: 'allow TCP from y' },
  ],
};
const converged: Convergence = { converged: true, ms: 850, rounds: 2, deadlineMs: 20_000 };
const input = (hold: Round, convergence = converged) => ({
  check: 'netpol.test',
  title: 'test case',
  expectation: DENY_INTO_XA,
  cells,
  hold,
  convergence,
  identity,
});
/** What an engine enforcing DENY_INTO_XA shows. */
const enforcing = round((from, to, proto) => (to === 'x/a' && !(from === 'y/a' && proto === 'TCP') ? 'dropped' : 'ok'));

function failure(f: () => unknown): TableFailure {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TableFailure);
    return err as TableFailure;
  }
  throw new Error('it passed');
}

describe('expected tables as data', () => {
  it('a default plus exceptions, the last matching rule wins; selectors by namespace, pod or both', () => {
    expect(expectedOf(DENY_INTO_XA, { from: 'x/b', to: 'x/a', protocol: 'TCP', port: 80 }).verdict).toBe('deny');
    expect(expectedOf(DENY_INTO_XA, { from: 'y/a', to: 'x/a', protocol: 'TCP', port: 80 })).toEqual({ verdict: 'allow', because: 'allow TCP from y' });
    expect(expectedOf(DENY_INTO_XA, { from: 'y/a', to: 'x/a', protocol: 'UDP', port: 81 }).verdict).toBe('deny');
    expect(expectedOf(DENY_INTO_XA, { from: 'x/a', to: 'y/a', protocol: 'UDP', port: 81 })).toEqual({ verdict: 'allow', because: 'no policy' });
  });
  it("a pod's own cells are not in the matrix (loopback is undefined by the API)", () => {
    expect(cells).toHaveLength(3 * 2 * 2);
    expect(cells.some((c) => c.from === c.to)).toBe(false);
  });
  it('the ipBlock cover: the smallest CIDR holding every pod', () => {
    expect(coveringCidr(['10.244.1.5', '10.244.2.7', '10.244.1.9'])).toBe('10.244.0.0/22');
    expect(coveringCidr(['10.244.1.5'])).toBe('10.244.1.5/32');
    // IPv6 (an IPv6-only cluster's pods): the ipBlock covers them in their own family, one pod is a /128
    expect(coveringCidr(['fd00:10:244:1::5', 'fd00:10:244:2::7'])).toBe('fd00:10:244::/62');
    expect(coveringCidr(['fd00:10:244:1::5'])).toBe('fd00:10:244:1::5/128');
    expect(hostCidr('fd00:10:244:1::5')).toBe('fd00:10:244:1::5/128');
    expect(hostCidr('10.244.1.5')).toBe('10.244.1.5/32');
    expect(() => coveringCidr(['10.244.1.5', 'fd00::1'])).toThrow(/both families/);
  });
});

describe('judging a case', () => {
  it('allow and deny as expected, converged then held: passes with the counts', () => {
    expect(diffRound(DENY_INTO_XA, cells, enforcing, identity)).toEqual([]);
    expect(judgeCase(input(enforcing))).toEqual({ cells: 12, allowed: 9, denied: 3, convergedMs: 850, rounds: 2 });
  });
  it('no engine (every denied cell answered): "NetworkPolicy is not enforced", the tables side by side', () => {
    const f = failure(() => judgeCase(input(round(() => 'ok'))));
    expect(f.kind).toBe('not-enforced');
    expect(f.ctx).toMatchObject({
      check: 'netpol.test',
      from: 'the matrix',
      to: 'test case',
      expected: 'test case: 12 cells as expected (9 allowed, 3 denied)',
    });
    expect(f.ctx.seen).toBe(`every one of the 3 cells the policies deny was allowed: ${NOT_ENFORCED}`);
    expect(f.diffs.map((d) => `${d.cell.from}>${d.cell.to} ${d.cell.protocol}`)).toEqual(['x/b>x/a TCP', 'x/b>x/a UDP', 'y/a>x/a UDP']);
    expect(f.message).toContain('TCP/80    expected  observed  differs');
    expect(f.message).toMatch(/\nx\/b\s+X-\.\s+\.-\.\s+\*\n/);
  });
  it('a flapping engine: converged, then cells differ on the next round', () => {
    const flapped = round((from, to, proto) =>
      to === 'x/a' && !(from === 'y/a' && proto === 'TCP')
        ? from === 'x/b' && proto === 'UDP'
          ? 'ok'
          : 'dropped'
        : from === 'y/a' && to === 'x/b'
          ? 'refused'
          : 'ok',
    );
    const f = failure(() => judgeCase(input(flapped)));
    expect(f.kind).toBe('flapped');
    expect(f.ctx.seen).toMatch(/^converged after 850ms \(2 rounds\), then 3 of 12 cells changed on the next round \(an engine that flaps\): /);
    expect(f.diffs.map((d) => [d.expected, d.seen, d.result?.outcome])).toEqual([
      ['deny', 'allow', 'ok'],
      ['allow', 'deny', 'refused'],
      ['allow', 'deny', 'refused'],
    ]);
    expect(f.ctx.seen).toContain('x/b -> x/a UDP/81: expected denied (deny-ingress on x/a), saw ok after');
    expect(f.ctx.seen).toMatch(/y\/a -> x\/b TCP\/80: expected allowed \(no policy\), saw refused after \d+ms \(Connection refused\)/);
  });
  it('not converged within the deadline: says so with the deadline and rounds', () => {
    const f = failure(() =>
      judgeCase(
        input(
          round(() => 'dropped'),
          { converged: false, ms: 20_400, rounds: 14, deadlineMs: 20_000 },
        ),
      ),
    );
    expect(f.kind).toBe('not-converged');
    expect(f.ctx.seen).toMatch(/^no round matched within 20000ms \(14 rounds\); 9 of 12 cells differ: /);
    const late = failure(() => judgeCase(input(enforcing, { converged: false, ms: 20_400, rounds: 14, deadlineMs: 20_000 })));
    expect(late.ctx.seen).toBe('no round matched within 20000ms (14 rounds); the table matched only on the round after the deadline');
  });
  it('a missing probe is never a pass: a cell without its line, a source whose exec failed', () => {
    const noLine = round((from, to, proto) =>
      from === 'x/b' && to === 'y/a' && proto === 'UDP' ? 'missing' : to === 'x/a' && !(from === 'y/a' && proto === 'TCP') ? 'dropped' : 'ok',
    );
    const f = failure(() => judgeCase(input(noLine)));
    expect(f.kind).toBe('not-run');
    expect(f.ctx.seen).toMatch(
      /^1 of 12 cells not run \(the probe printed no line for the cell\); 1 cells differ: x\/b -> y\/a UDP\/81: expected allowed \(no policy\), saw not run$/,
    );
    const execFailed: Round = {
      results: new Map([...enforcing.results].filter(([k]) => !k.startsWith('y/a>'))),
      notRun: new Map([['y/a', 'pod knc-r1-y/a: websocket closed']]),
      starved: new Map(),
    };
    const g = failure(() => judgeCase(input(execFailed)));
    expect(g.kind).toBe('not-run');
    expect(g.ctx.seen).toMatch(/^4 of 12 cells not run \(pod knc-r1-y\/a: websocket closed\)/);
    expect(g.message).toMatch(/\ny\/a\s+\.\.-\s+\?\?-\s+\*\*\n/);
  });
  it('tables as rows for results.json', () => {
    const rows = tableRows(cells, expectedSymbol(DENY_INTO_XA));
    expect(rows).toEqual({ 'TCP/80': { 'x/a': '-..', 'x/b': 'X-.', 'y/a': '..-' }, 'UDP/81': { 'x/a': '-..', 'x/b': 'X-.', 'y/a': 'X.-' } });
    expect(sideBySide(DENY_INTO_XA, cells, enforcing, identity).split('\n')[0]).toBe(
      `targets: 1=x/a 2=x/b 3=y/a   (. allowed, X denied, - a pod to itself (not probed), W another pod answered, E error, ? not run; * differs)`,
    );
    expect(cellKey(cells[0])).toBe('x/a>x/b@TCP/80');
  });
});

// The starvation control: each pod source also asks its own server over loopback (SELF_CELLS); the
// lines are real (fixtures/netpol-self-cells.txt: answered, then the server stopped).
const SELF = fixtureText('netpol-self-cells.txt').trim().split('\n');
const SELF_OK = SELF.filter((l) => / ok /.test(l)).join('\n');
const SELF_STARVED = SELF.filter((l) => / timeout /.test(l)).join('\n');
/** `base` with `src`'s own loopback control lines appended (answered or starved). */
const withSelf = (base: Round, starvedSources: string[]): Round => {
  const targets = targetsOf(cells);
  return roundOf(cells, (from) => ({
    output: [
      ...cells
        .filter((c) => c.from === from)
        .map((c) => {
          const r = base.results.get(cellKey(c))!;
          const kind = r.outcome === 'ok' ? 'ok' : r.outcome === 'refused' ? 'refused' : 'dropped';
          return line(cellId(targets.indexOf(c.to), c.protocol, c.port), kind, c.to);
        }),
      starvedSources.includes(from) ? SELF_STARVED : SELF_OK,
    ].join('\n'),
  }));
};
/** An engine enforcing DENY_INTO_XA, except that the allowed y/a -> x/a TCP/80 cell timed out. */
const oneAllowedLost = round((from, to, proto) =>
  to === 'x/a' && !(from === 'y/a' && proto === 'TCP') ? 'dropped' : from === 'y/a' && to === 'x/a' ? 'dropped' : 'ok',
);

describe('the judged round and the starvation control', () => {
  it('the loopback control cells are not cells of the table; a source whose control did not answer is starved', () => {
    const r = withSelf(enforcing, ['x/b']);
    expect([...r.results.keys()].some((k) => k.includes('self'))).toBe(false);
    expect(r.results.size).toBe(cells.length);
    expect([...r.starved.keys()]).toEqual(['x/b']);
    expect(r.starved.get('x/b')).toMatch(/^own server over loopback (UDP80|TCP80): timeout after 20\d\dms$/);
    expect(starvedWhy(r)).toMatch(/^1 source\(s\) could not reach their own server over loopback in time \(x\/b: own server/);
    expect(starvedWhy(withSelf(enforcing, []))).toBeUndefined();
  });
  it('a differing round while the host was starved is probed again, and the next round is judged', async () => {
    const rounds = [withSelf(oneAllowedLost, ['y/a']), withSelf(enforcing, [])];
    let asked = 0;
    const h = await holdRound(async () => rounds[asked++], DENY_INTO_XA, cells, identity, 3);
    expect(asked).toBe(2);
    expect(h.round).toBe(rounds[1]);
    expect(h.starved).toEqual([expect.stringMatching(/^round 1: 1 cells differed while 1 source\(s\) could not reach their own server/)]);
    expect(() => judgeCase(input(h.round))).not.toThrow();
  });
  it('a differing round where every control answered is judged at once: one lost allowed cell fails the case', async () => {
    let asked = 0;
    const lost = withSelf(oneAllowedLost, []);
    const h = await holdRound(async () => (asked++, lost), DENY_INTO_XA, cells, identity, 3);
    expect(asked).toBe(1);
    expect(h.starved).toEqual([]);
    const f = failure(() => judgeCase(input(h.round)));
    expect(f.kind).toBe('flapped');
    expect(f.ctx.seen).toMatch(/1 of 12 cells changed on the next round .*y\/a -> x\/a TCP\/80: expected allowed \(allow TCP from y\), saw timeout/);
  });
  it('starved on every round: the last round is judged (bounded), the starved ones reported — never a pass by default', async () => {
    let asked = 0;
    const bad = withSelf(oneAllowedLost, ['x/a', 'y/a']);
    const h = await holdRound(async () => (asked++, bad), DENY_INTO_XA, cells, identity, 3);
    expect(asked).toBe(3);
    expect(h.starved).toHaveLength(2);
    expect(failure(() => judgeCase(input(h.round))).kind).toBe('flapped');
  });
  it('a starved round that matches the table is judged as it is (nothing to excuse)', async () => {
    let asked = 0;
    const h = await holdRound(async () => (asked++, withSelf(enforcing, ['x/a'])), DENY_INTO_XA, cells, identity, 3);
    expect(asked).toBe(1);
    expect(h.starved).toEqual([]);
  });
});

describe('the cell budgets', () => {
  const allowed = cells.find((c) => expectedOf(DENY_INTO_XA, c).verdict === 'allow')!;
  const denied = cells.find((c) => expectedOf(DENY_INTO_XA, c).verdict === 'deny')!;
  it('a cell expected allowed gets 5 s, a cell expected denied the probe default (2 s), no table no budget of its own', () => {
    expect(cellLimitMs(DENY_INTO_XA, allowed, false)).toBe(5000);
    expect(cellLimitMs(DENY_INTO_XA, denied, false)).toBeUndefined();
    expect(cellLimitMs(undefined, allowed, false)).toBeUndefined();
  });
  it("the run's first denying case (the one that says 'not enforced'): every cell 5 s, so a slow answer is not taken for a denial", () => {
    expect(cellLimitMs(DENY_INTO_XA, denied, true)).toBe(5000);
    expect(cellLimitMs(DENY_INTO_XA, allowed, true)).toBe(5000);
  });
});
