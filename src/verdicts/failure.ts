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

/** Throws every failure at once (one check may cover many source → target pairs). */
export function throwAll(failures: CheckFailure[]): void {
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const err = new Error(`${failures.length} failures:\n${failures.map((f) => f.message).join('\n')}`);
    (err as Error & { failures: CheckFailure[] }).failures = failures;
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
