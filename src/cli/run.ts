// `kube-netcheck run`: resolve the cluster once (the user's cluster after a preflight, or the kind
// cluster kube-netcheck manages, by the reuse rule) into one connection, select checks from the
// catalogue, and run the suite in this process (src/engine/run-suite.ts) with the console and file
// reporters. Exit 0/1/2/130.
import path from 'node:path';
import { requireDocker } from './docker.js';
import { CliFailure, EXIT, UsageError, type Io } from './io.js';
import { RUN_PERMISSIONS, preflight } from './preflight.js';
import { waitWith } from './progress.js';
import { resolveCluster, userTarget, type TargetFlags } from '../cluster/resolve.js';
import { ClusterRefused, clusterName, describeManaged, kindDown } from '../cluster/kind.js';
import type { Connection } from '../cluster/connection.js';
import { CATALOGUE, PHASES } from '../catalogue/index.js';
import { knownTags, selectChecks, unknownTerms } from '../catalogue/select.js';
import { RunInterrupted, runSuite, type RunResult } from '../engine/run-suite.js';
import { ConsoleReporter, FileReporter } from '../report/reporter.js';
import { onInterrupt } from './interrupt.js';
import { runSettings } from './settings.js';

export interface RunFlags extends TargetFlags {
  keep: boolean;
  reportDir?: string;
  maxNodes?: number;
  only: string[];
  skip: string[];
}

/** The checks a run covers, or a usage error when the terms select none. */
export function selection(flags: Pick<RunFlags, 'only' | 'skip'>, io: Io) {
  const chosen = selectChecks(CATALOGUE, { only: flags.only, skip: flags.skip });
  for (const t of unknownTerms(CATALOGUE, [...flags.only, ...flags.skip])) io.out(`warning: "${t}" matches no check id, name or tag`);
  if (!chosen.length) throw new UsageError(`--only/--skip select none of the ${CATALOGUE.length} checks (tags: ${knownTags(CATALOGUE).join(', ')})`, 'run');
  if (chosen.length !== CATALOGUE.length) io.out(`checks: ${chosen.length} of ${CATALOGUE.length} selected`);
  return chosen;
}

/** The user's cluster (after the preflight) or the managed kind cluster (by the reuse rule), as one connection. */
export async function connection(flags: RunFlags, io: Io, env: NodeJS.ProcessEnv): Promise<Connection> {
  const r = await resolveCluster(flags, env, {
    check: async (user) => {
      io.out(`cluster: kubeconfig ${user.kubeconfig}${user.context ? `, context ${user.context}` : ''}`);
      const ok = await waitWith('checking the API server and permissions', preflight(user, RUN_PERMISSIONS));
      io.out(`cluster: context ${ok.context} at ${ok.server}, Kubernetes ${ok.version}; API reachable, permissions ok`);
      return ok.kc;
    },
    beforeManaged: async () => {
      await waitWith('checking the Docker engine', requireDocker());
      io.out(
        `cluster: the kind cluster ${clusterName(env)} kube-netcheck manages (an existing one reused as it is and kept; one created now ${flags.keep ? 'kept afterwards' : 'deleted after the run, --keep keeps it'})`,
      );
    },
  }).catch((err: Error) => {
    if (err instanceof ClusterRefused) throw new CliFailure(`CLUSTER_NOT_REUSABLE: ${err.message}`);
    if (err.name === 'KindError') throw new CliFailure(`CLUSTER_UP_FAILED: ${err.message.split('\n')[0]}`);
    throw err;
  });
  const t = r.conn.target;
  if (r.managed) {
    io.out(`cluster: ${describeManaged(r.managed.cluster, r.managed.plan!)}; kubeconfig ${t.kubeconfig}`);
  } else {
    const named = userTarget(flags, env)!;
    for (const k of t.defaulted ?? []) {
      io.out(
        t.images[k] === named.images[k]
          ? `images: ${k} ${t.images[k]} (the public default; --${k}-image to choose)`
          : `images: ${k} ${t.images[k]} (already on every node, nothing pulled; --${k}-image to choose)`,
      );
    }
  }
  return r.conn;
}

export async function runCommand(flags: RunFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const t0 = Date.now();
  const checks = selection(flags, io);
  const conn = await connection(flags, io, env);
  const tgt = conn.target;
  const reportDir = path.resolve(flags.reportDir ?? env.KNC_REPORT_DIR ?? 'reports');

  // An interrupt aborts the run: the engine deletes what the run created; this command exits 130.
  let created: { runId: string } | undefined;
  const interrupt = onInterrupt((sig) => io.err(`${sig}: deleting run ${created?.runId ?? '(none yet)'}'s namespaces`));
  let result: RunResult;
  try {
    result = await runSuite(conn, checks, [new ConsoleReporter(io.out), new FileReporter(reportDir)], {
      phases: PHASES,
      settings: runSettings(env),
      signal: interrupt.signal,
      maxNodes: flags.maxNodes,
      onNamespaces: (runId) => (created = { runId }),
    });
  } catch (err) {
    if (err instanceof RunInterrupted) throw new CliFailure(`INTERRUPTED: ${err.message}`, EXIT.INTERRUPTED);
    throw err;
  } finally {
    interrupt.dispose();
  }
  io.out(`reports: ${path.join(reportDir, 'results.json')}, junit.xml, summary.md, report.html (${((Date.now() - t0) / 1000).toFixed(1)}s from command start)`);
  // a managed cluster this run only reused is left as it was (never delete what the command did not make)
  if (tgt.managed && !flags.keep && tgt.managed.created) {
    io.out(`cluster: deleting kind cluster ${tgt.managed.cluster}, created by this run (--keep keeps it)`);
    await kindDown({}, env).catch((err: Error) => io.err(`cluster down failed: ${err.message.split('\n')[0]}`));
  }
  return result.summary.failed ? EXIT.CHECK_FAILED : EXIT.OK;
}
