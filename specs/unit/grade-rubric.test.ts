// Rubric parsing and validation: the default rubric, custom rubrics (reweight, select, rename,
// reuse a check), and a clear error for each kind of malformed rubric.
import { describe, expect, it } from '@jest/globals';
import { CHECK_IDS } from '../../src/grade/items.js';
import { DEFAULT_RUBRIC_FILE, MAX_QUOTE, RubricError, SEED_LAB, clip, forNamespace, loadRubric, parseRubric, rubricChecks, rubricNeedsProbe } from '../../src/grade/rubric.js';

const err = (yamlText: string) => {
  try {
    parseRubric('r.yaml', yamlText);
  } catch (e) {
    expect(e).toBeInstanceOf(RubricError);
    return (e as Error).message;
  }
  throw new Error('expected a RubricError');
};

const item = (id: string, extra = '') => `  - id: ${id}\n    weight: 1\n    description: d ${id}\n    hint: h ${id}\n${extra}`;

describe('default rubric', () => {
  const r = loadRubric();

  it('is the seed lab: every built-in check once, with a description and a hint each', () => {
    expect(r.source).toBe(DEFAULT_RUBRIC_FILE);
    expect(r.name).toBe('seed-lab');
    expect(r.expect).toEqual(SEED_LAB);
    expect(r.items.map((i) => i.check)).toEqual([...CHECK_IDS]);
    expect(r.items.map((i) => i.id)).toEqual([...CHECK_IDS]);
    for (const i of r.items) {
      expect(i.weight).toBeGreaterThan(0);
      expect(i.description.length).toBeGreaterThan(10);
      expect(i.hint.length).toBeGreaterThan(20);
    }
    expect(rubricNeedsProbe(r)).toBe(true);
  });

  it('{namespace} in descriptions and hints becomes the graded namespace', () => {
    const n = forNamespace(r, 'alice');
    expect(n.items.find((i) => i.id === 'dns-fqdn')!.description).toBe('my-nginx.alice.svc.cluster.local resolves to the ClusterIP from another namespace');
    expect(n.items.some((i) => i.hint.includes('{namespace}') || i.description.includes('{namespace}'))).toBe(false);
    expect(r.items.find((i) => i.id === 'dns-fqdn')!.description).toContain('{namespace}'); // the original is untouched
  });
});

describe('custom rubrics', () => {
  it('reweights, selects, renames and reuses checks; expect overrides the seed lab', () => {
    const r = parseRubric('mine.yaml', `
name: web-lab
expect:
  deployment: web
  service: web-svc
  replicas: 3
  podLabels: {app: web, tier: front}
  containerPort: 8080
  servicePort: 80
items:
  - id: has-web
    check: deployment
    weight: 0.5
    description: Deployment web exists
    hint: kubectl create deployment web
  - id: three
    check: replicas
    weight: 3
    description: three replicas
    hint: scale it
  - id: again
    check: replicas
    weight: 0
    description: counted twice, worth nothing
    hint: same
`);
    expect(r.expect).toEqual({ deployment: 'web', service: 'web-svc', replicas: 3, podLabels: { app: 'web', tier: 'front' }, containerPort: 8080, servicePort: 80, serviceType: 'ClusterIP' });
    expect(r.items.map((i) => [i.id, i.check, i.weight])).toEqual([['has-web', 'deployment', 0.5], ['three', 'replicas', 3], ['again', 'replicas', 0]]);
    expect(rubricChecks(r)).toEqual(['deployment', 'replicas']);
    expect(rubricNeedsProbe(r)).toBe(false);
  });

  it('partial expect keeps the seed values for the rest', () => {
    const r = parseRubric('r.yaml', `name: n\nexpect: {replicas: 1}\nitems:\n${item('replicas')}`);
    expect(r.expect).toEqual({ ...SEED_LAB, replicas: 1 });
  });
});

