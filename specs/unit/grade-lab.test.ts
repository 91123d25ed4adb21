// The lab language: every shipped lab parses; a lab that is not valid gets one line naming the
// file, the line and the field.
import { describe, expect, it } from '@jest/globals';
import { LabError, loadLab, parseLab, shippedLabs } from '../../src/grade/lab.js';

const HEAD = `lab: l
title: t
workloads:
  web: {kind: Deployment, name: web, replicas: 2, labels: {app: web}, containerPort: 80}
services:
  web: {name: web, type: ClusterIP, port: 80, workload: web}
tasks:
  - id: t
    checks:
`;
const err = (text: string) => {
  try {
    parseLab('lab.yaml', text);
  } catch (e) {
    if (e instanceof LabError) return e.message;
    throw e;
  }
  return 'parsed';
};

describe('shipped labs', () => {
  it('at least five, each valid, with its checks and their lines', () => {
    const labs = shippedLabs();
    expect(labs).toEqual(expect.arrayContaining(['seed', 'netpol', 'headless', 'nodeport', 'debug-service']));
    for (const l of labs) {
      const lab = loadLab(l);
      expect(lab.id).toBe(l);
      expect(lab.checks.length).toBeGreaterThan(3);
      for (const c of lab.checks) expect(c.line).toBeGreaterThan(0);
    }
  });
});

describe('a lab that is not valid: file, line, field', () => {
  it.each([
    ['malformed YAML', 'lab: x\ntasks: [\n', /^lab\.yaml:3: malformed YAML \(column 1\): unexpected end of the stream within a flow collection$/],
    ['empty', '', /^lab\.yaml: is empty$/],
    [
      'unknown top-level key',
      `${HEAD}      - {id: a, type: exists, weight: 1, description: d, hint: h}\nitmes: 1\n`,
      /^lab\.yaml:11: itmes: unknown key \(allowed: lab, title, /,
    ],
    [
      'unknown check type',
      `${HEAD}      - {id: a, type: ingress, weight: 1, description: d, hint: h}\n`,
      /^lab\.yaml:10: tasks\[0\]\.checks\[0\] \(a\)\.type: unknown check type "ingress"; known: exists, /,
    ],
    [
      'weight not a number (block style: the line of the key)',
      `${HEAD}      - id: a\n        type: exists\n        weight: two\n        description: d\n        hint: h\n`,
      /^lab\.yaml:12: tasks\[0\]\.checks\[0\] \(a\)\.weight: must be a number >= 0, got "two"$/,
    ],
    ['missing hint', `${HEAD}      - {id: a, type: exists, weight: 1, description: d}\n`, /^lab\.yaml:10: tasks\[0\]\.checks\[0\] \(a\)\.hint: required$/],
    [
      'unknown workload reference',
      `${HEAD}      - {id: a, type: exists, workload: api, weight: 1, description: d, hint: h}\n`,
      /^lab\.yaml:10: tasks\[0\]\.checks\[0\] \(a\)\.workload: "api" is not a workload of this lab \(web\)$/,
    ],
    [
      'requires a later check',
      `${HEAD}      - {id: a, type: exists, requires: [b], weight: 1, description: d, hint: h}\n      - {id: b, type: exists, weight: 1, description: d, hint: h}\n`,
      /^lab\.yaml:10: .*requires: "b" is not a check listed before this one$/,
    ],
    [
      'duplicate id',
      `${HEAD}      - {id: a, type: exists, weight: 1, description: d, hint: h}\n      - {id: a, type: exists, weight: 1, description: d, hint: h}\n`,
      /^lab\.yaml:11: .*\.id: duplicate check id "a"$/,
    ],
    [
      'dns without form',
      `${HEAD}      - {id: a, type: dns, weight: 1, description: d, hint: h}\n`,
      /^lab\.yaml:10: .*\.form: must be one of svc\.ns, svc\.ns\.svc, fqdn, got undefined$/,
    ],
    ['dns-pods on a Deployment', `${HEAD}      - {id: a, type: dns-pods, weight: 1, description: d, hint: h}\n`, /dns-pods check needs a StatefulSet/],
    [
      'policy from nowhere',
      `${HEAD}      - {id: a, type: policy, from: everyone, to: pods, expect: denied, weight: 1, description: d, hint: h}\n`,
      /^lab\.yaml:10: .*\.from: must be "grader" .* or \{labels: \{\.\.\.\}\}/,
    ],
    [
      'bad label value',
      'lab: l\ntitle: t\nworkloads:\n  web:\n    kind: Deployment\n    name: web\n    replicas: 1\n    labels: {app: 5}\n    containerPort: 80\ntasks: []\n',
      /^lab\.yaml:8: workloads\.web\.labels\.app: must be a valid label value \(a string\), got 5$/,
    ],
    [
      'bad timeout',
      `${HEAD}      - {id: a, type: exists, weight: 1, description: d, hint: h}\ntimeouts: {request: soon}\n`,
      /^lab\.yaml:11: timeouts\.request: must be a duration like 2s or 500ms/,
    ],
    ['weights add up to 0', `${HEAD}      - {id: a, type: exists, weight: 0, description: d, hint: h}\n`, /the weights add up to 0/],
  ])('%s', (_what, text, want) => {
    expect(err(text)).toMatch(want);
  });

  it('a long value is quoted briefly', () => {
    const m = err(`${HEAD}      - {id: a, type: ${'x'.repeat(500)}, weight: 1, description: d, hint: h}\n`);
    expect(m.length).toBeLessThan(400);
    expect(m).toMatch(/\(502 characters\)/);
  });

  it('a good lab: references default to the only workload/service; timeouts parsed', () => {
    const lab = parseLab(
      'lab.yaml',
      `${HEAD}      - {id: a, type: service-http, weight: 1, description: d, hint: h}\ntimeouts: {rollout: 30s, request: 3s, samples: 7, gap: 250ms}\n`,
    );
    expect(lab.checks[0]).toMatchObject({
      id: 'a',
      task: 't',
      type: 'service-http',
      line: 10,
      service: { name: 'web', workload: { name: 'web' } },
      workload: { name: 'web' },
    });
    expect(lab.timeouts).toEqual({ rolloutMs: 30_000, requestS: 3, samples: 7, gapS: 0.25 });
  });
});
