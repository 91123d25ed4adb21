// Runs upstream's [sig-network] [Conformance] tests: scripts/conformance/run.sh checks the target
// (e2e.test built for the cluster's minor version, test images on the nodes, a non-empty
// selection), then runs the built e2e.test serially with Ginkgo's timeouts set; here its JUnit
// report is read back.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJunit, type ConformanceTest } from './e2e-junit.js';

export type { ConformanceTest, TestStatus } from './e2e-junit.js';

export interface ConformanceOptions {
  kubeconfig: string;
  context?: string;
  /** Ginkgo regex on the full test name, within the sig-network conformance tests. */
  focus?: string;
  /** Ginkgo regex: leave these out. */
  skip?: string;
  /** Where upstream's JUnit (junit_01.xml), the e2e log and selected.txt go. */
  reportDir: string;
  /** Time budget per test, a Go duration (default 3m in run.sh). */
  specTimeout?: string;
  /** Cap on the whole run in one process, a Go duration (default 30m in run.sh). */
  timeout?: string;
  /** One e2e.test process per test, each bounded by specTimeout. */
  isolate?: boolean;
  /** Upstream's NetworkPolicy e2e tests (test/e2e/network/netpol, [Feature:NetworkPolicy]) instead of the conformance ones. */
  netpol?: boolean;
  /** The checkout (scripts/conformance/run.sh); default: this module's repository. */
  root?: string;
  /** The environment run.sh gets (the CLI passes its own). */
  env: NodeJS.ProcessEnv;
  /** Progress lines (run.sh's log on stderr) as they come. */
  onLine?: (line: string) => void;
}

export interface ConformanceResult {
  tests: ConformanceTest[];
  wallMs: number;
  junitPath: string;
}

/** Nothing was tested: the target, the build or the selection is wrong. `line` says which. */
export class ConformanceSetupError extends Error {
  override readonly name = 'ConformanceSetupError';
  constructor(readonly line: string) {
    super(line);
  }
}

const DEFAULT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The tests run.sh selected (one full name a line; written before the run starts). */
export function readSelected(reportDir: string): Set<string> | undefined {
  const file = path.join(reportDir, 'selected.txt');
  if (!existsSync(file)) return undefined;
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/** A JUnit file from e2e.test, narrowed to the selected tests when selected.txt is next to it. */
export function readConformanceJunit(junitPath: string): ConformanceTest[] {
  const only = readSelected(path.dirname(junitPath));
  return parseJunit(readFileSync(junitPath, 'utf8'), only ? { only } : {});
}

export function runShArgs(opts: Omit<ConformanceOptions, 'env'>): string[] {
  const args = ['--kubeconfig', path.resolve(opts.kubeconfig), '--report-dir', path.resolve(opts.reportDir)];
  if (opts.context) args.push('--context', opts.context);
  if (opts.focus) args.push('--focus', opts.focus);
  if (opts.skip) args.push('--skip', opts.skip);
  if (opts.specTimeout) args.push('--spec-timeout', opts.specTimeout);
  if (opts.timeout) args.push('--timeout', opts.timeout);
  if (opts.isolate) args.push('--isolate');
  if (opts.netpol) args.push('--netpol');
  return args;
}

/** The last "kube-netcheck: …" line run.sh printed, without the prefix. */
export function setupFailureLine(stderr: string, exitCode: number | undefined): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const own = [...lines].reverse().find((l) => l.startsWith('kube-netcheck: '));
  if (own) return own.slice('kube-netcheck: '.length);
  return `scripts/conformance/run.sh exited ${exitCode ?? 'on a signal'}${lines.length ? `: ${lines[lines.length - 1]}` : ''}`;
}

export async function runConformance(opts: ConformanceOptions): Promise<ConformanceResult> {
  const root = opts.root ?? DEFAULT_ROOT;
  const script = path.join(root, 'scripts', 'conformance', 'run.sh');
  const t0 = Date.now();
  const sub = execa('bash', [script, ...runShArgs(opts)], {
    cwd: root,
    env: opts.env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    buffer: true,
  });
  let pending = '';
  const stderrLines: string[] = [];
  sub.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const l of parts) {
      stderrLines.push(l);
      opts.onLine?.(l);
    }
  });
  const res = await sub;
  if (pending) {
    stderrLines.push(pending);
    opts.onLine?.(pending);
  }
  const wallMs = Date.now() - t0;
  if (res.exitCode !== 0 && res.exitCode !== 1) throw new ConformanceSetupError(setupFailureLine(stderrLines.join('\n'), res.exitCode));
  const junitPath = path.join(path.resolve(opts.reportDir), 'junit_01.xml');
  if (!existsSync(junitPath))
    throw new ConformanceSetupError(`e2e.test wrote no JUnit report (${junitPath}); see ${path.join(path.resolve(opts.reportDir), 'e2e.log')}`);
  return { tests: readConformanceJunit(junitPath), wallMs, junitPath };
}
