// The engine: setup → for each phase (the workload as it is, then each change the Service checks
// make, with the cluster-only checks beside those changes) one fan-out exec per probe pod carrying
// every probe the phase's checks asked for, the checks' own gathers beside it, the fault-injecting
// gathers alone after it → each check's verdict → records → reporters. One process, no files in
// between. Every selected check ends as exactly one record, whatever happened to setup, a phase or
// an exec. The caller hands in the phases, the settings and an AbortSignal; the engine reads no
// environment and owns no process: on interruption it deletes the run's namespaces and rejects with
// RunInterrupted (the CLI alone turns that into exit 130).
import { CheckFailure, NotApplicable, failuresMessage } from '../verdicts/failure.js';
import { failureEvidence } from '../verdicts/evidence.js';
import { DEFAULT_SETTINGS, setupRun, teardownRun, type RunEnv, type RunSettings } from '../workload/setup.js';
import { NetcheckError, apiStatus, errorLine } from '../kube/errors.js';
import { newRunId } from '../util/labels.js';
import type { Connection } from '../cluster/connection.js';
import { execCounter, fanOut } from '../workload/fanout.js';
import { closeSessions, openSessions } from '../workload/armed.js';
import { outputsOf } from './outputs.js';
import { shapeNotApplicable } from '../catalogue/common.js';
import { SETUP_FAILED, likelyCause, markNotMeaningful } from '../catalogue/cause.js';
import type { PhaseTiming, Reporter, RunResult } from '../catalogue/run-result.js';
import type { CheckDef, CheckRecord, Observations, PhaseDef, ProbeAsk } from '../catalogue/types.js';

export type { PhaseTiming, Reporter, RunResult };

export interface RunOptions {
  /** The phases, in order (the catalogue's PHASES): a check whose phase is not among them fails "not run". */
  phases: readonly PhaseDef[];
  /** The run's settings (exec concurrency, policy wait, verbose); default DEFAULT_SETTINGS. */
  settings?: RunSettings;
  /** Aborting it stops the run: its namespaces are deleted and runSuite rejects with RunInterrupted. */
  signal?: AbortSignal;
  runId?: string;
  /** Probe at most this many nodes (a stratified sample: same node, cross node, control plane). */
  maxNodes?: number;
  /** Keep the run's namespaces (debugging); default: delete them. */
  keepNamespaces?: boolean;
  /** Called with the namespaces as soon as they are about to exist (SIGINT cleanup). */
  onNamespaces?: (runId: string, names: string[]) => void;
}

/** The run was interrupted (its AbortSignal fired); its namespaces were deleted (or the message says why not). */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';
}

/** Races each awaited step against the signal, so an interruption does not wait for a phase's timeouts. */
function interruption(signal?: AbortSignal): <T>(p: Promise<T>) => Promise<T> {
  if (!signal) return (p) => p;
  const stopped = new Promise<never>((_, reject) => {
    const fire = () => reject(new RunInterrupted(`run interrupted (${String(signal.reason ?? 'aborted')})`));
    if (signal.aborted) fire();
    else signal.addEventListener('abort', fire, { once: true });
  });
  stopped.catch(() => undefined); // rejected only when raced
  return (p) => Promise.race([p, stopped]);
}

const phaseOf = (c: CheckDef) => c.phase ?? 'steady';
/** A check's gather outcome and how long it took (it counts in the check's duration). */
type Gathered = { value: unknown; ms: number } | { error: unknown; ms: number };
/** An API error in the API's own words (status, reason, message); any other error's whole message. */
const firstLine = (e: unknown) => (apiStatus(e) ? errorLine(e) : e instanceof Error ? e.message : String(e));

function record(c: CheckDef, status: CheckRecord['status'], durationMs: number, extra: Partial<CheckRecord> = {}): CheckRecord {
  const kind = c.controlKind ? { controlKind: c.controlKind } : {};
  return { id: c.id, check: c.title, layer: c.layer, tags: [c.layer, ...c.tags], from: c.from, to: c.to, status, ...kind, durationMs, ...extra };
}

/**
 * One id scheme in every report: a failure a check throws is named by the check's own id (the
 * verdict functions are shared, e.g. by the grader, and may name a property otherwise).
 */
export function ownedBy(err: unknown, id: string): unknown {
  const own = (f: CheckFailure) => (f.ctx.check === id ? f : new CheckFailure({ ...f.ctx, check: id }));
  if (err instanceof CheckFailure) return own(err);
  const many = (err as { failures?: unknown[] } | undefined)?.failures;
  if (err instanceof Error && Array.isArray(many) && many.every((f) => f instanceof CheckFailure)) {
    const fs = (many as CheckFailure[]).map(own);
    // the summary line (a hold's total over every source) stays at the head of the record's message
    const summary = (err as { summary?: unknown }).summary;
    const s = typeof summary === 'string' ? summary : undefined;
    return Object.assign(new Error(failuresMessage(fs, s)), { failures: fs }, s ? { summary: s } : {});
  }
  return err;
}

