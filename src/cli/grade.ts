// `kube-netcheck grade`: thin over the library (src/grade/): lab -> cluster check -> namespaces ->
// gradeClass -> output. One namespace: the human lines (and --json, or --verify's one line); a
// class: a line per student and the grade book. Exit 0 at or above the pass mark (every student
// graded, for a class), 1 below it, 2 for environment/usage problems, 130 on Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeKube, type Kube } from '../kube/client.js';
import { teardownRun } from '../workload/setup.js';
import { newRunId } from '../util/labels.js';
import { CliFailure, EXIT, type Io } from './io.js';
import { can, preflight, type Permission } from './preflight.js';
import { anyCluster } from '../cluster/flags.js';
import { globRe, type GradeFlags } from './grade-usage.js';
import { LabError, loadLab, PROBE_TYPES, type Lab } from '../grade/lab.js';
import { DEFAULT_PROBE_IMAGE } from '../grade/observe.js';
import { gradeClass, probeNamespaceName, type ClassResult } from '../grade/class.js';
import { displayPercent } from '../grade/score.js';
import { formatHuman, gradeBookCsv, gradeBookJson, toLmsJson, verifyLine } from '../grade/format.js';
import { mirrorImage } from '../cluster/registry.js';

/**
 * What the grader needs (manifests/grading/rbac.yaml): reads of a student's namespace (the role
 * kube-netcheck-grader-read; asked in `namespace` when one student is graded — a RoleBinding there
 * is enough — and not up front for a class, where a namespace the grader may not read is that
 * student's row), and cluster-wide the namespaces and, for probes, its own namespace, pods and
 * execs (for policy checks pods in a student's namespace and its control NetworkPolicy).
 */
export function gradePermissions(lab: Lab, classMode: boolean, namespace?: string): Permission[] {
  const read = classMode
    ? []
    : [
        can('list', 'deployments', 'apps'),
        can('list', 'statefulsets', 'apps'),
        // the Deployment's own pods are found through them (Deployment → ReplicaSet → Pod)
        can('list', 'replicasets', 'apps'),
        can('list', 'services'),
        can('list', 'endpoints'),
        can('list', 'endpointslices', 'discovery.k8s.io'),
        can('list', 'networkpolicies', 'networking.k8s.io'),
      ].map((p) => (namespace ? { ...p, namespace } : p));
  const base = [can('get', 'namespaces'), can('list', 'pods'), ...(classMode ? [can('list', 'namespaces')] : [])];
  if (!lab.checks.some((c) => PROBE_TYPES.includes(c.type))) return [...base, ...read];
  const probe = [
    can('create', 'namespaces'),
    can('delete', 'namespaces'),
    can('list', 'namespaces'),
    can('create', 'pods'),
    can('create', 'pods', '', 'exec'),
    can('deletecollection', 'pods'),
    can('list', 'nodes'),
    can('get', 'services'),
    can('get', 'configmaps'),
  ];
  if (lab.checks.some((c) => c.type === 'policy')) probe.push(can('delete', 'pods'), can('create', 'networkpolicies', 'networking.k8s.io'));
  return [...base, ...read, ...probe];
}

function readLab(name: string): Lab {
  try {
    return loadLab(name);
  } catch (err) {
    if (err instanceof LabError) throw new CliFailure(`RUBRIC_INVALID: ${err.message}`, EXIT.ENV);
    throw err;
  }
}

