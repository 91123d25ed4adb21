// NetworkPolicy truth tables: the expected reachability of every cell (from, to, protocol, port)
// as data — a default (allow / deny) plus exceptions — the observed one read from the matrix
// probes, and the verdict over both: a case passes when it converged (bounded) and then held (every
// cell probed again matches). Peers are logical names: "x/a" (namespace x, pod a) or "node/<name>"
// (a hostNetwork node view). A pod's own cells (x/a -> x/a) are not probed: the API leaves loopback
// undefined (upstream's Netpol e2e ignores them too).
import { isSelfCell, parseCellId, parseMatrixOutput, type CellResult, type Protocol } from '../probes/matrix.js';
import { CheckFailure } from './failure.js';

export type Verdict = 'allow' | 'deny';

export interface PortProto {
  protocol: Protocol;
  port: number;
}

export interface Cell extends PortProto {
  from: string;
  to: string;
}

const uniq = (xs: string[]) => [...new Set(xs)];
/** The targets of a matrix, sorted: the columns of its tables and the index in its cell ids. */
export const targetsOf = (cells: Cell[]) => uniq(cells.map((c) => c.to)).sort();

export const cellKey = (c: Cell) => `${c.from}>${c.to}@${c.protocol}/${c.port}`;
export const cellText = (c: Cell) => `${c.from} -> ${c.to} ${c.protocol}/${c.port}`;

/** "x/a", "x/*", "*\/a", "node/*", "*": which peers a rule names. */
export type PeerSel = string;

/** An exception to the default: every cell it names gets `verdict` (the last matching rule wins). */
export interface Rule {
  from?: PeerSel | PeerSel[];
  to?: PeerSel | PeerSel[];
  protocol?: Protocol;
  port?: number;
  verdict: Verdict;
  /** Why (the policy and its rule), for the report. */
  because: string;
}

export interface Expectation {
  default: Verdict;
  /** Why the default holds (e.g. "no policy selects these pods"). */
  defaultBecause: string;
  rules: Rule[];
}

export function peerMatches(sel: PeerSel, peer: string): boolean {
  if (sel === '*') return true;
  const [sn, sp] = sel.split('/');
  const i = peer.indexOf('/');
  const [pn, pp] = [peer.slice(0, i), peer.slice(i + 1)];
  return (sn === '*' || sn === pn) && (sp === '*' || sp === pp);
}

const anyOf = (sel: PeerSel | PeerSel[] | undefined, peer: string) => sel === undefined || (Array.isArray(sel) ? sel : [sel]).some((s) => peerMatches(s, peer));

/** The expected verdict of one cell and the reason. */
export function expectedOf(e: Expectation, c: Cell): { verdict: Verdict; because: string } {
  let v = { verdict: e.default, because: e.defaultBecause };
  for (const r of e.rules) {
    if (anyOf(r.from, c.from) && anyOf(r.to, c.to) && (r.protocol === undefined || r.protocol === c.protocol) && (r.port === undefined || r.port === c.port))
      v = { verdict: r.verdict, because: r.because };
  }
  return v;
}

/** Every cell of the matrix: sources × targets (a pod's own cells left out) × ports. */
export function matrixCells(sources: string[], targets: string[], ports: PortProto[]): Cell[] {
  return sources.flatMap((from) => targets.filter((to) => to !== from).flatMap((to) => ports.map((p) => ({ from, to, ...p }))));
}

/** What a cell showed: allowed (the right pod answered), denied, or something that is neither. */
export type Seen = 'allow' | 'deny' | 'wrong-pod' | 'error' | 'not-run';

/**
 * Denied: refused (TCP RST, ICMP port unreachable: every port is served, so only an engine
 * rejects), unreachable (an ICMP reject) or a timeout (dropped). Allowed: an answer naming the
 * target pod. An answer from another pod, a connection closed without a word, or an error is
 * neither: it never matches either expectation.
 */
export function seenOf(r: CellResult | undefined, identity: string): Seen {
  if (!r) return 'not-run';
  if (r.outcome === 'ok') return r.said === identity ? 'allow' : 'wrong-pod';
  if (r.outcome === 'refused' || r.outcome === 'unreachable' || r.outcome === 'timeout') return 'deny';
  return 'error';
}

