// A lab: YAML an instructor writes (manifests/grading/labs/*.yaml), validated strictly — an
// unknown key, check type, reference or a wrong type is an error that names the file, the line and
// the field — so that a typo in a lab never silently changes a grade. No lab-specific code: a lab
// names its workloads and Services once, then lists tasks and their checks, each check of a type
// whose verdict is the suite's own (src/grade/verdicts.ts over src/verdicts/).
//
//   lab: seed                          # id
//   title: nginx behind a Service
//   passMark: 100                      # optional, percent
//   timeouts: {rollout: 60s, request: 2s, samples: 5, gap: 0.5s}    # optional
//   workloads:  {web: {kind: Deployment, name: my-nginx, replicas: 2, labels: {run: my-nginx}, containerPort: 80}}
//   services:   {web: {name: my-nginx, type: ClusterIP, port: 80, workload: web}}
//   tasks:
//     - id: deploy
//       title: Run nginx
//       checks:
//         - {id: deployment, type: exists, workload: web, weight: 1, description: "…", hint: "…"}
//         - {id: replicas, type: replicas, weight: 2, requires: [deployment], description: "…", hint: "…"}
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

export const LABS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../manifests/grading/labs');

/** Check types and what each judges (for --help and docs/grading.md). */
export const CHECK_TYPES = {
  exists: 'the workload exists (kind and name)',
  replicas: "spec.replicas is the lab's count and that many pods of the workload's current revision (ownerReferences) are Ready",
  'pod-labels': "the workload's pod template and its own pods carry the lab's labels",
  'container-port': "a container of the pod template declares the lab's containerPort/TCP",
  'service-port': "a selector-managed Service of the lab's type with the lab's port/TCP, whose targetPort is the workload's containerPort",
  'service-selector': "the Service's selector selects exactly the workload's pods (no other pod, none of its left out)",
  endpoints: "the Service's Endpoints and its EndpointSlices (managed-by the EndpointSlice controller) hold exactly the workload's pods, every one Ready",
  'pod-http': 'every pod of the workload Ready and answering HTTP on podIP:containerPort, each by itself, in every sample of the hold window',
  'service-http': 'the ClusterIP and each endpoint address answer HTTP in every sample of the hold window (every pod of the workload Ready)',
  'nodeport-http': "the Service's nodePort answers HTTP on every node's InternalIP in every sample (type NodePort)",
  dns: 'a name form of the Service (svc.ns, svc.ns.svc, fqdn) resolves to its ClusterIP at the cluster DNS (dig); a headless Service: to its Ready pods',
  'dns-pods': "<pod>.<service>.<ns>.svc.<domain> resolves to that pod's IP for every pod of a StatefulSet behind a headless Service",
  object: 'an object of a kind (by name, or any) whose fields match the lab (scalars equal, lists as sets, maps by their keys; null = absent or empty)',
  policy:
    'NetworkPolicy: HTTP from a grader pod (in the student namespace with given labels, or from the grader namespace) to the workload\'s pods or the Service is allowed / denied in every sample; "not judged" where the cluster does not enforce NetworkPolicy',
} as const;
export type CheckType = keyof typeof CHECK_TYPES;
const TYPES = Object.keys(CHECK_TYPES) as CheckType[];
const NEEDS_WORKLOAD: CheckType[] = ['exists', 'replicas', 'pod-labels', 'container-port', 'pod-http', 'dns-pods'];
const NEEDS_SERVICE: CheckType[] = ['service-port', 'service-selector', 'endpoints', 'service-http', 'nodeport-http', 'dns', 'dns-pods'];
export const PROBE_TYPES: CheckType[] = ['pod-http', 'service-http', 'nodeport-http', 'dns', 'dns-pods', 'policy'];
export const DNS_FORMS = ['svc.ns', 'svc.ns.svc', 'fqdn'] as const;
export type DnsForm = (typeof DNS_FORMS)[number];
export const OBJECT_KINDS = ['Deployment', 'StatefulSet', 'Service', 'NetworkPolicy', 'Pod'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface WorkloadSpec {
  key: string;
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  replicas: number;
  labels: Record<string, string>;
  containerPort: number;
}

export interface ServiceSpec {
  key: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'Headless';
  port: number;
  /** The workload behind it. */
  workload: WorkloadSpec;
}

export interface PolicySpec {
  /** 'grader': the grader's own namespace; else a grader pod with these labels in the student namespace. */
  from: 'grader' | { labels: Record<string, string> };
  to: 'pods' | 'service';
  expect: 'allowed' | 'denied';
}

export interface LabCheck {
  id: string;
  task: string;
  type: CheckType;
  weight: number;
  description: string;
  hint: string;
  requires: string[];
  workload?: WorkloadSpec;
  service?: ServiceSpec;
  form?: DnsForm;
  object?: { kind: ObjectKind; name?: string; fields: Record<string, unknown> };
  policy?: PolicySpec;
  /** 1-based line of the check in the lab file. */
  line: number;
}

export interface Timeouts {
  rolloutMs: number;
  requestS: number;
  samples: number;
  gapS: number;
}

export interface Lab {
  id: string;
  title: string;
  description?: string;
  source: string;
  passMark: number;
  timeouts: Timeouts;
  workloads: WorkloadSpec[];
  services: ServiceSpec[];
  tasks: Array<{ id: string; title: string; checks: LabCheck[] }>;
  /** Every check, in task order. */
  checks: LabCheck[];
}

export const DEFAULT_TIMEOUTS: Timeouts = { rolloutMs: 60_000, requestS: 2, samples: 5, gapS: 0.5 };

/** A lab that is not valid: file, line and field, and what is wrong. */
export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
export const MAX_QUOTE = 80;
export const clip = (s: string, max = MAX_QUOTE) => (s.length <= max ? s : `${s.slice(0, max - 1)}… (${s.length} characters)`);
const show = (v: unknown) => clip(JSON.stringify(v) ?? String(v));

const ID = /^[a-z0-9]([a-z0-9._-]{0,62})$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Where things are in the file: the line each mapping/list starts on, and a key's line within its mapping. */
class Lines {
  private readonly starts = new WeakMap<object, number>();
  private readonly text: string[];
  constructor(src: string) {
    this.text = src.split('\n');
  }
  listener() {
    const stack: number[] = [];
    const starts = this.starts;
    return (ev: string, st: { line: number; result: unknown }) => {
      if (ev === 'open') stack.push(st.line);
      else {
        const l = stack.pop() ?? 0;
        if (st.result && typeof st.result === 'object' && !starts.has(st.result)) starts.set(st.result, l);
      }
    };
  }
  /** 1-based line of `o` (a mapping or list), or of `key` inside it. */
  of(o: unknown, key?: string): number | undefined {
    if (!o || typeof o !== 'object') return undefined;
    const start = this.starts.get(o);
    if (start === undefined) return undefined;
    if (key === undefined) return start + 1;
    const re = new RegExp(`(^|[\\s{,-])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`);
    for (let i = start; i < Math.min(this.text.length, start + 200); i++) if (re.test(this.text[i])) return i + 1;
    return start + 1;
  }
}

/** "60s", "500ms", "0.5s", or a number of seconds. */
function seconds(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(v) : null;
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
}

/** Parses and validates a lab; throws LabError naming the file, line and field. */
export function parseLab(source: string, text: string): Lab {
  const lines = new Lines(text);
  const fail = (where: unknown, key: string | undefined, field: string, problem: string): never => {
    throw new LabError(source, lines.of(where, key), field, problem);
  };
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: source, listener: lines.listener() } as yaml.LoadOptions);
  } catch (err) {
    const e = err as Error & { reason?: string; mark?: { line: number; column: number } };
    throw new LabError(
      source,
      e.mark ? e.mark.line + 1 : undefined,
      '',
      `malformed YAML${e.mark ? ` (column ${e.mark.column + 1})` : ''}: ${clip(e.reason ?? e.message.split('\n')[0])}`,
    );
  }
  if (doc === undefined || doc === null) throw new LabError(source, undefined, '', 'is empty');
  if (!isObj(doc))
    throw new LabError(
      source,
      1,
      '',
      `must be a mapping with lab, title, tasks (and optionally description, passMark, timeouts, workloads, services), got ${show(doc)}`,
    );

  const keys = (o: Raw, allowed: readonly string[], where: string) => {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) fail(o, k, `${where}${where ? '.' : ''}${clip(k)}`, `unknown key (allowed: ${allowed.join(', ')})`);
  };
  const str = (o: Raw, key: string, where: string, required = true, re?: RegExp, what = ''): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return required ? fail(o, undefined, `${where}.${key}`, 'required') : undefined;
    if (typeof v !== 'string' || !v.trim()) return fail(o, key, `${where}.${key}`, `must be a non-empty string, got ${show(v)}`);
    if (re && !re.test(v.trim())) fail(o, key, `${where}.${key}`, `${show(v)} is not ${what}`);
    return v.trim();
  };
  const int = (o: Raw, key: string, where: string, min: number, max: number, dflt?: number): number => {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      return fail(o, key, `${where}.${key}`, `must be a whole number ${min}-${max}, got ${show(v)}`);
    return v as number;
  };
  const labels = (o: Raw, key: string, where: string): Record<string, string> => {
    const v = o[key];
    if (!isObj(v) || !Object.keys(v).length) return fail(o, key, `${where}.${key}`, `must be a non-empty mapping of label key to value, got ${show(v)}`);
    for (const [k, val] of Object.entries(v)) {
      if (!LABEL_KEY.test(k)) fail(v, k, `${where}.${key}`, `${show(k)} is not a valid label key`);
      if (typeof val !== 'string' || !LABEL_VALUE.test(val)) fail(v, k, `${where}.${key}.${k}`, `must be a valid label value (a string), got ${show(val)}`);
    }
    return v as Record<string, string>;
  };

  keys(doc, ['lab', 'title', 'description', 'passMark', 'timeouts', 'workloads', 'services', 'tasks'], '');
  const id = str(doc, 'lab', 'lab', true, ID, 'an id (lowercase letters, digits, ., _, -)')!;
  const title = str(doc, 'title', 'lab')!;
  const description = str(doc, 'description', 'lab', false);
  let passMark = 100;
  if (doc.passMark !== undefined) {
    if (typeof doc.passMark !== 'number' || doc.passMark < 0 || doc.passMark > 100)
      fail(doc, 'passMark', 'passMark', `must be a percentage 0-100, got ${show(doc.passMark)}`);
    passMark = doc.passMark as number;
  }
  const timeouts = { ...DEFAULT_TIMEOUTS };
  if (doc.timeouts !== undefined) {
    const t = doc.timeouts;
    if (!isObj(t)) return fail(doc, 'timeouts', 'timeouts', `must be a mapping, got ${show(t)}`);
    keys(t, ['rollout', 'request', 'samples', 'gap'], 'timeouts');
    const dur = (k: string, max: number) => {
      const s = seconds(t[k]);
      if (s === undefined || s > max) fail(t, k, `timeouts.${k}`, `must be a duration like 2s or 500ms (at most ${max}s), got ${show(t[k])}`);
      return s!;
    };
    if (t.rollout !== undefined) timeouts.rolloutMs = dur('rollout', 600) * 1000;
    if (t.request !== undefined) timeouts.requestS = Math.max(1, Math.round(dur('request', 30)));
    if (t.gap !== undefined) timeouts.gapS = dur('gap', 10);
    if (t.samples !== undefined) timeouts.samples = int(t, 'samples', 'timeouts', 1, 50);
  }

  // workloads and services: named once, referred to by key
  const workloads = new Map<string, WorkloadSpec>();
  if (doc.workloads !== undefined) {
    if (!isObj(doc.workloads)) return fail(doc, 'workloads', 'workloads', `must be a mapping of key to workload, got ${show(doc.workloads)}`);
    for (const [key, w] of Object.entries(doc.workloads)) {
      const where = `workloads.${key}`;
      if (!isObj(w)) return fail(doc.workloads, key, where, `must be a mapping with kind, name, replicas, labels, containerPort, got ${show(w)}`);
      keys(w, ['kind', 'name', 'replicas', 'labels', 'containerPort'], where);
      const kind = str(w, 'kind', where)!;
      if (kind !== 'Deployment' && kind !== 'StatefulSet') fail(w, 'kind', `${where}.kind`, `must be Deployment or StatefulSet, got ${show(kind)}`);
      workloads.set(key, {
        key,
        kind: kind as WorkloadSpec['kind'],
        name: str(w, 'name', where, true, DNS_LABEL, 'a Kubernetes object name (DNS label)')!,
        replicas: int(w, 'replicas', where, 1, 100),
        labels: labels(w, 'labels', where),
        containerPort: int(w, 'containerPort', where, 1, 65535),
      });
    }
  }
  const services = new Map<string, ServiceSpec>();
  const ref = <T>(map: Map<string, T>, o: Raw, key: string, where: string, what: string): T | undefined => {
    const v = o[key];
    if (v === undefined) return map.size === 1 ? [...map.values()][0] : undefined;
    if (typeof v !== 'string' || !map.has(v))
      return fail(o, key, `${where}.${key}`, `${show(v)} is not a ${what} of this lab (${[...map.keys()].join(', ') || 'none defined'})`);
    return map.get(v);
  };
  if (doc.services !== undefined) {
    if (!isObj(doc.services)) return fail(doc, 'services', 'services', `must be a mapping of key to Service, got ${show(doc.services)}`);
    for (const [key, s] of Object.entries(doc.services)) {
      const where = `services.${key}`;
      if (!isObj(s)) return fail(doc.services, key, where, `must be a mapping with name, type, port, workload, got ${show(s)}`);
      keys(s, ['name', 'type', 'port', 'workload'], where);
      const type = str(s, 'type', where, false) ?? 'ClusterIP';
      if (!['ClusterIP', 'NodePort', 'Headless'].includes(type)) fail(s, 'type', `${where}.type`, `must be ClusterIP, NodePort or Headless, got ${show(type)}`);
      const workload = ref(workloads, s, 'workload', where, 'workload');
      if (!workload) fail(s, undefined, `${where}.workload`, 'required (the workload behind the Service)');
      services.set(key, {
        key,
        name: str(s, 'name', where, true, DNS_LABEL, 'a Kubernetes object name (DNS label)')!,
        type: type as ServiceSpec['type'],
        port: int(s, 'port', where, 1, 65535),
        workload: workload!,
      });
    }
  }

  if (!Array.isArray(doc.tasks) || !doc.tasks.length) return fail(doc, 'tasks', 'tasks', `must be a non-empty list, got ${show(doc.tasks)}`);
  const seen = new Set<string>();
  const tasks: Lab['tasks'] = [];
  doc.tasks.forEach((t, ti) => {
    const tw = `tasks[${ti}]`;
    if (!isObj(t)) return fail(doc.tasks, undefined, tw, `must be a mapping with id, title, checks, got ${show(t)}`);
    keys(t, ['id', 'title', 'checks'], tw);
    const taskId = str(t, 'id', tw, true, ID, 'an id')!;
    const task = { id: taskId, title: str(t, 'title', tw, false) ?? taskId, checks: [] as LabCheck[] };
    if (!Array.isArray(t.checks) || !t.checks.length) return fail(t, 'checks', `${tw}.checks`, `must be a non-empty list, got ${show(t.checks)}`);
    t.checks.forEach((c, ci) => {
      let where = `${tw}.checks[${ci}]`;
      if (!isObj(c)) return fail(t.checks, undefined, where, `must be a mapping with id, type, weight, description, hint, got ${show(c)}`);
      const cid = str(c, 'id', where, true, ID, 'an id (lowercase letters, digits, ., _, -; at most 63)')!;
      where = `${where} (${cid})`;
      if (seen.has(cid)) fail(c, 'id', `${where}.id`, `duplicate check id ${show(cid)}`);
      seen.add(cid);
      const type = str(c, 'type', where)! as CheckType;
      if (!TYPES.includes(type)) fail(c, 'type', `${where}.type`, `unknown check type ${show(type)}; known: ${TYPES.join(', ')}`);
      const allowed = ['id', 'type', 'weight', 'description', 'hint', 'requires', 'workload', 'service'];
      if (type === 'dns') allowed.push('form');
      if (type === 'object') allowed.push('kind', 'name', 'fields');
      if (type === 'policy') allowed.push('from', 'to', 'expect');
      keys(c, allowed, where);
      const weight = c.weight;
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
        fail(c, 'weight', `${where}.weight`, `must be a number >= 0, got ${show(weight)}`);
      let requires: string[] = [];
      if (c.requires !== undefined) {
        if (!Array.isArray(c.requires) || c.requires.some((r) => typeof r !== 'string'))
          fail(c, 'requires', `${where}.requires`, `must be a list of check ids, got ${show(c.requires)}`);
        requires = c.requires as string[];
        for (const r of requires) if (!seen.has(r) || r === cid) fail(c, 'requires', `${where}.requires`, `${show(r)} is not a check listed before this one`);
      }
      const check: LabCheck = {
        id: cid,
        task: taskId,
        type,
        weight: weight as number,
        description: str(c, 'description', where)!,
        hint: str(c, 'hint', where)!,
        requires,
        line: lines.of(c) ?? 0,
      };
      const svc = ref(services, c, 'service', where, 'service');
      const wl = ref(workloads, c, 'workload', where, 'workload') ?? svc?.workload;
      if (NEEDS_SERVICE.includes(type) || (type === 'policy' && c.to === 'service')) {
        if (!svc) fail(c, undefined, `${where}.service`, `required for a ${type} check (a key of services:)`);
        check.service = svc;
        check.workload = c.workload === undefined ? svc!.workload : wl;
      }
      if (NEEDS_WORKLOAD.includes(type) || type === 'policy') {
        if (!wl) fail(c, undefined, `${where}.workload`, `required for a ${type} check (a key of workloads:)`);
        check.workload = wl;
      }
      if (type === 'dns') {
        const form = c.form;
        if (!DNS_FORMS.includes(form as DnsForm)) fail(c, 'form', `${where}.form`, `must be one of ${DNS_FORMS.join(', ')}, got ${show(form)}`);
        check.form = form as DnsForm;
      }
      if (type === 'dns-pods' && check.workload!.kind !== 'StatefulSet')
        fail(c, undefined, `${where}.workload`, `a dns-pods check needs a StatefulSet (per-pod names), got ${check.workload!.kind}`);
      if (type === 'dns-pods' && check.service!.type !== 'Headless')
        fail(c, undefined, `${where}.service`, `a dns-pods check needs a Headless Service, got ${check.service!.type}`);
      if (type === 'nodeport-http' && check.service!.type !== 'NodePort')
        fail(c, undefined, `${where}.service`, `a nodeport-http check needs a NodePort Service, got ${check.service!.type}`);
      if (type === 'object') {
        const kind = str(c, 'kind', where)!;
        if (!OBJECT_KINDS.includes(kind as ObjectKind)) fail(c, 'kind', `${where}.kind`, `must be one of ${OBJECT_KINDS.join(', ')}, got ${show(kind)}`);
        const name = str(c, 'name', where, false, DNS_LABEL, 'a Kubernetes object name');
        const fields = c.fields ?? {};
        if (!isObj(fields))
          fail(c, 'fields', `${where}.fields`, `must be a mapping of field path (e.g. spec.podSelector) to expected value, got ${show(fields)}`);
        if (!name && !Object.keys(fields as Raw).length) fail(c, undefined, `${where}`, 'an object check needs a name or fields to match');
        check.object = { kind: kind as ObjectKind, ...(name ? { name } : {}), fields: fields as Record<string, unknown> };
      }
      if (type === 'policy') {
        const from = c.from;
        let pFrom: PolicySpec['from'];
        if (from === 'grader') pFrom = 'grader';
        else if (isObj(from) && Object.keys(from).length === 1 && isObj(from.labels)) pFrom = { labels: labels(from, 'labels', `${where}.from`) };
        else
          return fail(
            c,
            'from',
            `${where}.from`,
            `must be "grader" (the grader's own namespace) or {labels: {...}} (a grader pod with these labels in the student namespace), got ${show(from)}`,
          );
        if (c.to !== 'pods' && c.to !== 'service') fail(c, 'to', `${where}.to`, `must be pods or service, got ${show(c.to)}`);
        if (c.expect !== 'allowed' && c.expect !== 'denied') fail(c, 'expect', `${where}.expect`, `must be allowed or denied, got ${show(c.expect)}`);
        check.policy = { from: pFrom, to: c.to as PolicySpec['to'], expect: c.expect as PolicySpec['expect'] };
      }
      task.checks.push(check);
    });
    tasks.push(task);
  });
  const checks = tasks.flatMap((t) => t.checks);
  if (checks.reduce((s, c) => s + c.weight, 0) <= 0) fail(doc, 'tasks', 'tasks', 'the weights add up to 0; at least one check needs a positive weight');
  return {
    id,
    title,
    ...(description ? { description } : {}),
    source,
    passMark,
    timeouts,
    workloads: [...workloads.values()],
    services: [...services.values()],
    tasks,
    checks,
  };
}

/** A lab by name (a file in manifests/grading/labs) or by path. */
export function labFile(nameOrPath: string): string {
  if (/^[a-z0-9][a-z0-9._-]*$/.test(nameOrPath) && !nameOrPath.endsWith('.yaml')) {
    const f = path.join(LABS_DIR, `${nameOrPath}.yaml`);
    if (existsSync(f)) return f;
  }
  return path.resolve(nameOrPath);
}

/** The shipped labs (their ids). */
export const shippedLabs = (): string[] => {
  try {
    return readdirSync(LABS_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''))
      .sort();
  } catch {
    return [];
  }
};

/** Reads and parses a lab file (by name or path). */
export function loadLab(nameOrPath: string): Lab {
  const f = labFile(nameOrPath);
  let body: string;
  try {
    body = readFileSync(f, 'utf8');
  } catch (err) {
    throw new LabError(
      f,
      undefined,
      '',
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}${shippedLabs().length ? ` (shipped labs: ${shippedLabs().join(', ')})` : ''}`,
    );
  }
  return parseLab(f, body);
}

/** `{namespace}` in descriptions and hints replaced by the graded namespace. */
export const forNamespace = (text: string, namespace: string) => text.replaceAll('{namespace}', namespace);
