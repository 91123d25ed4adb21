// Lab grading (`kube-netcheck grade`) on the live cluster. Setup: one labelled namespace per case —
// the reference solution (the seed workload: nginx Deployment + Service, offline nginx image), an
// empty namespace, and one seeded mistake each (wrong pod label, wrong containerPort, wrong
// targetPort, 1 replica, selector typo). Assess: every case graded at once with the default rubric
// (through the CLI's main(), in this process; the custom-rubric and SIGINT checks spawn the real
// bin/kube-netcheck.js); each mistake must lose exactly its items. Also: the grader changes
// nothing in the graded namespace, deletes its probe namespace (also on SIGINT), and a custom
// rubric reweights and selects checks.
import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadRunState, type RunState } from '../../src/session/run.js';
import { MANIFESTS_DIR, loadManifestDir, setImage, type Obj } from '../../src/session/manifests.js';
import { createAll } from '../../src/session/apply.js';
import { waitPodsReady } from '../../src/session/pods.js';
import { endpointsSet, fmt, readyPodSet } from '../../src/checks/endpoints.js';
import { check } from '../../src/checks/check.js';
import { runLabels } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { CHECK_IDS } from '../../src/grade/catalogue.js';
import { loadRubric } from '../../src/grade/rubric.js';
import { displayPercent } from '../../src/grade/score.js';
import type { LmsReport } from '../../src/grade/format.js';
import { main } from '../../src/cli/main.js';

const BIN = 'bin/kube-netcheck.js';

interface Case {
  key: string;
  what: string;
  /** undefined: an empty namespace. */
  mutate?: (o: { deployment: Obj; service: Obj }) => void;
  failed: string[];
}

const CASES: Case[] = [
  { key: 'ref', what: 'the reference solution', mutate: () => undefined, failed: [] },
  { key: 'empty', what: 'an empty namespace', failed: [...CHECK_IDS] },
  {
    key: 'label',
    what: 'wrong pod label (app=my-nginx instead of run=my-nginx)',
    mutate: ({ deployment: d }) => {
      d.spec.selector = { matchLabels: { app: 'my-nginx' } };
      d.spec.template.metadata.labels = { app: 'my-nginx' };
      d.spec.template.spec.topologySpreadConstraints[0].labelSelector = { matchLabels: { app: 'my-nginx' } };
    },
    failed: ['pod-labels', 'service-selector', 'endpoints', 'service-http'],
  },
  {
    key: 'cport',
    what: 'wrong containerPort (8080; nginx still listens on 80)',
    mutate: ({ deployment: d }) => void (d.spec.template.spec.containers[0].ports[0].containerPort = 8080),
    failed: ['container-port'],
  },
  {
    key: 'tport',
    what: 'wrong targetPort (8080)',
    mutate: ({ service: s }) => void (s.spec.ports[0].targetPort = 8080),
    failed: ['service-port', 'endpoints', 'service-http'],
  },
  { key: 'one', what: '1 replica', mutate: ({ deployment: d }) => void (d.spec.replicas = 1), failed: ['replicas'] },
  {
    key: 'selector',
    what: 'Service selector typo (run=my-ngnix)',
    mutate: ({ service: s }) => void (s.spec.selector = { run: 'my-ngnix' }),
    failed: ['service-selector', 'endpoints', 'service-http'],
  },
];

interface Graded {
  code: number | undefined;
  report?: LmsReport;
  stderr: string;
  wallMs: number;
}

let s: RunState;
let kube: Kube;
let tmp: string;
const nsOf = (c: Pick<Case, 'key'>) => `knc-${s.runId}-g-${c.key}`;
const graded = new Map<string, Graded>();
let customRubric: string;
let custom: { strict: Graded; lenient: Graded };
let before: string[];
let setupMs: number;
let gradeWallMs: number;

function cli(args: string[]) {
  return execa(process.execPath, [BIN, 'grade', ...args, '--kubeconfig', s.kubeconfig, ...(s.context ? ['--context', s.context] : [])], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), KNC_PROBE_IMAGE: s.images.probe },
    extendEnv: false,
    reject: false,
    timeout: 150_000,
  });
}

