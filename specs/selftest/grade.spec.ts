// Lab grading (`kube-netcheck grade`) on the live cluster of this Jest run (jestTarget()).
// Setup: one namespace per case, labelled with a run id of this spec (runLabels, so that
// `kube-netcheck cleanup` finds leftovers): the reference solution
// (manifests/grading/solutions/seed/reference.yaml with the offline nginx image), an empty namespace,
// one seeded mistake each (wrong pod label, containerPort, targetPort, 1 replica, selector typo),
// and what the student did not build: a stray bare Pod labelled run=my-nginx (selected by the
// Service, or not), a Deployment scaled to 3, a Service selector that leaves one of the
// Deployment's pods out, a selector that also matches a stray pod. Assess: every case graded at
// with the default rubric, 6 at a time (through the CLI's main(), in this process; the custom-rubric and
// SIGINT checks spawn the real bin/kube-netcheck.js); each case must fail exactly its items, with
// its score. Also: the grader changes nothing in the graded namespace, deletes its probe namespace
// (also on SIGINT), and a custom rubric reweights and selects checks. Teardown deletes the
// namespaces.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadYamlDocs, setImage, type Obj } from '../../src/workload/manifests.js';
import { createAll } from '../../src/workload/apply.js';
import { waitPodsReady } from '../../src/workload/pods.js';
import { endpointsSet, fmt, readyPodSet } from '../../src/verdicts/endpoints.js';
import { newRunId, runLabels } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { CHECK_IDS } from '../../src/grade/verdicts.js';
import { loadLab } from '../../src/grade/lab.js';
import type { gradeBookJson } from '../../src/grade/format.js';
import { readFileSync } from 'node:fs';
import { displayPercent } from '../../src/grade/score.js';
import type { LmsReport } from '../../src/grade/format.js';
import type { Target } from '../../src/cluster/resolve.js';
import { main } from '../../src/cli/main.js';
import { jestTarget } from '../support/netcheck.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/kube-netcheck.js');
const REFERENCE = path.join(ROOT, 'manifests/grading/solutions/seed/reference.yaml');
const STRAY = 'stray-nginx';
const DEAD = 'dead-nginx';

interface Workload {
  deployment: Obj;
  service: Obj;
  /** Pods the student created by hand next to the Deployment. */
  pods: Obj[];
}

interface Case {
  key: string;
  what: string;
  /** The reference solution changed; undefined: an empty namespace. */
  mutate?: (w: Workload) => void;
  /** A change by hand once the workload is Ready. */
  after?: (ns: string) => Promise<void>;
  /** Pods that never become Ready (left out of the wait), and whether the Endpoints follow a selector (default true). */
  notReady?: number;
  selectorManaged?: boolean;
  failed: string[];
  /** What an item's detail must say (the stray pod named, the count …). */
  details?: Record<string, RegExp>;
}

/** A bare nginx Pod (no owner) with these labels: not the Deployment's, whatever it carries. */
const strayPod = (labels: Record<string, string>): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: STRAY, labels },
  spec: {
    terminationGracePeriodSeconds: 2,
    containers: [
      {
        name: 'nginx',
        image: 'nginx:1.27',
        imagePullPolicy: 'IfNotPresent',
        ports: [{ containerPort: 80 }],
        readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1 },
      },
    ],
  },
});

const relabel = (w: Workload, labels: Record<string, string>) => {
  w.deployment.spec.template.metadata.labels = labels;
};

const SERVICE_ITEMS = ['service-port', 'service-selector', 'endpoints', 'service-http', 'dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn'];