export interface CellDiff {
  cell: Cell;
  expected: Verdict;
  because: string;
  seen: Seen;
  result?: CellResult;
}

/** One observed round: the result of every cell (absent: its probe did not run) and, per source, why not. */
export interface Round {
  results: Map<string, CellResult>;
  /** Source peer → why its probe did not run (the exec failed, the output lacked the probe). */
  notRun: Map<string, string>;
  /**
   * Source peer → its own server over loopback (SELF_CELLS) did not answer in time: the pod or its
   * node was starved of CPU during the round, which no engine can cause (see `starvedWhy`).
   */
  starved: Map<string, string>;
}

/** Why a round cannot be told from a starved host, or undefined: one line naming the sources. */
export function starvedWhy(round: Round): string | undefined {
  if (!round.starved.size) return undefined;
  const list = [...round.starved].map(([src, why]) => `${src}: ${why}`);
  return `${round.starved.size} source(s) could not reach their own server over loopback in time (${list.slice(0, 3).join('; ')}${list.length > 3 ? '; …' : ''})`;
}

/**
 * A round from each source's probe output (or why it did not run). Cell ids index the sorted
 * targets (targetsOf).
 */
export function roundOf(cells: Cell[], outputOf: (source: string) => { output?: string; error?: string }): Round {
  const targets = targetsOf(cells);
  const round: Round = { results: new Map(), notRun: new Map(), starved: new Map() };
  for (const source of uniq(cells.map((c) => c.from))) {
    const o = outputOf(source);
    if (o.output === undefined) {
      round.notRun.set(source, o.error ?? 'no output');
      continue;
    }
    for (const [id, r] of parseMatrixOutput(o.output)) {
      if (isSelfCell(id)) {
        if (r.outcome !== 'ok') round.starved.set(source, `own server over loopback ${id.slice(5)}: ${r.outcome} after ${r.ms}ms`);
        continue;
      }
      const c = parseCellId(id);
      const to = c && targets[c.target];
      if (c && to) round.results.set(cellKey({ from: source, to, protocol: c.protocol, port: c.port }), r);
    }
  }
  return round;
}

/** The cells of a round that do not show what the expectation says. */
export function diffRound(e: Expectation, cells: Cell[], round: Round, identity: (peer: string) => string): CellDiff[] {
  const out: CellDiff[] = [];
  for (const cell of cells) {
    const result = round.results.get(cellKey(cell));
    const seen = seenOf(result, identity(cell.to));
    const { verdict, because } = expectedOf(e, cell);
    if (seen !== verdict) out.push({ cell, expected: verdict, because, seen, result });
  }
  return out;
}

/** The judged round and the starved rounds probed before it. */
export interface Hold {
  round: Round;
  /** Rounds not judged: cells differed while a source could not reach its own server over loopback. */
  starved: string[];
}

/**
 * The judged round, after a case converged: every cell probed once more (`probe`). A round whose
 * cells differ from the table while the host was starved (a source's own server did not answer
 * over loopback, which no engine touches: `starved`) cannot be told from a dropped allowed cell, so
 * it is probed again, at most `maxRounds` rounds in all; the last one is judged whatever it shows,
 * and every starved round is reported. A round that is not starved is judged as it is: one bad
 * cell fails the case, as does a round that is starved every time.
 */
export async function holdRound(
  probe: () => Promise<Round>,
  e: Expectation,
  cells: Cell[],
  identity: (peer: string) => string,
  maxRounds: number,
): Promise<Hold> {
  const starved: string[] = [];
  for (let i = 1; ; i++) {
    const round = await probe();
    const why = starvedWhy(round);
    const differs = why ? diffRound(e, cells, round, identity).length : 0;
    if (!why || !differs || i >= maxRounds) return { round, starved };
    starved.push(`round ${i}: ${differs} cells differed while ${why}`);
  }
}

// ---- tables as text ---------------------------------------------------------------------------

const SYMBOL: Record<Seen | Verdict, string> = { allow: '.', deny: 'X', 'wrong-pod': 'W', error: 'E', 'not-run': '?' };
export const LEGEND = '. allowed, X denied, - a pod to itself (not probed), W another pod answered, E error, ? not run; * differs';

