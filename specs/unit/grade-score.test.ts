// Scoring (weights, percent, pass mark) and the two outputs: human lines and the LMS JSON.
import { describe, expect, it } from '@jest/globals';
import type { CheckId } from '../../src/grade/items.js';
import { parseRubric, type Rubric } from '../../src/grade/rubric.js';
import { displayPercent, parsePassMark, score } from '../../src/grade/score.js';
import { formatHuman, toLmsJson, type GradeContext } from '../../src/grade/format.js';
import type { Outcome } from '../../src/grade/verdicts.js';

const rubric: Rubric = parseRubric('lab.yaml', `
name: lab
items:
  - {id: deployment, weight: 1, description: Deployment my-nginx exists, hint: create it}
  - {id: replicas, weight: 2, description: 2 replicas Ready, hint: scale to 2}
  - {id: svc-answers, check: service-http, weight: 3, description: the Service answers, hint: fix the selector}
`);
const outcomes = (passed: Partial<Record<CheckId, boolean>>) =>
  new Map<CheckId, Outcome>((['deployment', 'replicas', 'service-http'] as CheckId[]).map((c) => [c, { passed: passed[c] ?? true, detail: `${c} seen` }]));
const ctx: GradeContext = { namespace: 'alice', rubric, context: 'kind-x', probeNamespace: 'knc-grade-r1234567', startedAt: new Date('2026-01-02T03:04:05Z'), durationMs: 4321 };

describe('score', () => {
  it('all passed: full marks, passes the default 100 % mark', () => {
    const r = score(rubric, outcomes({}));
    expect(r).toMatchObject({ score: 6, total: 6, percent: 100, passMark: 100, passed: true, failed: [] });
  });

  it('weights count per item; an item uses its check\'s outcome', () => {
    const r = score(rubric, outcomes({ 'service-http': false }), 50);
    expect(r).toMatchObject({ score: 3, total: 6, percent: 50, passed: true, failed: ['svc-answers'] });
    expect(r.items[2]).toEqual({ id: 'svc-answers', check: 'service-http', weight: 3, score: 0, passed: false, description: 'the Service answers', hint: 'fix the selector', detail: 'service-http seen' });
    expect(score(rubric, outcomes({ 'service-http': false }), 50.1).passed).toBe(false);
  });

  it('nothing passed: 0 %', () => {
    expect(score(rubric, outcomes({ deployment: false, replicas: false, 'service-http': false }), 0)).toMatchObject({ score: 0, percent: 0, passed: true });
    expect(score(rubric, outcomes({ deployment: false, replicas: false, 'service-http': false }))).toMatchObject({ score: 0, percent: 0, passed: false });
  });

  it('fractional weights add up exactly', () => {
    const r = parseRubric('f.yaml', 'name: f\nitems:\n  - {id: deployment, weight: 0.1, description: d, hint: h}\n  - {id: replicas, weight: 0.2, description: d, hint: h}\n');
    expect(score(r, outcomes({})).total).toBe(0.3);
    expect(score(r, outcomes({ replicas: false })).percent).toBeCloseTo(33.333333, 5);
  });

  it('a check without an outcome is a programming error', () => {
    expect(() => score(rubric, new Map())).toThrow(/no outcome for check deployment \(item deployment\)/);
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
  it('human lines: PASS/FAIL per item, seen + hint on a failure, score and percent last', () => {
    const r = score(rubric, outcomes({ replicas: false }));
    expect(formatHuman(r, ctx)).toEqual([
      'grading namespace alice with rubric "lab" (lab.yaml)',
      'PASS  deployment   1/1  Deployment my-nginx exists',
      'FAIL  replicas     0/2  2 replicas Ready',
      '      seen: replicas seen',
      '      hint: scale to 2',
      'PASS  svc-answers  3/3  the Service answers',
      'score: 4/6 (66.6%), pass mark 100%: NOT PASSED; failed: replicas',
    ]);
  });

  it('human score line when passed', () => {
    expect(formatHuman(score(rubric, outcomes({}), 90), ctx).at(-1)).toBe('score: 6/6 (100.0%), pass mark 90%: PASSED');
  });

  it('LMS JSON: schema, identity, score, and every item with its hint', () => {
    const j = toLmsJson(score(rubric, outcomes({ replicas: false }), 60), ctx);
    expect(j).toEqual({
      schema: 'kube-netcheck/grade',
      version: 1,
      namespace: 'alice',
      context: 'kind-x',
      rubric: { name: 'lab', source: 'lab.yaml' },
      startedAt: '2026-01-02T03:04:05.000Z',
      durationMs: 4321,
      score: 4,
      total: 6,
      percent: 66.6,
      passMark: 60,
      passed: true,
      failed: ['replicas'],
      probeNamespace: 'knc-grade-r1234567',
      items: [
        { id: 'deployment', check: 'deployment', weight: 1, score: 1, passed: true, description: 'Deployment my-nginx exists', hint: 'create it', detail: 'deployment seen' },
        { id: 'replicas', check: 'replicas', weight: 2, score: 0, passed: false, description: '2 replicas Ready', hint: 'scale to 2', detail: 'replicas seen' },
        { id: 'svc-answers', check: 'service-http', weight: 3, score: 3, passed: true, description: 'the Service answers', hint: 'fix the selector', detail: 'service-http seen' },
      ],
    });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });
});