const CASES: Case[] = [
  { key: 'ref', what: 'the reference solution', mutate: () => undefined, failed: [] },
  { key: 'empty', what: 'an empty namespace', failed: [...CHECK_IDS] },
  {
    key: 'label',
    what: 'wrong pod label (app=my-nginx instead of run=my-nginx)',
    mutate: (w) => {
      w.deployment.spec.selector = { matchLabels: { app: 'my-nginx' } };
      relabel(w, { app: 'my-nginx' });
    },
    failed: ['pod-labels', 'service-selector', 'endpoints', 'service-http'],
  },
  {
    key: 'cport',
    what: 'wrong containerPort (8080; nginx still listens on 80)',
    mutate: (w) => void (w.deployment.spec.template.spec.containers[0].ports[0].containerPort = 8080),
    failed: ['container-port'],
  },
  {
    key: 'tport',
    what: 'wrong targetPort (8080)',
    mutate: (w) => void (w.service.spec.ports[0].targetPort = 8080),
    failed: ['service-port', 'endpoints', 'service-http'],
  },
  { key: 'one', what: '1 replica', mutate: (w) => void (w.deployment.spec.replicas = 1), failed: ['replicas'] },
  {
    key: 'selector',
    what: 'Service selector typo (run=my-ngnix)',
    mutate: (w) => void (w.service.spec.selector = { run: 'my-ngnix' }),
    failed: ['service-selector', 'endpoints', 'service-http'],
  },
  {
    key: 'stray',
    what: 'the reference solution plus a stray bare Pod labelled run=my-nginx, which the Service selects',
    mutate: (w) => void w.pods.push(strayPod({ run: 'my-nginx' })),
    // the stray neither earns nor costs the Deployment's items: 2 of 2 replicas, its labels, its pods' HTTP
    failed: ['service-selector', 'endpoints'],
    details: {
      replicas:
        /^spec\.replicas=2, 2 of 2 pods of the Deployment Ready \(not counted: 1 other pod labelled \{run=my-nginx\} that Deployment my-nginx does not own: stray-nginx\)$/,
      'service-selector': /it also selects pod stray-nginx \{run=my-nginx\}, which Deployment my-nginx does not own$/,
      endpoints: /\(the 2 Ready pods of Deployment my-nginx\); saw \{[\d.:, ]+\}: not the Deployment's Ready pods on port 80: [\d.]+:80 \(pod stray-nginx\)$/,
      'pod-http': /^pod my-nginx-\S+ [\d.]+:80 answered; pod my-nginx-\S+ [\d.]+:80 answered \(5 samples each\)$/,
    },
  },
  {
    key: 'stray-unselected',
    what: 'a stray bare Pod labelled run=my-nginx that the Service (run=my-nginx,tier=web) does not select',
    mutate: (w) => {
      relabel(w, { run: 'my-nginx', tier: 'web' });
      w.service.spec.selector = { run: 'my-nginx', tier: 'web' };
      w.pods.push(strayPod({ run: 'my-nginx' }));
    },
    failed: [],
    details: { 'service-selector': /^selector \{run=my-nginx, tier=web\} selects exactly the 2 pods of Deployment my-nginx$/ },
  },
  {
    key: 'stray-selected',
    what: 'a Service selector (app=web) that also matches a stray pod labelled app=web',
    mutate: (w) => {
      relabel(w, { run: 'my-nginx', app: 'web' });
      w.service.spec.selector = { app: 'web' };
      w.pods.push(strayPod({ app: 'web' }));
    },
    failed: ['service-selector', 'endpoints'],
    details: { endpoints: /saw \{([\d.]+:80(, )?){3}\}: not the Deployment's Ready pods on port 80: [\d.]+:80 \(pod stray-nginx\)$/ },
  },
  {
    key: 'three',
    what: 'the Deployment scaled to 3: the Endpoints hold its 3 Ready pods, which is right for the Service and wrong for the lab',
    mutate: (w) => void (w.deployment.spec.replicas = 3),
    failed: ['replicas'],
    details: {
      replicas: /^expected 2 replicas, all Ready; saw spec\.replicas=3, 3 of 3 pods of the Deployment Ready$/,
      endpoints: /^Endpoints and EndpointSlices \{([\d.]+:80(, )?){3}\}: the 3 Ready pods of Deployment my-nginx on port 80$/,
    },
  },
  {
    key: 'leftout',
    what: "a Service selector (run=my-nginx,tier=web) that leaves out one of the Deployment's pods (relabelled by hand): 1 address for 2 Ready pods",
    mutate: (w) => {
      relabel(w, { run: 'my-nginx', tier: 'web' });
      w.service.spec.selector = { run: 'my-nginx', tier: 'web' };
    },
    after: async (ns) => {
      const [first] = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'run=my-nginx' })).items.sort((a, b) =>
        a.metadata!.name!.localeCompare(b.metadata!.name!),
      );
      delete first.metadata!.labels!.tier;
      await kube.core.replaceNamespacedPod({ name: first.metadata!.name!, namespace: ns, body: first });
    },
    failed: ['service-selector', 'endpoints'],
    details: {
      'service-selector': /it leaves out the Deployment's pod my-nginx-\S+ \{pod-template-hash=\w+, run=my-nginx\}$/,
      endpoints: /\(the 2 Ready pods of Deployment my-nginx\); saw \{[\d.]+:80\}: missing: [\d.]+:80 \(pod my-nginx-\S+\)$/,
    },
  },
  // gaming cases (issue 18): each loses exactly the items it did not earn
  {
    key: 'no-selector',
    what: 'a Service with no selector plus hand-written Endpoints listing the two pods',
    mutate: (w) => void delete w.service.spec.selector,
    after: (ns) => handWrittenEndpoints(ns),
    selectorManaged: false,
    failed: SERVICE_ITEMS,
  },
  {
    key: 'external-name',
    what: 'an ExternalName Service carrying a selector and a port, plus hand-written Endpoints',
    mutate: (w) =>
      void (w.service.spec = {
        type: 'ExternalName',
        externalName: 'my-nginx.example.invalid',
        selector: { run: 'my-nginx' },
        ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }],
      }),
    after: (ns) => handWrittenEndpoints(ns),
    selectorManaged: false,
    failed: SERVICE_ITEMS,
  },
  {
    key: 'pending',
    what: 'one of the two pods stuck Pending (pinned to one node, anti-affinity keeps the second off it)',
    mutate: (w) => {
      w.deployment.spec.template.spec.nodeSelector = { 'kubernetes.io/hostname': workerNode };
      w.deployment.spec.template.spec.affinity = {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { run: 'my-nginx' } } }],
        },
      };
    },
    notReady: 1,
    failed: ['replicas', 'endpoints', 'pod-http', 'service-http'],
    details: { 'pod-http': /pod my-nginx-\S+ is Pending \(Unschedulable\), not Ready/ },
  },
  {
    key: 'dead-endpoint',
    what: 'a Service with one dead endpoint of two: 1 nginx replica plus a Ready pod labelled run=my-nginx that serves nothing',
    mutate: (w) => {
      w.deployment.spec.replicas = 1;
      w.pods.push(deadPod({ run: 'my-nginx' }));
    },
    failed: ['replicas', 'service-selector', 'endpoints', 'service-http'],
    details: { 'service-http': /endpoint [\d.]+:80 \(pod dead-nginx\): expected an HTTP answer; saw fail .*\(5 of 5 samples failed\)/ },
  },
];

