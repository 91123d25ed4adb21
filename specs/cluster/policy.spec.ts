// NetworkPolicy: default-deny ingress (other namespace, same namespace, ClusterIP), allow by
// namespaceSelector / podSelector (exactly those sources), an egress policy without DNS, the
// policies deleted again; plus the verdict's negative controls. On the managed kind cluster with a
// CNI that has no policy engine (flannel alone) every check that expects a denial must FAIL with
// the plain verdict "NetworkPolicy is not enforced" — never a silent pass — and the rest must pass.
import { describe, expect, test } from '@jest/globals';
import { NOT_ENFORCED } from '../../src/verdicts/policy.js';
import { byLayer, jestTarget, testEachCheck, useNetcheck } from '../support/netcheck.js';

/** The built-in CNIs that enforce nothing (the Makefile leaves the policy checks out for them). */
const NO_POLICY_ENGINE = ['flannel-host-gw', 'flannel-vxlan'];
const cni = (() => {
  try {
    return jestTarget().managed?.cni;
  } catch {
    return undefined; // no cluster: useNetcheck says so in every test
  }
})();

// the truth tables (tag netpol) have their own spec: specs/cluster/netpol.spec.ts
const run = useNetcheck(
  'policy',
  byLayer('policy').filter((c) => !c.tags.includes('netpol')),
);
if (!cni || !NO_POLICY_ENGINE.includes(cni)) {
  testEachCheck(run, 'policy');
} else {
  describe(`policy on ${cni} (no NetworkPolicy engine)`, () => {
    for (const c of run.checks) {
      const denies = c.tags.includes('deny');
      test(`${c.title} — ${denies ? `fails: "${NOT_ENFORCED}"` : 'passes'}`, () => {
        const r = run.record(c.id);
        if (denies) {
          expect(r.status).toBe('failed');
          // one line per failed probe ("N failures:" first when there are several): each the plain verdict
          const lines = r.error!.split('\n').filter((l) => l.startsWith('['));
          expect(lines.length).toBeGreaterThan(0);
          for (const l of lines)
            expect(l).toMatch(
              new RegExp(
                `^\\[${c.id.replace(/\./g, '\\.')}\\] from .* to .*: expected denied \\(timeout or refused\\) by NetworkPolicy .*, saw (ok|nxdomain) after \\d+ms .*: ${NOT_ENFORCED}$`,
              ),
            );
        } else if (r.status === 'failed') {
          throw new Error(r.error);
        } else if (r.status === 'skipped') {
          expect(r.reason).toBeTruthy();
        }
      });
    }
  });
}