const parse = (stdout: string): LmsReport | undefined => {
  try {
    return JSON.parse(stdout) as LmsReport;
  } catch {
    return undefined;
  }
};

/** `kube-netcheck grade ARGS --json -` as its own process (bin/kube-netcheck.js). */
async function gradeProcess(args: string[]): Promise<Graded> {
  const t = Date.now();
  const r = await cli([...args, '--json', '-']);
  return { code: r.exitCode, report: parse(String(r.stdout)), stderr: String(r.stderr), wallMs: Date.now() - t };
}

/** The same through the CLI's main() in this process: many at once without a node start-up each. */
async function gradeHere(args: string[]): Promise<Graded> {
  const t = Date.now();
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['grade', ...args, '--kubeconfig', s.kubeconfig, ...(s.context ? ['--context', s.context] : []), '--json', '-'], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, report: parse(out.join('\n')), stderr: err.join('\n'), wallMs: Date.now() - t };
}

/** What the graded namespace holds, as kind/name (the grader must not add, change or remove anything). */
async function inventory(ns: string): Promise<string[]> {
  const [pods, svcs, deps, rss, cms, eps] = await Promise.all([
    kube.core.listNamespacedPod({ namespace: ns }),
    kube.core.listNamespacedService({ namespace: ns }),
    kube.apps.listNamespacedDeployment({ namespace: ns }),
    kube.apps.listNamespacedReplicaSet({ namespace: ns }),
    kube.core.listNamespacedConfigMap({ namespace: ns }),
    kube.core.listNamespacedEndpoints({ namespace: ns }),
  ]);
  const row = (kind: string, items: Array<{ metadata?: { name?: string; resourceVersion?: string } }>, rv = false) =>
    items.map((i) => `${kind}/${i.metadata!.name}${rv ? `@${i.metadata!.resourceVersion}` : ''}`);
  return [...row('pod', pods.items), ...row('service', svcs.items, true), ...row('deployment', deps.items), ...row('replicaset', rss.items), ...row('configmap', cms.items, true), ...row('endpoints', eps.items)].sort();
}

/** The seed workload (ConfigMap, Deployment, Service my-nginx) for one case. */
function workload(c: Case): Obj[] {
  const objs = loadManifestDir(path.join(MANIFESTS_DIR, 'workload')).filter((o) => o.metadata?.name !== 'my-nginx-headless');
  for (const o of objs) o.metadata = { ...o.metadata, namespace: nsOf(c) };
  const deployment = objs.find((o) => o.kind === 'Deployment')!;
  const service = objs.find((o) => o.kind === 'Service')!;
  setImage(deployment, s.images.nginx);
  c.mutate!({ deployment, service });
  return objs;
}

