// The tool's failure evidence (it belongs to the tool's tests, not to a user's run): a failed check
// can collect the run's events and pods, the DNS pods' logs and, where the cluster has it, kube-proxy's.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { failureEvidence } from '../../src/verdicts/evidence.js';
import { setupRun, teardownRun, type RunEnv } from '../../src/workload/setup.js';
import { jestConnection } from '../support/netcheck.js';

let env: RunEnv;
beforeAll(async () => {
  env = await setupRun(await jestConnection());
}, 180_000);
afterAll(async () => {
  if (env) await teardownRun(env.kube, env.runId, { until: 'stopped' });
}, 120_000);

test("a failed check can collect the run events, the DNS pods' logs and kube-proxy logs", async () => {
  const e = (await failureEvidence(env, ['dns', 'service'])) as {
    events: Record<string, string>;
    pods: Record<string, string>;
    corednsLogs: Record<string, string>;
    kubeProxyLogs?: Record<string, string>;
  };
  expect(Object.keys(e.events)).toEqual([env.workloadNs, env.otherNs]);
  expect(e.events[env.workloadNs]).toMatch(/Normal Pod\/\S+ (Scheduled|Pulled|Created|Started)/);
  expect(e.pods[env.workloadNs]).toMatch(/my-nginx-\S+@\S+ Running\/Ready ip=\d+\.\d+\.\d+\.\d+/);
  expect(Object.keys(e.corednsLogs).length).toBeGreaterThanOrEqual(1);
  expect(Object.values(e.corednsLogs).join('\n')).toMatch(/CoreDNS-\d+\.\d+\.\d+|plugin\/reload|\[INFO\]/);
  if (env.facts.kubeProxy) expect(Object.keys(e.kubeProxyLogs ?? {})).toHaveLength(env.facts.nodes.length);
  else expect(e.kubeProxyLogs).toBeUndefined();
}, 60_000);
