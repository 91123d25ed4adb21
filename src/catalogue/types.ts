// The check catalogue's vocabulary. A check is data (id, title, layer, tags, from → to, the phase
// whose observations it judges, the probes it needs) plus a pure verdict function over what was
// observed. The engine (run-suite.ts) gathers the observations — one fan-out exec per probe pod
// per phase — and turns verdicts into records; reporters write them.
import type { Probe, ProbeOutput } from '../probes/batch.js';
import type { RunEnv, ProbeRef } from '../workload/setup.js';
import type { Obj } from '../workload/manifests.js';
import type { DatapathRow, DnsRow, ReachabilityRow } from './matrices.js';

/** The layers of the network model, lowest first: a failure low down explains failures above it. */
export const LAYERS = ['nodes', 'coredns', 'pod-ip', 'service', 'dns', 'mtu', 'policy'] as const;
export type Layer = (typeof LAYERS)[number];

/**
 * A probe a check needs: run `probe` inside the pod `from` (one exec per pod per phase carries them
 * all), with what it asks (`to`) and the outcome it expects (`expect`) as data, so the verdict
 * judges each (ask, output) pair without planning the probes again.
 */
export interface ProbeAsk<E = unknown> {
  from: ProbeRef;
  probe: Probe;
  /** What is asked, as reports name it (a pod and its IP, an address, a name). */
  to?: string;
  /** The expected outcome, as data the verdict holds the output to. */
  expect?: E;
}

/** One of a check's asks and what its probe printed. */
export interface Answer<E = unknown> {
  ask: ProbeAsk<E>;
  out: ProbeOutput;
}

/** What a check's own `gather` step sees: the run and the phase (not the fan-out: it runs beside it). */
export interface PhaseContext {
  env: RunEnv;
  phase: string;
  /** What the phase's `enter` step did and saw (e.g. the pods before and after a scale step). */
  phaseData: Record<string, unknown>;
}

/** What a verdict function sees: the run, the phase's API snapshot and every probe output. */
export interface Observations extends PhaseContext {
  /** The output of a probe, or a CheckFailure-raising "not run" when the exec carrying it failed. */
  out(from: ProbeRef, id: string): ProbeOutput;
  /**
   * The check's own asks (what its `probes` returned for this phase), each with its output; an ask
   * whose probe did not run throws the "not run" failure, as `out` does.
   */
  answers<E = unknown>(): Answer<E>[];
  /** What the check's own `gather` step returned. */
  gathered: unknown;
}

export interface CheckDef {
  /** Stable id, e.g. "pod-ip.cross-node". */
  id: string;
  /** The name people read (and Jest's test name). */
  title: string;
  layer: Layer;
  tags: string[];
  from: string;
  to: string;
  /** The phase whose observations it judges (default "steady": nothing changed yet). */
  phase?: string;
  /** For a negative control: the id of the check it shows failing when its property is broken. */
  controls?: string;
  /**
   * Opt-in (the disruption layer: it deletes the CNI's and kube-proxy's pods): selected only when
   * an `--only` term names it (its id, a tag, its layer with another of its tags…), never by default.
   */
  optIn?: boolean;
  /**
   * For a negative control, what kind of evidence it is: `live` — a fault is made on the live
   * cluster (a node's rule or route) that breaks the property where it held, and the check's probe
   * and verdict fail there; `verdict-self-test` — the check's verdict, applied to healthy output
   * against a wrong expectation (another pod's answer, an address or a name nobody holds, a Service
   * that selects nothing), fails: it shows the verdict can fail, nothing about the cluster.
   */
  controlKind?: 'live' | 'verdict-self-test';
  /**
   * API objects the check needs in the workload namespace (no namespace set), created by setup
   * with the workload, so they have settled (a Service's proxy rules) by the time it looks.
   */
  setupObjects?: Obj[];
  /** Why the check cannot apply on this cluster (e.g. a host-side check on a cluster we did not create). */
  notApplicable?(env: RunEnv): string | undefined;
  /** Probes to put into the phase's fan-out. */
  probes?(env: RunEnv): ProbeAsk[];
  /**
   * Extra observation that is not a phase-fan-out probe (API reads, host commands, its own execs).
   * Runs at the same time as the phase's fan-out and the other checks' gathers, unless `fault`.
   */
  gather?(o: PhaseContext): unknown; // a value, or a Promise of one
  /**
   * The fault its gather injects into the cluster's network and removes again (e.g. "masquerade on
   * a node"): such a gather runs after the phase's fan-out and every other gather, so no check
   * without a fault observes it; alone, unless it has a `faultLane`.
   */
  fault?: string;
  /**
   * Faults of different lanes run at the same time (one after another within a lane); a fault
   * without a lane runs alone, after the lanes. A lane is a claim, written beside each fault: no
   * fault of another lane matches a packet this control's probes send or receive, and this fault
   * matches none of theirs (e.g. every fault of lane "target-pods" matches only the target pods'
   * addresses, which no control of another lane asks).
   */
  faultLane?: string;
  /**
   * The verdict: returns evidence when the property holds (positive evidence, never "nothing
   * to look at"), throws a CheckFailure (or several, via throwAll) when it does not.
   */
  verify(o: Observations): unknown;
  /** Rows for the report's grids (reachability, DNS name forms), drawn from the same observations. */
  matrix?(o: Observations): { reachability?: ReachabilityRow[]; dns?: DnsRow[]; datapath?: DatapathRow[] };
  /** Facts about the cluster the check found (e.g. the pod MTU), merged into the run's `sections`, whatever the verdict. */
  facts?(o: Observations): Record<string, unknown> | undefined;
}

/** A phase: the cluster in a given state. `enter` changes it (scale, replace, …) before the phase is observed. */
export interface PhaseDef {
  name: string;
  title: string;
  /**
   * Phases (after this one) it may run beside: the engine starts it, goes on with those, and
   * waits for it before any other phase. For checks that nothing those phases change can disturb.
   */
  beside?: string[];
  /**
   * A lane: a phase with `beside` and `lane`, and the phases right after it with the same `lane`,
   * run one after another as one chain beside the phases the first one names (each in turn waits
   * for the one before it in the chain; any phase outside the chain and its `beside` waits for the
   * whole chain).
   */
  lane?: string;
  /**
   * Right after setup, for a phase with checks selected: opens the sessions (src/workload/armed.ts)
   * its `enter` will run its commands in, so that their exec's round trip is paid while the phases
   * before it run, not on entering it.
   */
  warm?(env: RunEnv): void;
  /** The change the phase makes, before its checks run (`checks`: those of the phase that apply). */
  enter?(env: RunEnv, checks: readonly CheckDef[]): Promise<Record<string, unknown>>;
}

export type CheckStatus = 'passed' | 'failed' | 'skipped';

/** One row of every report. */
export interface CheckRecord {
  id: string;
  check: string;
  layer: Layer;
  tags: string[];
  from: string;
  to: string;
  status: CheckStatus;
  /** For a negative control: `live` (a fault on the cluster) or `verdict-self-test` (not evidence about the cluster). */
  controlKind?: CheckDef['controlKind'];
  durationMs: number;
  /** Failed: the failure text. Skipped: why (not applicable, not meaningful, not selected setup). */
  error?: string;
  reason?: string;
  evidence?: unknown;
}