/** A Ready pod (no readiness probe) that listens on nothing: a dead backend. */
function deadPod(labels: Record<string, string>): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: DEAD, labels },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'idle',
          image: target.images.probe,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
          securityContext: { runAsNonRoot: true, runAsUser: 65534 },
        },
      ],
    },
  };
}

/** Endpoints written by hand listing the Deployment's pods (what a student does to fake a Service). */
async function handWrittenEndpoints(ns: string): Promise<void> {
  const pods = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'run=my-nginx' })).items;
  await kube.core.createNamespacedEndpoints({
    namespace: ns,
    body: { metadata: { name: 'my-nginx' }, subsets: [{ addresses: pods.map((p) => ({ ip: p.status!.podIP! })), ports: [{ port: 80, protocol: 'TCP' }] }] },
  });
}

interface Graded {
  code: number | undefined;
  report?: LmsReport;
  stderr: string;
  wallMs: number;
}

let target: Target;
/** A schedulable worker's name (the Pending case pins its pods there). */
let workerNode: string;
let kube: Kube;
let tmp: string;
const runId = newRunId();
const nsOf = (c: Pick<Case, 'key'>) => `knc-${runId}-g-${c.key}`;
type BookStudent = ReturnType<typeof gradeBookJson>['students'][number];
const graded = new Map<string, BookStudent>();
let classOut: { code: number; out: string; err: string };
let reference: Graded;
let customRubric: string;
let custom: { strict: Graded; lenient: Graded };
let before: string[];
let setupMs: number;
let gradeWallMs: number;

const clusterArgs = () => ['--kubeconfig', target.kubeconfig, ...(target.context ? ['--context', target.context] : [])];

