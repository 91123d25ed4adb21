// `kube-netcheck grade`: rubric -> cluster check -> observe the namespace -> score -> output.
// Exit 0 at or above the pass mark, 1 below it, 2 for environment/usage problems, 130 on Ctrl-C.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeKube, type Kube } from '../kube/client.js';
import { teardownRun } from '../workload/setup.js';
import { newRunId } from '../util/labels.js';
import { CliFailure, EXIT, type Io } from './io.js';
import { preflight, type Permission } from './preflight.js';
import { anyCluster } from '../cluster/flags.js';
import type { GradeFlags } from './grade-usage.js';
import { forNamespace, loadRubric, rubricChecks, rubricNeedsProbe, RubricError, type Rubric } from '../grade/rubric.js';
import { DEFAULT_PROBE_IMAGE, observe, probeNamespaceName, type Timings } from '../grade/observe.js';
import { evaluate } from '../grade/verdicts.js';
import { score } from '../grade/score.js';
import { formatHuman, toLmsJson } from '../grade/format.js';

const can = (verb: string, resource: string, group = '', subresource?: string): Permission => ({ verb, resource, group, subresource });

/** Reads only, in the graded namespace; the probe needs its own namespace, a pod and an exec. */
export function gradePermissions(rubric: Rubric): Permission[] {
  // list replicasets: the Deployment's own pods are found through them (Deployment → ReplicaSet → Pod)
  const read = [can('get', 'namespaces'), can('get', 'deployments', 'apps'), can('list', 'replicasets', 'apps'), can('list', 'pods'), can('get', 'services'), can('get', 'endpoints'), can('list', 'endpointslices', 'discovery.k8s.io')];
  if (!rubricNeedsProbe(rubric)) return read;
  return [...read, can('create', 'namespaces'), can('delete', 'namespaces'), can('create', 'pods'), can('create', 'pods', '', 'exec'), can('deletecollection', 'pods'), can('list', 'nodes')];
}

function readRubric(file?: string): Rubric {
  try {
    return loadRubric(file);
  } catch (err) {
    if (err instanceof RubricError) throw new CliFailure(`RUBRIC_INVALID: ${err.message}`, EXIT.ENV);
    throw err;
  }
}

async function requireNamespace(kube: Kube, name: string): Promise<void> {
  try {
    await kube.core.readNamespace({ name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) {
      throw new CliFailure(`NAMESPACE_NOT_FOUND: namespace ${name} does not exist in context ${kube.context} — check the name (kubectl get namespaces)`, EXIT.ENV);
    }
    throw err;
  }
}

export async function gradeCommand(flags: GradeFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const startedAt = new Date();
  const rubric = forNamespace(readRubric(flags.rubric), flags.namespace);
  // with --json - stdout carries the JSON only
  const say = flags.json === '-' ? io.err : io.out;

  const target = anyCluster(flags, env);
  const ok = await preflight(target, gradePermissions(rubric));
  const kube = makeKube(ok.kc);
  say(`cluster: context ${ok.context} at ${ok.server}, Kubernetes ${ok.version}`);
  await requireNamespace(kube, flags.namespace);

  const runId = newRunId();
  const site: { creating?: Promise<unknown> } = {};
  let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onSignal = (sig) => reject(new CliFailure(`INTERRUPTED: grading stopped (${sig}); the probe namespace ${probeNamespaceName(runId)} was deleted`, EXIT.INTERRUPTED));
  });
  interrupted.catch(() => undefined);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.once(s, onSignal!);

  let result: Awaited<ReturnType<typeof observe>>;
  let teardownMs: number | undefined;
  try {
    result = await Promise.race([
      observe({
        kube,
        namespace: flags.namespace,
        rubric,
        runId,
        probeImage: env.KNC_PROBE_IMAGE || DEFAULT_PROBE_IMAGE,
        log: say,
        onNamespaceCreate: (p) => (site.creating = p),
      }),
      interrupted,
    ]);
  } finally {
    if (site.creating) {
      // the probe namespace (if its creation went through) goes, whatever happened above
      await site.creating;
      const t = Date.now();
      try {
        await teardownRun(kube, runId, { until: 'stopped', timeoutMs: 60_000 });
        teardownMs = Date.now() - t;
      } catch (err) {
        io.err(`warning: could not delete the probe namespace ${probeNamespaceName(runId)}: ${(err as Error).message.split('\n')[0]} — \`kube-netcheck cleanup\` deletes it`);
      }
    }
    for (const s of signals) process.off(s, onSignal!);
  }

  const outcomes = evaluate(result.observation, rubricChecks(rubric));
  const graded = score(rubric, outcomes, flags.passMark);
  const timings: Timings & { teardownMs?: number } = { ...result.timings, teardownMs };
  const ctx = {
    namespace: flags.namespace,
    rubric,
    context: ok.context,
    probeNamespace: result.probe ? result.probe.namespace : undefined,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
  };
  for (const line of formatHuman(graded, ctx)) say(line);
  if (flags.json !== undefined) {
    const json = JSON.stringify({ ...toLmsJson(graded, ctx), timings }, null, 2);
    if (flags.json === '-') io.out(json);
    else {
      writeFileSync(path.resolve(flags.json), `${json}\n`);
      say(`json: ${path.resolve(flags.json)}`);
    }
  }
  return graded.passed ? EXIT.OK : EXIT.CHECK_FAILED;
}
