// The built-in checks as pure verdicts on what the grader observed in a namespace: API objects
// (Deployment, ReplicaSets, pods, Service, Endpoints) and the probe pod's HTTP and dig outputs. No
// I/O here, so every verdict is unit-tested on hand-made objects.
//
// What the student built is judged, not whatever carries the label: the Deployment's pods are the
// ones it owns (ownerReferences: Deployment → ReplicaSet → Pod). Another pod with the same labels
// neither earns nor costs points for the Deployment's items; a Service that selects it does not
// select exactly the Deployment's pods, and its Endpoints then hold an address too many.
//
// The verdicts on Endpoints, HTTP answers and DNS name forms are the network-model checks' own
// (src/verdicts/endpoints.ts, http.ts, dns-matrix.ts): the grader adds what the lab expects, not a
// second copy of how to judge it.
import type { V1Deployment, V1EndpointSlice, V1Endpoints, V1Pod, V1ReplicaSet, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { ProbeOutput } from '../probes/batch.js';
import { parseDig } from '../probes/dns.js';
import { ANY_PAGE, verifyPage } from '../verdicts/http.js';
import { buildMatrix, digSeen, nameForms, verifyARecords, verifyDig, type DnsCell } from '../verdicts/dns-matrix.js';
import { verifyPolicyProbe, type Expectation } from '../verdicts/policy.js';
import { endpointsAddresses, fmt, readyAddresses, sliceAddresses, verifySet } from '../verdicts/endpoints.js';
import type { CheckFailure } from '../verdicts/failure.js';
import { isReady } from '../workload/pods.js';

/** The seed lab's check ids (the verdicts by their first names; a lab's check types map onto them). */
export const CHECK_IDS = [
  'deployment',
  'replicas',
  'pod-labels',
  'container-port',
  'service-port',
  'service-selector',
  'endpoints',
  'pod-http',
  'service-http',
  'dns-svc-ns',
  'dns-svc-ns-svc',
  'dns-fqdn',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** What a check expects of the namespace: its workload and Service, by name and numbers (from the lab). */
export interface LabExpectations {
  kind: 'Deployment' | 'StatefulSet';
  /** The workload's name (a Deployment or a StatefulSet). */
  deployment: string;
  service: string;
  replicas: number;
  podLabels: Record<string, string>;
  containerPort: number;
  servicePort: number;
  /** A headless Service is type ClusterIP with clusterIP None. */
  serviceType: 'ClusterIP' | 'NodePort' | 'Headless';
}

export const SEED_LAB: LabExpectations = {
  kind: 'Deployment',
  deployment: 'my-nginx',
  service: 'my-nginx',
  replicas: 2,
  podLabels: { run: 'my-nginx' },
  containerPort: 80,
  servicePort: 80,
  serviceType: 'ClusterIP',
};

/** The name forms the grader asks from its own namespace (the bare name resolves only inside the student's). */
export type GradedForm = Exclude<DnsCell['form'], 'svc'>;

export interface DnsObservation {
  form: GradedForm;
  name: string;
  output?: ProbeOutput;
}

export interface Observation {
  namespace: string;
  expect: LabExpectations;
  deployment?: V1Deployment;
  /** The namespace's ReplicaSets: the link Deployment → ReplicaSet → Pod. */
  replicaSets: V1ReplicaSet[];
  /** Every live (not terminating, not finished) pod in the namespace, the Deployment's and any other. */
  pods: V1Pod[];
  service?: V1Service;
  endpoints?: V1Endpoints;
  /** The Service's EndpointSlices (label kubernetes.io/service-name), whoever wrote them. */
  endpointSlices: V1EndpointSlice[];
  /** HTTP from the probe pod, every sample of the hold window: to each pod IP (by pod name), to the ClusterIP, to each endpoint address (ip:port). */
  podHttp: Map<string, ProbeOutput[]>;
  serviceHttp?: ProbeOutput[];
  endpointHttp: Map<string, ProbeOutput[]>;
  dns: DnsObservation[];
  /** The cluster domain the probe pod's resolv.conf names (the FQDN form uses it). */
  clusterDomain?: string;
  /** Where DNS answers must come from: the kube-dns ClusterIP (and a NodeLocal DNSCache the probe pod was given). */
  dnsServers?: string[];
  /** nodePort HTTP from the probe pod to each node (by "node ip:nodePort"), every sample. */
  nodePortHttp?: Map<string, ProbeOutput[]>;
  /** dig of each pod's own name (<pod>.<service>.<ns>.svc.<domain>), by pod name. */
  podDns?: Map<string, ProbeOutput>;
  /** A policy check's probes: by target (pod name or the Service), every sample. */
  policyHttp?: Map<string, ProbeOutput[]>;
  /** Where the policy probes came from (for messages). */
  policyFrom?: string;
  /** Whether the cluster enforces NetworkPolicy (the grader's own control), with what it saw. */
  policyEnforced?: { enforced: boolean; detail: string };
  /** Every object of the namespace by kind, as the API returned it (object checks). */
  objects?: Record<string, Array<Record<string, unknown>>>;
  /** The grader's probe namespace (HTTP and DNS are asked from there). */
  probeNamespace?: string;
  /** Set when the probe pod could not be used: probe checks fail with this reason. */
  probeError?: string;
}

export interface GradeOutcome {
  passed: boolean;
  /** What was seen, one line; on failure it says what is wrong. */
  detail: string;
}

const pass = (detail: string): GradeOutcome => ({ passed: true, detail });
const fail = (detail: string): GradeOutcome => ({ passed: false, detail });
const fmtLabels = (l: Record<string, string> | undefined) =>
  `{${Object.entries(l ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}}`;
const hasLabels = (have: Record<string, string> | undefined, want: Record<string, string>) => Object.entries(want).every(([k, v]) => have?.[k] === v);

/** Does a Service selector (a plain map) select pods with these labels? An empty selector selects nothing (no Endpoints). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && Object.keys(selector).length > 0 && hasLabels(labels, selector);
}

const templateLabels = (d: V1Deployment) => d.spec?.template?.metadata?.labels;
const containers = (d: V1Deployment) => d.spec?.template?.spec?.containers ?? [];
const nameOf = (p: V1Pod) => p.metadata!.name!;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const names = (pods: V1Pod[]) => pods.map(nameOf).join(', ');

const REVISION = 'deployment.kubernetes.io/revision';

/** The owner that controls an object (ownerReferences with controller: true). */
const controllerOf = (o: { metadata?: { ownerReferences?: Array<{ controller?: boolean; kind: string; uid: string }> } }) =>
  o.metadata?.ownerReferences?.find((r) => r.controller);

/** The live ReplicaSets the Deployment controls (by uid). */
function controlledReplicaSets(d: V1Deployment | undefined, replicaSets: V1ReplicaSet[]): V1ReplicaSet[] {
  const uid = d?.metadata?.uid;
  if (!uid) return [];
  return replicaSets
    .filter((rs) => !rs.metadata?.deletionTimestamp)
    .filter((rs) => {
      const c = controllerOf(rs);
      return c?.kind === 'Deployment' && c.uid === uid;
    });
}

/**
 * The Deployment's current ReplicaSet(s): the one whose revision annotation is the Deployment's
 * (what a rollout converges to); without revision annotations (never rolled out by a controller),
 * every live ReplicaSet it controls.
 */
export function currentReplicaSets(d: V1Deployment | undefined, replicaSets: V1ReplicaSet[]): V1ReplicaSet[] {
  const mine = controlledReplicaSets(d, replicaSets);
  const rev = d?.metadata?.annotations?.[REVISION];
  const current = rev === undefined ? [] : mine.filter((rs) => rs.metadata?.annotations?.[REVISION] === rev);
  return current.length ? current : mine;
}

const podsOf = (sets: V1ReplicaSet[], pods: V1Pod[]) => {
  const rsUids = new Set(sets.map((rs) => rs.metadata?.uid).filter((u): u is string => !!u));
  return pods.filter((p) => {
    const c = controllerOf(p);
    return c?.kind === 'ReplicaSet' && rsUids.has(c.uid);
  });
};

/**
 * The Deployment's own pods: controlled by its current ReplicaSet, which the Deployment controls,
 * by uid. Labels play no part: a bare pod or another workload's pod with the same labels is not
 * the Deployment's; mid-rollout, the old revision's pods are on their way out and not judged.
 */
export function ownedPods(d: V1Deployment | undefined, replicaSets: V1ReplicaSet[], pods: V1Pod[]): V1Pod[] {
  return podsOf(currentReplicaSets(d, replicaSets), pods);
}

/**
 * Has the Deployment's rollout finished: the controller has seen its latest spec, and every live pod
 * it owns through any ReplicaSet belongs to the current one, as many as spec.replicas (Ready or not:
 * a pod that never becomes Ready is the student's to fix, not a rollout to wait for).
 */
export function rolloutDone(d: V1Deployment, replicaSets: V1ReplicaSet[], pods: V1Pod[]): boolean {
  const gen = d.metadata?.generation;
  const seen = d.status?.observedGeneration;
  if (gen !== undefined && seen !== undefined && seen < gen) return false;
  const all = podsOf(controlledReplicaSets(d, replicaSets), pods);
  const current = ownedPods(d, replicaSets, pods);
  return all.length === current.length && current.length === (d.spec?.replicas ?? 1);
}

/**
 * A StatefulSet's own pods: controlled by it (uid), of its update revision when it names one (a
 * rolling update in progress is judged on the revision it converges to).
 */
export function statefulSetPods(sts: V1StatefulSet | undefined, pods: V1Pod[]): V1Pod[] {
  const uid = sts?.metadata?.uid;
  if (!uid) return [];
  const rev = sts.status?.updateRevision;
  return pods.filter((p) => {
    const c = controllerOf(p);
    return c?.kind === 'StatefulSet' && c.uid === uid && (!rev || p.metadata?.labels?.['controller-revision-hash'] === rev);
  });
}

/** A StatefulSet's rollout is done when the controller saw its spec and every pod it owns is of the update revision, as many as spec.replicas. */
export function statefulSetDone(sts: V1StatefulSet, pods: V1Pod[]): boolean {
  const gen = sts.metadata?.generation;
  const seen = sts.status?.observedGeneration;
  if (gen !== undefined && seen !== undefined && seen < gen) return false;
  const uid = sts.metadata?.uid;
  const all = pods.filter((p) => {
    const c = controllerOf(p);
    return c?.kind === 'StatefulSet' && c.uid === uid;
  });
  const current = statefulSetPods(sts, pods);
  return all.length === current.length && current.length === (sts.spec?.replicas ?? 1);
}

/** The workload's own pods in an observation (a Deployment's through its current ReplicaSet, a StatefulSet's directly). */
export const deploymentPods = (o: Pick<Observation, 'deployment' | 'replicaSets' | 'pods'> & { expect?: Pick<LabExpectations, 'kind'> }) =>
  o.expect?.kind === 'StatefulSet' ? statefulSetPods(o.deployment as V1StatefulSet | undefined, o.pods) : ownedPods(o.deployment, o.replicaSets, o.pods);

/** Pods that carry the lab's pod labels but are not the Deployment's: named in details, never counted. */
function strays(o: Observation, own: V1Pod[]): V1Pod[] {
  const mine = new Set(own.map(nameOf));
  return o.pods.filter((p) => !mine.has(nameOf(p)) && hasLabels(p.metadata?.labels, o.expect.podLabels));
}
const strayNote = (o: Observation, own: V1Pod[]) => {
  const s = strays(o, own);
  return s.length
    ? ` (not counted: ${plural(s.length, 'other pod')} labelled ${fmtLabels(o.expect.podLabels)} that ${o.expect.kind} ${o.expect.deployment} does not own: ${names(s)})`
    : '';
};

/** The Service port the lab asks for: number servicePort over TCP. */
export function servicePortOf(svc: V1Service | undefined, o: Pick<Observation, 'expect'>) {
  return svc?.spec?.ports?.find((p) => p.port === o.expect.servicePort && (p.protocol ?? 'TCP') === 'TCP');
}

/** The container port a Service port's targetPort means (a number, a named container port of the Deployment, or the port itself). */
export function resolveTargetPort(target: number | string | undefined, port: number, d: V1Deployment | undefined): number | undefined {
  if (target === undefined || target === null || target === '') return port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of d ? containers(d) : []) for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return undefined;
}

/** A shared verdict's failure as a grade detail: "<what>: expected …; saw …". */
const said = (f: CheckFailure, what = f.ctx.to) => `${what}: expected ${f.ctx.expected}; saw ${f.ctx.seen}`;

function deploymentMissing(o: Observation): GradeOutcome {
  return fail(`no ${o.expect.kind} ${o.expect.deployment} in namespace ${o.namespace}`);
}

/** The EndpointSlice controller's name in the managed-by label: slices it did not write (mirrored from hand-written Endpoints, or written by hand) do not count. */
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const managedSlices = (slices: V1EndpointSlice[]) =>
  slices.filter((sl) => sl.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] === SLICE_CONTROLLER);

