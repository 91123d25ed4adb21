// Runs one fan-out in one probe pod: a single exec, many probes in parallel inside.
import type { Kube } from '../kube/client.js';
import { execInPod } from '../kube/exec.js';
import { fanoutArgv, parseFanout, type Probe, type ProbeOutput } from '../probes/fanout.js';
import type { ProbeRef } from '../fixtures/run.js';

export type Fanout = Map<string, ProbeOutput>;

let execCount = 0;
/** How many execs this process made (the benchmark reports it). */
export const execsMade = () => execCount;

export const label = (r: ProbeRef) => `${r.hostNetwork ? 'node' : 'pod'} ${r.namespace}/${r.pod} on ${r.node}`;

export async function runFanout(kube: Kube, from: ProbeRef, probes: Probe[], timeoutMs = 20_000): Promise<Fanout> {
  if (probes.length === 0) return new Map();
  execCount++;
  const res = await execInPod({ kc: kube.kc, namespace: from.namespace, pod: from.pod, command: fanoutArgv(probes), timeoutMs });
  if (process.env.KNC_VERBOSE) process.stderr.write(`[exec ${label(from)}] ${probes.length} probes, exit ${res.exitCode}, ${res.durationMs}ms\n${res.stdout}\n`);
  try {
    return parseFanout(res.stdout, probes);
  } catch (err) {
    throw new Error(`${label(from)}: ${(err as Error).message}\nstderr: ${res.stderr}`);
  }
}

/** Runs each source's probes in its own exec, all sources in parallel. */
export async function runFanouts(kube: Kube, plan: Array<{ from: ProbeRef; probes: Probe[] }>): Promise<Map<string, Fanout>> {
  const out = await Promise.all(plan.map(async ({ from, probes }) => [from.pod + '@' + from.namespace, await runFanout(kube, from, probes)] as const));
  return new Map(out);
}

export const key = (r: ProbeRef) => r.pod + '@' + r.namespace;
