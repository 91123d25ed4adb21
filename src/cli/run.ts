// `kube-netcheck run`: validate the target, then hand the checks to Jest (the engine) and map its
// outcome to the CLI's exit codes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireDocker } from './docker.js';
import { buildTestNamePattern, indexClusterSpecs, knownTags, selectedChecks, unknownTerms } from './filter.js';
import { CliFailure, EXIT, UsageError, type Io } from './io.js';
import { RUN_PERMISSIONS, preflight } from './preflight.js';
import { waitWith } from './progress.js';
import { JEST_NODE_OPTIONS } from '../util/jest-env.js';
import { existingCluster, type ClusterFlags } from './target.js';

export interface RunFlags extends ClusterFlags {
  keep: boolean;
  reportDir?: string;
  /** Image overrides: nginx server, probe (busybox-style tools), kind node. */
  nginxImage?: string;
  probeImage?: string;
  nodeImage?: string;
  only: string[];
  skip: string[];
}

export { JEST_NODE_OPTIONS };

/** The part of Jest's --json output the CLI reads. */
interface JestResults {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numRuntimeErrorTestSuites: number;
}

function readResults(file: string): JestResults | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JestResults;
  } catch {
    return undefined; // Jest writes it only when the tests ran: not after a global setup/teardown failure
  }
}

/** The child's environment: the engine's NODE_OPTIONS plus what setup.ts / teardown.ts read. */
export function jestEnv(flags: RunFlags, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const target = existingCluster(flags, env);
  const out: NodeJS.ProcessEnv = { ...env, NODE_OPTIONS: JEST_NODE_OPTIONS };
  delete out.KNC_KUBECONFIG;
  delete out.KNC_CONTEXT;
  if (target) out.KNC_KUBECONFIG = target.kubeconfig;
  if (target?.context) out.KNC_CONTEXT = target.context;
  if (flags.keep) out.KEEP_CLUSTER = '1';
  if (flags.reportDir) out.KNC_REPORT_DIR = path.resolve(flags.reportDir);
  if (flags.nginxImage) out.KNC_NGINX_IMAGE = flags.nginxImage;
  if (flags.probeImage) out.KNC_PROBE_IMAGE = flags.probeImage;
  if (flags.nodeImage) out.KNC_NODE_IMAGE = flags.nodeImage;
  return out;
}

export async function runCommand(flags: RunFlags, io: Io, root: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let pattern: string | undefined;
  if (flags.only.length || flags.skip.length) {
    const index = await indexClusterSpecs(path.join(root, 'specs', 'cluster'));
    pattern = buildTestNamePattern(flags.only, flags.skip, index);
    for (const t of unknownTerms([...flags.only, ...flags.skip], index)) io.out(`warning: "${t}" matches no check name or tag`);
    const chosen = selectedChecks(pattern, index);
    if (!chosen.length) throw new UsageError(`--only/--skip select none of the ${index.length} checks (tags: ${knownTags(index).join(', ')})`, 'run');
    io.out(`checks: ${chosen.length} of ${index.length} selected`);
  }

  const target = existingCluster(flags, env);
  if (target) {
    io.out(`cluster: kubeconfig ${target.kubeconfig}${target.context ? `, context ${target.context}` : ''}`);
    const ok = await waitWith('checking the API server and permissions', preflight(target, RUN_PERMISSIONS));
    io.out(`cluster: context ${ok.context} at ${ok.server}, Kubernetes ${ok.version}; API reachable, permissions ok`);
  } else {
    await waitWith('checking the Docker engine', requireDocker());
    io.out(`cluster: the kind cluster kube-netcheck manages (created or reused now, deleted after the run${flags.keep ? ' unless --keep: kept' : '; --keep keeps it'})`);
  }

  const jest = env.KNC_JEST || path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const tmp = mkdtempSync(path.join(tmpdir(), 'knc-run-'));
  const outputFile = path.join(tmp, 'jest-results.json');
  const args = ['--selectProjects', 'cluster', '--runInBand', ...(pattern ? ['--testNamePattern', pattern] : [])];
  const shown = jest.startsWith(root + path.sep) ? path.relative(root, jest) : jest;
  io.out(`running: node ${shown} ${args.map((a) => (/^[\w=./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`);
  const reportDir = jestEnv(flags, env).KNC_REPORT_DIR ?? path.join(root, 'reports');
  try {
    const { code, signal } = await spawnJest(process.execPath, [jest, ...args, '--json', '--outputFile', outputFile], root, jestEnv(flags, env), io);
    if (signal || code === EXIT.INTERRUPTED) {
      throw new CliFailure(`INTERRUPTED: the run was stopped${signal ? ` (${signal})` : ''}; \`kube-netcheck cleanup\` deletes whatever it left`, EXIT.INTERRUPTED);
    }
    const results = readResults(outputFile);
    if (!results) {
      throw new CliFailure(`RUN_FAILED: Jest exited ${code} without results (its global setup or teardown failed: see its output above)`);
    }
    io.out(`checks: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped; results in ${path.join(reportDir, 'results.json')}`);
    if (code === 0) return EXIT.OK;
    if (!results.success) return EXIT.CHECK_FAILED;
    throw new CliFailure(`RUN_FAILED: Jest exited ${code} although no check failed (see its output above)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Runs Jest in its own process group, so that one Ctrl-C reaches it exactly once: the terminal
 * signals only us (and npx, which forwards it again); we pass the first on to Jest's whole group,
 * whose global setup then deletes the run's namespaces. A second signal, later, stops it hard.
 */
async function spawnJest(node: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, io: Io): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(node, args, { cwd, env, stdio: 'inherit', detached: true });
  let last = 0;
  const forward = (sig: NodeJS.Signals) => {
    if (Date.now() - last < 1_000) return; // the same interrupt, delivered twice
    last = Date.now();
    io.out(`${sig}: stopping the checks (the run deletes its namespaces; ${sig} again stops at once)`);
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, forward);
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}