/**
 * Why the Service is not the one the lab asks for, or undefined: it must exist, be of the lab's
 * type and have a selector, so that Kubernetes (the EndpointSlice controller) keeps its backends.
 * A selector-less Service with hand-written Endpoints, or an ExternalName Service (whose selector
 * Kubernetes ignores), earns no Service item, whatever else it gets right.
 */
export function unmanagedService(o: Pick<Observation, 'service' | 'expect' | 'namespace'>): string | undefined {
  const svc = o.service;
  if (!svc) return `no Service ${o.expect.service} in namespace ${o.namespace}`;
  const headless = svc.spec?.clusterIP === 'None';
  const type = headless && (svc.spec?.type ?? 'ClusterIP') === 'ClusterIP' ? 'Headless' : (svc.spec?.type ?? 'ClusterIP');
  if (type !== o.expect.serviceType)
    return `Service ${o.expect.service} is of type ${type}; the lab asks for a ${o.expect.serviceType} Service with a selector${type === 'ExternalName' ? " (Kubernetes ignores an ExternalName Service's selector and keeps no Endpoints for it)" : ''}`;
  const sel = svc.spec?.selector;
  if (!sel || !Object.keys(sel).length)
    return 'the Service has no selector, so it selects no pods: Kubernetes keeps no Endpoints for it (hand-written Endpoints do not count)';
  return undefined;
}

