// Two things every client of a busy cluster meets, shown live on the default cluster (#15 item 4):
// - an optimistic-concurrency conflict (API 409 Conflict): the run's scale step (scaleTo, read the
//   scale subresource and replace it) while another writer keeps changing the same Deployment; the
//   replace carrying a stale resourceVersion is refused by the API and read + written again
//   (retryOnConflict), and the refusal is named by the API's own reason, not client-node's
//   "Unknown API Status Code!";
// - a container start error the kubelet retries (RunContainerError: runc could not start the
//   process) that goes away by itself: the probe-pod lifecycle waits it out (cannotStart ends a wait
//   only after 3 failed starts) instead of ending setup as "cannot start". The error is real: the
//   container's command is a file another container of the pod writes a few seconds later.
// Everything is made in this spec's own labelled namespace and deleted after (teardownRun).
import { afterAll, describe, expect, test } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { scaleTo } from '../../src/catalogue/services.js';
import { errorLine, isConflict, retryOnConflict } from '../../src/kube/errors.js';
import type { Kube } from '../../src/kube/client.js';
import { newRunId, runLabels } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { RETRIED_FAILURES_HOPELESS } from '../../src/workload/pods.js';
import { probePod, probeTemplate, startPods } from '../../src/workload/probe-pods.js';
import { WORKLOAD, teardownRun } from '../../src/workload/setup.js';
import { jestConnection } from '../support/netcheck.js';

const runId = newRunId();
const labels = runLabels(runId);
const ns = `knc-${runId}-t`;
let kube: Kube | undefined;

async function namespace(): Promise<{ kube: Kube; images: { probe: string; nginx: string } }> {
  const conn = await jestConnection();
  if (!kube) {
    kube = conn.kube;
    await kube.core.createNamespace({ body: { metadata: { name: ns, labels } } });
  }
  return { kube, images: conn.target.images };
}

afterAll(async () => {
  if (kube) await teardownRun(kube, runId);
});

