// One exec per probe pod per phase: every probe the phase's checks asked of that pod runs in
// parallel inside it (src/probes/batch.ts builds the script). A failed exec is remembered per pod,
// so each check that needed it fails with "not run: …" (src/engine/outputs.ts), never passes on a
// missing output. It lives with the workload, below the catalogue, because checks' own gathers run
// fan-outs too (traffic polls, faults), and so does the grader.
import type { Kube } from '../kube/client.js';
import { execInPod } from '../kube/exec.js';
import { fanoutArgv, fanoutScript, parseFanout, type Probe, type ProbeOutput } from '../probes/batch.js';
import type { ProbeRef } from './setup.js';
import { ask, answer, sessionsOf } from './armed.js';
import { key, label } from './key.js';

export { key, label };

export interface FanoutResult {
  outputs: Map<string, Map<string, ProbeOutput>>;
  errors: Map<string, string>;
  execs: number;
  probes: number;
}

/** Execs and probes run over `kube` so far (the phase fan-outs and every check's own). */
export const execCounter = (kube: Kube) => ({ ...kube.tally });

/** Runs one fan-out in one probe pod; throws with the pod and the exec's error. */
export async function runFanout(
  kube: Kube,
  from: ProbeRef,
  probes: Probe[],
  timeoutMs = 30_000,
  log?: (line: string) => void,
): Promise<Map<string, ProbeOutput>> {
  if (probes.length === 0) return new Map();
  // in a session of the run where one is idle or can be opened (src/workload/armed.ts), else an exec of its own
  const pool = sessionsOf(kube);
  const session = pool?.tryAcquire(from);
  if (pool && session) {
    kube.tally.probes += probes.length - 1; // the session counted one
    const script = fanoutScript(probes).split('\n');
    const asked = ask(session, `batch ${script.length}`, script);
    const got = await answer(session, asked, timeoutMs);
    if (!got) {
      pool.discard(session);
      const why = session.ended() ? await session.done : undefined;
      throw new Error(
        `${label(from)}: the fan-out in its session did not end within ${timeoutMs}ms${why instanceof Error ? `: ${why.message.split('\n')[0]}` : why ? ` (the session ended, exit ${why.exitCode})` : ''}`,
      );
    }
    pool.giveBack(session);
    const stdout = `${got.lines.join('\n')}\n`;
    log?.(`session ${label(from)}: ${probes.length} probes, exit ${got.rc}, ${got.atMs - asked.atMs}ms`);
    try {
      return parseFanout(stdout, probes);
    } catch (err) {
      throw new Error(`${label(from)}: ${(err as Error).message}`);
    }
  }
  kube.tally.execs++;
  kube.tally.probes += probes.length;
  const res = await execInPod({ kc: kube.kc, namespace: from.namespace, pod: from.pod, command: fanoutArgv(probes), timeoutMs });
  log?.(`exec ${label(from)}: ${probes.length} probes, exit ${res.exitCode}, ${res.durationMs}ms`);
  try {
    return parseFanout(res.stdout, probes);
  } catch (err) {
    throw new Error(`${label(from)}: ${(err as Error).message}${res.stderr ? `; stderr: ${res.stderr.slice(0, 300)}` : ''}`);
  }
}

/** Execs open at once in one fan-out unless the run says otherwise (KNC_EXEC_CONCURRENCY, read by the CLI). */
export const EXEC_CONCURRENCY = 32;

export interface FanOutOptions {
  /** Each exec's line (the CLI's KNC_VERBOSE). */
  log?: (line: string) => void;
  /** Execs open at once (default EXEC_CONCURRENCY). */
  concurrency?: number;
}

/** Groups the asks by pod (duplicates by id collapse) and runs every pod's exec in parallel. */
export async function fanOut(kube: Kube, asks: ReadonlyArray<{ from: ProbeRef; probe: Probe }>, o: FanOutOptions = {}): Promise<FanoutResult> {
  const { log, concurrency = EXEC_CONCURRENCY } = o;
  const byPod = new Map<string, { from: ProbeRef; probes: Map<string, Probe> }>();
  for (const a of asks) {
    const slot = byPod.get(key(a.from)) ?? { from: a.from, probes: new Map() };
    slot.probes.set(a.probe.id, a.probe);
    byPod.set(key(a.from), slot);
  }
  const result: FanoutResult = { outputs: new Map(), errors: new Map(), execs: byPod.size, probes: 0 };
  const slots = [...byPod.values()];
  // at most EXEC_CONCURRENCY execs open at once: on a large cluster one per pod would be thousands
  const worker = async () => {
    for (let slot = slots.shift(); slot; slot = slots.shift()) {
      const { from, probes } = slot;
      result.probes += probes.size;
      try {
        result.outputs.set(key(from), await runFanout(kube, from, [...probes.values()], 30_000, log));
      } catch (err) {
        result.errors.set(key(from), (err as Error).message.split('\n')[0]);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, slots.length) }, worker));
  return result;
}
