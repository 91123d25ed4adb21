// Scoring: rubric items x check outcomes -> points, percent, pass/fail against the pass mark.
import type { CheckId } from './items.js';
import type { Rubric } from './rubric.js';
import type { Outcome } from './verdicts.js';

export interface ItemResult {
  id: string;
  check: CheckId;
  weight: number;
  /** weight when passed, else 0. */
  score: number;
  passed: boolean;
  description: string;
  hint: string;
  detail: string;
}

export interface GradeResult {
  items: ItemResult[];
  score: number;
  total: number;
  /** Exact percentage (0-100); display with displayPercent. */
  percent: number;
  passMark: number;
  passed: boolean;
  failed: string[];
}

/** Weights may be fractional: sums are rounded to 1e-9 so 0.1 + 0.2 adds up to 0.3. */
const tidy = (n: number) => Math.round(n * 1e9) / 1e9;

export function score(rubric: Rubric, outcomes: ReadonlyMap<CheckId, Outcome>, passMark = 100): GradeResult {
  const items = rubric.items.map((it): ItemResult => {
    const o = outcomes.get(it.check);
    if (!o) throw new Error(`no outcome for check ${it.check} (item ${it.id})`);
    return { id: it.id, check: it.check, weight: it.weight, score: o.passed ? it.weight : 0, passed: o.passed, description: it.description, hint: it.hint, detail: o.detail };
  });
  const total = tidy(items.reduce((s, i) => s + i.weight, 0));
  const got = tidy(items.reduce((s, i) => s + i.score, 0));
  const percent = total > 0 ? tidy((got / total) * 100) : 0;
  return { items, score: got, total, percent, passMark, passed: percent >= passMark, failed: items.filter((i) => !i.passed).map((i) => i.id) };
}

/**
 * The percent as shown and sent to an LMS: one decimal, rounded DOWN, so "100.0%" never shows
 * for a grade that missed a 100 % pass mark by a hair.
 */
export const displayPercent = (percent: number) => Math.floor(tidy(percent * 10)) / 10;

/** `--pass-mark PCT`: a number 0-100, optionally with a trailing '%'. */
export function parsePassMark(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 0 && n <= 100 ? n : undefined;
}