/** A verdict on a Service item that first requires the lab's selector-managed Service. */
const onService =
  (v: (o: Observation) => GradeOutcome) =>
  (o: Observation): GradeOutcome => {
    const bad = unmanagedService(o);
    return bad ? fail(bad) : v(o);
  };

/** Every owned pod Ready, or a line naming the ones that are not (phase, reason). */
function notReadyPods(own: V1Pod[]): string | undefined {
  const bad = own.filter((p) => !isReady(p) || !p.status?.podIP);
  if (!bad.length) return undefined;
  const why = (p: V1Pod) => {
    const sched = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    return `pod ${nameOf(p)} is ${p.status?.phase ?? 'unknown'}${sched?.reason ? ` (${sched.reason})` : ''}, not Ready`;
  };
  return bad.map(why).join('; ');
}

/** Every sample answered with the shared HTTP verdict; else the first failure and how many samples failed. */
function everySample(check: string, from: string, to: string, samples: ProbeOutput[] | undefined): string | undefined {
  if (!samples?.length) return `${to}: not asked`;
  const failures = samples.map((s) => verifyPage(check, from, to, s, 'ok', ANY_PAGE)).filter((f): f is CheckFailure => !!f);
  if (!failures.length) return undefined;
  return `${said(failures[0])} (${failures.length} of ${samples.length} samples failed)`;
}
const sampleCount = (m: Map<string, ProbeOutput[]>) => Math.max(0, ...[...m.values()].map((v) => v.length));

