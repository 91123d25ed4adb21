// Grade output: lines for a human (the student or the teacher) and one JSON document for an LMS.
import type { Rubric } from './rubric.js';
import { displayPercent, type GradeResult } from './score.js';

export interface GradeContext {
  namespace: string;
  rubric: Rubric;
  /** kubeconfig context graded against. */
  context?: string;
  /** The grader's own probe namespace, when it needed one (deleted at the end). */
  probeNamespace?: string;
  startedAt: Date;
  durationMs: number;
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(3))));

/** `PASS`/`FAIL` per item (with what was seen and the hint on failure), then the score line. */
export function formatHuman(r: GradeResult, c: GradeContext): string[] {
  const idWidth = Math.max(...r.items.map((i) => i.id.length));
  const ptsWidth = Math.max(...r.items.map((i) => `${num(i.score)}/${num(i.weight)}`.length));
  const lines = [`grading namespace ${c.namespace} with rubric "${c.rubric.name}" (${c.rubric.source})`];
  for (const i of r.items) {
    lines.push(`${i.passed ? 'PASS' : 'FAIL'}  ${i.id.padEnd(idWidth)}  ${`${num(i.score)}/${num(i.weight)}`.padStart(ptsWidth)}  ${i.description}`);
    if (!i.passed) {
      lines.push(`      seen: ${i.detail}`);
      lines.push(`      hint: ${i.hint}`);
    }
  }
  const verdict = r.passed ? 'PASSED' : 'NOT PASSED';
  lines.push(`score: ${num(r.score)}/${num(r.total)} (${displayPercent(r.percent).toFixed(1)}%), pass mark ${num(r.passMark)}%: ${verdict}${r.failed.length ? `; failed: ${r.failed.join(', ')}` : ''}`);
  return lines;
}

/** The JSON an LMS reads (schema "kube-netcheck/grade", version 1). */
export function toLmsJson(r: GradeResult, c: GradeContext) {
  return {
    schema: 'kube-netcheck/grade',
    version: 1,
    namespace: c.namespace,
    context: c.context ?? null,
    rubric: { name: c.rubric.name, source: c.rubric.source },
    startedAt: c.startedAt.toISOString(),
    durationMs: c.durationMs,
    score: r.score,
    total: r.total,
    percent: displayPercent(r.percent),
    passMark: r.passMark,
    passed: r.passed,
    failed: r.failed,
    probeNamespace: c.probeNamespace ?? null,
    items: r.items.map((i) => ({ id: i.id, check: i.check, weight: i.weight, score: i.score, passed: i.passed, description: i.description, hint: i.hint, detail: i.detail })),
  };
}

export type LmsReport = ReturnType<typeof toLmsJson>;