describe('a write that meets a 409 Conflict', () => {
  test("the run's scale step lands beside another writer changing the Deployment meanwhile (a patch: nothing to conflict); a stale write's 409 is named by its reason", async () => {
    const { kube: k, images } = await namespace();
    // a Deployment of this spec's own, named as the run's (scaleTo scales WORKLOAD.deployment), no pods needed
    await k.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: WORKLOAD.deployment, labels },
        spec: {
          replicas: 0,
          selector: { matchLabels: { run: `knc-conflict-${runId}` } },
          template: {
            metadata: { labels: { ...labels, run: `knc-conflict-${runId}` } },
            spec: { containers: [{ name: 'c', image: images.nginx, imagePullPolicy: 'IfNotPresent' }] },
          },
        },
      },
    });
    // the other writer: an annotation rewritten as fast as the API takes it (every write moves the resourceVersion)
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        await k.apps.patchNamespacedDeployment(
          { name: WORKLOAD.deployment, namespace: ns, body: { metadata: { annotations: { 'kube-netcheck/writer': String(writes++) } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
    })();
    const steps = [...Array.from({ length: 19 }, (_, i) => i % 2), 2];
    const w0 = () => writes;
    let during = 0;
    try {
      for (const n of steps) {
        const before = w0();
        await scaleTo({ kube: k, workloadNs: ns }, n); // throws on any refusal
        during += w0() - before;
      }
    } finally {
      writing = false;
      await writer;
    }
    console.log(`${steps.length} scale steps, none refused, beside ${writes} writes of the other writer (${during} while a step was on its way)`);
    // the other writer did write while the steps were on their way (each write a new resourceVersion)
    expect(during).toBeGreaterThan(0);
    // every step landed: the last one is what the Deployment asks for now
    const scale = await k.apps.readNamespacedDeploymentScale({ name: WORKLOAD.deployment, namespace: ns });
    expect(scale.spec?.replicas ?? 0).toBe(steps[steps.length - 1]);
    // a read-modify-write with a stale resourceVersion (what the patch avoids) meets the API's 409, named by its reason,
    // and retryOnConflict's fresh read and write lands
    const stale = await k.apps.readNamespacedDeploymentScale({ name: WORKLOAD.deployment, namespace: ns });
    await k.apps.patchNamespacedDeployment(
      { name: WORKLOAD.deployment, namespace: ns, body: { metadata: { annotations: { 'kube-netcheck/writer': 'moved' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const refused = await k.apps.replaceNamespacedDeploymentScale({ name: WORKLOAD.deployment, namespace: ns, body: { ...stale, spec: { replicas: 3 } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(refused)).toBe(true);
    expect(errorLine(refused)).toMatch(
      /^API 409 Conflict: Operation cannot be fulfilled on deployments\.apps "my-nginx": the object has been modified; please apply your changes to the latest version and try again$/,
    );
    await retryOnConflict(async () => {
      const cur = await k.apps.readNamespacedDeploymentScale({ name: WORKLOAD.deployment, namespace: ns });
      await k.apps.replaceNamespacedDeploymentScale({ name: WORKLOAD.deployment, namespace: ns, body: { ...cur, spec: { replicas: 0 } } });
    });
    expect((await k.apps.readNamespacedDeploymentScale({ name: WORKLOAD.deployment, namespace: ns })).spec?.replicas ?? 0).toBe(0);
  });
});

describe('a container start error the kubelet retries', () => {
  test('a probe pod whose first start fails (RunContainerError) becomes Ready: the lifecycle waits it out, it does not end as "cannot start"', async () => {
    const { kube: k, images } = await namespace();
    const pod = probePod(probeTemplate('probe-pod'), 'probe-late-start', undefined, ns, images.probe, labels);
    // the probe's command is a file the other container writes 2 s after it starts: runc cannot exec it before
    pod.spec.volumes = [{ name: 'shared', emptyDir: {} }];
    const probe = pod.spec.containers[0];
    probe.command = ['/shared/start'];
    probe.volumeMounts = [{ name: 'shared', mountPath: '/shared' }];
    // the writer first: the kubelet starts a pod's containers in order, and one whose start failed
    // holds back the ones after it until its next try (10 s later, then 20 s)
    pod.spec.containers.unshift({
      ...probe,
      name: 'writer',
      command: ['sh', '-c', 'sleep 2; printf "#!/bin/sh\\nexec sleep 86400\\n" > /shared/start; chmod 755 /shared/start; exec sleep 86400'],
    });
    const t0 = Date.now();
    const [ready] = await startPods(k, [pod], { selector: 'app.kubernetes.io/component=probe', timeoutMs: 120_000 });
    const readyMs = Date.now() - t0;
    const p = await k.core.readNamespacedPod({ name: ready.pod, namespace: ns });
    const st = p.status!.containerStatuses!.find((c) => c.name === 'probe')!;
    console.log(
      `Ready after ${readyMs} ms, ${st.restartCount} failed start(s): ${st.lastState?.terminated?.reason} exit ${st.lastState?.terminated?.exitCode}: ${st.lastState?.terminated?.message?.split('\n')[0]}`,
    );
    // it failed to start at least once (runc: no such file), and fewer times than the wait's limit
    expect(st.restartCount).toBeGreaterThanOrEqual(1);
    expect(st.restartCount).toBeLessThan(RETRIED_FAILURES_HOPELESS);
    expect(st.lastState?.terminated?.reason).toBe('StartError');
    expect(st.lastState?.terminated?.message).toMatch(/\/shared\/start/);
    expect(st.ready).toBe(true);
    // and the kubelet's event says so (the reason setup used to end at once on)
    const events = await pollUntil({
      what: `the kubelet's Failed event for pod ${ready.pod}`,
      timeoutMs: 30_000,
      intervalMs: 500,
      probe: async () =>
        (await k.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === ready.pod && e.reason === 'Failed'),
      done: (es) => es.length > 0,
    });
    expect(events[0].message).toMatch(/RunContainerError|failed to create containerd task|exec/i);
  });
});
