// Every shipped lab beyond the seed (specs/selftest/grade.spec.ts has the seed's cases) on the live
// cluster of this Jest run: per lab, a namespace per solution file of manifests/grading/solutions/<lab>/
// (the reference and the wrong ones; their '# loses:' header says exactly which checks they must
// lose, '# loses-if-enforced:' the NetworkPolicy checks they lose where policy is enforced) and an
// empty namespace; then ONE class command per lab (`grade --lab L --namespaces …`) and its grade
// book compared case by case: the reference scores 100 %, the empty namespace 0, each wrong solution
// loses exactly its checks. Where NetworkPolicy is not enforced (the default flannel cluster) the
// policy checks must be "not judged", left out of the total, never passed or failed silently.
// Images are swapped for the offline ones (nginx → the nginx image, busybox → the probe image).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { createAll } from '../../src/workload/apply.js';
import type { Obj } from '../../src/workload/manifests.js';
import { newRunId, runLabels } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { isReady } from '../../src/workload/pods.js';
import type { gradeBookJson } from '../../src/grade/format.js';
import type { Target } from '../../src/cluster/resolve.js';
import { main } from '../../src/cli/main.js';
import { jestTarget } from '../support/netcheck.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOLUTIONS = path.join(ROOT, 'manifests/grading/solutions');
const LABS = ['nodeport', 'debug-service', 'headless', 'netpol'];

interface Case {
  lab: string;
  key: string;
  what: string;
  file?: string;
  loses: string[];
  losesIfEnforced: string[];
  after?: string[];
}

const header = (text: string, key: string) => [...text.matchAll(/^# ([a-z-]+): ?(.*)$/gm)].find((m) => m[1] === key)?.[2].trim();
const list = (s?: string) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const CASES: Case[] = LABS.flatMap((lab) => {
  const files = readdirSync(path.join(SOLUTIONS, lab))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return [
    ...files.map((f) => {
      const text = readFileSync(path.join(SOLUTIONS, lab, f), 'utf8');
      return {
        lab,
        key: f.replace(/\.yaml$/, ''),
        what: header(text, 'case') ?? f,
        file: path.join(SOLUTIONS, lab, f),
        loses: list(header(text, 'loses')),
        losesIfEnforced: list(header(text, 'loses-if-enforced')),
        after: header(text, 'after')?.split(/\s+/),
      };
    }),
    { lab, key: 'empty', what: 'an empty namespace', loses: [], losesIfEnforced: [] },
  ];
});

let target: Target;
let kube: Kube;
let tmp: string;
const runId = newRunId();
const short: Record<string, string> = { nodeport: 'np', 'debug-service': 'dbg', headless: 'hl', netpol: 'pol' };
const nsOf = (c: Pick<Case, 'lab' | 'key'>) => `knc-${runId}-${short[c.lab]}-${c.key}`.slice(0, 63);
type Book = ReturnType<typeof gradeBookJson>;
const books = new Map<string, { code: number; out: string; err: string; book?: Book }>();

const clusterArgs = () => ['--kubeconfig', target.kubeconfig, ...(target.context ? ['--context', target.context] : [])];

/** The solution's objects in the case's namespace, with the offline images. */
function objects(c: Case): Obj[] {
  const docs = (yaml.loadAll(readFileSync(c.file!, 'utf8')) as Obj[]).filter(Boolean);
  for (const o of docs) {
    o.metadata = { ...o.metadata, namespace: nsOf(c) };
    // the client serialises NetworkPolicy rules by its own attribute names: "from" is "_from" there
    // (a plain "from" would be dropped on the way to the API; kubectl apply sends it as written)
    if (o.kind === 'NetworkPolicy')
      for (const r of o.spec.ingress ?? [])
        if (r.from) {
          r._from = r.from;
          delete r.from;
        }
    const spec = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    for (const ct of spec?.containers ?? []) {
      ct.image = String(ct.image).startsWith('busybox') ? target.images.probe : target.images.nginx;
      ct.imagePullPolicy = 'IfNotPresent';
    }
  }
  return docs;
}

const podCount = (objs: Obj[]) =>
  objs.reduce((n, o) => n + (o.kind === 'Pod' ? 1 : ['Deployment', 'StatefulSet'].includes(o.kind ?? '') ? (o.spec.replicas ?? 1) : 0), 0);

/** Until every pod of the case is Ready and each Service with a selector lists them (a lab is graded on a settled namespace). */
async function settle(c: Case, objs: Obj[]): Promise<void> {
  const ns = nsOf(c);
  const want = podCount(objs);
  await pollUntil({
    what: `${want} pods Ready in ${ns}`,
    timeoutMs: 150_000,
    intervalMs: 500,
    probe: async () => (await kube.core.listNamespacedPod({ namespace: ns })).items.filter((p) => !p.metadata?.deletionTimestamp),
    done: (pods) => pods.length === want && pods.every(isReady),
    describe: (pods) => pods.map((p) => `${p.metadata?.name} ${p.status?.phase}${isReady(p) ? '/Ready' : ''}`).join(', '),
  });
  if (c.after?.[0] === 'endpoints-by-hand') {
    const [, svc, selector] = c.after;
    const pods = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: selector! })).items;
    await kube.core.createNamespacedEndpoints({
      namespace: ns,
      body: { metadata: { name: svc! }, subsets: [{ addresses: pods.map((p) => ({ ip: p.status!.podIP! })), ports: [{ port: 80, protocol: 'TCP' }] }] },
    });
    return;
  }
  for (const svc of objs.filter((o) => o.kind === 'Service' && o.spec.selector)) {
    const sel = Object.entries(svc.spec.selector as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    await pollUntil({
      what: `Endpoints of ${ns}/${svc.metadata!.name} to list the Ready pods its selector selects`,
      timeoutMs: 60_000,
      intervalMs: 250,
      probe: async () => {
        const selected = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: sel })).items.filter(isReady).length;
        const ep = await kube.core.readNamespacedEndpoints({ name: svc.metadata!.name!, namespace: ns }).catch(() => undefined);
        return { selected, listed: (ep?.subsets ?? []).reduce((n, s) => n + (s.addresses ?? []).length, 0) };
      },
      done: (x) => x.selected === x.listed,
    });
  }
}

