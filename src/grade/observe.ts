// What the grader looks at in the student's namespace — read only: the Deployment, the ReplicaSets
// and pods (the Deployment's own pods are found through ownerReferences, src/grade/verdicts.ts),
// the Service and its Endpoints. HTTP and DNS are asked from a probe pod in a namespace of the
// grader's own (labelled like every kube-netcheck namespace, deleted afterwards), all in ONE exec
// with the fan-out inside.
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { clusterDnsServers, discoverFacts, domainFromResolvConf } from '../cluster/facts.js';
import { createAll } from '../workload/apply.js';
import { MANIFESTS_DIR, loadYamlDocs } from '../workload/manifests.js';
import { isLive, listPods, waitPodsReady } from '../workload/pods.js';
import { execInPod } from '../kube/exec.js';
import { probePod, probeRef, type ProbeRef } from '../workload/setup.js';
import { runFanout } from '../workload/fanout.js';
import { httpProbe } from '../probes/http.js';
import { digProbe } from '../probes/dns.js';
import type { Probe } from '../probes/batch.js';
import { runLabels } from '../util/labels.js';
import { isDnsCheck, needsProbe } from './items.js';
import { rubricChecks, type Rubric } from './rubric.js';
import { deploymentPods, dnsNames, servicePortOf, type Observation } from './verdicts.js';

export const DEFAULT_PROBE_IMAGE = 'kube-netcheck.local/probe:trixie-r1';
export const probeNamespaceName = (runId: string) => `knc-grade-${runId}`;

export interface ObserveOptions {
  kube: Kube;
  namespace: string;
  rubric: Rubric;
  /** Labels the probe namespace (runLabels) and names it (knc-grade-<runId>). */
  runId: string;
  probeImage: string;
  probeReadyTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Resolves once the probe namespace exists (or its creation failed): cleanup waits for it. */
  onNamespaceCreate?: (creating: Promise<unknown>) => void;
}

export interface Timings {
  apiMs: number;
  probeReadyMs?: number;
  probesMs?: number;
}

/** A 404 from the API as undefined. */
async function optional<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Runs a probe up to `attempts` times, 1 s apart, until it succeeds (a rollout settling is not a mistake). */
export function retried(p: Probe, attempts = 3): Probe {
  const script = `n=1; while :; do "$@" && exit 0; r=$?; [ "$n" -ge ${attempts} ] && exit "$r"; n=$((n+1)); sleep 1; done`;
  return { id: p.id, argv: ['sh', '-c', script, 'retry', ...p.argv] };
}

/** The probe plan: HTTP to each pod IP and to the ClusterIP, dig for each name form. */
export function planProbes(o: Pick<Observation, 'expect' | 'deployment' | 'replicaSets' | 'pods' | 'service' | 'dns'>, wanted: { podHttp: boolean; serviceHttp: boolean; dns: boolean }): { probes: Probe[]; podIds: Map<string, string> } {
  const probes: Probe[] = [];
  const podIds = new Map<string, string>();
  if (wanted.podHttp) {
    // the Deployment's own pods only: another pod with the same labels is not asked
    deploymentPods(o).filter((p) => p.status?.podIP).forEach((p, i) => {
      podIds.set(`pod-${i}`, p.metadata!.name!);
      probes.push(retried(httpProbe(`pod-${i}`, p.status!.podIP!, o.expect.containerPort)));
    });
  }
  const ip = o.service?.spec?.clusterIP;
  if (wanted.serviceHttp && ip && ip !== 'None' && servicePortOf(o.service, o)) probes.push(retried(httpProbe('svc', ip, o.expect.servicePort)));
  if (wanted.dns) o.dns.forEach((d, i) => probes.push(digProbe(`dns-${i}`, d.name, { search: true })));
  return { probes, podIds };
}

