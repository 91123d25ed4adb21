// A broken cluster reads as one cause: the lowest failing layer (nodes → CoreDNS pods → pod IPs →
// Services → DNS names → MTU → policy) and its first failing check; the rest "also failed". A
// negative control whose own check failed proves nothing: it is reported as not meaningful.
import { LAYERS, type CheckDef, type CheckRecord } from './types.js';

export interface Cause {
  layer: string;
  check: string;
  id: string;
  error: string;
  alsoFailed: string[];
}

export const NOT_MEANINGFUL = 'not meaningful';
/** The error of every check whose run's setup failed. */
export const SETUP_FAILED = 'not run: setup (namespaces, workload, probe pods) failed: ';

/** Turns failed negative controls whose controlled check also failed into skipped "not meaningful" rows. */
export function markNotMeaningful(records: CheckRecord[], defs: ReadonlyMap<string, CheckDef>): CheckRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  return records.map((r) => {
    const controls = defs.get(r.id)?.controls;
    const positive = controls ? byId.get(controls) : undefined;
    if (!positive || positive.status !== 'failed' || r.status === 'passed') return r;
    return {
      ...r,
      status: 'skipped',
      reason: `${NOT_MEANINGFUL}: the check it controls ("${positive.check}") already failed on this cluster`,
      error: undefined,
    };
  });
}

/** The first line of a failure; for "N failures:" the count and the first of them. */
export function headline(error: string): string {
  const [head, ...rest] = error.split('\n');
  const first = rest.find((l) => l.startsWith('['));
  return /^\d+ failures:$/.test(head) && first ? `${head.slice(0, -1)}, the first: ${first}` : head;
}

export function likelyCause(records: readonly CheckRecord[]): Cause | undefined {
  const failed = records.filter((r) => r.status === 'failed');
  if (!failed.length) return undefined;
  // a setup that failed explains every check that could not run
  const setup = failed.find((r) => r.error?.startsWith(SETUP_FAILED));
  if (setup) {
    return {
      layer: 'setup',
      check: 'setup (namespaces, workload, probe pods)',
      id: 'setup',
      error: setup.error!.slice(SETUP_FAILED.length),
      alsoFailed: failed.filter((r) => !r.error?.startsWith(SETUP_FAILED)).map((r) => r.check),
    };
  }
  const rank = (r: CheckRecord) => LAYERS.indexOf(r.layer);
  const first = [...failed].sort((a, b) => rank(a) - rank(b))[0];
  return {
    layer: first.layer,
    check: first.check,
    id: first.id,
    error: headline(first.error ?? ''),
    alsoFailed: failed.filter((r) => r !== first).map((r) => r.check),
  };
}

/** The lines the CLI, summary.md and the HTML header show. */
export function causeLines(c: Cause | undefined): string[] {
  if (!c) return [];
  return [
    c.layer === 'setup'
      ? `likely cause: the run's setup failed, so no check could run: ${c.error}`
      : `likely cause: layer "${c.layer}" — ${c.check}: ${c.error}`,
    ...(c.alsoFailed.length ? [`also failed (${c.alsoFailed.length}): ${c.alsoFailed.join('; ')}`] : []),
  ];
}