const VERDICTS: Record<CheckId, (o: Observation) => GradeOutcome> = {
  deployment: (o) => (o.deployment ? pass(`${o.expect.kind} ${o.expect.deployment} found`) : deploymentMissing(o)),

  replicas: (o) => {
    if (!o.deployment) return deploymentMissing(o);
    const want = o.expect.replicas;
    const spec = o.deployment.spec?.replicas ?? 1;
    const own = deploymentPods(o);
    const ready = own.filter(isReady).length;
    const seen = `spec.replicas=${spec}, ${ready} of ${plural(own.length, 'pod')} of the ${o.expect.kind} Ready${strayNote(o, own)}`;
    return spec === want && ready === want && own.length === want ? pass(seen) : fail(`expected ${want} replicas, all Ready; saw ${seen}`);
  },

  'pod-labels': (o) => {
    if (!o.deployment) return deploymentMissing(o);
    const want = o.expect.podLabels;
    const tpl = templateLabels(o.deployment);
    if (!hasLabels(tpl, want)) return fail(`expected pod labels ${fmtLabels(want)}; the pod template has ${fmtLabels(tpl)}`);
    const own = deploymentPods(o);
    const off = own.filter((p) => !hasLabels(p.metadata?.labels, want));
    if (off.length) return fail(`expected pod labels ${fmtLabels(want)}; pod ${off[0].metadata?.name} has ${fmtLabels(off[0].metadata?.labels)}`);
    return pass(`pod template and ${plural(own.length, 'pod')} of the ${o.expect.kind} labelled ${fmtLabels(want)}${strayNote(o, own)}`);
  },

  'container-port': (o) => {
    if (!o.deployment) return deploymentMissing(o);
    const want = o.expect.containerPort;
    const declared = containers(o.deployment).flatMap((c) => (c.ports ?? []).map((p) => ({ c: c.name, port: p.containerPort, proto: p.protocol ?? 'TCP' })));
    const hit = declared.find((p) => p.port === want && p.proto === 'TCP');
    if (hit) return pass(`container ${hit.c} declares containerPort ${want}/TCP`);
    return fail(
      `expected a container to declare containerPort ${want}/TCP; declared: ${declared.map((p) => `${p.c}:${p.port}/${p.proto}`).join(', ') || 'none'}`,
    );
  },

  'service-port': onService((o) => {
    const ports = (o.service!.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}->${p.targetPort ?? p.port}`).join(', ') || 'none';
    const p = servicePortOf(o.service, o);
    if (!p) return fail(`expected port ${o.expect.servicePort}/TCP; the Service has ports ${ports}`);
    const target = resolveTargetPort(p.targetPort as number | string | undefined, p.port, o.deployment);
    if (target !== o.expect.containerPort) {
      return fail(
        `expected port ${o.expect.servicePort} -> targetPort ${o.expect.containerPort}; the Service has ${ports}${target === undefined ? ` (targetPort ${JSON.stringify(p.targetPort)} names no container port)` : ''}`,
      );
    }
    return pass(`port ${p.port}/TCP -> targetPort ${target}`);
  }),

  'service-selector': onService((o) => {
    const sel = o.service!.spec!.selector!;
    if (!o.deployment) return fail(`selector ${fmtLabels(sel)}, but there is no ${o.expect.kind} ${o.expect.deployment} whose pods it could select`);
    const tpl = templateLabels(o.deployment);
    if (!selects(sel, tpl)) return fail(`selector ${fmtLabels(sel)} does not match the ${o.expect.kind}'s pod labels ${fmtLabels(tpl)}`);
    // exactly the Deployment's pods: none of another's (a stray pod would get the Service's traffic), none of its own left out
    const own = deploymentPods(o);
    const mine = new Set(own.map(nameOf));
    const selected = o.pods.filter((p) => selects(sel, p.metadata?.labels));
    const extra = selected.filter((p) => !mine.has(nameOf(p)));
    const chosen = new Set(selected.map(nameOf));
    const left = own.filter((p) => !chosen.has(nameOf(p)));
    const wrong = [
      ...extra.map((p) => `it also selects pod ${nameOf(p)} ${fmtLabels(p.metadata?.labels)}, which ${o.expect.kind} ${o.expect.deployment} does not own`),
      ...left.map((p) => `it leaves out the ${o.expect.kind}'s pod ${nameOf(p)} ${fmtLabels(p.metadata?.labels)}`),
    ];
    if (wrong.length)
      return fail(
        `expected selector ${fmtLabels(sel)} to select exactly the ${plural(own.length, 'pod')} of ${o.expect.kind} ${o.expect.deployment}; ${wrong.join('; ')}`,
      );
    return pass(`selector ${fmtLabels(sel)} selects exactly the ${plural(own.length, 'pod')} of ${o.expect.kind} ${o.expect.deployment}`);
  }),

  endpoints: onService((o) => {
    if (!o.deployment)
      return fail(`no ${o.expect.kind} ${o.expect.deployment} whose Ready pods the Endpoints should hold; Endpoints ${fmt(endpointsAddresses(o.endpoints))}`);
    const port = o.expect.containerPort;
    // the Endpoints entries of the lab's Service port (by its name), else of every port
    const svcPort = servicePortOf(o.service, o);
    const portName = svcPort ? (svcPort.name ?? '') : undefined;
    const seen = endpointsAddresses(o.endpoints, portName);
    const own = deploymentPods(o);
    const want = readyAddresses(own, port);
    if (!want.length)
      return fail(`expected the Ready pods of ${o.expect.kind} ${o.expect.deployment} on port ${port}, but it has no Ready pods; Endpoints ${fmt(seen)}`);
    // every pod of the Deployment must be in them: a pod that is not Ready is a backend missing
    const notReady = notReadyPods(own);
    if (notReady) return fail(`expected every pod of ${o.expect.kind} ${o.expect.deployment} Ready and in the Endpoints; ${notReady}; Endpoints ${fmt(seen)}`);
    const f = verifySet('endpoints', `Endpoints ${o.expect.service}`, 'Endpoints', want, seen);
    const whose = (addr: string) => {
      const p = o.pods.find((x) => x.status?.podIP === addr.slice(0, addr.lastIndexOf(':')));
      return p ? `${addr} (pod ${nameOf(p)})` : addr;
    };
    if (f) {
      const extra = seen.filter((a) => !want.includes(a)).map(whose);
      const missing = want.filter((a) => !seen.includes(a)).map(whose);
      const why = [
        extra.length ? `not the ${o.expect.kind}'s Ready pods on port ${port}: ${extra.join(', ')}` : '',
        missing.length ? `missing: ${missing.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      return fail(
        `expected Endpoints ${fmt(want)} (the ${plural(want.length, 'Ready pod')} of ${o.expect.kind} ${o.expect.deployment}); saw ${f.ctx.seen}${why ? `: ${why}` : ''}`,
      );
    }
    // and the EndpointSlices the EndpointSlice controller wrote for the selector say the same
    const sliced = sliceAddresses(managedSlices(o.endpointSlices), portName);
    const g = verifySet('endpoints', `EndpointSlices of ${o.expect.service}`, `EndpointSlices (managed-by ${SLICE_CONTROLLER})`, want, sliced);
    if (g)
      return fail(
        `expected the EndpointSlices written by ${SLICE_CONTROLLER} to hold ${fmt(want)}; saw ${g.ctx.seen}${
          o.endpointSlices.length > managedSlices(o.endpointSlices).length
            ? ` (EndpointSlices written by others do not count: ${o.endpointSlices
                .filter((x) => !managedSlices([x]).length)
                .map((x) => `${x.metadata?.name} managed-by ${x.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] ?? 'nobody'}`)
                .join(', ')})`
            : ''
        }`,
      );
    return pass(
      `Endpoints and EndpointSlices ${fmt(want)}: the ${plural(want.length, 'Ready pod')} of ${o.expect.kind} ${o.expect.deployment} on port ${port}`,
    );
  }),

  'pod-http': (o) => {
    if (o.probeError) return fail(o.probeError);
    if (!o.deployment) return deploymentMissing(o);
    const own = deploymentPods(o);
    if (!own.length) return fail(`${o.expect.kind} ${o.expect.deployment} has no pods to ask`);
    const from = probeLabel(o);
    // every pod the Deployment owns, each by itself, every sample of the hold window
    const lines = own.map((p) => {
      const to = `pod ${nameOf(p)} ${p.status?.podIP ?? '(no IP)'}:${o.expect.containerPort}`;
      const down = notReadyPods([p]);
      return { to, bad: down ?? everySample('pod-http', from, to, o.podHttp.get(nameOf(p))) };
    });
    const bad = lines.filter((l) => l.bad);
    if (bad.length)
      return fail(
        `expected every pod of the ${o.expect.kind} Ready and answering HTTP on port ${o.expect.containerPort} in every sample; ${bad.map((l) => l.bad).join('; ')}`,
      );
    return pass(`${lines.map((l) => `${l.to} answered`).join('; ')} (${sampleCount(o.podHttp)} samples each)`);
  },

  'service-http': onService((o) => {
    if (o.probeError) return fail(o.probeError);
    const svc = o.service!;
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None')
      return fail(`the Service has no ClusterIP (clusterIP: ${ip ?? 'unset'}), so there is no ClusterIP:${o.expect.servicePort} to answer`);
    if (!servicePortOf(svc, o)) return fail(`the Service has no port ${o.expect.servicePort}/TCP to answer on ${ip}`);
    // the Service is reachable when every pod behind it is: each owned pod Ready, every endpoint
    // address answering by itself, and the ClusterIP in every sample (one dead backend of two
    // would pass "any answer" most of the time)
    const own = o.deployment ? deploymentPods(o) : [];
    const down = notReadyPods(own);
    if (down) return fail(`expected every pod of ${o.expect.kind} ${o.expect.deployment} Ready behind the Service; ${down}`);
    const from = probeLabel(o);
    const to = `${o.expect.service} ${ip}:${o.expect.servicePort}`;
    const svcPort = servicePortOf(svc, o)!;
    const addrs = endpointsAddresses(o.endpoints, svcPort.name ?? '');
    const whose = (a: string) => o.pods.find((p) => p.status?.podIP === a.slice(0, a.lastIndexOf(':')));
    const bad = [
      everySample('service-http', from, to, o.serviceHttp),
      ...addrs.map((a) => {
        const p = whose(a);
        return everySample('service-http', from, `endpoint ${a}${p ? ` (pod ${nameOf(p)})` : ''}`, o.endpointHttp.get(a));
      }),
    ].filter((x): x is string => !!x);
    if (!addrs.length) bad.push(`the Service has no endpoint addresses on port ${o.expect.servicePort}`);
    if (bad.length) return fail(bad.join('; '));
    return pass(`${to} answered in all ${o.serviceHttp!.length} samples, and each of its ${plural(addrs.length, 'endpoint')} ${addrs.join(', ')} by itself`);
  }),

  'dns-svc-ns': (o) => dnsVerdict(o, 'svc.ns'),
  'dns-svc-ns-svc': (o) => dnsVerdict(o, 'svc.ns.svc'),
  'dns-fqdn': (o) => dnsVerdict(o, 'svc.ns.svc.domain'),
};

const probeLabel = (o: Observation) => `the grader's probe pod${o.probeNamespace ? ` in ${o.probeNamespace}` : ''}`;

/** The name form's verdict is the DNS matrix's: its cell (asked from the probe namespace) and verifyDig. */
function dnsVerdict(o: Observation, form: GradedForm): GradeOutcome {
  if (o.probeError) return fail(o.probeError);
  const d = o.dns.find((x) => x.form === form);
  if (!d?.output) return fail(`${d?.name ?? form} was not asked`);
  const r = parseDig(d.output.output);
  if (!o.service) return fail(`${d.name}: ${digSeen(r)} (no Service ${o.expect.service} in namespace ${o.namespace})`);
  const bad = unmanagedService(o);
  if (bad) return fail(bad);
  if (o.expect.serviceType === 'Headless') {
    // a headless Service's names resolve to its Ready pods, one A record each (every pod of the workload Ready)
    const own = deploymentPods(o);
    const down = notReadyPods(own);
    if (down) return fail(`expected every pod of ${o.expect.kind} ${o.expect.deployment} Ready behind the headless Service; ${down}`);
    const want = own.map((p) => p.status!.podIP!);
    const f = verifyARecords(probeLabel(o), d.name, r, o.dnsServers ?? [], want, d.output.command);
    return f ? fail(said(f, d.name)) : pass(`${d.name} -> ${[...want].sort().join(', ')} (the ${plural(want.length, 'Ready pod')})`);
  }
  const ip = o.service.spec?.clusterIP;
  if (!ip || ip === 'None') return fail(`${d.name}: ${digSeen(r)}; the Service has no ClusterIP to resolve to`);
  const fromNs = o.probeNamespace ?? "the grader's probe namespace";
  const cell = buildMatrix([{ service: o.expect.service, namespace: o.namespace, clusterIP: ip }], [fromNs], o.clusterDomain ?? 'cluster.local').find(
    (c) => c.form === form && c.name === d.name,
  );
  if (!cell)
    return fail(`${d.name} is not the ${form} form of Service ${o.expect.service}.${o.namespace} in cluster domain ${o.clusterDomain ?? 'cluster.local'}`);
  const f = verifyDig(cell, r, o.dnsServers ?? [], 'dig', d.output.command);
  return f ? fail(said(f, d.name)) : pass(`${d.name} -> ${ip}`);
}

/** Runs the given checks on one observation. */
export function evaluate(o: Observation, checks: readonly CheckId[]): Map<CheckId, GradeOutcome> {
  return new Map(checks.map((c) => [c, VERDICTS[c](o)]));
}

const GRADED_FORMS: readonly GradedForm[] = ['svc.ns', 'svc.ns.svc', 'svc.ns.svc.domain'];

/** The names the DNS checks ask (the DNS matrix's name forms, the bare name left out), for a Service in a namespace. */
export function dnsNames(service: string, namespace: string, domain: string): Array<Omit<DnsObservation, 'output'>> {
  return nameForms({ service, namespace, clusterIP: '' }, domain)
    .filter((f): f is [GradedForm, string] => (GRADED_FORMS as readonly string[]).includes(f[0]))
    .map(([form, name]) => ({ form, name }));
}

// ---- the check types beyond the seed lab's ------------------------------------------------------

/** nodeport-http: the Service's nodePort answers on every node's address, every sample. */
export function nodePortVerdict(o: Observation): GradeOutcome {
  if (o.probeError) return fail(o.probeError);
  const bad = unmanagedService(o);
  if (bad) return fail(bad);
  const port = servicePortOf(o.service, o);
  if (!port) return fail(`the Service has no port ${o.expect.servicePort}/TCP`);
  if (!port.nodePort) return fail(`port ${o.expect.servicePort} of the Service has no nodePort`);
  const own = o.deployment ? deploymentPods(o) : [];
  const down = notReadyPods(own);
  if (down) return fail(`expected every pod of ${o.expect.kind} ${o.expect.deployment} Ready behind the Service; ${down}`);
  const asked = [...(o.nodePortHttp ?? new Map<string, ProbeOutput[]>()).entries()];
  if (!asked.length) return fail(`nodePort ${port.nodePort}: no node was asked`);
  const from = probeLabel(o);
  const wrong = asked.map(([to, samples]) => everySample('nodeport-http', from, to, samples)).filter((x): x is string => !!x);
  if (wrong.length) return fail(`expected nodePort ${port.nodePort} to answer on every node in every sample; ${wrong.join('; ')}`);
  return pass(`nodePort ${port.nodePort} answered on ${plural(asked.length, 'node')} (${asked.map(([to]) => to).join(', ')}) in every sample`);
}

/** dns-pods: each pod of a StatefulSet has its own name under the headless Service, resolving to its IP. */
export function podDnsVerdict(o: Observation): GradeOutcome {
  if (o.probeError) return fail(o.probeError);
  const bad = unmanagedService(o);
  if (bad) return fail(bad);
  if (!o.deployment) return deploymentMissing(o);
  const own = deploymentPods(o);
  if (!own.length) return fail(`${o.expect.kind} ${o.expect.deployment} has no pods`);
  const down = notReadyPods(own);
  if (down) return fail(`expected every pod of ${o.expect.kind} ${o.expect.deployment} Ready; ${down}`);
  const sn = (o.deployment.spec as { serviceName?: string } | undefined)?.serviceName;
  if (sn !== o.expect.service)
    return fail(
      `the StatefulSet's serviceName is ${JSON.stringify(sn ?? null)}: its pods get names under a headless Service only when serviceName names it (${o.expect.service})`,
    );
  const domain = o.clusterDomain ?? 'cluster.local';
  const wrong: string[] = [];
  const names: string[] = [];
  for (const p of own) {
    const name = `${nameOf(p)}.${o.expect.service}.${o.namespace}.svc.${domain}`;
    const out = o.podDns?.get(nameOf(p));
    if (!out) {
      wrong.push(`${name}: not asked`);
      continue;
    }
    const f = verifyARecords(probeLabel(o), name, parseDig(out.output), o.dnsServers ?? [], [p.status!.podIP!], out.command);
    if (f) wrong.push(said(f, name));
    else names.push(`${name} -> ${p.status!.podIP}`);
  }
  return wrong.length ? fail(wrong.join('; ')) : pass(names.join('; '));
}

/** A field path's value: "spec.ingress.0.from.0.podSelector" (the client's `_from` read as `from`). */
export function fieldAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) cur = /^\d+$/.test(part) ? cur[Number(part)] : undefined;
    else if (typeof cur === 'object') {
      const o = cur as Record<string, unknown>;
      cur = part in o ? o[part] : o[`_${part}`];
    } else return undefined;
  }
  return cur;
}

/** Absent, null, an empty list, or a mapping with nothing in it (the client leaves unset fields as undefined keys). */
const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && !v.length) || (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every(isEmpty));

