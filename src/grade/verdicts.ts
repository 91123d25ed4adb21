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
import type { V1Deployment, V1Endpoints, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { ProbeOutput } from '../probes/batch.js';
import { parseDig } from '../probes/dns.js';
import { ANY_PAGE, verifyPage } from '../verdicts/http.js';
import { buildMatrix, digSeen, nameForms, verifyDig, type DnsCell } from '../verdicts/dns-matrix.js';
import { endpointsAddresses, fmt, readyAddresses, verifySet } from '../verdicts/endpoints.js';
import type { CheckFailure } from '../verdicts/failure.js';
import { isReady } from '../workload/pods.js';
import type { CheckId } from './items.js';
import type { LabExpectations } from './rubric.js';

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
  /** HTTP from the probe pod to each pod IP (by pod name), and to the ClusterIP. */
  podHttp: Map<string, ProbeOutput>;
  serviceHttp?: ProbeOutput;
  dns: DnsObservation[];
  /** The cluster domain the probe pod's resolv.conf names (the FQDN form uses it). */
  clusterDomain?: string;
  /** Where DNS answers must come from: the kube-dns ClusterIP (and a NodeLocal DNSCache the probe pod was given). */
  dnsServers?: string[];
  /** The grader's probe namespace (HTTP and DNS are asked from there). */
  probeNamespace?: string;
  /** Set when the probe pod could not be used: probe checks fail with this reason. */
  probeError?: string;
}

export interface Outcome {
  passed: boolean;
  /** What was seen, one line; on failure it says what is wrong. */
  detail: string;
}

const pass = (detail: string): Outcome => ({ passed: true, detail });
const fail = (detail: string): Outcome => ({ passed: false, detail });
const fmtLabels = (l: Record<string, string> | undefined) => `{${Object.entries(l ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}}`;
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

/** The owner that controls an object (ownerReferences with controller: true). */
const controllerOf = (o: { metadata?: { ownerReferences?: Array<{ controller?: boolean; kind: string; uid: string }> } }) =>
  o.metadata?.ownerReferences?.find((r) => r.controller);

/**
 * The Deployment's own pods: controlled by a ReplicaSet (any live revision) that the Deployment
 * controls, by uid. Labels play no part: a bare pod or another workload's pod with the same labels
 * is not the Deployment's.
 */
export function ownedPods(d: V1Deployment | undefined, replicaSets: V1ReplicaSet[], pods: V1Pod[]): V1Pod[] {
  const uid = d?.metadata?.uid;
  if (!uid) return [];
  const rsUids = new Set(
    replicaSets
      .filter((rs) => !rs.metadata?.deletionTimestamp)
      .filter((rs) => { const c = controllerOf(rs); return c?.kind === 'Deployment' && c.uid === uid; })
      .map((rs) => rs.metadata?.uid)
      .filter((u): u is string => !!u),
  );
  return pods.filter((p) => { const c = controllerOf(p); return c?.kind === 'ReplicaSet' && rsUids.has(c.uid); });
}

/** The Deployment's own pods in an observation. */
export const deploymentPods = (o: Pick<Observation, 'deployment' | 'replicaSets' | 'pods'>) => ownedPods(o.deployment, o.replicaSets, o.pods);