/** Checks that create cluster-scoped admin network policies (tag admin): the teardown then deletes the run's. */
const selectsAdminPolicies = (selection: readonly CheckDef[]) => selection.some((c) => c.tags.includes('admin'));

export async function runSuite(conn: Connection, selection: readonly CheckDef[], reporters: Reporter[], opts: RunOptions): Promise<RunResult> {
  const runId = opts.runId ?? newRunId();
  const until = interruption(opts.signal);
  try {
    return await run(conn, selection, reporters, opts, runId, until);
  } catch (err) {
    if (!(err instanceof RunInterrupted)) throw err;
    // the run's namespaces go, whatever step was running (its pods stop with them)
    await teardownRun(conn.kube, runId, { adminPolicies: selectsAdminPolicies(selection) }).catch((e: unknown) => {
      err.message += `; deleting its namespaces failed: ${firstLine(e)} (kube-netcheck cleanup deletes what is left)`;
    });
    throw err;
  }
}

async function run(
  conn: Connection,
  selection: readonly CheckDef[],
  reporters: Reporter[],
  opts: RunOptions,
  runId: string,
  until: <T>(p: Promise<T>) => Promise<T>,
): Promise<RunResult> {
  const { target } = conn;
  const settings = opts.settings ?? DEFAULT_SETTINGS;
  if (opts.signal?.aborted) throw new RunInterrupted(`run interrupted (${String(opts.signal.reason ?? 'aborted')})`);
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const progress = (line: string) => reporters.forEach((r) => r.onProgress?.(line));
  const records = new Map<string, CheckRecord>();
  const emit = (r: CheckRecord) => {
    records.set(r.id, r);
    reporters.forEach((x) => x.onRecord?.(r));
  };
  const timings: RunResult['timings'] = { setupMs: 0, phases: [], teardownMs: 0, totalMs: 0 };
  const matrices: RunResult['matrices'] = { reachability: [], dns: [], datapath: [] };
  const sections: Record<string, unknown> = {};
  const counted0 = execCounter(conn.kube);
  let env: RunEnv | undefined;
  let fatal: NetcheckError | undefined;

  progress(`run ${runId}: ${selection.length} checks; setting up namespaces, workload and probe pods`);
  // the checks' sessions (src/workload/armed.ts): one exec per probe pod for the run's fan-outs and
  // holds, opened by setup as each probe pod becomes Ready, ended after the last phase
  openSessions(conn.kube);
  try {
    const objects = [...new Map(selection.flatMap((c) => c.setupObjects ?? []).map((o) => [`${o.kind}/${o.metadata?.name}`, o])).values()];
    env = await until(
      setupRun(conn, {
        runId,
        maxNodes: opts.maxNodes,
        objects,
        payload: selection.some((c) => c.layer === 'mtu'),
        settings,
        onNamespaces: (names) => opts.onNamespaces?.(runId, names),
      }),
    );
    progress(
      `run ${runId}: ${env.workloadNs}, ${env.otherNs} ready (${env.probes.length} probe pods, ${env.nodeViews.length} node views) in ${Date.now() - t0}ms`,
    );
  } catch (err) {
    if (err instanceof RunInterrupted) {
      await closeSessions(conn.kube);
      throw err;
    }
    const why = firstLine(err);
    for (const c of selection) emit(record(c, 'failed', 0, { error: `${SETUP_FAILED}${why}` }));
    // a probe image without the tools the probes call: the run ends at once (exit 2), after clean-up
    if (err instanceof NetcheckError) fatal = err;
  }
  timings.setupMs = Date.now() - t0;

  if (env) {
    const live = env;
    const defs = new Map(selection.map((c) => [c.id, c]));
    // a phase marked `beside` runs alongside the phases it names; any other phase waits for it
    const besides: Array<{ phase: PhaseDef; done: Promise<void> }> = [];
    const waitBesides = async (next?: PhaseDef) => {
      for (const b of [...besides]) {
        if (next && b.phase.beside!.includes(next.name)) continue;
        await until(b.done);
        besides.splice(besides.indexOf(b), 1);
      }
    };
    for (const p of opts.phases) if (p.warm && selection.some((c) => phaseOf(c) === p.name)) p.warm(live);
    try {
      for (const chain of phaseChains(opts.phases)) {
        const phase = chain[0];
        const steps = chain.map((p) => ({ p, checks: selection.filter((c) => phaseOf(c) === p.name) })).filter((s) => s.checks.length);
        if (!steps.length) continue;
        await waitBesides(phase);
        const done = (async () => {
          for (const s of steps) {
            // an interrupted run starts no further phase of a lane (the run is being torn down)
            if (opts.signal?.aborted) return;
            timings.phases.push(await runPhase(live, s.p, s.checks, emit, progress, matrices, sections));
          }
        })();
        if (phase.beside) {
          done.catch(() => undefined); // awaited by waitBesides, which rethrows
          besides.push({ phase, done });
        } else await until(done);
      }
      await waitBesides();
    } finally {
      // the sessions end with the last phase: nothing asks any more
      await closeSessions(live.kube);
    }
    for (const c of selection)
      if (!records.has(c.id)) emit(record(c, 'failed', 0, { error: `not run: its phase "${phaseOf(c)}" is not in the engine's phase list` }));
    const t1 = Date.now();
    if (!opts.keepNamespaces) {
      await teardownRun(env.kube, runId, { until: 'stopped', adminPolicies: selectsAdminPolicies(selection) }).catch((err) =>
        progress(`teardown of run ${runId} failed: ${firstLine(err)} (kube-netcheck cleanup deletes what is left)`),
      );
    }
    timings.teardownMs = Date.now() - t1;
    const final = markNotMeaningful([...records.values()], defs);
    records.clear();
    for (const r of final) records.set(r.id, r);
  } else {
    await closeSessions(conn.kube);
    // setup may have created namespaces before it failed
    await teardownRun(conn.kube, runId, { adminPolicies: selectsAdminPolicies(selection) }).catch(() => undefined);
    if (fatal) throw fatal;
  }

  const ordered = selection.map((c) => records.get(c.id)!);
  // every exec of the run: the phase fan-outs and the checks' own (traffic polls, faults)
  const execs = execCounter(conn.kube).execs - counted0.execs;
  const probes = execCounter(conn.kube).probes - counted0.probes;
  timings.totalMs = Date.now() - t0;
  const summary = { total: ordered.length, passed: 0, failed: 0, skipped: 0 };
  for (const r of ordered) summary[r.status]++;
  const result: RunResult = {
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    target: { kubeconfig: target.kubeconfig, context: target.context, managed: target.managed, images: target.images },
    facts: env?.facts,
    records: ordered,
    summary,
    cause: likelyCause(ordered),
    execs,
    probes,
    timings,
    matrices,
    ...(Object.keys(sections).length ? { sections } : {}),
  };
  for (const r of reporters) await r.done?.(result);
  return result;
}