const portsOf = (cells: Cell[]) => [...new Map(cells.map((c) => [`${c.protocol}/${c.port}`, { protocol: c.protocol, port: c.port }])).values()];

/**
 * The expected and observed tables side by side, one block per protocol/port (rows: sources,
 * columns: targets, numbered in the header), then a column of differing cells marked "*".
 */
export function sideBySide(e: Expectation, cells: Cell[], round: Round, identity: (peer: string) => string): string {
  const sources = uniq(cells.map((c) => c.from));
  const targets = targetsOf(cells);
  const byKey = new Map(cells.map((c) => [cellKey(c), c]));
  const w = Math.max(...sources.map((s) => s.length), 8);
  const lines: string[] = [`targets: ${targets.map((t, i) => `${i + 1}=${t}`).join(' ')}   (${LEGEND})`];
  const head = targets.map((_, i) => String((i + 1) % 10)).join('');
  for (const p of portsOf(cells)) {
    const title = `${p.protocol}/${p.port}`;
    lines.push(`${title.padEnd(w)}  ${'expected'.padEnd(targets.length)}  ${'observed'.padEnd(targets.length)}  differs`);
    lines.push(`${''.padEnd(w)}  ${head.padEnd(8)}  ${head.padEnd(8)}  ${head}`);
    for (const from of sources) {
      let ex = '';
      let ob = '';
      let df = '';
      for (const to of targets) {
        const c = byKey.get(cellKey({ from, to, ...p }));
        if (!c) {
          ex += '-';
          ob += '-';
          df += ' ';
          continue;
        }
        const want = expectedOf(e, c).verdict;
        const seen = seenOf(round.results.get(cellKey(c)), identity(to));
        ex += SYMBOL[want];
        ob += SYMBOL[seen];
        df += seen === want ? ' ' : '*';
      }
      lines.push(`${from.padEnd(w)}  ${ex.padEnd(8)}  ${ob.padEnd(8)}  ${df.trimEnd()}`);
    }
  }
  return lines.join('\n');
}

/** A table as rows of symbols, for results.json and the HTML grid: {"TCP/80": {"x/a": ".X-..."}}. */
export function tableRows(cells: Cell[], sym: (c: Cell) => string): Record<string, Record<string, string>> {
  const sources = uniq(cells.map((c) => c.from));
  const targets = targetsOf(cells);
  const byKey = new Map(cells.map((c) => [cellKey(c), c]));
  const out: Record<string, Record<string, string>> = {};
  for (const p of portsOf(cells)) {
    const rows: Record<string, string> = {};
    for (const from of sources)
      rows[from] = targets
        .map((to) => {
          const c = byKey.get(cellKey({ from, to, ...p }));
          return c ? sym(c) : '-';
        })
        .join('');
    out[`${p.protocol}/${p.port}`] = rows;
  }
  return out;
}

export const expectedSymbol = (e: Expectation) => (c: Cell) => SYMBOL[expectedOf(e, c).verdict];
export const observedSymbol = (round: Round, identity: (peer: string) => string) => (c: Cell) => SYMBOL[seenOf(round.results.get(cellKey(c)), identity(c.to))];

const diffLine = (d: CellDiff) => {
  const r = d.result;
  const saw = d.seen === 'not-run' ? 'not run' : `${r!.outcome} after ${r!.ms}ms${r!.said ? ` (${r!.said})` : ''}`;
  return `${cellText(d.cell)}: expected ${d.expected === 'allow' ? 'allowed' : 'denied'} (${d.because}), saw ${saw}`;
};

export const NOT_ENFORCED = 'NetworkPolicy is not enforced';

/** The convergence the case's change went through before the judged round (bounded, reported). */
export interface Convergence {
  /** Did a round match the expected table before the deadline? */
  converged: boolean;
  /** From the change to the matching round (or to the deadline). */
  ms: number;
  rounds: number;
  deadlineMs: number;
}

