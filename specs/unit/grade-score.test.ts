// Scoring (weights, prerequisites, not judged, percent, pass mark) and the outputs: human lines,
// the LMS JSON, the grade book (CSV, JSON) and --verify's one line.
import { describe, expect, it } from '@jest/globals';
import { parseLab } from '../../src/grade/lab.js';
import { displayPercent, parsePassMark, score } from '../../src/grade/score.js';
import { formatHuman, gradeBookCsv, gradeBookJson, toLmsJson, verifyLine, type GradeContext } from '../../src/grade/format.js';
import type { Judgement } from '../../src/grade/judge.js';
import type { ClassResult } from '../../src/grade/class.js';

const lab = parseLab(
  'lab.yaml',
  `
lab: lab
title: a lab
workloads: {web: {kind: Deployment, name: my-nginx, replicas: 2, labels: {run: my-nginx}, containerPort: 80}}
services: {web: {name: my-nginx, port: 80}}
tasks:
  - id: t
    checks:
      - {id: deployment, type: exists, weight: 1, description: Deployment my-nginx exists, hint: create it}
      - {id: replicas, type: replicas, weight: 2, requires: [deployment], description: 2 replicas Ready, hint: scale to 2}
      - {id: svc-answers, type: service-http, weight: 3, description: "the Service answers in {namespace}", hint: fix the selector}
      - {id: deny, type: policy, from: grader, to: pods, expect: denied, weight: 4, description: others denied, hint: add a default-deny}
`,
);
const judged =
  (j: Partial<Record<string, Partial<Judgement>>>) =>
  (c: { id: string }): Judgement => ({ passed: true, detail: `${c.id} seen`, ...j[c.id] });
const ctx: GradeContext = {
  namespace: 'alice',
  lab,
  context: 'kind-x',
  probeNamespace: 'knc-grade-r1234567',
  startedAt: new Date('2026-01-02T03:04:05Z'),
  durationMs: 4321,
};

