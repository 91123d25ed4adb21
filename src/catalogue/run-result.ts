// What a run of the catalogue produces, and what is told of it as it goes: the records, the
// facts, the cause, the timings. The engine fills it, the reporters render it; both import it
// from here (below them), so neither imports the other.
import type { ClusterFacts } from '../cluster/facts.js';
import type { Target } from '../cluster/resolve.js';
import type { Cause } from './cause.js';
import type { DatapathRow, DnsRow, ReachabilityRow } from './matrices.js';
import type { CheckRecord } from './types.js';

export interface PhaseTiming {
  phase: string;
  enterMs: number;
  fanoutMs: number;
  verifyMs: number;
  execs: number;
  probes: number;
}

export interface RunResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  target: { kubeconfig: string; context?: string; managed?: Target['managed']; images: Target['images'] };
  facts?: ClusterFacts;
  records: CheckRecord[];
  summary: { total: number; passed: number; failed: number; skipped: number };
  cause?: Cause;
  execs: number;
  probes: number;
  timings: { setupMs: number; phases: PhaseTiming[]; teardownMs: number; totalMs: number };
  matrices: { reachability: ReachabilityRow[]; dns: DnsRow[]; datapath: DatapathRow[] };
  /** Extra sections other suites add (e.g. upstream conformance). */
  sections?: Record<string, unknown>;
}

export interface Reporter {
  /** A check's record as soon as it is known. */
  onRecord?(r: CheckRecord): void;
  /** Progress lines (setup, phases). */
  onProgress?(line: string): void;
  /** The whole run: write files, print the summary. */
  done?(result: RunResult): Promise<void> | void;
}
