// A grading rubric: YAML with weighted items, each naming a built-in check (src/grade/catalogue.ts)
// and carrying the description and hint the student sees, plus the lab's expected names and
// numbers. Parsing is strict (unknown keys, unknown check ids, bad types are errors) so a typo in
// a rubric never silently changes a grade.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { CHECK_IDS, isCheckId, needsProbe, type CheckId } from './items.js';

export const DEFAULT_RUBRIC_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../manifests/grading/default-rubric.yaml');

/** What the lab asks for; every check reads its names and numbers from here. */
export interface LabExpectations {
  deployment: string;
  service: string;
  replicas: number;
  podLabels: Record<string, string>;
  containerPort: number;
  servicePort: number;
  /** The Service type the lab asks for (a headless Service is type ClusterIP with clusterIP None). */
  serviceType: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
}

export const SEED_LAB: LabExpectations = {
  deployment: 'my-nginx',
  service: 'my-nginx',
  replicas: 2,
  podLabels: { run: 'my-nginx' },
  containerPort: 80,
  servicePort: 80,
  serviceType: 'ClusterIP',
};

export interface RubricItem {
  id: string;
  check: CheckId;
  weight: number;
  description: string;
  hint: string;
}

export interface Rubric {
  name: string;
  description?: string;
  expect: LabExpectations;
  items: RubricItem[];
  /** Where it was read from (for messages and the JSON output). */
  source: string;
}

export class RubricError extends Error {
  override readonly name = 'RubricError';
}

const ITEM_ID = /^[a-z0-9]([a-z0-9._-]{0,62})$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The most of a value from the file an error line quotes: an error stays one short line, whatever the file holds. */
export const MAX_QUOTE = 120;
/** `s` cut to MAX_QUOTE characters, saying how long it was. */
export const clip = (s: string, max = MAX_QUOTE) => (s.length <= max ? s : `${s.slice(0, max - 1)}… (${s.length} characters)`);
/** A value from the file as an error quotes it: JSON (one line: newlines escaped), clipped. */
const show = (v: unknown) => clip(JSON.stringify(v) ?? String(v));

