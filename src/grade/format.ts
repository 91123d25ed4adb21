// Grade output: lines for a human (the student or the teacher), one JSON document per student for
// an LMS, the grade book of a class (CSV for a spreadsheet, JSON for a program) and the one line of
// --verify for a step-by-step platform.
import type { Lab } from './lab.js';
import { displayPercent, type GradeResult, type ItemResult } from './score.js';
import type { ClassResult, StudentGrade } from './class.js';

export interface GradeContext {
  namespace: string;
  lab: Lab;
  /** kubeconfig context graded against. */
  context?: string;
  /** The grader's own probe namespace, when it needed one (deleted at the end). */
  probeNamespace?: string;
  startedAt: Date;
  durationMs: number;
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(3))));
const TAG: Record<ItemResult['status'], string> = { passed: 'PASS', failed: 'FAIL', 'not-judged': 'SKIP' };

/** `PASS`/`FAIL`/`SKIP` per item (what was seen and the hint when not passed), then the score line. */
export function formatHuman(r: GradeResult, c: GradeContext): string[] {
  const idWidth = Math.max(...r.items.map((i) => i.id.length));
  const pts = (i: ItemResult) => (i.counted ? `${num(i.score)}/${num(i.weight)}` : `-/${num(i.weight)}`);
  const ptsWidth = Math.max(...r.items.map((i) => pts(i).length));
  const lines = [`grading namespace ${c.namespace} with lab "${c.lab.id}" (${c.lab.title}; ${c.lab.source})`];
  for (const i of r.items) {
    lines.push(`${TAG[i.status]}  ${i.id.padEnd(idWidth)}  ${pts(i).padStart(ptsWidth)}  ${i.description}`);
    if (!i.passed) {
      lines.push(`      seen: ${i.detail}`);
      lines.push(`      hint: ${i.hint}`);
    }
  }
  const verdict = r.passed ? 'PASSED' : 'NOT PASSED';
  const nj = r.notJudged.length ? `; not judged on this cluster (left out of the total): ${r.notJudged.join(', ')}` : '';
  lines.push(
    `score: ${num(r.score)}/${num(r.total)} (${displayPercent(r.percent).toFixed(1)}%), pass mark ${num(r.passMark)}%: ${verdict}${r.failed.length ? `; failed: ${r.failed.join(', ')}` : ''}${nj}`,
  );
  return lines;
}

const itemJson = (i: ItemResult) => ({
  id: i.id,
  task: i.task,
  type: i.type,
  weight: i.weight,
  score: i.score,
  status: i.status,
  passed: i.passed,
  counted: i.counted,
  description: i.description,
  hint: i.hint,
  detail: i.detail,
});

/** The JSON an LMS reads for one student (schema "kube-netcheck/grade", version 2). */
export function toLmsJson(r: GradeResult, c: GradeContext) {
  return {
    schema: 'kube-netcheck/grade',
    version: 2,
    namespace: c.namespace,
    context: c.context ?? null,
    lab: { id: c.lab.id, title: c.lab.title, source: c.lab.source },
    startedAt: c.startedAt.toISOString(),
    durationMs: c.durationMs,
    score: r.score,
    total: r.total,
    percent: displayPercent(r.percent),
    passMark: r.passMark,
    passed: r.passed,
    failed: r.failed,
    notJudged: r.notJudged,
    probeNamespace: c.probeNamespace ?? null,
    items: r.items.map(itemJson),
  };
}
export type LmsReport = ReturnType<typeof toLmsJson>;

/** The one line --verify prints: the first item not passed and its hint, or that every item passed. */
export function verifyLine(s: StudentGrade): string {
  if (s.error) return `not graded: ${s.error}`;
  const r = s.result!;
  const first = r.items.find((i) => i.counted && !i.passed);
  const pct = `${displayPercent(r.percent).toFixed(1)}%`;
  if (!first) return `passed: ${num(r.score)}/${num(r.total)} (${pct})${r.notJudged.length ? `; not judged on this cluster: ${r.notJudged.join(', ')}` : ''}`;
  return `not yet (${pct}): ${first.description} — ${first.hint}`;
}

/** The class grade book as JSON. */
export function gradeBookJson(lab: Lab, cr: ClassResult, ctx: { context?: string; startedAt: Date }) {
  return {
    schema: 'kube-netcheck/gradebook',
    version: 1,
    lab: { id: lab.id, title: lab.title, source: lab.source },
    context: ctx.context ?? null,
    startedAt: ctx.startedAt.toISOString(),
    durationMs: cr.timings.totalMs,
    policyEnforced: cr.policyEnforced ?? null,
    items: lab.checks.map((c) => ({ id: c.id, task: c.task, type: c.type, weight: c.weight })),
    students: cr.students.map((s) =>
      s.error
        ? { student: s.namespace, error: s.error, score: null, total: null, percent: null, passed: false, items: [] }
        : {
            student: s.namespace,
            error: null,
            score: s.result!.score,
            total: s.result!.total,
            percent: displayPercent(s.result!.percent),
            passed: s.result!.passed,
            failed: s.result!.failed,
            notJudged: s.result!.notJudged,
            items: s.result!.items.map(itemJson),
          },
    ),
  };
}

/** RFC 4180 field. */
const csv = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The class grade book as CSV: one row per student — student, status, score, total, percent,
 * passed, one column per item (pass / fail / not judged), and the hints of the items not passed.
 */
export function gradeBookCsv(lab: Lab, cr: ClassResult): string {
  const head = ['student', 'status', 'score', 'total', 'percent', 'passed', ...lab.checks.map((c) => c.id), 'hints'];
  const rows = cr.students.map((s) => {
    if (s.error) return [s.namespace, `error: ${s.error}`, '', '', '', 'false', ...lab.checks.map(() => ''), ''];
    const r = s.result!;
    const cell = (id: string) => {
      const i = r.items.find((x) => x.id === id)!;
      return i.status === 'not-judged' ? 'not judged' : i.status === 'passed' ? 'pass' : 'fail';
    };
    const hints = r.items
      .filter((i) => !i.passed)
      .map((i) => `${i.id}: ${i.status === 'not-judged' ? `${i.detail}` : i.hint}`)
      .join(' | ');
    return [
      s.namespace,
      'graded',
      num(r.score),
      num(r.total),
      displayPercent(r.percent).toFixed(1),
      String(r.passed),
      ...lab.checks.map((c) => cell(c.id)),
      hints,
    ];
  });
  return `${[head, ...rows].map((row) => row.map(csv).join(',')).join('\n')}\n`;
}
