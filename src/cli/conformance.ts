// `kube-netcheck conformance`: upstream's [sig-network] [Conformance] tests (e2e.test built offline
// by scripts/build/conformance.sh) against the kind cluster or any kubeconfig, with the same exit
// codes as `run`: 0 all passed, 1 a test failed, 2 nothing could be tested (one line says why).
import path from 'node:path';
import { ConformanceSetupError, runConformance, type ConformanceResult } from '../conformance/e2e.js';
import { CliFailure, EXIT, UsageError, type Io } from './io.js';
import { anyCluster } from '../cluster/flags.js';

export interface ConformanceFlags {
  kubeconfig?: string;
  context?: string;
  /** Ginkgo regex on the test name, within the 45 sig-network conformance tests. */
  focus?: string;
  /** Ginkgo regex: leave these out. */
  skip?: string;
  /** Default reports/conformance. */
  reportDir?: string;
  /** Per-test time budget, a Go duration (90s, 5m); default 3m. */
  specTimeout?: string;
  /** One e2e.test process per test (a stuck test costs at most --spec-timeout). */
  isolate?: boolean;
  /** Upstream's NetworkPolicy e2e tests (Netpol, [Feature:NetworkPolicy], SCTP ones left out) instead of the conformance ones. */
  netpol?: boolean;
  /** Cap on the whole run in one process, a Go duration; default 30m. */
  timeout?: string;
  /** Called with the result before the exit code is decided (the CLI adds it to the reports). */
  onResult?: (r: ConformanceResult) => void;
}

/** The cluster: the same choice as every command's (--kubeconfig, $KNC_KUBECONFIG [+ $KNC_CONTEXT], --context with $KUBECONFIG, else the kind cluster's). */
export function conformanceCluster(flags: ConformanceFlags, env: NodeJS.ProcessEnv = process.env): { kubeconfig: string; context?: string } {
  return anyCluster(flags, env);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function summaryLines(r: ConformanceResult): string[] {
  const count = (s: string) => r.tests.filter((t) => t.status === s).length;
  const lines = r.tests.map((t) =>
    t.status === 'failed'
      ? `FAIL ${t.name} (${secs(t.durationMs)})${t.message ? `: ${t.message}` : ''}`
      : `${t.status === 'passed' ? 'PASS' : 'SKIP'} ${t.name} (${secs(t.durationMs)})`,
  );
  lines.push(
    `upstream conformance: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped of ${r.tests.length} in ${secs(r.wallMs)}; JUnit ${r.junitPath}`,
  );
  return lines;
}

export async function conformanceCommand(flags: ConformanceFlags, io: Io, root?: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  for (const [flag, re] of [
    ['--focus', flags.focus],
    ['--skip', flags.skip],
  ] as const) {
    if (re === undefined) continue;
    if (!re.trim()) throw new UsageError(`${flag} needs a regex`, 'conformance');
  }
  for (const [flag, d] of [
    ['--spec-timeout', flags.specTimeout],
    ['--timeout', flags.timeout],
  ] as const) {
    if (d !== undefined && !/^(\d+[hms])+$|^\d+$/.test(d)) throw new UsageError(`${flag} '${d}' is not a duration like 90s, 5m or 1h`, 'conformance');
  }
  const { kubeconfig, context } = conformanceCluster(flags, env);
  const reportDir = path.resolve(flags.reportDir ?? path.join(root ?? process.cwd(), 'reports', 'conformance'));
  io.out(`cluster: kubeconfig ${kubeconfig}${context ? `, context ${context}` : ''}`);
  io.out(
    `upstream ${flags.netpol ? '[sig-network] Netpol [Feature:NetworkPolicy]' : '[sig-network] [Conformance]'} tests${flags.focus ? `, focus ${flags.focus}` : ''}${flags.skip ? `, skip ${flags.skip}` : ''}; reports in ${reportDir}`,
  );
  let result: ConformanceResult;
  try {
    result = await runConformance({
      kubeconfig,
      context,
      focus: flags.focus,
      skip: flags.skip,
      reportDir,
      specTimeout: flags.specTimeout,
      timeout: flags.timeout,
      isolate: flags.isolate,
      netpol: flags.netpol,
      root,
      env,
      // run.sh's own progress ("[hh:mm:ss] …"); its failure line is reported once, below
      onLine: (l) => {
        if (/^\[\d\d:\d\d:\d\d\] /.test(l)) io.out(l.replace(/^\[\d\d:\d\d:\d\d\] /, ''));
      },
    });
  } catch (err) {
    if (err instanceof ConformanceSetupError) throw new CliFailure(`CONFORMANCE_SETUP: ${err.line}`, EXIT.ENV);
    throw err;
  }
  for (const l of summaryLines(result)) io.out(l);
  flags.onResult?.(result);
  if (!result.tests.length) throw new CliFailure(`CONFORMANCE_SETUP: ${result.junitPath} lists none of the selected tests`, EXIT.ENV);
  return result.tests.some((t) => t.status === 'failed') ? EXIT.CHECK_FAILED : EXIT.OK;
}
