import { describe, expect, it } from '@jest/globals';
import { waitWith } from '../../src/cli/progress.js';

const stream = (isTTY: boolean) => {
  const out: string[] = [];
  return { isTTY, out, write: (s: string) => out.push(s) };
};
const later = <T>(v: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(v), ms));

describe('waitWith', () => {
  it('spins with the elapsed time on a terminal and ends with a check mark', async () => {
    const s = stream(true);
    expect(await waitWith('checking the API', later(42, 60), s, {}, 10)).toBe(42);
    expect(s.out.some((l) => /^\r[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] checking the API \d+\.\ds$/.test(l))).toBe(true);
    expect(s.out.at(-1)).toMatch(/^\r✓ checking the API \d+\.\ds\n$/);
  });
  it('marks a failed wait and rethrows', async () => {
    const s = stream(true);
    await expect(waitWith('x', Promise.reject(new Error('boom')), s, {}, 10)).rejects.toThrow('boom');
    expect(s.out.at(-1)).toMatch(/^\r✗ x /);
  });
  it('writes nothing when not a terminal or under CI', async () => {
    const pipe = stream(false);
    const ci = stream(true);
    await waitWith('x', later(1, 30), pipe, {}, 5);
    await waitWith('x', later(1, 30), ci, { CI: 'true' }, 5);
    expect([pipe.out, ci.out]).toEqual([[], []]);
  });
});