/** Does `seen` match `want`: scalars equal, lists as sets (each wanted item matched by one seen), maps by their keys; {} and null match only empty/absent. */
export function fieldMatches(want: unknown, seen: unknown): boolean {
  if (want === null || isEmpty(want)) return isEmpty(seen);
  if (Array.isArray(want)) return Array.isArray(seen) && seen.length === want.length && want.every((w) => seen.some((x) => fieldMatches(w, x)));
  if (typeof want === 'object')
    return !!seen && typeof seen === 'object' && !Array.isArray(seen) && Object.entries(want as object).every(([k, v]) => fieldMatches(v, fieldAt(seen, k)));
  return String(want) === String(seen);
}

/** object: an object of the kind (by name, or any) whose fields match. */
export function objectVerdict(
  o: Pick<Observation, 'objects' | 'namespace'>,
  spec: { kind: string; name?: string; fields: Record<string, unknown> },
): GradeOutcome {
  const all = o.objects?.[spec.kind] ?? [];
  const candidates = spec.name ? all.filter((x) => fieldAt(x, 'metadata.name') === spec.name) : all;
  const what = `${spec.kind}${spec.name ? ` ${spec.name}` : ''}`;
  if (!candidates.length) return fail(`no ${what} in namespace ${o.namespace}${spec.name || !all.length ? '' : ` (${all.length} other ${spec.kind} objects)`}`);
  const mismatches = (x: Record<string, unknown>) => Object.entries(spec.fields).filter(([k, v]) => !fieldMatches(v, fieldAt(x, k)));
  const hit = candidates.find((x) => mismatches(x).length === 0);
  const want = Object.entries(spec.fields)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  if (hit) return pass(`${spec.kind} ${String(fieldAt(hit, 'metadata.name'))}${want ? ` has ${want}` : ' exists'}`);
  const near = candidates.map(
    (x) =>
      `${String(fieldAt(x, 'metadata.name'))}: ${mismatches(x)
        .map(([k]) => `${k} is ${clipJson(fieldAt(x, k))}`)
        .join(', ')}`,
  );
  return fail(`expected ${spec.name ? what : `a ${spec.kind}`} with ${want}; ${near.join('; ')}`);
}
const clipJson = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'absent';
  return s.length > 100 ? `${s.slice(0, 99)}…` : s;
};

