// What the grader looks at in the student's namespace — read only: the Deployment, the ReplicaSets
// and pods (the Deployment's own pods are found through ownerReferences, src/grade/verdicts.ts),
// the Service and its Endpoints. HTTP and DNS are asked from a probe pod in a namespace of the
// grader's own (labelled like every kube-netcheck namespace, deleted afterwards), all in ONE exec
// with the fan-out inside.
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { clusterDnsServers, discoverFacts, domainFromResolvConf } from '../cluster/facts.js';
import { isLive, listPods } from '../workload/pods.js';
import { execInPod } from '../kube/exec.js';
import type { ProbeRef } from '../workload/setup.js';
import { startProbeNamespace } from '../workload/probe-pods.js';
import { runFanout } from '../workload/fanout.js';
import { httpProbe } from '../probes/http.js';
import { digProbe } from '../probes/dns.js';
import { parseSamples, sampled, type SampleOptions } from '../probes/samples.js';
import type { Probe } from '../probes/batch.js';
import { runLabels } from '../util/labels.js';
import { pollUntil } from '../util/poll.js';
import { endpointsAddresses } from '../verdicts/endpoints.js';
import { isDnsCheck, needsProbe } from './items.js';
import { rubricChecks, type Rubric } from './rubric.js';
import { deploymentPods, dnsNames, rolloutDone, servicePortOf, type Observation } from './verdicts.js';

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
  /** How long to wait for a Deployment mid-rollout to finish before judging it as it is (default 60 s). */
  rolloutTimeoutMs?: number;
  /** The hold window of every HTTP item: samples and the gap between them (default 5 samples, 0.5 s apart). */
  hold?: SampleOptions;
}

export const DEFAULT_HOLD: SampleOptions = { samples: 5, gapS: 0.5 };

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

/**
 * The probe plan: HTTP to each of the Deployment's pods, to the ClusterIP and to each endpoint
 * address of the Service, each sampled over the hold window (every sample is judged); dig for each
 * name form.
 */
export function planProbes(
  o: Pick<Observation, 'expect' | 'deployment' | 'replicaSets' | 'pods' | 'service' | 'endpoints' | 'dns'>,
  wanted: { podHttp: boolean; serviceHttp: boolean; dns: boolean },
  hold: SampleOptions = DEFAULT_HOLD,
): { probes: Probe[]; podIds: Map<string, string>; endpointIds: Map<string, string> } {
  const probes: Probe[] = [];
  const podIds = new Map<string, string>();
  const endpointIds = new Map<string, string>();
  if (wanted.podHttp) {
    // the Deployment's own pods only: another pod with the same labels is not asked
    deploymentPods(o).filter((p) => p.status?.podIP).forEach((p, i) => {
      podIds.set(`pod-${i}`, p.metadata!.name!);
      probes.push(sampled(httpProbe(`pod-${i}`, p.status!.podIP!, o.expect.containerPort), hold));
    });
  }
  const ip = o.service?.spec?.clusterIP;
  const port = servicePortOf(o.service, o);
  if (wanted.serviceHttp && ip && ip !== 'None' && port) {
    probes.push(sampled(httpProbe('svc', ip, o.expect.servicePort), hold));
    endpointsAddresses(o.endpoints, port.name ?? '').forEach((addr, i) => {
      const at = addr.lastIndexOf(':');
      endpointIds.set(`ep-${i}`, addr);
      probes.push(sampled(httpProbe(`ep-${i}`, addr.slice(0, at), Number(addr.slice(at + 1))), hold));
    });
  }
  if (wanted.dns) o.dns.forEach((d, i) => probes.push(digProbe(`dns-${i}`, d.name, { search: true })));
  return { probes, podIds, endpointIds };
}