describe('malformed rubrics: one clear message naming the file and the field', () => {
  it.each([
    ['malformed YAML', 'name: x\nitems: [\n', /^rubric r\.yaml: malformed YAML at line 3, column 1: unexpected end of the stream within a flow collection$/],
    ['empty file', '', /^rubric r\.yaml: is empty$/],
    ['not a mapping', '- a\n- b\n', /must be a mapping with name, items/],
    ['unknown top-level key', `name: n\nitmes: []\nitems:\n${item('deployment')}`, /itmes: unknown key \(allowed: name, description, expect, items\)/],
    ['missing name', `items:\n${item('deployment')}`, /rubric\.name: required/],
    ['no items', 'name: n\nitems: []\n', /items: must be a non-empty list, got \[\]/],
    ['unknown check id (explicit)', `name: n\nitems:\n${item('x', '    check: deployment-exists\n')}`, /items\[0\] \(x\): unknown check "deployment-exists"; known checks: deployment, replicas, /],
    ['unknown check id (from the id)', `name: n\nitems:\n${item('deploy')}`, /unknown check "deploy" \(an item without `check:` uses its id as the check id\)/],
    ['negative weight', `name: n\nitems:\n  - {id: deployment, weight: -1, description: d, hint: h}\n`, /items\[0\] \(deployment\)\.weight: must be a number >= 0, got -1/],
    ['weight as text', `name: n\nitems:\n  - {id: deployment, weight: "2", description: d, hint: h}\n`, /weight: must be a number >= 0, got "2"/],
    ['missing hint', `name: n\nitems:\n  - {id: deployment, weight: 1, description: d}\n`, /items\[0\] \(deployment\)\.hint: required/],
    ['empty description', `name: n\nitems:\n  - {id: deployment, weight: 1, description: " ", hint: h}\n`, /description: must be a non-empty string/],
    ['unknown item key', `name: n\nitems:\n  - {id: deployment, weight: 1, description: d, hint: h, points: 3}\n`, /items\[0\]\.points: unknown key/],
    ['duplicate id', `name: n\nitems:\n${item('deployment')}${item('deployment')}`, /items: duplicate id "deployment"/],
    ['all weights 0', `name: n\nitems:\n  - {id: deployment, weight: 0, description: d, hint: h}\n`, /weights add up to 0/],
    ['bad item id', `name: n\nitems:\n  - {id: "Deploy Ment", check: deployment, weight: 1, description: d, hint: h}\n`, /items\[0\]\.id: "Deploy Ment" must be lowercase/],
    ['item not a mapping', `name: n\nitems:\n  - deployment\n`, /items\[0\]: must be a mapping/],
    ['bad expect key', `name: n\nexpect: {replica: 2}\nitems:\n${item('deployment')}`, /expect\.replica: unknown key/],
    ['bad port', `name: n\nexpect: {containerPort: 70000}\nitems:\n${item('deployment')}`, /expect\.containerPort: must be a port number 1-65535, got 70000/],
    ['bad replicas', `name: n\nexpect: {replicas: 0}\nitems:\n${item('deployment')}`, /expect\.replicas: must be a whole number >= 1/],
    ['bad name', `name: n\nexpect: {service: My_Svc}\nitems:\n${item('deployment')}`, /expect\.service: must be a Kubernetes object name/],
    ['label value not a string', `name: n\nexpect: {podLabels: {run: 5}}\nitems:\n${item('deployment')}`, /expect\.podLabels\.run: must be a valid label value/],
  ])('%s', (_what, text, message) => {
    expect(err(text)).toMatch(message);
  });

  it('a file that is not YAML (a page of prose, a shell script): one line, at most ~120 characters of it quoted', () => {
    const prose = Array.from({ length: 40 }, (_, i) => `This is line ${i} of my lab write-up, which is not a rubric at all and goes on and on`).join('\n');
    const script = `#!/bin/sh\n${'kubectl apply -f my-nginx.yaml && '.repeat(30)}echo done\n`;
    const longKey = `${'x'.repeat(400)}: 1\nname: n\nitems:\n${item('deployment')}`;
    const badFlow = `name: n\nitems: [ ${'{id: deployment, weight: 1}, '.repeat(40)}\n`;
    for (const [text, what] of [[prose, /must be a mapping with name, items .*, got "This is line 0 of my lab write-up/], [script, /must be a mapping .*, got "kubectl apply -f my-nginx\.yaml && kubectl/], [longKey, /^rubric r\.yaml: x{100,}… \(400 characters\): unknown key/], [badFlow, /^rubric r\.yaml: malformed YAML at line 3, column 1: /]] as const) {
      const message = err(text);
      expect(message).toMatch(what);
      expect(message).not.toContain('\n');
      // "rubric r.yaml: " + the reason + at most 120 characters of the file
      expect(message.length).toBeLessThan(260);
    }
    expect(err(prose)).toMatch(/… \(3\d{3} characters\)$/);
    expect(clip('a'.repeat(120))).toBe('a'.repeat(120));
    expect(clip('a'.repeat(121))).toBe(`${'a'.repeat(119)}… (121 characters)`);
    expect(MAX_QUOTE).toBe(120);
  });

  it('an unreadable file is a RubricError too', () => {
    expect(() => loadRubric('/nonexistent/rubric.yaml')).toThrow(/rubric \/nonexistent\/rubric\.yaml: cannot read: ENOENT/);
  });
});