async function requireNamespace(kube: Kube, name: string): Promise<void> {
  try {
    await kube.core.readNamespace({ name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) {
      throw new CliFailure(
        `NAMESPACE_NOT_FOUND: namespace ${name} does not exist in context ${kube.context} — check the name (kubectl get namespaces)`,
        EXIT.ENV,
      );
    }
    throw err;
  }
}

/** The class: namespaces matching the globs (a plain name is kept even when it does not exist: that student is reported), or by label selector. */
async function classNamespaces(kube: Kube, flags: GradeFlags): Promise<string[]> {
  const all = await kube.core.listNamespace(flags.selector ? { labelSelector: flags.selector } : {});
  const names = all.items.map((n) => n.metadata!.name!).filter((n) => !n.startsWith('knc-'));
  if (flags.selector) return names.sort();
  const out = new Set<string>();
  for (const g of flags.namespaces!) {
    if (!/[*?]/.test(g)) out.add(g);
    else for (const n of names) if (globRe(g).test(n)) out.add(n);
  }
  return [...out].sort();
}

export async function gradeCommand(flags: GradeFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const startedAt = new Date();
  const lab = readLab(flags.lab);
  const classMode = flags.namespace === undefined;
  // with --json - stdout carries the JSON only; --verify prints its one line only
  const say = flags.verify ? () => undefined : flags.json === '-' ? io.err : io.out;

  const target = anyCluster(flags, env);
  const ok = await preflight(target, gradePermissions(lab, classMode, flags.namespace));
  const kube = makeKube(ok.kc);
  say(`cluster: context ${ok.context} at ${ok.server}, Kubernetes ${ok.version}`);
  let namespaces: string[];
  if (classMode) {
    namespaces = await classNamespaces(kube, flags);
    if (!namespaces.length)
      throw new CliFailure(
        `NO_NAMESPACES: no namespace matches ${flags.selector ? `--selector ${flags.selector}` : `--namespaces ${flags.namespaces!.join(',')}`} in context ${ok.context}`,
        EXIT.ENV,
      );
    say(`class: ${namespaces.length} namespaces, lab "${lab.id}" (${lab.source})`);
  } else {
    await requireNamespace(kube, flags.namespace!);
    namespaces = [flags.namespace!];
  }

  const runId = newRunId();
  const site: { creating?: Promise<unknown> } = {};
  let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
  const abort = new AbortController();
  const interrupted = new Promise<never>((_, reject) => {
    onSignal = (sig) => {
      abort.abort();
      reject(new CliFailure(`INTERRUPTED: grading stopped (${sig}); the probe namespace ${probeNamespaceName(runId)} was deleted`, EXIT.INTERRUPTED));
    };
  });
  interrupted.catch(() => undefined);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.once(s, onSignal!);

  let cr: ClassResult;
  try {
    const image = env.KNC_PROBE_IMAGE || DEFAULT_PROBE_IMAGE;
    const registry = flags.registry ?? (env.KNC_REGISTRY || undefined);
    const probeImage = registry ? mirrorImage(image, registry) : image; // one mirror for every image (--registry, else KNC_REGISTRY)
    cr = await Promise.race([
      gradeClass({
        kube,
        lab,
        namespaces,
        runId,
        probeImage,
        passMark: flags.passMark,
        log: say,
        signal: abort.signal,
        onNamespaceCreate: (p) => void (site.creating = p),
      }),
      interrupted,
    ]);
  } finally {
    if (site.creating) {
      // the probe namespace (if its creation went through) goes, whatever happened above
      await site.creating;
      try {
        await teardownRun(kube, runId, { until: 'stopped', timeoutMs: 60_000 });
      } catch (err) {
        io.err(
          `warning: could not delete the probe namespace ${probeNamespaceName(runId)}: ${(err as Error).message.split('\n')[0]} — \`kube-netcheck cleanup\` deletes it`,
        );
      }
    }
    for (const s of signals) process.off(s, onSignal!);
  }

  if (!classMode) {
    const s = cr.students[0];
    if (flags.verify) {
      io.out(verifyLine(s));
      return s.result?.passed ? EXIT.OK : EXIT.CHECK_FAILED;
    }
    if (s.error) throw new CliFailure(`NAMESPACE_UNREADABLE: ${s.error}`, EXIT.ENV);
    const ctx = {
      namespace: s.namespace,
      lab,
      context: ok.context,
      probeNamespace: cr.probeNamespace,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
    };
    for (const line of formatHuman(s.result!, ctx)) say(line);
    if (flags.json !== undefined) {
      const json = JSON.stringify({ ...toLmsJson(s.result!, ctx), timings: cr.timings }, null, 2);
      if (flags.json === '-') io.out(json);
      else {
        writeFileSync(path.resolve(flags.json), `${json}\n`);
        say(`json: ${path.resolve(flags.json)}`);
      }
    }
    return s.result!.passed ? EXIT.OK : EXIT.CHECK_FAILED;
  }

  const width = Math.max(...cr.students.map((s) => s.namespace.length));
  for (const s of cr.students) {
    if (s.error) say(`${s.namespace.padEnd(width)}  not graded: ${s.error}`);
    else
      say(
        `${s.namespace.padEnd(width)}  ${String(s.result!.score).padStart(5)}/${s.result!.total} (${displayPercent(s.result!.percent).toFixed(1)}%)  ${s.result!.passed ? 'PASSED' : 'NOT PASSED'}${s.result!.failed.length ? `  failed: ${s.result!.failed.join(', ')}` : ''}`,
      );
  }
  const dir = path.resolve(flags.out);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'gradebook.csv'), gradeBookCsv(lab, cr));
  writeFileSync(path.join(dir, 'gradebook.json'), `${JSON.stringify(gradeBookJson(lab, cr, { context: ok.context, startedAt }), null, 2)}\n`);
  const graded = cr.students.filter((s) => s.result);
  if (cr.policyEnforced && !cr.policyEnforced.enforced)
    say(`policy checks not judged: NetworkPolicy is not enforced on this cluster (${cr.policyEnforced.detail})`);
  say(
    `graded ${graded.length} of ${cr.students.length} namespaces in ${(cr.timings.totalMs / 1000).toFixed(1)}s (read ${cr.timings.readMs}ms, probes ${cr.timings.probesMs ?? 0}ms); passed ${graded.filter((s) => s.result!.passed).length}; grade book: ${path.join(dir, 'gradebook.csv')}, ${path.join(dir, 'gradebook.json')}`,
  );
  return graded.length === cr.students.length && graded.every((s) => s.result!.passed) ? EXIT.OK : EXIT.CHECK_FAILED;
}
