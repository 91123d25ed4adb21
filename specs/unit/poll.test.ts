import { describe, it, expect } from '@jest/globals';
import { pollUntil } from '../../src/util/poll.js';

describe('pollUntil', () => {
  it('returns the first value that satisfies done', async () => {
    let n = 0;
    const v = await pollUntil({ what: 'counter >= 3', timeoutMs: 2000, intervalMs: 5, probe: async () => ++n, done: (x) => x >= 3 });
    expect(v).toBe(3);
    expect(n).toBe(3);
  });

  it('keeps polling through probe errors', async () => {
    let n = 0;
    const v = await pollUntil({
      what: 'flaky probe',
      timeoutMs: 2000,
      intervalMs: 5,
      probe: async () => {
        if (++n < 3) throw new Error('not yet');
        return 'ok';
      },
      done: (x) => x === 'ok',
    });
    expect(v).toBe('ok');
  });

  it('does not sleep before the first attempt or after success', async () => {
    const t0 = Date.now();
    await pollUntil({ what: 'instant', timeoutMs: 5000, intervalMs: 5000, probe: async () => 1, done: () => true });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('times out with what, how long and the last value described', async () => {
    const p = pollUntil({
      what: 'pod web-1 Ready',
      timeoutMs: 120,
      intervalMs: 10,
      probe: async () => ({ phase: 'Pending' }),
      done: (v) => v.phase === 'Running',
      describe: (v) => `phase=${v.phase}`,
    });
    await expect(p).rejects.toThrow(/waiting for pod web-1 Ready/);
    await expect(p).rejects.toThrow(/timeout 120ms/);
    await expect(p).rejects.toThrow(/last seen: phase=Pending$/);
  });

  it('reports the last probe error when the probe never succeeds', async () => {
    const p = pollUntil({
      what: 'endpoints for svc/echo',
      timeoutMs: 80,
      intervalMs: 10,
      probe: async (): Promise<number> => {
        throw new Error('connect ECONNREFUSED 10.96.0.1:443');
      },
      done: () => true,
    });
    await expect(p).rejects.toThrow(/endpoints for svc\/echo.*timeout 80ms.*last seen: probe error: Error: connect ECONNREFUSED/);
  });

  it('JSON-describes the last value by default', async () => {
    await expect(pollUntil({ what: 'ips', timeoutMs: 50, intervalMs: 10, probe: async () => ['10.244.1.2'], done: (v) => v.length > 1 })).rejects.toThrow(
      'last seen: ["10.244.1.2"]',
    );
  });

  it('does not let a hanging probe outlive the deadline', async () => {
    const t0 = Date.now();
    const p = pollUntil({ what: 'hung probe', timeoutMs: 100, intervalMs: 10, probe: () => new Promise<number>(() => {}), done: () => true });
    await expect(p).rejects.toThrow(/waiting for hung probe after \d+ms \(timeout 100ms, 1 attempts\); last seen: nothing .*still running at the deadline/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
