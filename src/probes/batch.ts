// One exec per probe pod: many probes run in parallel inside the pod, each bounded by its own
// timeout in the command itself, and come back as framed records that parseFanout splits again.

export interface Probe {
  /** Unique within one fan-out; used to match the result back to the probe. */
  id: string;
  /** argv run inside the pod; must bound its own run time (wget -T, dig +time, timeout N). */
  argv: string[];
}

export interface ProbeOutput {
  id: string;
  exitCode: number;
  output: string;
  durationMs: number;
  /** The exact command, for evidence. */
  command: string;
}

const MARK = 'KNC-PROBE';

/** POSIX-shell single quoting. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The sh script that runs every probe concurrently and prints framed results. */
/**
 * A shell function `now` printing milliseconds from /proc/uptime (10 ms steps), for every probe
 * script that times itself: busybox `date` has no %N (Debian's prints "%3N" as is, which breaks any
 * arithmetic on it), and the probe images' tools are busybox's or agnhost's (docs: the tool check).
 */
export const NOW_MS = 'now() { read -r u _ </proc/uptime; echo "${u%.*}${u#*.}0"; }';

/**
 * The sampling every hold window shares (the Service hold, src/probes/traffic.ts; the datapath sample
 * window, src/probes/window.ts; the grader's sampled probes, src/probes/samples.ts), as shell
 * functions: `samples N P [GAP]` calls the script's own `one I` for I = 1..N, P at a time (in the
 * background when P > 1), each batch waited for before the next, GAP seconds between batches — every
 * sample is taken, none is judged here; `sample_line DIR I` sets `rc` (the exit code `one` kept in
 * DIR/I.rc, "?" without one) and `line` (the first line of DIR/I, empty without one).
 */
export const SAMPLES_SH = [
  'samples() {',
  '  _n=$1; _p=$2; _gap=$3; _i=0',
  '  while [ "$_i" -lt "$_n" ]; do',
  '    _j=0',
  '    while [ "$_j" -lt "$_p" ] && [ "$_i" -lt "$_n" ]; do',
  '      _i=$((_i + 1)); _j=$((_j + 1))',
  '      if [ "$_p" -gt 1 ]; then one "$_i" & else one "$_i"; fi',
  '    done',
  '    wait',
  '    if [ -n "$_gap" ] && [ "$_i" -lt "$_n" ]; then sleep "$_gap"; fi',
  '  done',
  '}',
  'sample_line() {',
  '  rc="?"; [ -e "$1/$2.rc" ] && read -r rc <"$1/$2.rc"',
  '  line=""; [ -s "$1/$2" ] && read -r line <"$1/$2"',
  '  return 0',
  '}',
].join('\n');

export function fanoutScript(probes: Probe[]): string {
  const ids = new Set<string>();
  for (const p of probes) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(p.id)) throw new Error(`probe id not shell-safe: ${p.id}`);
    if (ids.has(p.id)) throw new Error(`duplicate probe id: ${p.id}`);
    ids.add(p.id);
  }
  const lines = ['d=$(mktemp -d) || exit 97', NOW_MS];
  probes.forEach((p, i) => {
    lines.push(`( s=$(now); ${p.argv.map(shq).join(' ')} >"$d/${i}" 2>&1; r=$?; e=$(now); echo "$r $((e-s))" >"$d/${i}.rc" ) &`);
  });
  lines.push('wait');
  probes.forEach((p, i) => {
    lines.push(`printf '\\n${MARK} BEGIN %s %s\\n' ${shq(p.id)} "$(cat "$d/${i}.rc")"; cat "$d/${i}"; printf '\\n${MARK} END %s\\n' ${shq(p.id)}`);
  });
  lines.push('rm -rf "$d"');
  return lines.join('\n');
}

/** The argv for the exec that runs a fan-out. */
export function fanoutArgv(probes: Probe[]): string[] {
  return ['sh', '-c', fanoutScript(probes)];
}

/** Splits the framed output of fanoutScript back into one record per probe. */
export function parseFanout(stdout: string, probes: Probe[]): Map<string, ProbeOutput> {
  const out = new Map<string, ProbeOutput>();
  const re = new RegExp(`\\n${MARK} BEGIN (\\S+) (\\d+) (-?\\d+)\\n([\\s\\S]*?)\\n${MARK} END \\1\\n`, 'g');
  for (const m of stdout.matchAll(re)) {
    const probe = probes.find((p) => p.id === m[1]);
    if (!probe) continue;
    out.set(m[1], {
      id: m[1],
      exitCode: Number(m[2]),
      durationMs: Number(m[3]),
      output: m[4],
      command: probe.argv.join(' '),
    });
  }
  const missing = probes.filter((p) => !out.has(p.id)).map((p) => p.id);
  if (missing.length) {
    throw new Error(`fan-out output lacks probes [${missing.join(', ')}]; raw output: ${stdout.slice(0, 2000)}`);
  }
  return out;
}