/** The grader's probe namespace and pod, through the workload's probe-pod lifecycle. */
async function startProbe(o: ObserveOptions): Promise<ProbeRef> {
  const ns = probeNamespaceName(o.runId);
  try {
    const [probe] = await startProbeNamespace(o.kube, { namespace: ns, labels: runLabels(o.runId), image: o.probeImage, timeoutMs: o.probeReadyTimeoutMs, onCreate: o.onNamespaceCreate });
    return probe;
  } catch (err) {
    throw new Error(`the grader's probe pod in ${ns} (image ${o.probeImage}) did not become Ready — is the image on the nodes (KNC_PROBE_IMAGE)? ${(err as Error).message.split('\n')[0]}`);
  }
}

interface Workload {
  deployment?: V1Deployment;
  replicaSets: V1ReplicaSet[];
  pods: V1Pod[];
}

/** The Deployment, its ReplicaSets and the namespace's live pods, once a rollout in progress has finished (bounded). */
async function readWorkload(kube: Kube, ns: string, name: string, timeoutMs: number, log?: (line: string) => void): Promise<Workload> {
  const read = async (): Promise<Workload> => {
    const [deployment, replicaSets, pods] = await Promise.all([
      optional(kube.apps.readNamespacedDeployment({ name, namespace: ns })),
      // ownership, not labels: Deployment → ReplicaSet → Pod; every pod, so that a Service selecting another's is seen
      kube.apps.listNamespacedReplicaSet({ namespace: ns }).then((l) => l.items),
      listPods(kube, ns).then((all) => all.filter(isLive).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))),
    ]);
    return { deployment, replicaSets, pods };
  };
  const first = await read();
  if (!first.deployment || rolloutDone(first.deployment, first.replicaSets, first.pods)) return first;
  // mid-rollout: the student's change is still being rolled out; judge the result, not the transition
  log?.(`Deployment ${name} is mid-rollout: waiting up to ${timeoutMs / 1000}s for it to finish`);
  let last = first;
  try {
    return await pollUntil({
      what: `Deployment ${ns}/${name}'s rollout to finish`,
      timeoutMs,
      intervalMs: 500,
      probe: async () => (last = await read()),
      done: (w) => !w.deployment || rolloutDone(w.deployment, w.replicaSets, w.pods),
    });
  } catch {
    log?.(`Deployment ${name}: the rollout did not finish within ${timeoutMs / 1000}s; judged on its current ReplicaSet as it is`);
    return last;
  }
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
  const [work, service, endpoints, endpointSlices] = await Promise.all([
    readWorkload(kube, ns, e.deployment, o.rolloutTimeoutMs ?? 60_000, o.log),
    optional(kube.core.readNamespacedService({ name: e.service, namespace: ns })),
    optional(kube.core.readNamespacedEndpoints({ name: e.service, namespace: ns })),
    kube.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${e.service}` }).then((l) => l.items),
  ]);
  const timings: Timings = { apiMs: Date.now() - t0 };

  const observation: Observation = { namespace: ns, expect: e, ...work, service, endpoints, endpointSlices, podHttp: new Map(), endpointHttp: new Map(), dns: [] };
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
  const { probes, podIds, endpointIds } = planProbes(observation, { podHttp: checks.includes('pod-http'), serviceHttp: checks.includes('service-http'), dns: !!f }, o.hold);
  const t1 = Date.now();
  const out = await runFanout(kube, probe, probes, 60_000);
  timings.probesMs = Date.now() - t1;
  o.log?.(`probe: ${probes.length} probes from ${probe.namespace}/${probe.pod} on ${probe.node} in one exec, ${timings.probesMs}ms`);
  const samples = (id: string) => { const r = out.get(id); return r ? parseSamples(r) : undefined; };
  for (const [id, pod] of podIds) observation.podHttp.set(pod, samples(id)!);
  for (const [id, addr] of endpointIds) observation.endpointHttp.set(addr, samples(id)!);
  observation.serviceHttp = samples('svc');
  observation.dns.forEach((d, i) => (d.output = out.get(`dns-${i}`)));
  return { observation, timings, probe };
}
