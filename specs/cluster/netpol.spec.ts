// NetworkPolicy truth tables (src/catalogue/netpol.ts): namespaces x, y, z × pods a, b, c, TCP and
// UDP on 80 and 81, one case per rule of the API. With a policy engine every case must converge and
// hold its table (SCTP: not applicable where the kernel has none). On the managed kind cluster with
// a CNI that has no policy engine (flannel alone) the layer must say "NetworkPolicy is not enforced"
// exactly once — the first case that denies anything, with every denied cell allowed, as
// structured fields — and skip every later case as not meaningful, never pass one that denies.
import { describe, expect, test } from '@jest/globals';
import { NOT_ENFORCED } from '../../src/verdicts/truth-table.js';
import { byLayer, jestTarget, testEachCheck, useNetcheck } from '../support/netcheck.js';

const NO_POLICY_ENGINE = ['flannel-host-gw', 'flannel-vxlan'];
const cni = (() => {
  try {
    return jestTarget().managed?.cni;
  } catch {
    return undefined;
  }
})();

const checks = byLayer('policy').filter((c) => c.tags.includes('netpol'));
const run = useNetcheck('netpol', checks);
if (!cni || !NO_POLICY_ENGINE.includes(cni)) {
  testEachCheck(run, 'NetworkPolicy truth tables');
} else {
  describe(`NetworkPolicy truth tables on ${cni} (no NetworkPolicy engine)`, () => {
    test('the first case passes (no policy: every cell answers), deny-ingress fails once with "NetworkPolicy is not enforced"', () => {
      expect(run.record('netpol.none').status).toBe('passed');
      const r = run.record('netpol.deny-ingress');
      expect(r.status).toBe('failed');
      expect(r.error!.split('\n')[0]).toMatch(
        new RegExp(
          `^\\[netpol\\.deny-ingress\\] from the matrix to .*: expected .*: 288 cells as expected \\(192 allowed, 96 denied\\), saw every one of the 96 cells the policies deny was allowed \\(still so \\d+ms, \\d+ rounds, after the change\\): ${NOT_ENFORCED}$`,
        ),
      );
      expect(r.error).toContain('TCP/80');
    });
    test('every later case is skipped as not meaningful, naming the case that said it', () => {
      const later = checks.filter((c) => !['netpol.none', 'netpol.deny-ingress', 'netpol.sctp', 'netpol.not-enforced.negative'].includes(c.id));
      expect(later.length).toBeGreaterThan(10);
      for (const c of later)
        expect(run.record(c.id)).toMatchObject({
          status: 'skipped',
          reason: expect.stringMatching(/^not meaningful: NetworkPolicy is not enforced on this cluster \(netpol\.deny-ingress: /),
        });
      // the verdict's negative control judges netpol.none's real round (no policy) as if default-deny were in place: it passes here too
      expect(run.record('netpol.not-enforced.negative').status).toBe('passed');
    });
  });
}