beforeAll(async () => {
  target = jestTarget();
  kube = makeKube({ kubeconfig: target.kubeconfig, context: target.context });
  tmp = mkdtempSync(path.join(tmpdir(), 'knc-grade-labs-'));
  // labelled like every run's namespaces: `kube-netcheck cleanup` deletes what a crash leaves
  await Promise.all(
    CASES.map((c) =>
      kube.core.createNamespace({ body: { metadata: { name: nsOf(c), labels: { ...runLabels(runId), 'kube-netcheck/grade-case': `${c.lab}.${c.key}` } } } }),
    ),
  );
  const t0 = Date.now();
  await Promise.all(
    CASES.filter((c) => c.file).map(async (c) => {
      const objs = objects(c);
      await createAll(kube, objs);
      await settle(c, objs);
    }),
  );
  const setupMs = Date.now() - t0;
  process.env.KNC_PROBE_IMAGE = target.images.probe;
  const t1 = Date.now();
  // one class command per lab, the labs one after the other (each has its own probe set)
  for (const lab of LABS) {
    const out: string[] = [];
    const err: string[] = [];
    const dir = path.join(tmp, lab);
    const names = CASES.filter((c) => c.lab === lab).map(nsOf);
    const code = await main(['grade', '--lab', lab, '--namespaces', names.join(','), '--out', dir, ...clusterArgs()], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    let book: Book | undefined;
    try {
      book = JSON.parse(readFileSync(path.join(dir, 'gradebook.json'), 'utf8')) as Book;
    } catch {
      book = undefined;
    }
    books.set(lab, { code, out: out.join('\n'), err: err.join('\n'), book });
  }
  process.stdout.write(
    `grade-labs.spec: ${CASES.length} namespaces set up in ${setupMs}ms; ${LABS.length} classes graded in ${Date.now() - t1}ms\n${[...books.values()].map((b) => b.out).join('\n')}\n`,
  );
}, 600_000);

afterAll(async () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (!kube) return;
  const names = CASES.map(nsOf);
  await Promise.all(
    names.map(async (name) => {
      await kube.core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined);
      await kube.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(() => undefined);
    }),
  );
}, 90_000);

describe('the shipped labs, each graded as a class of its solutions', () => {
  for (const c of CASES) {
    const loses = c.key === 'empty' ? 'everything it can' : c.loses.length ? `exactly [${c.loses.join(', ')}]` : 'nothing (100 %)';
    test(`${c.lab}: ${c.what}: loses ${loses}`, () => {
      const b = books.get(c.lab);
      if (!b?.book) throw new Error(`lab ${c.lab} not graded (exit ${b?.code}):\n${b?.out}\n${b?.err}`);
      const st = b.book.students.find((s) => s.student === nsOf(c));
      if (!st || st.error) throw new Error(`${nsOf(c)} not graded: ${st?.error}`);
      const enforced = b.book.policyEnforced?.enforced === true;
      const lost = st.items.filter((i) => i.counted && !i.passed).map((i) => i.id);
      const table = st.items.map((i) => `  ${i.status} ${i.id}${i.counted ? '' : ' (not counted)'}: ${i.detail}`).join('\n');
      if (c.key === 'empty') {
        if (st.score !== 0) throw new Error(`an empty namespace scored ${st.score}:\n${table}`);
        return;
      }
      const want = [...c.loses, ...(enforced ? c.losesIfEnforced : [])];
      const order = (ids: string[]) => st.items.map((i) => i.id).filter((id) => ids.includes(id));
      if (lost.join() !== order(want).join()) throw new Error(`loses [${lost.join(', ')}] instead of [${order(want).join(', ')}]:\n${table}`);
      expect(st.passed).toBe(want.length === 0);
      if (want.length === 0) expect(st.percent).toBe(100);
      // policy checks where policy is not enforced: not judged, not counted, said so
      for (const i of st.items.filter((x) => (x.type === 'policy' && x.status !== 'not-judged') || (x.type === 'policy' && !enforced))) {
        if (!enforced)
          expect({ id: i.id, status: i.status, counted: i.counted, detail: i.detail }).toEqual({
            id: i.id,
            status: 'not-judged',
            counted: false,
            detail: expect.stringMatching(/^not judged: NetworkPolicy is not enforced on this cluster \(/),
          });
      }
    });
  }

  test('each class: exit 1 (not everyone passed), a line per student, both grade book files, the policy verdict said', () => {
    for (const lab of LABS) {
      const b = books.get(lab)!;
      expect({ lab, code: b.code }).toEqual({ lab, code: 1 });
      for (const c of CASES.filter((x) => x.lab === lab)) expect(b.out).toContain(nsOf(c));
      expect(readFileSync(path.join(tmp, lab, 'gradebook.csv'), 'utf8').split('\n')[0]).toMatch(/^student,status,score,total,percent,passed,/);
    }
    const pol = books.get('netpol')!;
    if (pol.book!.policyEnforced?.enforced === false) expect(pol.out).toMatch(/policy checks not judged: NetworkPolicy is not enforced on this cluster/);
  });
});
