// Verdicts on NetworkPolicy probes. The expected outcome of every probe is data — "ok" (allowed:
// the nginx page, or a DNS answer) or "denied" (timeout or refused: engines drop or reject) — as in
// cilium's connectivity test, so a report can say "denied as expected". A denied connection that
// succeeds and an allowed one that fails each get one plain verdict.
import type { ProbeOutput } from '../probes/batch.js';
import { isNginxWelcome } from '../probes/http.js';
import { parseDig } from '../probes/dns.js';
import { CheckFailure } from './failure.js';

/** What a probe saw: the page / an answer, refused, timed out, NXDOMAIN, or something else. */
export type PolicyOutcome = 'ok' | 'refused' | 'timeout' | 'nxdomain' | 'error';
/** What the policies in place say should happen. */
export type Expected = 'ok' | 'denied';

export const NOT_ENFORCED = 'NetworkPolicy is not enforced: a denied connection succeeded';
export const ALLOWED_BLOCKED = 'NetworkPolicy blocks allowed traffic: an allowed connection failed';

/** Outcomes a denied probe may show (engines drop → timeout, or reject → refused). */
export const DENIED: readonly PolicyOutcome[] = ['timeout', 'refused'];

/** busybox wget through `timeout -s KILL`: the page, refused, timed out (wget's own or killed). */
export function httpPolicyOutcome(o: ProbeOutput): PolicyOutcome {
  if (o.exitCode === 0) return isNginxWelcome(o.output) ? 'ok' : 'error';
  if (o.exitCode === 137 || o.exitCode === 124 || /timed out/i.test(o.output)) return 'timeout';
  if (/refused/i.test(o.output)) return 'refused';
  return 'error';
}

/** dig: NOERROR with an answer, NXDOMAIN, no server answering (timeout) or the connection refused. */
export function dnsPolicyOutcome(o: ProbeOutput): PolicyOutcome {
  const d = parseDig(o.output);
  if (d.status === 'NOERROR' && d.answers.length > 0) return 'ok';
  if (d.status === 'NXDOMAIN') return 'nxdomain';
  if (d.status === 'TIMEOUT' || d.status === 'NO-SERVER') return 'timeout';
  if (d.status === 'REFUSED-CONNECTION') return 'refused';
  return 'error';
}

export interface Expectation {
  /** The probe's kind decides how its output is read. */
  kind: 'http' | 'dns';
  expect: Expected;
  from: string;
  to: string;
  /** Which policy makes it so, e.g. "NetworkPolicy knc-default-deny-ingress". */
  because: string;
}

export const outcomeOf = (e: Pick<Expectation, 'kind'>, o: ProbeOutput): PolicyOutcome => (e.kind === 'dns' ? dnsPolicyOutcome(o) : httpPolicyOutcome(o));

/** Did the outcome match the expectation? (A DNS answer — even NXDOMAIN — means the query got through.) */
export function matches(e: Pick<Expectation, 'kind' | 'expect'>, outcome: PolicyOutcome): boolean {
  return e.expect === 'ok' ? outcome === 'ok' : DENIED.includes(outcome);
}

const expectedText = (e: Expectation) => (e.expect === 'ok' ? `ok (allowed: ${e.because})` : `denied (timeout or refused) by ${e.because}`);

/** One report line: "from -> to: expected …, saw … — denied as expected". */
export function policyRow(e: Expectation, o: ProbeOutput): string {
  const outcome = outcomeOf(e, o);
  const verdict = matches(e, outcome) ? (e.expect === 'ok' ? 'allowed as expected' : 'denied as expected') : e.expect === 'ok' ? 'BLOCKED' : 'NOT DENIED';
  return `${e.from} -> ${e.to}: expected ${e.expect}, saw ${outcome} after ${o.durationMs}ms (${verdict})`;
}

/**
 * The verdict on one probe under the policies in place. A denied connection that got through
 * (the page, a DNS answer) says NOT_ENFORCED; an allowed one that was dropped or refused says
 * ALLOWED_BLOCKED; anything else names the outcome. `note` (e.g. how long the phase waited for
 * its policies) goes into "seen", before the plain verdict that ends the line.
 */
export function verifyPolicyProbe(check: string, e: Expectation, o: ProbeOutput, note = ''): CheckFailure | undefined {
  const outcome = outcomeOf(e, o);
  if (matches(e, outcome)) return undefined;
  const said = JSON.stringify(o.output.replace(/\s+/g, ' ').trim().slice(0, 120));
  let seen = `${outcome} after ${o.durationMs}ms (exit ${o.exitCode}: ${said})${note}`;
  if (e.expect === 'denied' && (outcome === 'ok' || outcome === 'nxdomain')) seen += `: ${NOT_ENFORCED}`;
  else if (e.expect === 'ok' && DENIED.includes(outcome)) seen += `: ${ALLOWED_BLOCKED}`;
  return new CheckFailure({ check, from: e.from, to: e.to, expected: expectedText(e), seen, command: o.command });
}
