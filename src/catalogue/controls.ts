// The one helper every negative control uses: the check's verdict, run on the control's output,
// must FAIL with a failure whose structured fields (check, from, to, expected, seen) are the ones
// the fault should produce — never a match on message text. The control's evidence is those fields.
import { CheckFailure, type FailureContext } from '../verdicts/failure.js';

/** A field wanted: exactly this text, or text matching this pattern. */
export type FieldWant = string | RegExp;

export interface FailureWant {
  /** The id of the check whose verdict must fail (one id scheme: the catalogue id). */
  check: string;
  from?: FieldWant;
  to?: FieldWant;
  expected?: FieldWant;
  seen: FieldWant;
}

const fits = (have: string, want: FieldWant | undefined) => want === undefined || (typeof want === 'string' ? have === want : want.test(have));

/** Which fields of `f` differ from `want` (empty: it matches). */
export function mismatches(f: FailureContext, want: FailureWant): string[] {
  return (['check', 'from', 'to', 'expected', 'seen'] as const)
    .filter((k) => !fits(f[k], want[k]))
    .map((k) => `${k} ${JSON.stringify(f[k])} is not ${String(want[k])}`);
}

/**
 * The failures a verdict produced: returned (one, or a list), thrown alone, or thrown together
 * (throwAll). A verdict that returns anything else passed: no failures. Any other error is rethrown.
 */
export function failuresOf(run: () => unknown): CheckFailure[] {
  const all = (xs: unknown): xs is CheckFailure[] => Array.isArray(xs) && xs.length > 0 && xs.every((x) => x instanceof CheckFailure);
  try {
    const got = run();
    if (got instanceof CheckFailure) return [got];
    return all(got) ? got : [];
  } catch (err) {
    if (err instanceof CheckFailure) return [err];
    const many = (err as { failures?: unknown } | undefined)?.failures;
    if (all(many)) return many;
    throw err;
  }
}

/**
 * The negative control's verdict. `run` applies the controlled check's verdict to the control's
 * output; it must yield at least one failure, and EVERY failure must match `want` (a fault on one
 * node must not show up as failures elsewhere). Returns the failures' fields as evidence; throws a
 * CheckFailure of the control (from/to: where the fault was) saying what the verdict did instead.
 */
export function mustFail(control: { from: string; to: string }, run: () => unknown, want: FailureWant): FailureContext[] {
  const fs = failuresOf(run);
  const wanted = `the verdict of ${want.check} to fail with ${describeWant(want)}`;
  if (!fs.length) throw new CheckFailure({ check: 'negative-control', ...control, expected: wanted, seen: 'it passed' });
  const bad = fs.map((f) => ({ f, why: mismatches(f.ctx, want) })).filter((x) => x.why.length);
  if (bad.length) {
    throw new CheckFailure({
      check: 'negative-control',
      ...control,
      expected: wanted,
      seen: `${bad.length} of ${fs.length} failures differ: ${bad[0].why.join('; ')} (${bad[0].f.message.split('\n')[0]})`,
    });
  }
  return fs.map((f) => f.ctx);
}

export function describeWant(w: FailureWant): string {
  return (['from', 'to', 'expected', 'seen'] as const)
    .filter((k) => w[k] !== undefined)
    .map((k) => `${k} ${String(w[k])}`)
    .join(', ');
}

/** A regex matching `s` literally. */
export const literally = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
