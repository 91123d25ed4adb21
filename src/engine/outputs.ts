// What a verdict reads from a phase's fan-out: an output, or a "not run" failure naming the exec's
// error — a probe that did not run is never a pass.
import { CheckFailure } from '../verdicts/failure.js';
import type { ProbeOutput } from '../probes/batch.js';
import type { ProbeRef } from '../workload/setup.js';
import { key, label, type FanoutResult } from '../workload/fanout.js';

/** The accessor verdicts use: an output, or a CheckFailure saying why the probe did not run. */
export function outputsOf(f: FanoutResult, phase: string): (from: ProbeRef, id: string) => ProbeOutput {
  return (from, id) => {
    const o = f.outputs.get(key(from))?.get(id);
    if (o) return o;
    const why = f.errors.get(key(from)) ?? `probe ${id} was not planned for this pod in phase ${phase}`;
    throw new CheckFailure({ check: 'not-run', from: label(from), to: id, expected: 'the probe to run', seen: `not run: the fan-out exec failed: ${why}` });
  };
}
