// Every check failure names the check, where it probed from, what it probed, what it expected
// and what it saw, plus the exact probe command, so a failure is readable without a rerun.

export interface FailureContext {
  check: string;
  from: string;
  to: string;
  expected: string;
  seen: string;
  command?: string;
}

export class CheckFailure extends Error {
  constructor(readonly ctx: FailureContext) {
    super(`[${ctx.check}] from ${ctx.from} to ${ctx.to}: expected ${ctx.expected}, saw ${ctx.seen}` + (ctx.command ? `\n  probe: ${ctx.command}` : ''));
    this.name = 'CheckFailure';
  }
}

/** Several failures of one check thrown together: `failures` each, `summary` the line over all of them (the total). */
export type Failures = Error & { failures: CheckFailure[]; summary?: string };

/** The message of several failures: the summary line first (when there is one), then each failure. */
export const failuresMessage = (failures: CheckFailure[], summary?: string) =>
  `${summary ? `${summary}; ` : ''}${failures.length} failure${failures.length === 1 ? '' : 's'}:\n${failures.map((f) => f.message).join('\n')}`;

/**
 * Throws every failure at once (one check may cover many source → target pairs). With a `summary`
 * (e.g. "118 of 120 requests answered from 5 sources") the failures are thrown together even when
 * there is one, so the total travels with them into the record.
 */
export function throwAll(failures: CheckFailure[], summary?: string): void {
  if (failures.length === 1 && !summary) throw failures[0];
  if (failures.length >= 1) {
    const err = new Error(failuresMessage(failures, summary)) as Failures;
    err.failures = failures;
    if (summary) err.summary = summary;
    throw err;
  }
}

/**
 * Thrown by a verdict that finds, only once it looked, that the check cannot apply or mean anything
 * on this cluster (e.g. the kernel has no SCTP; NetworkPolicy is not enforced at all, said once by
 * another check): the record is "skipped" with this reason, never "passed".
 */
export class NotApplicable extends Error {
  override readonly name = 'NotApplicable';
}
