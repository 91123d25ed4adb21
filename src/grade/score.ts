// Scoring: a lab's checks × their judgements → points, percent, pass/fail against the pass mark.
// A check whose prerequisite did not pass is "not judged" and earns nothing (it counts in the
// total: the student did not get there). A check the cluster cannot judge (NetworkPolicy not
// enforced) is "not judged" and counts for nothing either way: left out of the total, and said so.
import { forNamespace, type Lab, type LabCheck } from './lab.js';
import type { Judgement } from './judge.js';

export type ItemStatus = 'passed' | 'failed' | 'not-judged';

export interface ItemResult {
  id: string;
  task: string;
  type: LabCheck['type'];
  weight: number;
  /** weight when passed, else 0. */
  score: number;
  status: ItemStatus;
  passed: boolean;
  /** In the total: false only for a check the cluster could not judge. */
  counted: boolean;
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
  /** Checks left out of the total, with why. */
  notJudged: string[];
}

/** Weights may be fractional: sums are rounded to 1e-9 so 0.1 + 0.2 adds up to 0.3. */
const tidy = (n: number) => Math.round(n * 1e9) / 1e9;

/** Judges the checks in order: a check whose prerequisites did not all pass is not judged (and `judge` is not called). */
export function score(lab: Lab, namespace: string, judge: (c: LabCheck) => Judgement, passMark = lab.passMark): GradeResult {
  const byId = new Map<string, ItemResult>();
  const items = lab.checks.map((c): ItemResult => {
    const base = {
      id: c.id,
      task: c.task,
      type: c.type,
      weight: c.weight,
      description: forNamespace(c.description, namespace),
      hint: forNamespace(c.hint, namespace),
    };
    const missing = c.requires.filter((r) => byId.get(r)?.status !== 'passed');
    let r: ItemResult;
    if (missing.length) {
      const why = missing.map((m) => `${m} ${byId.get(m)?.status === 'not-judged' ? 'was not judged' : 'failed'}`).join(', ');
      r = { ...base, score: 0, status: 'not-judged', passed: false, counted: true, detail: `not judged: it requires ${why}` };
    } else {
      const j = judge(c);
      if (j.notJudged) r = { ...base, score: 0, status: 'not-judged', passed: false, counted: false, detail: `not judged: ${j.notJudged}` };
      else r = { ...base, score: j.passed ? c.weight : 0, status: j.passed ? 'passed' : 'failed', passed: j.passed, counted: true, detail: j.detail };
    }
    byId.set(c.id, r);
    return r;
  });
  const total = tidy(items.filter((i) => i.counted).reduce((s, i) => s + i.weight, 0));
  const got = tidy(items.reduce((s, i) => s + i.score, 0));
  const percent = total > 0 ? tidy((got / total) * 100) : 0;
  return {
    items,
    score: got,
    total,
    percent,
    passMark,
    passed: total > 0 && percent >= passMark,
    failed: items.filter((i) => i.counted && !i.passed).map((i) => i.id),
    notJudged: items.filter((i) => !i.counted).map((i) => i.id),
  };
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
