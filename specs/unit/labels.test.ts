import { describe, it, expect } from '@jest/globals';
import { isValidRunId, newRunId, runLabels, runSelector } from '../../src/util/labels.js';

describe('labels', () => {
  it('generates short, DNS-1035-safe, distinct run ids', () => {
    const ids = new Set(Array.from({ length: 200 }, newRunId));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z][a-z0-9]{7}$/);
      expect(isValidRunId(id)).toBe(true);
    }
  });

  it('labels carry managed-by and the run id', () => {
    expect(runLabels('r1234abc')).toEqual({
      'app.kubernetes.io/managed-by': 'kube-netcheck',
      'kube-netcheck/run': 'r1234abc',
    });
  });

  it('rejects run ids that are not DNS labels', () => {
    for (const bad of ['', 'UPPER', 'has_underscore', '-lead', 'trail-', 'a'.repeat(64), 'a.b']) {
      expect(isValidRunId(bad)).toBe(false);
      expect(() => runLabels(bad)).toThrow(/invalid run id/);
    }
  });

  it('builds selectors for one run or all runs', () => {
    expect(runSelector()).toBe('app.kubernetes.io/managed-by=kube-netcheck');
    expect(runSelector('rabc')).toBe('app.kubernetes.io/managed-by=kube-netcheck,kube-netcheck/run=rabc');
    expect(() => runSelector('Bad')).toThrow(/invalid run id/);
  });
});