function noUnknownKeys(o: Raw, allowed: readonly string[], where: string, fail: (m: string) => never): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where}${where ? '.' : ''}${clip(JSON.stringify(k).slice(1, -1))}: unknown key (allowed: ${allowed.join(', ')})`);
}

function text(o: Raw, key: string, where: string, fail: (m: string) => never, required = true): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return required ? fail(`${where}.${key}: required`) : undefined;
  if (typeof v !== 'string' || !v.trim()) fail(`${where}.${key}: must be a non-empty string, got ${show(v)}`);
  return (v as string).trim();
}

function port(v: unknown, where: string, fail: (m: string) => never): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) fail(`${where}: must be a port number 1-65535, got ${show(v)}`);
  return v as number;
}

function parseExpect(v: unknown, fail: (m: string) => never): LabExpectations {
  if (v === undefined || v === null) return structuredClone(SEED_LAB);
  if (!isObj(v)) return fail(`expect: must be a mapping, got ${show(v)}`);
  noUnknownKeys(v, Object.keys(SEED_LAB), 'expect', fail);
  const out = structuredClone(SEED_LAB);
  for (const k of ['deployment', 'service'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string' || !DNS_NAME.test(v[k] as string)) fail(`expect.${k}: must be a Kubernetes object name (DNS label), got ${show(v[k])}`);
    out[k] = v[k] as string;
  }
  if (v.replicas !== undefined) {
    if (!Number.isInteger(v.replicas) || (v.replicas as number) < 1) fail(`expect.replicas: must be a whole number >= 1, got ${show(v.replicas)}`);
    out.replicas = v.replicas as number;
  }
  if (v.containerPort !== undefined) out.containerPort = port(v.containerPort, 'expect.containerPort', fail);
  if (v.servicePort !== undefined) out.servicePort = port(v.servicePort, 'expect.servicePort', fail);
  if (v.serviceType !== undefined) {
    if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(v.serviceType as string)) fail(`expect.serviceType: must be ClusterIP, NodePort or LoadBalancer, got ${show(v.serviceType)}`);
    out.serviceType = v.serviceType as LabExpectations['serviceType'];
  }
  if (v.podLabels !== undefined) {
    if (!isObj(v.podLabels) || !Object.keys(v.podLabels).length) fail(`expect.podLabels: must be a non-empty mapping of label key to value, got ${show(v.podLabels)}`);
    const labels: Record<string, string> = {};
    for (const [k, val] of Object.entries(v.podLabels as Raw)) {
      if (!LABEL_KEY.test(k)) fail(`expect.podLabels: ${show(k)} is not a valid label key`);
      if (typeof val !== 'string' || !LABEL_VALUE.test(val)) fail(`expect.podLabels.${k}: must be a valid label value (a string), got ${show(val)}`);
      labels[k] = val as string;
    }
    out.podLabels = labels;
  }
  return out;
}

function parseItem(v: unknown, i: number, fail: (m: string) => never): RubricItem {
  const where = `items[${i}]`;
  if (!isObj(v)) return fail(`${where}: must be a mapping with id, weight, description, hint, got ${show(v)}`);
  noUnknownKeys(v, ['id', 'check', 'weight', 'description', 'hint'], where, fail);
  const id = text(v, 'id', where, fail)!;
  if (!ITEM_ID.test(id)) fail(`${where}.id: ${show(id)} must be lowercase letters, digits, '.', '_' or '-' (at most 63)`);
  const check = v.check === undefined ? id : text(v, 'check', `${where} (${id})`, fail)!;
  if (!isCheckId(check)) {
    fail(`${where} (${id}): unknown check ${show(check)}${v.check === undefined ? ' (an item without `check:` uses its id as the check id)' : ''}; known checks: ${CHECK_IDS.join(', ')}`);
  }
  const weight = v.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) fail(`${where} (${id}).weight: must be a number >= 0, got ${show(weight)}`);
  return {
    id,
    check: check as CheckId,
    weight: weight as number,
    description: text(v, 'description', `${where} (${id})`, fail)!,
    hint: text(v, 'hint', `${where} (${id})`, fail)!,
  };
}

/** Parses and validates rubric YAML; throws RubricError naming `source` and the offending field. */
export function parseRubric(source: string, yamlText: string): Rubric {
  const fail = (m: string): never => {
    throw new RubricError(`rubric ${source}: ${m}`);
  };
  let doc: unknown;
  try {
    doc = yaml.load(yamlText, { filename: source });
  } catch (err) {
    // js-yaml's message goes on with a snippet of the file: its reason and position only
    const e = err as Error & { reason?: string; mark?: { line: number; column: number } };
    const at = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    return fail(`malformed YAML${at}: ${clip(e.reason ?? e.message.split('\n')[0])}`);
  }
  if (doc === undefined || doc === null) return fail('is empty');
  if (!isObj(doc)) return fail(`must be a mapping with name, items (and optionally description, expect), got ${show(doc)}`);
  noUnknownKeys(doc, ['name', 'description', 'expect', 'items'], '', fail);
  const name = text(doc, 'name', 'rubric', fail)!;
  const description = text(doc, 'description', 'rubric', fail, false);
  const expect = parseExpect(doc.expect, fail);
  if (!Array.isArray(doc.items) || doc.items.length === 0) return fail(`items: must be a non-empty list, got ${show(doc.items)}`);
  const items = doc.items.map((it, i) => parseItem(it, i, fail));
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) fail(`items: duplicate id ${show(it.id)}`);
    seen.add(it.id);
  }
  if (items.reduce((s, it) => s + it.weight, 0) <= 0) fail('items: the weights add up to 0; at least one item needs a positive weight');
  return { name, ...(description ? { description } : {}), expect, items, source };
}

/** Reads and parses a rubric file (the default rubric when `file` is undefined). */
export function loadRubric(file?: string): Rubric {
  const f = path.resolve(file ?? DEFAULT_RUBRIC_FILE);
  let body: string;
  try {
    body = readFileSync(f, 'utf8');
  } catch (err) {
    throw new RubricError(`rubric ${f}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseRubric(f, body);
}

/** The distinct checks a rubric uses, in catalogue order. */
export const rubricChecks = (r: Rubric): CheckId[] => CHECK_IDS.filter((c) => r.items.some((it) => it.check === c));
export const rubricNeedsProbe = (r: Rubric): boolean => r.items.some((it) => needsProbe(it.check));

/** The rubric with `{namespace}` in descriptions and hints replaced by the graded namespace. */
export function forNamespace(r: Rubric, namespace: string): Rubric {
  const sub = (s: string) => s.replaceAll('{namespace}', namespace);
  return { ...r, items: r.items.map((it) => ({ ...it, description: sub(it.description), hint: sub(it.hint) })) };
}
