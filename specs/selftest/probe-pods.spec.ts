// The one probe-pod lifecycle (src/workload/probe-pods.ts) on the live cluster: a pod the API refuses
// because its namespace's ServiceAccount does not exist yet is created once it does — the refusal a
// namespace made a moment ago gives until the ServiceAccount controller has made "default", retried
// by the one retry wrapper (util/retry.ts) that retryOnConflict uses. setupRun (its probe pods, node
// views and HTTP targets), the grader and the NetworkPolicy matrix create their pods through it.
// The missing ServiceAccount is made on purpose: the pod names one ("knc-late") that the spec creates
// only after the API's first refusal, so the refusal is certain, not a race the controller may win.
import { afterAll, describe, expect, test } from '@jest/globals';
import { errorLine, isServiceAccountPending } from '../../src/kube/errors.js';
import { newRunId, runLabels } from '../../src/util/labels.js';
import { createPod, probePod, probeTemplate, startPods } from '../../src/workload/probe-pods.js';
import { teardownRun } from '../../src/workload/setup.js';
import type { Kube } from '../../src/kube/client.js';
import { jestConnection } from '../support/netcheck.js';

const runId = newRunId();
const labels = runLabels(runId);
const ns = `knc-${runId}-sa`;
let kube: Kube | undefined;

afterAll(async () => {
  if (kube) await teardownRun(kube, runId);
});

describe('probe-pod lifecycle: the fresh namespace ServiceAccount refusal', () => {
  test('a pod refused until its ServiceAccount exists is created once it does, then runs Ready; the refusal is the API 403 the retry expects', async () => {
    const conn = await jestConnection();
    kube = conn.kube;
    await kube.core.createNamespace({ body: { metadata: { name: ns, labels } } });
    const pod = probePod(probeTemplate('probe-pod'), 'probe-late-sa', undefined, ns, conn.target.images.probe, labels);
    pod.spec.serviceAccountName = 'knc-late';
    const refusals: unknown[] = [];
    let made: Promise<unknown> | undefined;
    const created = await createPod(kube, pod, {
      onRetry: (err) => {
        refusals.push(err);
        // the ServiceAccount appears only after the API refused the pod for lacking it
        made ??= kube!.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'knc-late', labels } } });
      },
    });
    await made;
    expect(created.metadata?.name).toBe('probe-late-sa');
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.every(isServiceAccountPending)).toBe(true);
    expect(errorLine(refusals[0])).toMatch(/^API 403 Forbidden: pods "probe-late-sa" is forbidden: error looking up service account .*knc-late.*not found/);
    console.log(`refused ${refusals.length}x before the ServiceAccount existed: ${errorLine(refusals[0])}`);
    // the same pod then runs: waited Ready through the lifecycle's wait
    const { waitPodsReady } = await import('../../src/workload/pods.js');
    const [ready] = await waitPodsReady(kube, ns, 'app.kubernetes.io/component=probe', { count: 1, timeoutMs: 90_000 });
    expect(ready.spec?.serviceAccountName).toBe('knc-late');
  });

  test('any other refusal ends it at once (no retry), named by the API', async () => {
    const conn = await jestConnection();
    kube = conn.kube;
    const bad = probePod(probeTemplate('probe-pod'), 'Probe_Not_A_DNS_Label', undefined, ns, conn.target.images.probe, labels);
    const retried: unknown[] = [];
    const err = await createPod(kube, bad, { onRetry: (e) => retried.push(e) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(retried).toHaveLength(0);
    expect(isServiceAccountPending(err)).toBe(false);
    expect(errorLine(err)).toMatch(/^API 422 Invalid: /);
  });

  test('startPods: created, waited Ready and returned by node in a namespace made a moment ago (the default ServiceAccount raced)', async () => {
    const conn = await jestConnection();
    kube = conn.kube;
    const fresh = `knc-${runId}-sb`;
    await kube.core.createNamespace({ body: { metadata: { name: fresh, labels } } });
    const nodes = (await kube.core.listNode()).items.map((n) => n.metadata!.name!).slice(0, 2);
    const pods = nodes.map((n, i) => probePod(probeTemplate('probe-pod'), `probe-${i}`, n, fresh, conn.target.images.probe, labels));
    const ready = await startPods(kube, pods, { selector: 'app.kubernetes.io/component=probe', timeoutMs: 90_000 });
    expect(ready.map((r) => r.node)).toEqual([...nodes].sort());
    expect(ready.every((r) => r.ip && r.namespace === fresh)).toBe(true);
  });
});
