// A cluster that forbids hostNetwork pods (#15 item 4): the run goes on without its node views, the
// checks that need them are not applicable with the API's own reason, and every other check passes.
// The "cluster policy" is a ValidatingAdmissionPolicy + binding this spec creates and removes, denying
// hostNetwork pods only in the namespaces of this one run (label kube-netcheck/run=<run id>).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import path from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { CATALOGUE, PHASES } from '../../src/catalogue/index.js';
import { selectChecks } from '../../src/catalogue/select.js';
import { runSuite, type RunResult } from '../../src/engine/run-suite.js';
import { FileReporter } from '../../src/report/reporter.js';
import { runSettings } from '../../src/cli/settings.js';
import { newRunId, runLabels, RUN_KEY } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { apiStatus } from '../../src/kube/errors.js';
import type { Connection } from '../../src/cluster/connection.js';
import { jestConnection } from '../support/netcheck.js';

const runId = newRunId();
const name = `knc-no-hostnetwork-${runId}`;
const probeNs = `knc-${runId}-vap`;
let conn: Connection;
let adm: AdmissionregistrationV1Api;
let result: RunResult;

beforeAll(async () => {
  conn = await jestConnection();
  adm = conn.kube.kc.makeApiClient(AdmissionregistrationV1Api);
  await adm.createValidatingAdmissionPolicy({
    body: {
      metadata: { name, labels: runLabels(runId) },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }] },
        validations: [{ expression: '!has(object.spec.hostNetwork) || !object.spec.hostNetwork', message: 'hostNetwork pods are forbidden here' }],
      },
    },
  });
  await adm.createValidatingAdmissionPolicyBinding({
    body: {
      metadata: { name, labels: runLabels(runId) },
      spec: { policyName: name, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { [RUN_KEY]: runId } } } },
    },
  });
  // the policy is in force once the API server denies a hostNetwork pod in a namespace of this run (a dry run: nothing is created)
  await conn.kube.core.createNamespace({ body: { metadata: { name: probeNs, labels: runLabels(runId) } } });
  await pollUntil({
    what: `the ValidatingAdmissionPolicy ${name} to deny a hostNetwork pod in ${probeNs}`,
    timeoutMs: 60_000,
    intervalMs: 250,
    probe: () =>
      conn.kube.core
        .createNamespacedPod({
          namespace: probeNs,
          dryRun: 'All',
          body: { metadata: { name: 'vap-probe' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'none' }] } },
        })
        .then(
          () => 'admitted',
          (err: unknown) => `refused ${apiStatus(err)?.code}`,
        ),
    done: (s) => s.startsWith('refused 4'),
    describe: (s) => s,
  });
  const checks = selectChecks(CATALOGUE, { skip: ['policy'] });
  result = await runSuite(conn, checks, [new FileReporter(path.join('reports', 'jest', 'hostnetwork-forbidden'))], {
    phases: PHASES,
    settings: runSettings(process.env),
    runId,
  });
}, 900_000);

afterAll(async () => {
  await adm?.deleteValidatingAdmissionPolicyBinding({ name }).catch(() => undefined);
  await adm?.deleteValidatingAdmissionPolicy({ name }).catch(() => undefined);
  await conn?.kube.core.deleteNamespace({ name: probeNs }).catch(() => undefined);
}, 60_000);

test('the node-view checks are not applicable, naming the API refusal; every other check passes or is n/a for its own reason', () => {
  const records = result.records;
  const nodeView = records.filter((r) => CATALOGUE.find((c) => c.id === r.id)?.tags.includes('node-view'));
  expect(nodeView.map((r) => r.id)).toEqual(
    expect.arrayContaining(['pod-ip.from-node', 'service.from-nodes', 'service.virtual-ip', 'service.nodeport.from-nodes']),
  );
  for (const r of nodeView) {
    expect({ id: r.id, status: r.status }).toEqual({ id: r.id, status: 'skipped' });
    expect(r.reason).toMatch(
      /^not applicable: node views \(hostNetwork pods\) are forbidden on this cluster: API 4(03 Forbidden|22 Invalid): .*ValidatingAdmissionPolicy .* denied request: hostNetwork pods are forbidden here$/,
    );
  }
  const failed = records.filter((r) => r.status !== 'passed' && r.status !== 'skipped').map((r) => `${r.id}: ${r.status} ${r.error ?? ''}`);
  expect(failed).toEqual([]);
  // the rest really ran: the pod, Service and DNS checks from the probe pods passed
  for (const id of ['pod-ip.cross-node', 'service.from-pods', 'service.spread', 'dns.matrix-udp', 'coredns.service'])
    expect({ id, status: records.find((r) => r.id === id)?.status }).toEqual({ id, status: 'passed' });
  expect(result.summary.failed).toBe(0);
});
