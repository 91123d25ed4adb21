// --only / --skip: the check index read from spec sources, and the one --testNamePattern built from it.
import { describe, it, expect } from '@jest/globals';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { buildTestNamePattern, indexChecks, indexClusterSpecs, knownTags, selectedChecks, splitTerms, unknownTerms } from '../../src/cli/filter.js';

const SPEC = `
describe('pod IPs', () => {
  check('podIP:80 serves nginx (same node)', { tags: ['pod-ip', 'same-node'], from: 'a', to: 'b' }, async () => 1);
  check('podIP:80 serves nginx (same node) twice', { tags: ['pod-ip'], from: 'a', to: 'b' }, async () => 1);
  for (const transport of ['udp', 'tcp'] as const) {
    check(\`matrix over \${transport.toUpperCase()} [dig +search]\`, { tags: ['dns', transport], from: 'a', to: 'b' }, async () => 1);
  }
  check(\`rows for \${someRuntimeValue()}\`, { tags: ['dynamic'], from: 'a', to: 'b' }, async () => 1);
});
describe('pod IPs — negative controls', () => {
  negativeControl('reachability fails for a free address', 'pod-ip', () => 1);
  (ours ? negativeControl : negativeControl.skip)('safety net fails for a routed address', 'safety-net', async () => 1);
  check.skip('not here', { tags: ['host'], from: 'a', to: 'b' });
});
`;
const index = indexChecks(ts, [{ file: 'x.spec.ts', text: SPEC }]);
const names = (only: string[], skip: string[] = []) => selectedChecks(buildTestNamePattern(only, skip, index), index).map((c) => c.fullName);

describe('check index from spec sources', () => {
  it('full names as Jest builds them (describe titles + name), tags, loops expanded', () => {
    expect(index.map((c) => [c.fullName, c.tags.join(',')])).toEqual([
      ['pod IPs podIP:80 serves nginx (same node)', 'pod-ip,same-node'],
      ['pod IPs podIP:80 serves nginx (same node) twice', 'pod-ip'],
      ['pod IPs matrix over UDP [dig +search]', 'dns,udp'],
      ['pod IPs matrix over TCP [dig +search]', 'dns,tcp'],
      ['pod IPs rows for …', 'dynamic'],
      ['pod IPs — negative controls reachability fails for a free address', 'negative-control,pod-ip'],
      ['pod IPs — negative controls safety net fails for a routed address', 'negative-control,safety-net'],
      ['pod IPs — negative controls not here', 'host'],
    ]);
    expect(knownTags(index)).toEqual(['dns', 'dynamic', 'host', 'negative-control', 'pod-ip', 'safety-net', 'same-node', 'tcp', 'udp']);
  });

  it('a part only known at run time matches anything', () => {
    const c = index.find((x) => x.tags.includes('dynamic'))!;
    expect(new RegExp(`^${c.pattern}$`).test('pod IPs rows for node kind-worker2')).toBe(true);
  });

  it('the real cluster specs index, every check tagged', async () => {
    const real = await indexClusterSpecs(fileURLToPath(new URL('../cluster/', import.meta.url)));
    expect(real.length).toBeGreaterThan(10);
    expect(real.filter((c) => c.tags.length === 0)).toEqual([]);
    expect(knownTags(real)).toContain('negative-control');
  });
});

describe('--testNamePattern from --only / --skip', () => {
  it('no terms: no pattern', () => {
    expect(buildTestNamePattern([], [], index)).toBeUndefined();
  });

  it('--only by tag selects exactly the tagged checks (anchored: not a check whose name extends it)', () => {
    expect(names(['same-node'])).toEqual(['pod IPs podIP:80 serves nginx (same node)']);
    expect(names(['udp'])).toEqual(['pod IPs matrix over UDP [dig +search]']);
  });

  it('--only by name substring, case-insensitive, regex characters taken literally', () => {
    expect(names(['(SAME NODE)'])).toEqual(['pod IPs podIP:80 serves nginx (same node)', 'pod IPs podIP:80 serves nginx (same node) twice']);
    expect(names(['[dig +search]'])).toHaveLength(2);
    expect(names(['negative controls'])).toHaveLength(3);
  });

  it('--skip is a negative lookahead and wins over --only', () => {
    expect(names([], ['negative-control', 'dns'])).toEqual([
      'pod IPs podIP:80 serves nginx (same node)',
      'pod IPs podIP:80 serves nginx (same node) twice',
      'pod IPs rows for …',
      'pod IPs — negative controls not here',
    ]);
    expect(names(['pod-ip'], ['negative-control'])).toEqual(['pod IPs podIP:80 serves nginx (same node)', 'pod IPs podIP:80 serves nginx (same node) twice']);
    expect(names(['dns'], ['dns'])).toEqual([]);
  });

  it('one regex, valid for Jest (which adds the i flag)', () => {
    const p = buildTestNamePattern(['udp', 'same-node'], ['negative-control'], index)!;
    expect(p.startsWith('^(?!(?:')).toBe(true);
    expect(() => new RegExp(p, 'i')).not.toThrow();
    expect(new RegExp(p, 'i').test('pod IPs matrix over UDP [dig +search]')).toBe(true);
  });

  it('terms: comma-separated, repeatable, blanks dropped; unknown ones reported', () => {
    expect(splitTerms(['dns, udp', 'service', ' ,'])).toEqual(['dns', 'udp', 'service']);
    expect(splitTerms(undefined)).toEqual([]);
    expect(unknownTerms(['udp', 'SERVES NGINX', 'nope'], index)).toEqual(['nope']);
  });
});