function cli(args: string[]) {
  return execa(process.execPath, [BIN, 'grade', ...args, ...clusterArgs()], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      KNC_PROBE_IMAGE: target.images.probe,
      KNC_API_TIMEOUT_MS: API_TIMEOUT_MS,
    },
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
  const code = await main(['grade', ...args, ...clusterArgs(), '--json', '-'], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, report: parse(out.join('\n')), stderr: err.join('\n'), wallMs: Date.now() - t };
}

/** What the graded namespace holds, as kind/name (the grader must not add, change or remove anything). */
async function inventory(ns: string): Promise<string[]> {
  const [pods, svcs, deps, rss, eps] = await Promise.all([
    kube.core.listNamespacedPod({ namespace: ns }),
    kube.core.listNamespacedService({ namespace: ns }),
    kube.apps.listNamespacedDeployment({ namespace: ns }),
    kube.apps.listNamespacedReplicaSet({ namespace: ns }),
    kube.core.listNamespacedEndpoints({ namespace: ns }),
  ]);
  const row = (kind: string, items: Array<{ metadata?: { name?: string; resourceVersion?: string } }>, rv = false) =>
    items.map((i) => `${kind}/${i.metadata!.name}${rv ? `@${i.metadata!.resourceVersion}` : ''}`);
  return [
    ...row('pod', pods.items),
    ...row('service', svcs.items, true),
    ...row('deployment', deps.items),
    ...row('replicaset', rss.items),
    ...row('endpoints', eps.items),
  ].sort();
}

/** The reference solution with the case's mistake, in the case's namespace, with the offline image. */
function workload(c: Case): Workload {
  const [deployment, service] = loadYamlDocs(REFERENCE);
  const w: Workload = { deployment, service, pods: [] };
  c.mutate!(w);
  for (const o of [w.deployment, w.service, ...w.pods]) {
    o.metadata = { ...o.metadata, namespace: nsOf(c) };
    if (o.kind !== 'Service' && o.metadata.name !== DEAD) setImage(o, target.images.nginx);
  }
  return w;
}