/** Until the case's pods are Ready and its Service's Endpoints list what its selector selects. */
async function settled(c: Case): Promise<void> {
  if (!c.mutate) return;
  const objs = workload(c); // the same objects as created: read back selector, replicas, ports
  const d = objs.find((o) => o.kind === 'Deployment')!;
  const svc = objs.find((o) => o.kind === 'Service')!;
  const ns = nsOf(c);
  const podSel = Object.entries(d.spec.selector.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  await waitPodsReady(kube, ns, podSel, { count: d.spec.replicas, timeoutMs: 120_000 });
  const svcSel = Object.entries(svc.spec.selector as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  const target = svc.spec.ports[0].targetPort as number;
  await pollUntil({
    what: `Endpoints of ${ns}/my-nginx to list the pods its selector ${svcSel} selects`,
    timeoutMs: 60_000,
    intervalMs: 250,
    probe: async () => ({ want: await readyPodSet(kube, ns, svcSel, target), seen: await endpointsSet(kube, ns, 'my-nginx') }),
    done: ({ want, seen }) => want.join() === seen.join(),
    describe: ({ want, seen }) => `selected ${fmt(want)}, Endpoints ${fmt(seen)}`,
  });
}

async function namespaceGone(name: string): Promise<string> {
  try {
    const ns = await kube.core.readNamespace({ name });
    const pods = (await kube.core.listNamespacedPod({ namespace: name })).items.length;
    return `${ns.status?.phase}, ${pods} pods`;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return 'gone';
    throw err;
  }
}

beforeAll(async () => {
  s = loadRunState();
  kube = makeKube({ kubeconfig: s.kubeconfig, context: s.context });
  tmp = mkdtempSync(path.join(tmpdir(), 'knc-grade-'));
  const t0 = Date.now();
  // the run's labels: the run's teardown (and SIGINT, and `kube-netcheck cleanup`) deletes these too
  await Promise.all(CASES.map((c) => kube.core.createNamespace({ body: { metadata: { name: nsOf(c), labels: { ...runLabels(s.runId), 'kube-netcheck/grade-case': c.key } } } })));
  await Promise.all(CASES.filter((c) => c.mutate).map((c) => createAll(kube, workload(c))));
  await Promise.all(CASES.map(settled));
  setupMs = Date.now() - t0;

  customRubric = path.join(tmp, 'api-only.yaml');
  writeFileSync(customRubric, [
    'name: replicas-matter',
    'items:',
    '  - {id: made-it, check: deployment, weight: 1, description: "a Deployment my-nginx in {namespace}", hint: "create it"}',
    '  - {id: two-pods, check: replicas, weight: 3, description: "2 Ready replicas", hint: "scale it to 2, not 1"}',
    '',
  ].join('\n'));

  before = await inventory(nsOf(CASES[0]));
  const t1 = Date.now();
  // the grader reads the probe image from the environment, as the CLI does
  process.env.KNC_PROBE_IMAGE = s.images.probe;
  const [results, strict, lenient] = await Promise.all([
    Promise.all(CASES.map((c) => gradeHere(['--namespace', nsOf(c)]))),
    gradeProcess(['-n', nsOf({ key: 'one' }), '--rubric', customRubric]),
    gradeProcess(['-n', nsOf({ key: 'one' }), '--rubric', customRubric, '--pass-mark', '25']),
  ]);
  gradeWallMs = Date.now() - t1;
  CASES.forEach((c, i) => graded.set(c.key, results[i]));
  custom = { strict, lenient };
}, 300_000);

const probeImageBefore = process.env.KNC_PROBE_IMAGE;
afterAll(async () => {
  if (probeImageBefore === undefined) delete process.env.KNC_PROBE_IMAGE;
  else process.env.KNC_PROBE_IMAGE = probeImageBefore;
  rmSync(tmp, { recursive: true, force: true });
  if (!s) return;
  const names = CASES.map(nsOf);
  await Promise.all(names.map(async (name) => {
    await kube.core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined);
    await kube.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(() => undefined);
  }));
  await pollUntil({
    what: `the grading namespaces' pods gone`,
    timeoutMs: 60_000,
    intervalMs: 250,
    probe: async () => (await Promise.all(names.map((namespace) => kube.core.listNamespacedPod({ namespace })))).reduce((n, l) => n + l.items.length, 0),
    done: (n) => n === 0,
  });
}, 90_000);

const rubric = loadRubric();
const expectedPercent = (failed: string[]) => {
  const total = rubric.items.reduce((t, i) => t + i.weight, 0);
  const lost = rubric.items.filter((i) => failed.includes(i.id)).reduce((t, i) => t + i.weight, 0);
  return displayPercent(((total - lost) / total) * 100);
};

describe('lab grading: kube-netcheck grade with the default rubric', () => {
  for (const c of CASES) {
    const pct = expectedPercent(c.failed);
    check(`${c.what}: ${pct}%, fails exactly [${c.failed.join(', ')}]`, { tags: ['grade'], from: 'kube-netcheck grade', to: `namespace …-g-${c.key}` }, async () => {
      const g = graded.get(c.key)!;
      if (!g.report) throw new Error(`kube-netcheck grade exited ${g.code} without a JSON report; stderr:\n${g.stderr}`);
      const r = g.report;
      const failed = r.items.filter((i) => !i.passed).map((i) => i.id);
      const details = Object.fromEntries(r.items.map((i) => [i.id, `${i.passed ? 'PASS' : 'FAIL'} ${i.detail}`]));
      expect({ failed, percent: r.percent }).toEqual({ failed: c.failed, percent: pct });
      expect(r).toMatchObject({ namespace: nsOf(c), passMark: 100, passed: c.failed.length === 0, failed: c.failed });
      expect(g.code).toBe(c.failed.length === 0 ? 0 : 1);
      expect(r.probeNamespace).toMatch(/^knc-grade-r[a-z0-9]{7}$/);
      // the human lines (stderr with --json -): a hint for each failed item, the score last
      for (const id of c.failed) expect(g.stderr).toContain(`      hint: ${r.items.find((i) => i.id === id)!.hint}`);
      expect(g.stderr).toMatch(new RegExp(`score: ${r.score}/${r.total} \\(${pct.toFixed(1)}%\\), pass mark 100%`));
      return { score: `${r.score}/${r.total}`, percent: r.percent, failed, exitCode: g.code, gradeMs: r.durationMs, wallMs: g.wallMs, timings: (r as { timings?: unknown }).timings, details };
    });
  }

  check('every probe namespace of the grades is deleted (or terminating with no pods left)', { tags: ['grade', 'cleanup'], from: 'api', to: 'knc-grade-* namespaces' }, async () => {
    const names = [...graded.values()].map((g) => g.report?.probeNamespace).filter((n): n is string => !!n);
    expect(names).toHaveLength(CASES.length);
    const states = await Promise.all(names.map(async (n) => `${n}: ${await namespaceGone(n)}`));
    for (const st of states) expect(st).toMatch(/: (gone|Terminating, 0 pods)$/);
    return { states, setupMs, gradeWallMs };
  });

  check('grading changes nothing in the graded namespace', { tags: ['grade'], from: 'api', to: `namespace …-g-ref` }, async () => {
    const after = await inventory(nsOf(CASES[0]));
    expect(after).toEqual(before);
    return { objects: after.length };
  });

  check('a custom rubric reweights and selects checks: API only, no probe namespace; the pass mark sets the exit code', { tags: ['grade', 'rubric'], from: 'kube-netcheck grade --rubric', to: 'namespace …-g-one' }, async () => {
    const { strict, lenient } = custom;
    expect(strict.report).toMatchObject({ rubric: { name: 'replicas-matter' }, score: 1, total: 4, percent: 25, passed: false, failed: ['two-pods'], probeNamespace: null });
    expect(strict.report!.items.map((i) => [i.id, i.check, i.description])).toEqual([['made-it', 'deployment', `a Deployment my-nginx in ${nsOf({ key: 'one' })}`], ['two-pods', 'replicas', '2 Ready replicas']]);
    expect(strict.stderr).not.toMatch(/probe:/);
    expect([strict.code, lenient.code]).toEqual([1, 0]);
    expect(lenient.report).toMatchObject({ percent: 25, passMark: 25, passed: true });
    return { strict: strict.report!.durationMs, lenient: lenient.report!.durationMs };
  });

  check('SIGINT while grading: exit 130 and the probe namespace is deleted', { tags: ['grade', 'cleanup'], from: 'kube-netcheck grade', to: 'its probe namespace' }, async () => {
    const child = cli(['-n', nsOf(CASES[0])]);
    let probeNs: string | undefined;
    const seen = new Promise<string>((resolve) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /probe: namespace (knc-grade-r[a-z0-9]{7})/.exec(buf);
        if (m) resolve(m[1]);
      });
    });
    probeNs = await Promise.race([seen, child.then(() => undefined)]);
    expect(probeNs).toBeDefined();
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toMatch(new RegExp(`^INTERRUPTED: grading stopped \\(SIGINT\\); the probe namespace ${probeNs} was deleted$`, 'm'));
    const state = await namespaceGone(probeNs!);
    expect(state).toMatch(/^(gone|Terminating, 0 pods)$/);
    return { probeNamespace: probeNs, state, stdout: String(r.stdout).split('\n') };
  }, 90_000);
});
