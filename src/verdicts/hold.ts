// The hold-window verdict: an ask is data — from which source, to which address, what is expected
// ({requests, answeredBy, never}) — and the verdict sees (ask, output) pairs. Every sample counts:
// every request answered, each by a wanted pod, none by another, and every wanted pod at least
// once from this source (a source that cannot reach one endpoint fails, however many it reached).
import type { ProbeOutput } from '../probes/batch.js';
import { parseHold, type HoldSample } from '../probes/traffic.js';
import type { ProbeRef } from '../workload/setup.js';
import { CheckFailure, throwAll } from './failure.js';
import { fmt } from './endpoints.js';

export interface HoldAsk {
  from: ProbeRef;
  /** `what` is how failures name it ("my-nginx 10.96.0.5:80"); `url` what is asked. */
  to: { what: string; url: string };
  expect: {
    /** Requests this source sends; all of them must be answered. */
    requests: number;
    /** The pods (server names) that may answer; each must answer at least once. */
    answeredBy: string[];
    /** Pods that must not answer, named as such when they do (removed, not Ready). */
    never?: string[];
  };
}

/** What one source saw in its hold window. */
export interface HoldTally {
  from: string;
  node: string;
  requests: number;
  answered: number;
  /** Answers by server, wanted or not. */
  byServer: Record<string, number>;
  /** Requests without a /whoami answer, by reason (timed out, refused, no route, exit N, another page). */
  unanswered: Record<string, number>;
}

const source = (r: ProbeRef) => `${r.hostNetwork ? 'node' : 'pod'} ${r.namespace}/${r.pod} on ${r.node}`;

/** Why a sample has no answer, in a few words (grouped and counted in the tally). */
function reason(s: HoldSample): string {
  const e = s.error ?? '';
  if (/timed out/i.test(e)) return 'timed out';
  if (/refused/i.test(e)) return 'refused';
  if (/no route/i.test(e)) return 'no route to host';
  if (/unreachable/i.test(e)) return 'unreachable';
  if (s.rc === 0) return `another page (${JSON.stringify(s.body.slice(0, 60))})`;
  return `exit ${Number.isNaN(s.rc) ? '?' : s.rc}${e ? ` (${e.slice(0, 80)})` : ''}`;
}

export function tallyHold(ask: HoldAsk, samples: HoldSample[]): HoldTally {
  const t: HoldTally = { from: source(ask.from), node: ask.from.node, requests: samples.length, answered: 0, byServer: {}, unanswered: {} };
  for (const s of samples) {
    if (s.rc === 0 && s.server) {
      t.answered++;
      t.byServer[s.server] = (t.byServer[s.server] ?? 0) + 1;
    } else {
      const r = reason(s);
      t.unanswered[r] = (t.unanswered[r] ?? 0) + 1;
    }
  }
  return t;
}

const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/**
 * One source's hold window: a failure (with the counts) or undefined. `out` is the probe output,
 * or the reason it has none (the exec failed): never a pass.
 */
export function verifyHold(check: string, ask: HoldAsk, out: ProbeOutput | Error): { tally?: HoldTally; failure?: CheckFailure } {
  const { requests, answeredBy, never = [] } = ask.expect;
  const expected = `${requests} of ${requests} requests answered, only by ${fmt(answeredBy)}, each of them at least once`;
  const fail = (seen: string, command?: string) => new CheckFailure({ check, from: source(ask.from), to: ask.to.what, expected, seen, command });
  if (out instanceof Error) return { failure: fail(`not run: ${out.message.split('\n')[0]}`) };
  let samples: HoldSample[];
  try {
    samples = parseHold(out.output);
  } catch (err) {
    return { failure: fail(`not run: exit ${out.exitCode}: ${(err as Error).message.slice(0, 200)}`, out.command) };
  }
  const t = tallyHold(ask, samples);
  const stray = Object.keys(t.byServer)
    .filter((s) => !answeredBy.includes(s))
    .sort();
  const missing = answeredBy.filter((w) => !t.byServer[w]);
  const bad = answeredBy.length === 0 || t.requests !== requests || t.answered !== requests || stray.length > 0 || missing.length > 0;
  if (!bad) return { tally: t };
  const parts = [`${t.answered - stray.reduce((n, s) => n + t.byServer[s], 0)} of ${requests} answered by a wanted pod (${counts(t.byServer) || 'no answer'})`];
  if (requests - t.answered > 0) parts.push(`${requests - t.answered} unanswered (${counts(t.unanswered)})`);
  const removed = stray.filter((s) => never.includes(s));
  if (removed.length) parts.push(`answered by ${fmt(removed)}, which must not answer`);
  const others = stray.filter((s) => !never.includes(s));
  if (others.length) parts.push(`answered by ${fmt(others)}, not a wanted pod`);
  if (missing.length) parts.push(`never answered by ${fmt(missing)}`);
  if (t.requests !== requests) parts.push(`${t.requests} samples for ${requests} requests`);
  return { tally: t, failure: fail(parts.join('; '), out.command) };
}

/** Evidence of a passed hold over several sources: the counts the report shows. */
export interface HoldEvidence {
  /** Requests over every source, all answered by a wanted pod. */
  requests: number;
  answered: number;
  sources: number;
  byServer: Record<string, number>;
  perSource: Array<{ from: string; requests: number; byServer: Record<string, number> }>;
}

/**
 * The verdict over every (ask, output) pair of a check: throws every failing source at once, the
 * first line saying the total ("118 of 120 answered by a wanted pod from 5 sources"); otherwise
 * the counts as evidence. No pair at all is a failure too.
 */
export function verifyHolds(check: string, to: string, pairs: Array<[HoldAsk, ProbeOutput | Error]>): HoldEvidence {
  if (!pairs.length) throw new CheckFailure({ check, from: 'the run', to, expected: 'sources to ask from', seen: 'none' });
  const results = pairs.map(([ask, out]) => ({ ask, ...verifyHold(check, ask, out) }));
  const ev: HoldEvidence = { requests: 0, answered: 0, sources: pairs.length, byServer: {}, perSource: [] };
  for (const r of results) {
    ev.requests += r.ask.expect.requests;
    if (!r.tally) continue;
    for (const [s, n] of Object.entries(r.tally.byServer)) {
      ev.byServer[s] = (ev.byServer[s] ?? 0) + n;
      if (r.ask.expect.answeredBy.includes(s)) ev.answered += n;
    }
    ev.perSource.push({ from: r.tally.from, requests: r.tally.requests, byServer: r.tally.byServer });
  }
  const failures = results.map((r) => r.failure).filter((f): f is CheckFailure => !!f);
  // one source: its own counts are the total; several: the total over every source heads the failures
  if (failures.length && pairs.length === 1) throw failures[0];
  const bad = results.filter((r) => r.failure);
  const unanswered = bad.reduce((n, r) => n + (r.tally ? r.ask.expect.requests - r.tally.answered : r.ask.expect.requests), 0);
  throwAll(
    failures,
    `${ev.answered} of ${ev.requests} requests to ${to} answered by a wanted pod from ${pairs.length} sources` +
      `${unanswered ? `; ${unanswered} unanswered` : ''}; ${bad.length} source${bad.length === 1 ? '' : 's'} failed`,
  );
  return ev;
}