const selectorOf = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Until every pod of the case is Ready and the Service's Endpoints list what its selector selects. */
async function settled(c: Case, w: Workload): Promise<void> {
  const ns = nsOf(c);
  const count = w.deployment.spec.replicas + w.pods.length;
  if (c.notReady) {
    // some pods are meant never to be Ready (and unschedulable: waitPodsReady would end at once)
    await pollUntil({
      what: `${count - c.notReady} of ${count} pods Ready in ${ns}`,
      timeoutMs: 120_000,
      intervalMs: 250,
      probe: async () => (await kube.core.listNamespacedPod({ namespace: ns })).items,
      done: (pods) =>
        pods.length === count &&
        pods.filter((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length === count - c.notReady!,
      describe: (pods) => pods.map((p) => `${p.metadata?.name} ${p.status?.phase}`).join(', '),
    });
  } else await waitPodsReady(kube, ns, '', { count, timeoutMs: 120_000, override: { image: target.images.nginx } });
  await c.after?.(ns);
  if (c.selectorManaged === false) return;
  const svcSel = selectorOf(w.service.spec.selector);
  const port = w.service.spec.ports[0].targetPort as number;
  await pollUntil({
    what: `Endpoints of ${ns}/my-nginx to list the pods its selector ${svcSel} selects`,
    timeoutMs: 60_000,
    intervalMs: 250,
    probe: async () => ({ want: await readyPodSet(kube, ns, svcSel, port), seen: await endpointsSet(kube, ns, 'my-nginx') }),
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

const envBefore = { KNC_PROBE_IMAGE: process.env.KNC_PROBE_IMAGE, KNC_API_TIMEOUT_MS: process.env.KNC_API_TIMEOUT_MS };
/**
 * Each grade gets a 30 s API request timeout (the CLI's default is 5 s): the cluster is shared with
 * other runs on this machine, and preflights (13 access reviews each) on a loaded API server are a
 * test of the machine, not of the grader.
 */
const API_TIMEOUT_MS = '30000';

beforeAll(async () => {
  target = jestTarget();
  kube = makeKube({ kubeconfig: target.kubeconfig, context: target.context });
  const nodes = (await kube.core.listNode()).items;
  workerNode = (nodes.find((n) => !n.spec?.taints?.some((t) => t.effect === 'NoSchedule')) ?? nodes[0]).metadata!.name!;
  tmp = mkdtempSync(path.join(tmpdir(), 'knc-grade-'));
  const t0 = Date.now();
  // labelled like every run's namespaces: `kube-netcheck cleanup` deletes what a crash leaves
  await Promise.all(
    CASES.map((c) => kube.core.createNamespace({ body: { metadata: { name: nsOf(c), labels: { ...runLabels(runId), 'kube-netcheck/grade-case': c.key } } } })),
  );
  await Promise.all(
    CASES.filter((c) => c.mutate).map(async (c) => {
      const w = workload(c);
      await createAll(kube, [w.deployment, w.service, ...w.pods]);
      await settled(c, w);
    }),
  );
  setupMs = Date.now() - t0;

  customRubric = path.join(tmp, 'api-only.yaml');
  writeFileSync(
    customRubric,
    [
      'lab: replicas-matter',
      'title: replicas matter',
      'workloads: {nginx: {kind: Deployment, name: my-nginx, replicas: 2, labels: {run: my-nginx}, containerPort: 80}}',
      'tasks:',
      '  - id: t',
      '    checks:',
      '      - {id: made-it, type: exists, weight: 1, description: "a Deployment my-nginx in {namespace}", hint: "create it"}',
      '      - {id: two-pods, type: replicas, weight: 3, description: "2 Ready replicas", hint: "scale it to 2, not 1"}',
      '',
    ].join('\n'),
  );

  before = await inventory(nsOf(CASES[0]));
  const t1 = Date.now();
  // the grader reads the probe image from the environment, as the CLI does
  process.env.KNC_PROBE_IMAGE = target.images.probe;
  process.env.KNC_API_TIMEOUT_MS = API_TIMEOUT_MS;
  // the whole class in one command (one shared probe set), the reference once by itself (its human lines), and a custom lab
  const book = path.join(tmp, 'book');
  const [classRun, single, strict, lenient] = await Promise.all([
    (async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['grade', '--lab', 'seed', '--namespaces', CASES.map(nsOf).join(','), '--out', book, ...clusterArgs()], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    })(),
    gradeHere(['--namespace', nsOf(CASES[0])]),
    gradeProcess(['-n', nsOf({ key: 'one' }), '--rubric', customRubric]),
    gradeProcess(['-n', nsOf({ key: 'one' }), '--rubric', customRubric, '--pass-mark', '25']),
  ]);
  gradeWallMs = Date.now() - t1;
  classOut = classRun;
  const gb = JSON.parse(readFileSync(path.join(book, 'gradebook.json'), 'utf8')) as ReturnType<typeof gradeBookJson>;
  for (const st of gb.students) graded.set(CASES.find((c) => nsOf(c) === st.student)!.key, st);
  reference = single;
  custom = { strict, lenient };
  process.stdout.write(
    `grade.spec: ${CASES.length} namespaces set up in ${setupMs}ms; graded as one class in ${gradeWallMs}ms (with the single and custom runs beside it)\n${classOut.out}\n`,
  );
}, 300_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(envBefore)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (!kube) return;
  const names = CASES.map(nsOf);
  await Promise.all(
    names.map(async (name) => {
      await kube.core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined);
      await kube.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(() => undefined);
    }),
  );
  await pollUntil({
    what: `the grading namespaces' pods gone`,
    timeoutMs: 60_000,
    intervalMs: 250,
    probe: async () => (await Promise.all(names.map((namespace) => kube.core.listNamespacedPod({ namespace })))).reduce((n, l) => n + l.items.length, 0),
    done: (n) => n === 0,
  });
}, 90_000);

const rubric = { items: loadLab('seed').checks };
const expectedPercent = (failed: string[]) => {
  const total = rubric.items.reduce((t, i) => t + i.weight, 0);
  const lost = rubric.items.filter((i) => failed.includes(i.id)).reduce((t, i) => t + i.weight, 0);
  return displayPercent(((total - lost) / total) * 100);
};
const points = (failed: string[]) => rubric.items.filter((i) => !failed.includes(i.id)).reduce((t, i) => t + i.weight, 0);

describe('lab grading: kube-netcheck grade with the default rubric', () => {
  for (const c of CASES) {
    const pct = expectedPercent(c.failed);
    test(`${c.what}: ${points(c.failed)} points, ${pct}%, fails exactly [${c.failed.join(', ')}]`, () => {
      const r = graded.get(c.key);
      if (!r) throw new Error(`not graded: the setup (beforeAll) did not finish; class output:\n${classOut?.out}\n${classOut?.err}`);
      if (r.error) throw new Error(`not graded: ${r.error}`);
      const failed = r.items.filter((i) => !i.passed).map((i) => i.id);
      // on a mismatch, the whole verdict table: every item and what it saw
      if (failed.join() !== c.failed.join())
        throw new Error(
          `fails [${failed.join(', ')}] instead of [${c.failed.join(', ')}]:\n${r.items.map((i) => `  ${i.passed ? 'PASS' : 'FAIL'} ${i.id}: ${i.detail}`).join('\n')}`,
        );
      expect({ failed, percent: r.percent, score: r.score }).toEqual({ failed: c.failed, percent: pct, score: points(c.failed) });
      expect(r).toMatchObject({ student: nsOf(c), passed: c.failed.length === 0, failed: c.failed });
      for (const [id, detail] of Object.entries(c.details ?? {}))
        expect({ [id]: r.items.find((i) => i.id === id)!.detail }).toEqual({ [id]: expect.stringMatching(detail) });
    });
  }

  test('the class: one command, exit 1 (not everyone passed), a line per student, the grade book', () => {
    expect(classOut.code).toBe(1);
    for (const c of CASES) expect(classOut.out).toMatch(new RegExp(`^${nsOf(c)} +[\\d.]+/15 \\(`, 'm'));
    expect(classOut.out).toMatch(new RegExp(`graded ${CASES.length} of ${CASES.length} namespaces in [\\d.]+s`));
  });

  test('one namespace: exit 0 at 100 %, PASS lines, the probe namespace named', () => {
    expect(reference.code).toBe(0);
    expect(reference.report).toMatchObject({ namespace: nsOf(CASES[0]), percent: 100, passed: true, lab: { id: 'seed' } });
    expect(reference.report!.probeNamespace).toMatch(/^knc-grade-r[a-z0-9]{7}$/);
    expect(reference.stderr).toMatch(/score: 15\/15 \(100\.0%\), pass mark 100%: PASSED/);
  });

  test('grading changes nothing in the graded namespace', async () => {
    const after = await inventory(nsOf(CASES[0]));
    expect(after).toEqual(before);
    expect(after.filter((o) => o.startsWith('pod/'))).toHaveLength(2);
  });

  test('a custom rubric reweights and selects checks: API only, no probe namespace; the pass mark sets the exit code', () => {
    const { strict, lenient } = custom;
    expect(strict.report).toMatchObject({
      lab: { id: 'replicas-matter' },
      score: 1,
      total: 4,
      percent: 25,
      passed: false,
      failed: ['two-pods'],
      probeNamespace: null,
    });
    expect(strict.report!.items.map((i) => [i.id, i.type, i.description])).toEqual([
      ['made-it', 'exists', `a Deployment my-nginx in ${nsOf({ key: 'one' })}`],
      ['two-pods', 'replicas', '2 Ready replicas'],
    ]);
    expect(strict.stderr).not.toMatch(/probe:/);
    expect([strict.code, lenient.code]).toEqual([1, 0]);
    expect(lenient.report).toMatchObject({ percent: 25, passMark: 25, passed: true });
  });

  test('SIGINT while grading: exit 130 and the probe namespace is deleted', async () => {
    const child = cli(['-n', nsOf(CASES[0])]);
    const seen = new Promise<string>((resolve) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /probe: namespace (knc-grade-r[a-z0-9]{7})/.exec(buf);
        if (m) resolve(m[1]);
      });
    });
    const probeNs = await Promise.race([seen, child.then(() => undefined)]);
    expect(probeNs).toBeDefined();
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toMatch(new RegExp(`^INTERRUPTED: grading stopped \\(SIGINT\\); the probe namespace ${probeNs} was deleted$`, 'm'));
    expect(await namespaceGone(probeNs!)).toMatch(/^(gone|Terminating, 0 pods)$/);
  }, 90_000);
});
