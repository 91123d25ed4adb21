// Negative controls that mean something (#15 item 5, #14 item 3): one helper asserting on the
// failure's structured fields, every control says what kind of evidence it is, the README lists
// exactly the live controls and the self-tests, and a failure is named by its check's catalogue id.
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { mustFail, failuresOf } from '../../src/catalogue/controls.js';
import { CheckFailure, throwAll } from '../../src/verdicts/failure.js';
import { ownedBy } from '../../src/engine/run-suite.js';

const fail = (over: Partial<ConstructorParameters<typeof CheckFailure>[0]> = {}) =>
  new CheckFailure({
    check: 'pod-ip.cross-node',
    from: 'pod a/p on n1',
    to: 't 10.0.0.2:80 on n2',
    expected: 'an answer from pod t',
    seen: 'timeout (exit 137 after 3001ms: "")',
    ...over,
  });
const where = { from: 'pod a/p on n1', to: 't' };

describe('mustFail: the structured fields, not the message', () => {
  it('returns the failure fields when every field matches', () => {
    expect(mustFail(where, () => fail(), { check: 'pod-ip.cross-node', from: 'pod a/p on n1', expected: 'an answer from pod t', seen: /^timeout / })).toEqual([
      fail().ctx,
    ]);
  });
  it('a verdict that passed fails the control, saying what was expected', () => {
    expect(() => mustFail(where, () => undefined, { check: 'pod-ip.cross-node', seen: /^timeout/ })).toThrow(
      /^\[negative-control\] from pod a\/p on n1 to t: expected the verdict of pod-ip\.cross-node to fail with seen \/\^timeout\/, saw it passed$/,
    );
    expect(() => mustFail(where, () => ({ evidence: 1 }), { check: 'x', seen: 'y' })).toThrow(/saw it passed/);
  });
  it('a failure with the right words in another field (or another check) does not count', () => {
    const f = fail({ expected: 'timeout', seen: 'ok' });
    expect(() => mustFail(where, () => f, { check: 'pod-ip.cross-node', seen: /timeout/ })).toThrow(/1 of 1 failures differ: seen "ok" is not \/timeout\//);
    expect(() => mustFail(where, () => fail({ check: 'pod-ip-cross-node' }), { check: 'pod-ip.cross-node', seen: /timeout/ })).toThrow(
      /check "pod-ip-cross-node" is not pod-ip\.cross-node/,
    );
  });
  it('every failure must match: a fault on one node must not fail elsewhere', () => {
    const run = () => throwAll([fail(), fail({ from: 'pod a/q on n3' })]);
    expect(failuresOf(run)).toHaveLength(2);
    expect(() => mustFail(where, run, { check: 'pod-ip.cross-node', from: 'pod a/p on n1', seen: /timeout/ })).toThrow(
      /1 of 2 failures differ: from "pod a\/q on n3"/,
    );
  });
  it('an error that is not a check failure is not swallowed', () => {
    expect(() =>
      failuresOf(() => {
        throw new TypeError('bug');
      }),
    ).toThrow('bug');
  });
});

describe('every control says what kind of evidence it is', () => {
  const controls = CATALOGUE.filter((c) => c.controls);
  const ids = new Set(CATALOGUE.map((c) => c.id));
  it.each(controls.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    expect(ids.has(c.controls!)).toBe(true);
    expect(['live', 'verdict-self-test']).toContain(c.controlKind);
    if (c.controlKind === 'live') {
      // a live control makes its fault on the cluster, alone, and removes it
      expect(c.fault).toBeTruthy();
      expect(c.tags).not.toContain('verdict-self-test');
    } else {
      expect(c.tags).toContain('verdict-self-test');
      expect(c.title).toMatch(/^verdict self-test: /);
      expect(c.fault).toBeUndefined();
    }
  });
});

describe('the README says exactly which checks have a live control', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Negative controls'), readme.indexOf('## Reports'));
  it('the table lists every live control with the check it controls, and nothing else', () => {
    const rows = [...section.matchAll(/^\| `([^`]+)`[^|]*\| `([^`]+)` \|/gm)].map((m) => `${m[2]} -> ${m[1]}`).sort();
    const live = CATALOGUE.filter((c) => c.controlKind === 'live')
      .map((c) => `${c.id} -> ${c.controls}`)
      .sort();
    expect(rows).toEqual(live);
  });
  it('names every verdict self-test, and every positive check either has a live control or is named with its reason', () => {
    for (const c of CATALOGUE.filter((x) => x.controlKind === 'verdict-self-test')) expect(section).toContain(`\`${c.id}\``);
    const withLive = new Set(CATALOGUE.filter((c) => c.controlKind === 'live').map((c) => c.controls));
    const positive = CATALOGUE.filter((c) => !c.controls && !withLive.has(c.id));
    const named = (id: string) => section.includes(`\`${id}\``);
    const unnamed = positive.filter(
      (c) =>
        !named(c.id) && !(c.layer === 'policy' && section.includes('the policy checks')) && !(/\.(endpoints|traffic)$/.test(c.id) && section.includes('`*.')),
    );
    expect(unnamed.map((c) => c.id)).toEqual([]);
  });
  it('names no check the catalogue does not have (a renamed or removed check leaves no stale line)', () => {
    const ids = new Set(CATALOGUE.map((c) => c.id));
    const stale = [...section.matchAll(/`([a-z0-9-]+\.[a-z0-9.-]+)`/g)].map((m) => m[1]).filter((id) => !ids.has(id) && !/\.(ts|md|json|sh)$/.test(id));
    expect(stale).toEqual([]);
  });
});

describe('one id scheme: a failure is named by the check that threw it', () => {
  it('a verdict shared with the grader names its own property; the record names the check', () => {
    const f = ownedBy(fail({ check: 'pod-http' }), 'pod-ip.cross-node') as CheckFailure;
    expect(f.ctx.check).toBe('pod-ip.cross-node');
    expect(f.message).toMatch(/^\[pod-ip\.cross-node\] from pod a\/p on n1/);
    let many: unknown;
    try {
      throwAll([fail({ check: 'a' }), fail({ check: 'b' })]);
    } catch (err) {
      many = ownedBy(err, 'dns.matrix-udp');
    }
    expect((many as Error).message).toMatch(/^2 failures:\n\[dns\.matrix-udp\] [^\n]*\n\[dns\.matrix-udp\] /);
  });
  it('the catalogue files of pod-ip, DNS, MTU and nodes name failures only by catalogue ids', () => {
    const ids = new Set([...CATALOGUE.map((c) => c.id), 'negative-control']);
    for (const f of ['pod-ips', 'dns', 'mtu', 'nodes']) {
      const src = readFileSync(`src/catalogue/${f}.ts`, 'utf8');
      const named = [...src.matchAll(/check: '([^']+)'|verify[A-Za-z]+\('([^']+)'/g)].map((m) => m[1] ?? m[2]);
      expect(named.filter((n) => !ids.has(n))).toEqual([]);
    }
  });
});
