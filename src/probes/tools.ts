// The commands the probes call inside a probe pod (every script in src/probes and the catalogue's
// own probe argv), and the one exec that asks an image which of them it lacks.
import type { Probe } from './batch.js';

/**
 * Every command a probe runs, builtins of a POSIX sh left out: kube-netcheck's offline probe image
 * (Debian: busybox, dnsutils, iproute2, iputils-ping …) and the public default, agnhost (Alpine:
 * busybox, bind-tools, musl getent, iproute2 …), both have them all.
 */
export const PROBE_TOOLS = [
  'sh',
  'busybox',
  'wget',
  'dig',
  'getent',
  'ip',
  'ping',
  'timeout',
  'awk',
  'grep',
  'cat',
  'mktemp',
  'mkdir',
  'rmdir',
  'rm',
  'sleep',
  'date',
  'wc',
  'sha256sum',
  'cut',
] as const;

/** One exec: prints "KNC missing: <tool> …" (nothing after the colon when every tool is there). */
export function toolCheckProbe(tools: readonly string[] = PROBE_TOOLS): Probe {
  const script = 'm=""; for t in "$@"; do command -v "$t" >/dev/null 2>&1 || m="$m $t"; done; echo "KNC missing:$m"';
  return { id: 'tools', argv: ['sh', '-c', script, 'tools', ...tools] };
}

/** The tools the check found missing; undefined when its output is not a tool check's (the exec itself failed). */
export function parseToolCheck(out: string): string[] | undefined {
  const m = /^KNC missing:(.*)$/m.exec(out);
  return m ? m[1].split(/\s+/).filter(Boolean) : undefined;
}