/**
 * The phases as the engine walks them: each alone, except a lane — a phase with `beside` and
 * `lane`, and the phases right after it in the same lane — which is one chain.
 */
export function phaseChains(phases: readonly PhaseDef[]): PhaseDef[][] {
  const chains: PhaseDef[][] = [];
  for (let i = 0; i < phases.length; i++) {
    const chain = [phases[i]];
    if (phases[i].beside && phases[i].lane) while (phases[i + 1]?.lane === phases[i].lane && !phases[i + 1].beside) chain.push(phases[++i]);
    chains.push(chain);
  }
  return chains;
}

/** The faults of a phase: every lane at the same time, one after another within a lane; then the lane-less, one at a time. */
export async function inFaultLanes<C extends Pick<CheckDef, 'faultLane'>>(faults: readonly C[], run: (c: C) => Promise<void>): Promise<void> {
  const lanes = new Map<string, C[]>();
  for (const c of faults) if (c.faultLane) lanes.set(c.faultLane, [...(lanes.get(c.faultLane) ?? []), c]);
  const inTurn = async (cs: readonly C[]) => {
    for (const c of cs) await run(c);
  };
  await Promise.all([...lanes.values()].map(inTurn));
  await inTurn(faults.filter((c) => !c.faultLane));
}

async function runPhase(
  env: RunEnv,
  phase: PhaseDef,
  checks: CheckDef[],
  emit: (r: CheckRecord) => void,
  progress: (line: string) => void,
  matrices: RunResult['matrices'],
  sections: Record<string, unknown>,
): Promise<PhaseTiming> {
  const timing: PhaseTiming = { phase: phase.name, enterMs: 0, fanoutMs: 0, verifyMs: 0, execs: 0, probes: 0 };
  const applicable: CheckDef[] = [];
  for (const c of checks) {
    const why = shapeNotApplicable(c, env) ?? c.notApplicable?.(env);
    if (why) emit(record(c, 'skipped', 0, { reason: `not applicable: ${why}` }));
    else applicable.push(c);
  }
  if (!applicable.length) return timing;

  let phaseData: Record<string, unknown> = {};
  const counted = execCounter(env.kube);
  const t0 = Date.now();
  if (phase.enter) {
    progress(`phase ${phase.name}: ${phase.title}`);
    try {
      phaseData = await phase.enter(env, applicable);
    } catch (err) {
      for (const c of applicable) emit(record(c, 'failed', 0, { error: `not run: phase "${phase.title}" failed: ${firstLine(err)}` }));
      timing.enterMs = Date.now() - t0;
      return timing;
    }
  }
  timing.enterMs = Date.now() - t0;

  // probes of every check of the phase, asked in one exec per pod; beside it, every check's own
  // gather (API reads, its own execs); then the gathers that inject a fault (by lane)
  const t1 = Date.now();
  // each check's asks, kept: its verdict receives them back paired with their outputs
  const asksOf = new Map<string, ProbeAsk[]>();
  for (const c of applicable) {
    try {
      asksOf.set(c.id, c.probes?.(env) ?? []);
    } catch {
      asksOf.set(c.id, []); // its verdict reports the missing probes as not run
    }
  }
  const asks = [...asksOf.values()].flat();
  const ctx = { env, phase: phase.name, phaseData };
  const gathered = new Map<string, Promise<Gathered>>();
  const gatherOf = async (c: CheckDef): Promise<Gathered> => {
    const start = Date.now();
    try {
      return { value: await c.gather!(ctx), ms: Date.now() - start };
    } catch (err) {
      return { error: err, ms: Date.now() - start };
    }
  };
  for (const c of applicable) if (c.gather && !c.fault) gathered.set(c.id, gatherOf(c));
  const fan = await fanOut(env.kube, asks, { log: env.settings.verbose ? progress : undefined, concurrency: env.settings.execConcurrency });
  timing.fanoutMs = Date.now() - t1;
  progress(
    `phase ${phase.name}: ${fan.probes} probes in ${fan.execs} execs, ${timing.fanoutMs}ms${fan.errors.size ? ` (${fan.errors.size} execs failed)` : ''}`,
  );
  const out = outputsOf(fan, phase.name);
  // verdict time: what the gathers still need after the fan-out, the faults, the verdicts
  const t2 = Date.now();
  await Promise.all(gathered.values());
  // the faults: each lane one after another, the lanes at the same time, then the lane-less alone
  await inFaultLanes(
    applicable.filter((c) => c.gather && c.fault),
    async (c) => {
      progress(`phase ${phase.name}: ${c.id} injects a fault (${c.fault})${c.faultLane ? ` in lane ${c.faultLane}` : ''} and removes it`);
      gathered.set(c.id, Promise.resolve(await gatherOf(c)));
    },
  );

  const drawn = new Set<string>();
  for (const c of applicable) {
    const start = Date.now();
    const answers = <E>() => (asksOf.get(c.id) ?? []).map((ask) => ({ ask: ask as ProbeAsk<E>, out: out(ask.from, ask.probe.id) }));
    const o: Observations = { ...ctx, out, answers, gathered: undefined };
    const g = await gathered.get(c.id);
    const took = () => Date.now() - start + (g?.ms ?? 0);
    try {
      if (g && 'error' in g) throw g.error;
      o.gathered = g?.value;
      const evidence = await c.verify(o);
      if (evidence === undefined || (Array.isArray(evidence) && evidence.length === 0)) {
        throw new CheckFailure({
          check: c.id,
          from: c.from,
          to: c.to,
          expected: 'positive evidence that the property holds',
          seen: 'nothing to look at (an empty set of pairs or answers)',
        });
      }
      emit(record(c, 'passed', took(), { evidence }));
    } catch (err) {
      if (err instanceof NotApplicable) emit(record(c, 'skipped', took(), { reason: err.message }));
      else emit(record(c, 'failed', took(), { error: firstLine(ownedBy(err, c.id)), evidence: await failureEvidence(env, c.tags) }));
    }
    if (c.facts) {
      try {
        Object.assign(sections, c.facts(o));
      } catch {
        /* a fact that cannot be read is left out; the verdict says why */
      }
    }
    if (c.matrix) {
      try {
        const rows = c.matrix(o);
        // several checks judge the same probes: each grid is drawn once per phase
        for (const k of ['reachability', 'dns'] as const) {
          if (!rows[k] || drawn.has(k)) continue;
          drawn.add(k);
          (matrices[k] as unknown[]).push(...rows[k]!);
        }
        // each datapath check draws its own windows
        if (rows.datapath) matrices.datapath.push(...rows.datapath);
      } catch {
        /* a grid row that cannot be drawn is the verdict's business, not the grid's */
      }
    }
  }
  timing.verifyMs = Date.now() - t2;
  timing.execs = execCounter(env.kube).execs - counted.execs;
  timing.probes = execCounter(env.kube).probes - counted.probes;
  return timing;
}
