// cni-matrix --ip-family: the IP-family columns live in a marked section of docs/cni-matrix.md that
// a family run replaces and an IPv4 run keeps (the lead's IPv4 matrix must not erase them).
import { describe, it, expect } from '@jest/globals';
import { familySectionOf, withFamilySection, FAMILY_SECTION } from '../../src/cli/cni-matrix.js';

describe('cni-matrix IP-family section', () => {
  const ipv4 = '# CNI matrix\n\n| check | flannel-host-gw |\n|---|---|\n';
  it('is appended to a file without one, then replaced in place, never duplicated', () => {
    const once = withFamilySection(ipv4, '## IP families: ipv6\n\n| a | b |\n');
    expect(once.startsWith(ipv4.trimEnd())).toBe(true);
    expect(once.split(FAMILY_SECTION.start)).toHaveLength(2);
    const twice = withFamilySection(once, '## IP families: dual\n');
    expect(twice.split(FAMILY_SECTION.start)).toHaveLength(2);
    expect(twice).toContain('## IP families: dual');
    expect(twice).not.toContain('## IP families: ipv6');
  });
  it('is what an IPv4 rewrite keeps (and nothing when there is none)', () => {
    const file = withFamilySection(ipv4, '## IP families: ipv6, dual\n| x |\n');
    const kept = familySectionOf(file);
    expect(kept.startsWith(FAMILY_SECTION.start)).toBe(true);
    expect(kept.trimEnd().endsWith(FAMILY_SECTION.end)).toBe(true);
    expect(kept).toContain('## IP families: ipv6, dual');
    expect(familySectionOf(ipv4)).toBe('');
  });
});
