// The built-in checks as pure verdicts on what the grader observed in a namespace: API objects
// (Deployment, its pods, Service, Endpoints) and the probe pod's HTTP and dig outputs. No I/O
// here, so every verdict is unit-tested on hand-made objects.
import type { V1Deployment, V1Endpoints, V1LabelSelector, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ProbeOutput } from '../probes/fanout.js';
import { aRecords, parseDig } from '../probes/dns.js';
import { httpOutcome } from '../checks/http.js';
import { isReady } from '../session/pods.js';
import type { CheckId } from './catalogue.js';
import type { LabExpectations } from './rubric.js';

export interface DnsObservation {
  form: 'svc.ns' | 'svc.ns.svc' | 'svc.ns.svc.domain';
  name: string;
  output?: ProbeOutput;
}

export interface Observation {
  namespace: string;
  expect: LabExpectations;
  deployment?: V1Deployment;
  /** Live (not terminating) pods matching the Deployment's selector. */
  pods: V1Pod[];
  service?: V1Service;
  endpoints?: V1Endpoints;
  /** HTTP from the probe pod to each pod IP (by pod name), and to the ClusterIP. */
  podHttp: Map<string, ProbeOutput>;
  serviceHttp?: ProbeOutput;
  dns: DnsObservation[];
  /** The cluster DNS Service address: answers must come from it. */
  dnsServiceIP?: string;
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

/** A LabelSelector as a label-selector query string (matchLabels and matchExpressions). */
export function selectorString(sel: V1LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Does a Service selector (a plain map) select pods with these labels? An empty selector selects nothing (no Endpoints). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && Object.keys(selector).length > 0 && hasLabels(labels, selector);
}

const templateLabels = (d: V1Deployment) => d.spec?.template?.metadata?.labels;
const containers = (d: V1Deployment) => d.spec?.template?.spec?.containers ?? [];
const podIPs = (pods: V1Pod[]) => pods.filter((p) => p.status?.podIP).map((p) => p.status!.podIP!);
const sortIPs = (ips: string[]) => [...new Set(ips)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

/** The Service port the lab asks for: number servicePort over TCP. */
export function servicePortOf(svc: V1Service | undefined, o: Observation) {
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

function httpBrief(o: ProbeOutput | undefined): string {
  if (!o) return 'not probed';
  const outcome = httpOutcome(o);
  if (outcome === 'ok') return 'answered';
  const why = o.output.trim().split('\n').filter(Boolean).pop() ?? '';
  return `${outcome === 'timeout' ? 'no answer (timed out)' : 'failed'}${why ? `: ${why.slice(0, 120)}` : ''} (exit ${o.exitCode})`;
}

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
    const ready = o.pods.filter(isReady).length;
    const seen = `spec.replicas=${spec}, ${ready} of ${o.pods.length} pod${o.pods.length === 1 ? '' : 's'} Ready`;
    return spec === want && ready === want && o.pods.length === want ? pass(seen) : fail(`expected ${want} replicas, all Ready; saw ${seen}`);
  },

  'pod-labels': (o) => {
    if (!o.deployment) return deploymentMissing(o);
    const want = o.expect.podLabels;
    const tpl = templateLabels(o.deployment);
    if (!hasLabels(tpl, want)) return fail(`expected pod labels ${fmtLabels(want)}; the pod template has ${fmtLabels(tpl)}`);
    const off = o.pods.filter((p) => !hasLabels(p.metadata?.labels, want));
    if (off.length) return fail(`expected pod labels ${fmtLabels(want)}; pod ${off[0].metadata?.name} has ${fmtLabels(off[0].metadata?.labels)}`);
    return pass(`pod template and ${o.pods.length} pod${o.pods.length === 1 ? '' : 's'} labelled ${fmtLabels(want)}`);
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
    return pass(`selector ${fmtLabels(sel)} matches the Deployment's pods`);
  },

  endpoints: (o) => {
    if (!o.service) return serviceMissing(o);
    const port = o.expect.containerPort;
    const want = sortIPs(podIPs(o.pods.filter(isReady)));
    const all = (o.endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((p) => ({ ip: a.ip, port: p.port }))));
    const onPort = sortIPs(all.filter((e) => e.port === port).map((e) => e.ip));
    const seen = all.length ? `{${all.map((e) => `${e.ip}:${e.port}`).sort().join(', ')}}` : '{} (no ready addresses)';
    if (!want.length) return fail(`expected the Ready pods of Deployment ${o.expect.deployment} on port ${port}, but it has no Ready pods; Endpoints ${seen}`);
    const wantText = `{${want.map((ip) => `${ip}:${port}`).join(', ')}}`;
    if (onPort.join() !== want.join()) return fail(`expected Endpoints ${wantText} (the Deployment's Ready pods); saw ${seen}`);
    return pass(`Endpoints ${wantText}`);
  },

