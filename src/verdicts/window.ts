// Verdicts over a hold window (src/probes/window.ts): every sample counts. "answer": each of the
// fixed number of requests answered by /whoami, only by allowed servers, every wanted server among
// them, and (when asked) the server saw an allowed client address. "no answer": each request
// refused or timed out, none answered. A gate that never saw an answer is a failure of its own,
// naming how long it asked.
import type { ProbeOutput } from '../probes/batch.js';
import { parseSamples, type Sample, type Samples } from '../probes/window.js';
import { CheckFailure } from './failure.js';

/** The expected outcome of a window, as data (catalogue entries carry it). */
export type SampleExpectation =
  | {
      kind: 'answer';
      requests: number;
      /** Servers (pod names) every one of which must answer at least once. */
      want: string[];
      /** Servers allowed to answer (default: exactly `want`). */
      allowed?: string[];
      /** Client addresses the server may see ($remote_addr), with what they are, e.g. "the client node's addresses". */
      clients?: { ips: string[]; what: string };
      /** Every request answered by one and the same server (session affinity); `want` may then be empty. */
      single?: boolean;
    }
  | { kind: 'no-answer'; requests: number };

export interface WindowTally {
  /** Answers per server. */
  servers: Record<string, number>;
  /** Client addresses the servers saw, with how often. */
  clients: Record<string, number>;
  answered: number;
  unanswered: number;
  gate?: Samples['gate'];
}

const fmtSet = (xs: string[]) => `{${[...xs].sort().join(', ')}}`;
const count = (xs: Array<string | undefined>) => {
  const m: Record<string, number> = {};
  for (const x of xs) if (x) m[x] = (m[x] ?? 0) + 1;
  return m;
};
const failed = (s: Sample) => `#${s.i} exit ${s.rc}${s.line ? ` ${JSON.stringify(s.line.slice(0, 100))}` : ''}`;

export function tally(w: Samples): WindowTally {
  const answered = w.samples.filter((s) => s.rc === 0 && s.server);
  return {
    servers: count(answered.map((s) => s.server)),
    clients: count(answered.map((s) => s.client)),
    answered: answered.length,
    unanswered: w.samples.length - answered.length,
    gate: w.gate,
  };
}

/** The verdict on one window: the tally when it holds, a CheckFailure naming every way it did not. */
export function verifyWindow(check: string, from: string, to: string, o: ProbeOutput, expect: SampleExpectation): WindowTally | CheckFailure {
  // the command is the window's own script: its arguments say what was asked
  const at = o.command.lastIndexOf(' samples ');
  const command = at >= 0 ? `sample window (src/probes/window.ts):${o.command.slice(at + ' samples'.length)}` : o.command;
  const fail = (expected: string, seen: string) => new CheckFailure({ check, from, to, expected, seen, command });
  const expected =
    expect.kind === 'no-answer'
      ? `all ${expect.requests} requests refused or timed out (no answer)`
      : `all ${expect.requests} requests answered by ${expect.single ? 'one and the same of ' : ''}${fmtSet(expect.allowed ?? expect.want)}${expect.want.length ? `, each of ${fmtSet(expect.want)} at least once` : ''}${expect.clients ? `, the server seeing ${expect.clients.what} ${fmtSet(expect.clients.ips)}` : ''}`;
  let w: Samples;
  try {
    w = parseSamples(o.output);
  } catch (err) {
    return fail(expected, `no sample window ran (exit ${o.exitCode}): ${(err as Error).message.slice(0, 200)}`);
  }
  if (w.gate && w.gate.rc !== 0) {
    return fail(expected, `no answer at all within the ${(w.gate.ms / 1000).toFixed(1)} s gate (${w.gate.tries} tries, last exit ${w.gate.rc})`);
  }
  if (w.samples.length !== expect.requests) return fail(expected, `${w.samples.length} samples of ${expect.requests}`);
  const t = tally(w);
  if (expect.kind === 'no-answer') {
    const answers = w.samples.filter((s) => s.rc === 0);
    return answers.length
      ? fail(
          expected,
          `${answers.length} of ${w.samples.length} answered (${JSON.stringify(t.servers)}; first: ${JSON.stringify(answers[0].line.slice(0, 100))})`,
        )
      : t;
  }
  const allowed = expect.allowed ?? expect.want;
  const problems: string[] = [];
  const bad = w.samples.filter((s) => !(s.rc === 0 && s.server));
  if (bad.length) problems.push(`${bad.length} of ${w.samples.length} unanswered (${bad.slice(0, 3).map(failed).join('; ')})`);
  const stray = Object.keys(t.servers).filter((s) => !allowed.includes(s));
  if (stray.length) problems.push(`answered by ${fmtSet(stray)}, not allowed`);
  const missing = expect.want.filter((x) => !t.servers[x]);
  if (missing.length) problems.push(`never answered by ${fmtSet(missing)}`);
  if (expect.single && Object.keys(t.servers).length > 1) problems.push(`answered by ${Object.keys(t.servers).length} different servers`);
  if (expect.clients) {
    const wrong = Object.keys(t.clients).filter((c) => !expect.clients!.ips.includes(c));
    if (wrong.length) problems.push(`the server saw client ${fmtSet(wrong)}`);
  }
  if (!problems.length) return t;
  return fail(expected, `${JSON.stringify(t.servers)}: ${problems.join('; ')}`);
}

/**
 * Coverage over several windows (a source's windows to every node, or every source's windows to
 * one node): every wanted server answered at least once among them. With random balancing over 2
 * endpoints, 24 requests miss one by chance with probability 2^-23; per window (8 requests) it
 * would be 2^-7, so coverage is asked of the group, and every sample of every window still counts
 * in the windows' own verdicts.
 */
export function verifyCoverage(check: string, from: string, to: string, tallies: WindowTally[], want: string[]): CheckFailure | undefined {
  const seen: Record<string, number> = {};
  for (const t of tallies) for (const [k, v] of Object.entries(t.servers)) seen[k] = (seen[k] ?? 0) + v;
  const missing = want.filter((w) => !seen[w]);
  if (!missing.length && tallies.length) return undefined;
  const answered = tallies.reduce((n, t) => n + t.answered, 0);
  return new CheckFailure({
    check,
    from,
    to,
    expected: `each of ${fmtSet(want)} to answer at least once over ${tallies.length} windows`,
    seen: `${JSON.stringify(seen)} over ${answered} answers: never answered by ${fmtSet(missing)}`,
  });
}
