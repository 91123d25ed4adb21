// A hold window inside one probe: the same probe asked `samples` times, `gapS` apart (the sampling
// loop every hold window shares, SAMPLES_SH in src/probes/batch.ts), each sample's exit code,
// duration and output framed, so that a verdict judges EVERY sample (not the
// first good one, not "any of three"). One process per sample; bounded by the probe's own timeout
// times the number of samples plus the gaps.
import { NOW_MS, SAMPLES_SH, shq, type Probe, type ProbeOutput } from './batch.js';

export interface SampleOptions {
  samples: number;
  /** Seconds between the end of one sample and the start of the next (busybox sleep takes fractions). */
  gapS: number;
}

const MARK = 'KNC-SAMPLE';

/** `probe` asked `samples` times; exits 0 only when every sample did. */
export function sampled(probe: Probe, o: SampleOptions): Probe {
  const cmd = probe.argv.map(shq).join(' ');
  // one sample at a time (in this shell: `worst` is kept), GAP seconds apart: the sampling loop every hold window shares
  const script = [
    NOW_MS,
    SAMPLES_SH,
    'worst=0',
    'one() {',
    '  s=$(now); out=$(' + cmd + ' 2>&1); rc=$?; e=$(now)',
    `  printf '${MARK} %s %s %s\\n%s\\n${MARK}-END %s\\n' "$1" "$rc" "$((e - s))" "$out" "$1"`,
    '  [ "$rc" = 0 ] || worst=$rc',
    '}',
    `samples ${o.samples} 1 ${o.gapS}`,
    'exit "$worst"',
  ].join('\n');
  return { id: probe.id, argv: ['sh', '-c', script] };
}

/** The samples of a `sampled` probe's output, each as the probe's own output would have been. */
export function parseSamples(o: ProbeOutput, command = o.command): ProbeOutput[] {
  const re = new RegExp(`${MARK} (\\d+) (-?\\d+) (-?\\d+)\\n([\\s\\S]*?)\\n?${MARK}-END \\1\\n?`, 'g');
  return [...o.output.matchAll(re)].map((m) => ({ id: `${o.id}#${m[1]}`, exitCode: Number(m[2]), durationMs: Number(m[3]), output: m[4], command }));
}