describe('score', () => {
  it('all passed: full marks, passes the default 100 % mark', () => {
    expect(score(lab, 'alice', judged({}))).toMatchObject({ score: 10, total: 10, percent: 100, passMark: 100, passed: true, failed: [], notJudged: [] });
  });

  it('weights count per check; {namespace} in descriptions', () => {
    const r = score(lab, 'alice', judged({ 'svc-answers': { passed: false } }), 50);
    expect(r).toMatchObject({ score: 7, total: 10, percent: 70, passed: true, failed: ['svc-answers'] });
    expect(r.items[2]).toEqual({
      id: 'svc-answers',
      task: 't',
      type: 'service-http',
      weight: 3,
      score: 0,
      status: 'failed',
      passed: false,
      counted: true,
      description: 'the Service answers in alice',
      hint: 'fix the selector',
      detail: 'svc-answers seen',
    });
  });

  it('a prerequisite that failed: the check is not judged, earns nothing and counts in the total', () => {
    const calls: string[] = [];
    const r = score(lab, 'alice', (c) => (calls.push(c.id), judged({ deployment: { passed: false } })(c)));
    expect(calls).not.toContain('replicas');
    expect(r.items[1]).toMatchObject({ status: 'not-judged', counted: true, score: 0, detail: 'not judged: it requires deployment failed' });
    expect(r).toMatchObject({ score: 7, total: 10, failed: ['deployment', 'replicas'] });
  });

  it('a check the cluster cannot judge (policy not enforced) is left out of the total, and said so', () => {
    const r = score(lab, 'alice', judged({ deny: { passed: false, notJudged: 'NetworkPolicy is not enforced on this cluster (control)' } }));
    expect(r).toMatchObject({ score: 6, total: 6, percent: 100, passed: true, failed: [], notJudged: ['deny'] });
    expect(r.items[3]).toMatchObject({ status: 'not-judged', counted: false, detail: 'not judged: NetworkPolicy is not enforced on this cluster (control)' });
  });

  it('fractional weights add up exactly', () => {
    const f = parseLab(
      'f.yaml',
      'lab: f\ntitle: f\nworkloads: {w: {kind: Deployment, name: a, replicas: 1, labels: {a: b}, containerPort: 80}}\ntasks:\n  - id: t\n    checks:\n      - {id: a, type: exists, weight: 0.1, description: d, hint: h}\n      - {id: b, type: replicas, weight: 0.2, description: d, hint: h}\n',
    );
    expect(score(f, 'x', judged({})).total).toBe(0.3);
    expect(score(f, 'x', judged({ b: { passed: false } })).percent).toBeCloseTo(33.333333, 5);
  });

  it('displayPercent rounds down to one decimal, so 99.99 never shows as 100.0', () => {
    expect([displayPercent(100), displayPercent(99.99), displayPercent(66.666), displayPercent(0), displayPercent(57.14)]).toEqual([100, 99.9, 66.6, 0, 57.1]);
  });

  it('parsePassMark: 0-100, decimals and a trailing % accepted', () => {
    expect(['0', '100', '75.5', '80%', ' 60 '].map(parsePassMark)).toEqual([0, 100, 75.5, 80, 60]);
    expect(['101', '-1', 'abc', '', '1e2', '50%%'].map(parsePassMark)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('output', () => {
  const r = score(
    lab,
    'alice',
    judged({
      replicas: { passed: false, detail: 'spec.replicas=1' },
      deny: { passed: false, notJudged: 'NetworkPolicy is not enforced on this cluster (control)' },
    }),
  );

  it('human lines: PASS/FAIL/SKIP per check, seen + hint when not passed, the score last', () => {
    const lines = formatHuman(r, ctx);
    expect(lines[0]).toBe('grading namespace alice with lab "lab" (a lab; lab.yaml)');
    expect(lines).toContain('FAIL  replicas     0/2  2 replicas Ready');
    expect(lines).toContain('      hint: scale to 2');
    expect(lines).toContain('SKIP  deny         -/4  others denied');
    expect(lines.at(-1)).toBe('score: 4/6 (66.6%), pass mark 100%: NOT PASSED; failed: replicas; not judged on this cluster (left out of the total): deny');
  });

  it('LMS JSON (version 2): the lab, every item with status and counted', () => {
    const j = toLmsJson(r, ctx);
    expect(j).toMatchObject({
      schema: 'kube-netcheck/grade',
      version: 2,
      namespace: 'alice',
      lab: { id: 'lab' },
      score: 4,
      total: 6,
      percent: 66.6,
      failed: ['replicas'],
      notJudged: ['deny'],
    });
    expect(j.items[3]).toMatchObject({ id: 'deny', status: 'not-judged', counted: false });
  });

  it('grade book: a row per student (an unreadable namespace is a row, not an abort), a column per check, the hints', () => {
    const cr: ClassResult = {
      students: [
        { namespace: 'alice', result: r },
        { namespace: 'bob', error: 'namespace bob does not exist' },
      ],
      timings: { readMs: 1, totalMs: 2 },
    };
    const csv = gradeBookCsv(lab, cr).split('\n');
    expect(csv[0]).toBe('student,status,score,total,percent,passed,deployment,replicas,svc-answers,deny,hints');
    expect(csv[1]).toBe(
      'alice,graded,4,6,66.6,false,pass,fail,pass,not judged,replicas: scale to 2 | deny: not judged: NetworkPolicy is not enforced on this cluster (control)',
    );
    expect(csv[2]).toBe('bob,error: namespace bob does not exist,,,,false,,,,,');
    const j = gradeBookJson(lab, cr, { startedAt: new Date(0) });
    expect(j.students.map((s) => [s.student, s.error, s.score])).toEqual([
      ['alice', null, 4],
      ['bob', 'namespace bob does not exist', null],
    ]);
  });

  it('--verify: one line, the first check not passed and its hint', () => {
    expect(verifyLine({ namespace: 'alice', result: r })).toBe('not yet (66.6%): 2 replicas Ready — scale to 2');
    expect(verifyLine({ namespace: 'alice', result: score(lab, 'alice', judged({})) })).toBe('passed: 10/10 (100.0%)');
    expect(verifyLine({ namespace: 'bob', error: 'namespace bob does not exist' })).toBe('not graded: namespace bob does not exist');
  });
});