export interface CaseVerdictInput {
  check: string;
  title: string;
  expectation: Expectation;
  cells: Cell[];
  /** The judged round: every cell probed again after the convergence. */
  hold: Round;
  convergence: Convergence;
  identity: (peer: string) => string;
}

/** Why a case failed, as structured as the reports need it. */
export type CaseFailureKind = 'not-enforced' | 'not-converged' | 'flapped' | 'not-run';

export class TableFailure extends CheckFailure {
  constructor(
    ctx: ConstructorParameters<typeof CheckFailure>[0],
    readonly kind: CaseFailureKind,
    readonly diffs: CellDiff[],
    readonly tables: string,
  ) {
    super(ctx);
    this.message += `\n${tables}`;
  }
}

/** Cells the expectation denies, and whether every one of them was seen allowed. */
export function allDeniesAllowed(e: Expectation, cells: Cell[], diffs: CellDiff[]): boolean {
  const denied = cells.filter((c) => expectedOf(e, c).verdict === 'deny');
  const slipped = diffs.filter((d) => d.expected === 'deny' && d.seen === 'allow');
  return denied.length > 0 && slipped.length === denied.length && diffs.length === slipped.length;
}

/**
 * The verdict on one case. Passes (returns evidence) when the change converged within its bound
 * and the judged round — every cell probed again — matches. Fails with a TableFailure whose
 * `seen` names the differing cells and whose message ends in the side-by-side tables:
 *   not-run        a probe did not run (never a pass);
 *   not-enforced   every cell the policies deny was allowed, nothing else differed;
 *   flapped        the case converged, and cells differ on the round after;
 *   not-converged  no round matched before the deadline (the judged round's cells are listed).
 */
export function judgeCase(i: CaseVerdictInput): { cells: number; allowed: number; denied: number; convergedMs: number; rounds: number } {
  const { check, title, expectation: e, cells, hold, convergence: cv, identity } = i;
  if (cells.length === 0) throw new CheckFailure({ check, from: 'the matrix', to: title, expected: 'at least one cell to probe', seen: 'none' });
  const diffs = diffRound(e, cells, hold, identity);
  const allowed = cells.filter((c) => expectedOf(e, c).verdict === 'allow').length;
  const expected = `${title}: ${cells.length} cells as expected (${allowed} allowed, ${cells.length - allowed} denied)`;
  if (diffs.length === 0 && cv.converged) return { cells: cells.length, allowed, denied: cells.length - allowed, convergedMs: cv.ms, rounds: cv.rounds };
  const tables = sideBySide(e, cells, hold, identity);
  const shown = diffs.slice(0, 12).map(diffLine).join('; ') + (diffs.length > 12 ? `; … and ${diffs.length - 12} more` : '');
  const notRun = diffs.filter((d) => d.seen === 'not-run');
  let kind: CaseFailureKind;
  let seen: string;
  if (notRun.length) {
    kind = 'not-run';
    const why = [...new Set(notRun.map((d) => hold.notRun.get(d.cell.from) ?? 'the probe printed no line for the cell'))].slice(0, 3).join('; ');
    seen = `${notRun.length} of ${cells.length} cells not run (${why}); ${diffs.length} cells differ: ${shown}`;
  } else if (allDeniesAllowed(e, cells, diffs)) {
    kind = 'not-enforced';
    seen = `every one of the ${diffs.length} cells the policies deny was allowed${cv.converged ? '' : ` (still so ${cv.ms}ms, ${cv.rounds} rounds, after the change)`}: ${NOT_ENFORCED}`;
  } else if (cv.converged) {
    kind = 'flapped';
    seen = `converged after ${cv.ms}ms (${cv.rounds} rounds), then ${diffs.length} of ${cells.length} cells changed on the next round (an engine that flaps): ${shown}`;
  } else {
    kind = 'not-converged';
    seen = diffs.length
      ? `no round matched within ${cv.deadlineMs}ms (${cv.rounds} rounds); ${diffs.length} of ${cells.length} cells differ: ${shown}`
      : `no round matched within ${cv.deadlineMs}ms (${cv.rounds} rounds); the table matched only on the round after the deadline`;
  }
  throw new TableFailure({ check, from: 'the matrix', to: title, expected, seen }, kind, diffs, tables);
}