/** Pods that carry the lab's pod labels but are not the Deployment's: named in details, never counted. */
function strays(o: Observation, own: V1Pod[]): V1Pod[] {
  const mine = new Set(own.map(nameOf));
  return o.pods.filter((p) => !mine.has(nameOf(p)) && hasLabels(p.metadata?.labels, o.expect.podLabels));
}
const strayNote = (o: Observation, own: V1Pod[]) => {
  const s = strays(o, own);
  return s.length ? ` (not counted: ${plural(s.length, 'other pod')} labelled ${fmtLabels(o.expect.podLabels)} that Deployment ${o.expect.deployment} does not own: ${names(s)})` : '';
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

function deploymentMissing(o: Observation): Outcome {
  return fail(`no Deployment ${o.expect.deployment} in namespace ${o.namespace}`);
}
function serviceMissing(o: Observation): Outcome {
  return fail(`no Service ${o.expect.service} in namespace ${o.namespace}`);
}

const VERDICTS: Record<CheckId, (o: Observation) => Outcome> = {
  deployment: (o) => (o.deployment ? pass(`Deployment ${o.expect.deployment} found`) : deploymentMissing(o)),

  replicas: (o) => {
    if (!o.deployment) return deploymentMissing(o);
    const want = o.expect.replicas;
    const spec = o.deployment.spec?.replicas ?? 1;
    const own = deploymentPods(o);
    const ready = own.filter(isReady).length;
    const seen = `spec.replicas=${spec}, ${ready} of ${plural(own.length, 'pod')} of the Deployment Ready${strayNote(o, own)}`;
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
    return pass(`pod template and ${plural(own.length, 'pod')} of the Deployment labelled ${fmtLabels(want)}${strayNote(o, own)}`);
  },

  'container-port': (o) => {
    if (!o.deployment) return deploymentMissing(o);
    const want = o.expect.containerPort;
    const declared = containers(o.deployment).flatMap((c) => (c.ports ?? []).map((p) => ({ c: c.name, port: p.containerPort, proto: p.protocol ?? 'TCP' })));
    const hit = declared.find((p) => p.port === want && p.proto === 'TCP');
    if (hit) return pass(`container ${hit.c} declares containerPort ${want}/TCP`);
    return fail(`expected a container to declare containerPort ${want}/TCP; declared: ${declared.map((p) => `${p.c}:${p.port}/${p.proto}`).join(', ') || 'none'}`);
  },

  'service-port': (o) => {
    if (!o.service) return serviceMissing(o);
    const ports = (o.service.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}->${p.targetPort ?? p.port}`).join(', ') || 'none';
    const p = servicePortOf(o.service, o);
    if (!p) return fail(`expected port ${o.expect.servicePort}/TCP; the Service has ports ${ports}`);
    const target = resolveTargetPort(p.targetPort as number | string | undefined, p.port, o.deployment);
    if (target !== o.expect.containerPort) {
      return fail(`expected port ${o.expect.servicePort} -> targetPort ${o.expect.containerPort}; the Service has ${ports}${target === undefined ? ` (targetPort ${JSON.stringify(p.targetPort)} names no container port)` : ''}`);
    }
    return pass(`port ${p.port}/TCP -> targetPort ${target}`);
  },

  'service-selector': (o) => {
    if (!o.service) return serviceMissing(o);
    const sel = o.service.spec?.selector;
    if (!sel || !Object.keys(sel).length) return fail('the Service has no selector, so it selects no pods');
    if (!o.deployment) return fail(`selector ${fmtLabels(sel)}, but there is no Deployment ${o.expect.deployment} whose pods it could select`);
    const tpl = templateLabels(o.deployment);
    if (!selects(sel, tpl)) return fail(`selector ${fmtLabels(sel)} does not match the Deployment's pod labels ${fmtLabels(tpl)}`);
    // exactly the Deployment's pods: none of another's (a stray pod would get the Service's traffic), none of its own left out
    const own = deploymentPods(o);
    const mine = new Set(own.map(nameOf));
    const selected = o.pods.filter((p) => selects(sel, p.metadata?.labels));
    const extra = selected.filter((p) => !mine.has(nameOf(p)));
    const chosen = new Set(selected.map(nameOf));
    const left = own.filter((p) => !chosen.has(nameOf(p)));
    const wrong = [
      ...extra.map((p) => `it also selects pod ${nameOf(p)} ${fmtLabels(p.metadata?.labels)}, which Deployment ${o.expect.deployment} does not own`),
      ...left.map((p) => `it leaves out the Deployment's pod ${nameOf(p)} ${fmtLabels(p.metadata?.labels)}`),
    ];
    if (wrong.length) return fail(`expected selector ${fmtLabels(sel)} to select exactly the ${plural(own.length, 'pod')} of Deployment ${o.expect.deployment}; ${wrong.join('; ')}`);
    return pass(`selector ${fmtLabels(sel)} selects exactly the ${plural(own.length, 'pod')} of Deployment ${o.expect.deployment}`);
  },

  endpoints: (o) => {
    if (!o.service) return serviceMissing(o);
    if (!o.deployment) return fail(`no Deployment ${o.expect.deployment} whose Ready pods the Endpoints should hold; Endpoints ${fmt(endpointsAddresses(o.endpoints))}`);
    const port = o.expect.containerPort;
    // the Endpoints entries of the lab's Service port (by its name), else of every port
    const svcPort = servicePortOf(o.service, o);
    const seen = endpointsAddresses(o.endpoints, svcPort ? (svcPort.name ?? '') : undefined);
    const want = readyAddresses(deploymentPods(o), port);
    if (!want.length) return fail(`expected the Ready pods of Deployment ${o.expect.deployment} on port ${port}, but it has no Ready pods; Endpoints ${fmt(seen)}`);
    const f = verifySet('endpoints', `Endpoints ${o.expect.service}`, 'Endpoints', want, seen);
    if (!f) return pass(`Endpoints ${fmt(want)}: the ${plural(want.length, 'Ready pod')} of Deployment ${o.expect.deployment} on port ${port}`);
    const whose = (addr: string) => {
      const p = o.pods.find((x) => x.status?.podIP === addr.slice(0, addr.lastIndexOf(':')));
      return p ? `${addr} (pod ${nameOf(p)})` : addr;
    };
    const extra = seen.filter((a) => !want.includes(a)).map(whose);
    const missing = want.filter((a) => !seen.includes(a)).map(whose);
    const why = [extra.length ? `not the Deployment's Ready pods on port ${port}: ${extra.join(', ')}` : '', missing.length ? `missing: ${missing.join(', ')}` : ''].filter(Boolean).join('; ');
    return fail(`expected Endpoints ${fmt(want)} (the ${plural(want.length, 'Ready pod')} of Deployment ${o.expect.deployment}); saw ${f.ctx.seen}${why ? `: ${why}` : ''}`);
  },

  'pod-http': (o) => {
    if (o.probeError) return fail(o.probeError);
    if (!o.deployment) return deploymentMissing(o);
    const pods = deploymentPods(o).filter((p) => p.status?.podIP);
    if (!pods.length) return fail(`Deployment ${o.expect.deployment} has no pod with an IP to ask`);
    const from = probeLabel(o);
    const results = pods.map((p) => {
      const to = `pod ${nameOf(p)} ${p.status!.podIP}:${o.expect.containerPort}`;
      const out = o.podHttp.get(nameOf(p));
      return { to, failure: out ? verifyPage('pod-http', from, to, out, 'ok', ANY_PAGE) : undefined, asked: !!out };
    });
    const bad = results.filter((r) => !r.asked || r.failure);
    const line = (r: (typeof results)[number]) => (!r.asked ? `${r.to}: not asked` : r.failure ? said(r.failure) : `${r.to} answered`);
    return bad.length ? fail(`expected every pod of the Deployment to answer HTTP on port ${o.expect.containerPort}; ${bad.map(line).join('; ')}`) : pass(results.map(line).join('; '));
  },

  'service-http': (o) => {
    if (o.probeError) return fail(o.probeError);
    if (!o.service) return serviceMissing(o);
    const ip = o.service.spec?.clusterIP;
    if (!ip || ip === 'None') return fail(`the Service has no ClusterIP (clusterIP: ${ip ?? 'unset'}), so there is no ClusterIP:${o.expect.servicePort} to answer`);
    if (!servicePortOf(o.service, o)) return fail(`the Service has no port ${o.expect.servicePort}/TCP to answer on ${ip}`);
    const to = `${o.expect.service} ${ip}:${o.expect.servicePort}`;
    if (!o.serviceHttp) return fail(`${to} was not asked`);
    const f = verifyPage('service-http', probeLabel(o), to, o.serviceHttp, 'ok', ANY_PAGE);
    return f ? fail(said(f)) : pass(`${to} answered`);
  },

  'dns-svc-ns': (o) => dnsVerdict(o, 'svc.ns'),
  'dns-svc-ns-svc': (o) => dnsVerdict(o, 'svc.ns.svc'),
  'dns-fqdn': (o) => dnsVerdict(o, 'svc.ns.svc.domain'),
};

const probeLabel = (o: Observation) => `the grader's probe pod${o.probeNamespace ? ` in ${o.probeNamespace}` : ''}`;

/** The name form's verdict is the DNS matrix's: its cell (asked from the probe namespace) and verifyDig. */
function dnsVerdict(o: Observation, form: GradedForm): Outcome {
  if (o.probeError) return fail(o.probeError);
  const d = o.dns.find((x) => x.form === form);
  if (!d?.output) return fail(`${d?.name ?? form} was not asked`);
  const r = parseDig(d.output.output);
  if (!o.service) return fail(`${d.name}: ${digSeen(r)} (no Service ${o.expect.service} in namespace ${o.namespace})`);
  const ip = o.service.spec?.clusterIP;
  if (!ip || ip === 'None') return fail(`${d.name}: ${digSeen(r)}; the Service has no ClusterIP to resolve to`);
  const fromNs = o.probeNamespace ?? "the grader's probe namespace";
  const cell = buildMatrix([{ service: o.expect.service, namespace: o.namespace, clusterIP: ip }], [fromNs], o.clusterDomain ?? 'cluster.local').find((c) => c.form === form && c.name === d.name);
  if (!cell) return fail(`${d.name} is not the ${form} form of Service ${o.expect.service}.${o.namespace} in cluster domain ${o.clusterDomain ?? 'cluster.local'}`);
  const f = verifyDig(cell, r, o.dnsServers ?? [], 'dig', d.output.command);
  return f ? fail(said(f, d.name)) : pass(`${d.name} -> ${ip}`);
}

/** Runs the given checks on one observation. */
export function evaluate(o: Observation, checks: readonly CheckId[]): Map<CheckId, Outcome> {
  return new Map(checks.map((c) => [c, VERDICTS[c](o)]));
}

const GRADED_FORMS: readonly GradedForm[] = ['svc.ns', 'svc.ns.svc', 'svc.ns.svc.domain'];

/** The names the DNS checks ask (the DNS matrix's name forms, the bare name left out), for a Service in a namespace. */
export function dnsNames(service: string, namespace: string, domain: string): Array<Omit<DnsObservation, 'output'>> {
  return nameForms({ service, namespace, clusterIP: '' }, domain)
    .filter((f): f is [GradedForm, string] => (GRADED_FORMS as readonly string[]).includes(f[0]))
    .map(([form, name]) => ({ form, name }));
}