/** policy: every probe to every target as the lab expects (the policy layer's verdict, every sample); not judged where NetworkPolicy is not enforced. */
export function policyVerdict(o: Observation, spec: { expect: 'allowed' | 'denied'; to: 'pods' | 'service' }): GradeOutcome & { notJudged?: string } {
  if (o.probeError) return fail(o.probeError);
  if (o.policyEnforced && !o.policyEnforced.enforced)
    return {
      ...fail(`not judged: NetworkPolicy is not enforced on this cluster (${o.policyEnforced.detail})`),
      notJudged: `NetworkPolicy is not enforced on this cluster (${o.policyEnforced.detail})`,
    };
  if (!o.deployment) return deploymentMissing(o);
  if (spec.to === 'service') {
    const bad = unmanagedService(o);
    if (bad) return fail(bad);
  }
  const own = deploymentPods(o);
  const down = notReadyPods(own);
  if (down) return fail(`expected every pod of ${o.expect.kind} ${o.expect.deployment} Ready; ${down}`);
  const asked = [...(o.policyHttp ?? new Map<string, ProbeOutput[]>()).entries()];
  if (!asked.length) return fail('no probe was asked');
  const from = o.policyFrom ?? probeLabel(o);
  const wrong: string[] = [];
  for (const [to, samples] of asked) {
    if (!samples?.length) {
      wrong.push(`${to}: not asked`);
      continue;
    }
    const e: Expectation = { kind: 'http', expect: spec.expect === 'allowed' ? 'ok' : 'denied', from, to, because: "the lab's NetworkPolicies" };
    const failures = samples.map((x) => verifyPolicyProbe('policy', e, x)).filter((f): f is CheckFailure => !!f);
    if (failures.length)
      wrong.push(`${to}: expected ${failures[0].ctx.expected}; saw ${failures[0].ctx.seen} (${failures.length} of ${samples.length} samples)`);
  }
  if (wrong.length) return fail(wrong.join('; '));
  return pass(`from ${from}: ${asked.map(([to]) => to).join(', ')} ${spec.expect} in every sample`);
}
