// The shipped labs' solutions graded on a live cluster, for the self-tests: per lab, a namespace per
// solution file of manifests/grading/solutions/<lab>/ (the reference and the wrong ones; their
// '# loses:' header says exactly which checks they must lose, '# loses-if-enforced:' the
// NetworkPolicy checks they lose where policy is enforced) and an empty namespace; then ONE class
// command per lab (`grade --lab L --namespaces …`) and its grade book. Used on the Jest run's cluster
// (specs/selftest/grade-labs.spec.ts) and on the policy-enforcing cluster the CNI-manifest self-test
// brings up (specs/selftest/cni-manifest.spec.ts), so the NetworkPolicy lab is graded for credit
// in `make test` without a cluster of its own.
// Images are swapped for the offline ones (nginx → the nginx image, busybox → the probe image).
import { expect } from '@jest/globals';
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

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOLUTIONS = path.join(ROOT, 'manifests/grading/solutions');

export interface LabCase {
  lab: string;
  key: string;
  what: string;
  file?: string;
  loses: string[];
  losesIfEnforced: string[];
  after?: string[];
}

export type Book = ReturnType<typeof gradeBookJson>;
export interface ClassRun {
  code: number;
  out: string;
  err: string;
  book?: Book;
}

const header = (text: string, key: string) => [...text.matchAll(/^# ([a-z-]+): ?(.*)$/gm)].find((m) => m[1] === key)?.[2].trim();
const list = (s?: string) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Every solution file of each lab, plus an empty namespace per lab. */
export function labCases(labs: string[]): LabCase[] {
  return labs.flatMap((lab) => {
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
}

const SHORT: Record<string, string> = { nodeport: 'np', 'debug-service': 'dbg', headless: 'hl', netpol: 'pol', seed: 'seed' };

/**
 * A class of lab solutions on one cluster: `setUp` creates and settles the namespaces and grades
 * each lab as one class; `verdict` compares a case's grade-book row with its headers; `tearDown`
 * deletes the namespaces.
 */
export class LabClasses {
  readonly runId = newRunId();
  readonly books = new Map<string, ClassRun>();
  private kube: Kube;
  private tmp = mkdtempSync(path.join(tmpdir(), 'knc-grade-labs-'));

  /** `prefix`: the namespaces' names start with it (default knc-); `labels`: on each namespace besides the run's. */
  constructor(
    readonly target: Target,
    readonly cases: LabCase[],
    private readonly opts: { prefix?: string; labels?: Record<string, string> } = {},
  ) {
    this.kube = makeKube({ kubeconfig: target.kubeconfig, context: target.context });
  }

  get labs(): string[] {
    return [...new Set(this.cases.map((c) => c.lab))];
  }

  nsOf(c: Pick<LabCase, 'lab' | 'key'>): string {
    return `${this.opts.prefix ?? 'knc-'}${this.runId}-${SHORT[c.lab] ?? c.lab}-${c.key}`.slice(0, 63);
  }

  outDir(lab: string): string {
    return path.join(this.tmp, lab);
  }

  private clusterArgs(): string[] {
    return ['--kubeconfig', this.target.kubeconfig, ...(this.target.context ? ['--context', this.target.context] : [])];
  }

  /** The solution's objects in the case's namespace, with the offline images. */
  private objects(c: LabCase): Obj[] {
    const docs = (yaml.loadAll(readFileSync(c.file!, 'utf8')) as Obj[]).filter(Boolean);
    for (const o of docs) {
      o.metadata = { ...o.metadata, namespace: this.nsOf(c) };
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
        ct.image = String(ct.image).startsWith('busybox') ? this.target.images.probe : this.target.images.nginx;
        ct.imagePullPolicy = 'IfNotPresent';
      }
    }
    return docs;
  }

  /** Until every pod of the case is Ready and each Service with a selector lists them (a lab is graded on a settled namespace). */
  private async settle(c: LabCase, objs: Obj[]): Promise<void> {
    const { kube } = this;
    const ns = this.nsOf(c);
    const want = objs.reduce(
      (n, o) => n + (o.kind === 'Pod' ? 1 : ['Deployment', 'StatefulSet'].includes(o.kind ?? '') ? ((o.spec.replicas as number | undefined) ?? 1) : 0),
      0,
    );
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
      const pods = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items;
      await kube.core.createNamespacedEndpoints({
        namespace: ns,
        body: { metadata: { name: svc }, subsets: [{ addresses: pods.map((p) => ({ ip: p.status!.podIP! })), ports: [{ port: 80, protocol: 'TCP' }] }] },
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

  /** Namespaces created and settled, then one class command per lab (the labs one after the other: each has its own probe set). */
  async setUp(): Promise<string> {
    const setupMs = await this.create();
    const t1 = Date.now();
    for (const lab of this.labs)
      this.books.set(
        lab,
        await this.grade(
          lab,
          this.cases.filter((c) => c.lab === lab).map((c) => this.nsOf(c)),
        ),
      );
    return `${this.cases.length} namespaces set up in ${setupMs}ms; ${this.labs.length} classes graded in ${Date.now() - t1}ms\n${[...this.books.values()]
      .map((b) => b.out)
      .join('\n')}`;
  }

  /** Every case's namespace created, its solution applied and settled; returns the time it took (ms). */
  async create(): Promise<number> {
    const { kube } = this;
    // labelled like every run's namespaces: `kube-netcheck cleanup` deletes what a crash leaves
    await Promise.all(
      this.cases.map((c) =>
        kube.core.createNamespace({
          body: {
            metadata: { name: this.nsOf(c), labels: { ...this.opts.labels, ...runLabels(this.runId), 'kube-netcheck/grade-case': `${c.lab}.${c.key}` } },
          },
        }),
      ),
    );
    const t0 = Date.now();
    await Promise.all(
      this.cases
        .filter((c) => c.file)
        .map(async (c) => {
          const objs = this.objects(c);
          await createAll(kube, objs);
          await this.settle(c, objs);
        }),
    );
    return Date.now() - t0;
  }

  /**
   * `kube-netcheck grade --lab L` for the class `select` (names, or flags such as ['--selector', S]) over `args`
   * (default: the cluster's kubeconfig) with `--out` its own; the grade book read back.
   */
  async grade(lab: string, select: string[], args: string[] = this.clusterArgs(), out = this.outDir(lab)): Promise<ClassRun> {
    const lines: string[] = [];
    const err: string[] = [];
    const probeImage = process.env.KNC_PROBE_IMAGE;
    process.env.KNC_PROBE_IMAGE = this.target.images.probe;
    let code: number;
    try {
      const cls = select[0]?.startsWith('--') ? select : ['--namespaces', select.join(',')];
      code = await main(['grade', '--lab', lab, ...cls, '--out', out, ...args], {
        out: (l) => lines.push(l),
        err: (l) => err.push(l),
      });
    } finally {
      if (probeImage === undefined) delete process.env.KNC_PROBE_IMAGE;
      else process.env.KNC_PROBE_IMAGE = probeImage;
    }
    let book: Book | undefined;
    try {
      book = JSON.parse(readFileSync(path.join(out, 'gradebook.json'), 'utf8')) as Book;
    } catch {
      book = undefined;
    }
    return { code, out: lines.join('\n'), err: err.join('\n'), book };
  }

  /**
   * The case's row in its lab's grade book: the reference 100 %, the empty namespace 0, a wrong
   * solution exactly its '# loses:' checks (plus '# loses-if-enforced:' where the grader's control
   * found NetworkPolicy enforced). `enforced`: what the cluster must say (undefined: either).
   * Where policy is not enforced every policy check must be "not judged", not counted, said so.
   */
  verdict(c: LabCase, enforced?: boolean): void {
    const b = this.books.get(c.lab);
    if (!b?.book) throw new Error(`lab ${c.lab} not graded (exit ${b?.code}):\n${b?.out}\n${b?.err}`);
    const ns = this.nsOf(c);
    const st = b.book.students.find((s) => s.student === ns);
    if (!st || st.error) throw new Error(`${ns} not graded: ${st?.error}`);
    const isEnforced = b.book.policyEnforced?.enforced === true;
    if (enforced !== undefined && b.book.items.some((i) => i.type === 'policy'))
      expect({ lab: c.lab, policyEnforced: isEnforced, detail: b.book.policyEnforced?.detail }).toEqual({
        lab: c.lab,
        policyEnforced: enforced,
        detail: b.book.policyEnforced?.detail,
      });
    const lost = st.items.filter((i) => i.counted && !i.passed).map((i) => i.id);
    const table = st.items.map((i) => `  ${i.status} ${i.id}${i.counted ? '' : ' (not counted)'}: ${i.detail}`).join('\n');
    if (c.key === 'empty') {
      if (st.score !== 0) throw new Error(`an empty namespace scored ${st.score}:\n${table}`);
      return;
    }
    const want = [...c.loses, ...(isEnforced ? c.losesIfEnforced : [])];
    const order = (ids: string[]) => st.items.map((i) => i.id).filter((id) => ids.includes(id));
    if (lost.join() !== order(want).join()) throw new Error(`loses [${lost.join(', ')}] instead of [${order(want).join(', ')}]:\n${table}`);
    expect(st.passed).toBe(want.length === 0);
    if (want.length === 0) expect(st.percent).toBe(100);
    for (const i of st.items.filter((x) => x.type === 'policy')) {
      if (isEnforced) expect({ id: i.id, counted: i.counted }).toEqual({ id: i.id, counted: true });
      else
        expect({ id: i.id, status: i.status, counted: i.counted, detail: i.detail }).toEqual({
          id: i.id,
          status: 'not-judged',
          counted: false,
          detail: expect.stringMatching(/^not judged: NetworkPolicy is not enforced on this cluster \(/),
        });
    }
  }

  /** Each class: exit 1 (not everyone passed), a line per student, both grade book files, the policy verdict said. */
  classVerdict(lab: string): void {
    const b = this.books.get(lab);
    if (!b) throw new Error(`lab ${lab} not graded`);
    expect({ lab, code: b.code }).toEqual({ lab, code: 1 });
    for (const c of this.cases.filter((x) => x.lab === lab)) expect(b.out).toContain(this.nsOf(c));
    expect(readFileSync(path.join(this.outDir(lab), 'gradebook.csv'), 'utf8').split('\n')[0]).toMatch(/^student,status,score,total,percent,passed,/);
    if (b.book?.policyEnforced?.enforced === false) expect(b.out).toMatch(/policy checks not judged: NetworkPolicy is not enforced on this cluster/);
    if (b.book?.policyEnforced?.enforced === true) expect(b.out).not.toMatch(/policy checks not judged/);
  }

  async tearDown(): Promise<void> {
    rmSync(this.tmp, { recursive: true, force: true });
    await Promise.all(
      this.cases.map(async (c) => {
        const name = this.nsOf(c);
        await this.kube.core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined);
        await this.kube.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(() => undefined);
      }),
    );
  }
}