  'pod-http': (o) => {
    if (o.probeError) return fail(o.probeError);
    if (!o.deployment) return deploymentMissing(o);
    const pods = o.pods.filter((p) => p.status?.podIP);
    if (!pods.length) return fail(`Deployment ${o.expect.deployment} has no pod with an IP to ask`);
    const results = pods.map((p) => ({ p, out: o.podHttp.get(p.metadata!.name!) }));
    const bad = results.filter((r) => !r.out || httpOutcome(r.out) !== 'ok');
    const line = (r: (typeof results)[number]) => `${r.p.metadata!.name} ${r.p.status!.podIP}:${o.expect.containerPort} ${httpBrief(r.out)}`;
    return bad.length ? fail(`expected every pod to answer HTTP on port ${o.expect.containerPort}; ${bad.map(line).join('; ')}`) : pass(results.map(line).join('; '));
  },

  'service-http': (o) => {
    if (o.probeError) return fail(o.probeError);
    if (!o.service) return serviceMissing(o);
    const ip = o.service.spec?.clusterIP;
    if (!ip || ip === 'None') return fail(`the Service has no ClusterIP (clusterIP: ${ip ?? 'unset'}), so there is no ClusterIP:${o.expect.servicePort} to answer`);
    if (!servicePortOf(o.service, o)) return fail(`the Service has no port ${o.expect.servicePort}/TCP to answer on ${ip}`);
    const out = o.serviceHttp;
    const seen = `${ip}:${o.expect.servicePort} ${httpBrief(out)}`;
    return out && httpOutcome(out) === 'ok' ? pass(seen) : fail(`expected an HTTP answer on ${ip}:${o.expect.servicePort}; ${seen}`);
  },

  'dns-svc-ns': (o) => dnsVerdict(o, 'svc.ns'),
  'dns-svc-ns-svc': (o) => dnsVerdict(o, 'svc.ns.svc'),
  'dns-fqdn': (o) => dnsVerdict(o, 'svc.ns.svc.domain'),
};

function dnsVerdict(o: Observation, form: DnsObservation['form']): Outcome {
  if (o.probeError) return fail(o.probeError);
  const d = o.dns.find((x) => x.form === form);
  if (!d?.output) return fail(`${d?.name ?? form} was not asked`);
  const r = parseDig(d.output.output);
  const a = aRecords(r);
  const seen = `${r.status}${a.length ? ` A ${a.join(', ')}` : ''}${r.server ? ` from ${r.server}` : ''}`;
  const ip = o.service?.spec?.clusterIP;
  if (!o.service) return fail(`${d.name}: ${seen} (no Service ${o.expect.service} in namespace ${o.namespace})`);
  if (!ip || ip === 'None') return fail(`${d.name}: ${seen}; the Service has no ClusterIP to resolve to`);
  if (o.dnsServiceIP && r.server !== o.dnsServiceIP) return fail(`${d.name}: expected an answer from the cluster DNS ${o.dnsServiceIP}; saw ${seen}`);
  return r.status === 'NOERROR' && a.length === 1 && a[0] === ip ? pass(`${d.name} -> ${ip}`) : fail(`${d.name}: expected A ${ip}; saw ${seen}`);
}

/** Runs the given checks on one observation. */
export function evaluate(o: Observation, checks: readonly CheckId[]): Map<CheckId, Outcome> {
  return new Map(checks.map((c) => [c, VERDICTS[c](o)]));
}

/** The names a DNS check asks, for a Service in a namespace. */
export function dnsNames(service: string, namespace: string, domain: string): Array<Omit<DnsObservation, 'output'>> {
  return [
    { form: 'svc.ns', name: `${service}.${namespace}` },
    { form: 'svc.ns.svc', name: `${service}.${namespace}.svc` },
    { form: 'svc.ns.svc.domain', name: `${service}.${namespace}.svc.${domain}` },
  ];
}