/** Creates the probe namespace and pod; resolves to the Ready pod. */
async function startProbe(o: ObserveOptions): Promise<ProbeRef> {
  const ns = probeNamespaceName(o.runId);
  const labels = runLabels(o.runId);
  const creating = o.kube.core.createNamespace({ body: { metadata: { name: ns, labels } } });
  o.onNamespaceCreate?.(creating.catch(() => undefined));
  await creating;
  const [template] = loadYamlDocs(path.join(MANIFESTS_DIR, 'probes/probe-pod.yaml'));
  const pod = probePod(template, 'probe', undefined, ns, o.probeImage, labels);
  // a fresh namespace may not have its default ServiceAccount yet: pod creation is refused until it does
  for (let attempt = 1; ; attempt++) {
    try {
      await createAll(o.kube, [pod]);
      break;
    } catch (err) {
      if (attempt >= 40 || !/service ?account/i.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  let ready: V1Pod[];
  try {
    ready = await waitPodsReady(o.kube, ns, 'app.kubernetes.io/component=probe', { count: 1, timeoutMs: o.probeReadyTimeoutMs ?? 90_000 });
  } catch (err) {
    throw new Error(`the grader's probe pod ${ns}/probe (image ${o.probeImage}) did not become Ready — is the image on the nodes (KNC_PROBE_IMAGE)? ${(err as Error).message.split('\n')[0]}`);
  }
  return probeRef(ready[0]);
}

/** Reads the namespace and, when the rubric needs it, probes from inside the cluster. */
export async function observe(o: ObserveOptions): Promise<{ observation: Observation; timings: Timings; probe?: ProbeRef }> {
  const { kube, namespace: ns, rubric } = o;
  const checks = rubricChecks(rubric);
  const withProbe = checks.some(needsProbe);
  const t0 = Date.now();
  // the probe pod starts while the API is read
  const probeStarting = withProbe ? startProbe(o) : undefined;
  probeStarting?.catch(() => undefined); // awaited below; do not let an early rejection go unhandled
  if (withProbe) o.log?.(`probe: namespace ${probeNamespaceName(o.runId)}, image ${o.probeImage}`);
  const facts = checks.some(isDnsCheck) ? discoverFacts(kube) : undefined;
  facts?.catch(() => undefined);

  const e = rubric.expect;
  const [deployment, service, endpoints, replicaSets, allPods] = await Promise.all([
    optional(kube.apps.readNamespacedDeployment({ name: e.deployment, namespace: ns })),
    optional(kube.core.readNamespacedService({ name: e.service, namespace: ns })),
    optional(kube.core.readNamespacedEndpoints({ name: e.service, namespace: ns })),
    // ownership, not labels: Deployment → ReplicaSet → Pod; every pod, so that a Service selecting another's is seen
    kube.apps.listNamespacedReplicaSet({ namespace: ns }).then((l) => l.items),
    listPods(kube, ns),
  ]);
  const pods = allPods.filter(isLive).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  const timings: Timings = { apiMs: Date.now() - t0 };

  const observation: Observation = { namespace: ns, expect: e, deployment, replicaSets, pods, service, endpoints, podHttp: new Map(), dns: [] };
  if (!withProbe) return { observation, timings };

  const probe = await probeStarting!;
  timings.probeReadyMs = Date.now() - t0;
  observation.probeNamespace = probe.namespace;
  const f = await facts;
  if (f) {
    // the cluster domain and nameserver as the probe pod sees them (resolv.conf), not as assumed
    const rc = await execInPod({ kc: kube.kc, namespace: probe.namespace, pod: probe.pod, command: ['cat', '/etc/resolv.conf'], timeoutMs: 15_000 });
    const seen = domainFromResolvConf(rc.stdout, probe.namespace);
    observation.clusterDomain = seen.domain ?? f.clusterDomain;
    observation.dnsServers = clusterDnsServers({ dnsServiceIP: f.dnsServiceIP, podNameserver: seen.nameserver });
    observation.dns = dnsNames(e.service, ns, observation.clusterDomain);
  }
  const { probes, podIds } = planProbes(observation, { podHttp: checks.includes('pod-http'), serviceHttp: checks.includes('service-http'), dns: !!f });
  const t1 = Date.now();
  const out = await runFanout(kube, probe, probes, 30_000);
  timings.probesMs = Date.now() - t1;
  o.log?.(`probe: ${probes.length} probes from ${probe.namespace}/${probe.pod} on ${probe.node} in one exec, ${timings.probesMs}ms`);
  for (const [id, pod] of podIds) observation.podHttp.set(pod, out.get(id)!);
  observation.serviceHttp = out.get('svc');
  observation.dns.forEach((d, i) => (d.output = out.get(`dns-${i}`)));
  return { observation, timings, probe };
}
