// HTTP probes with busybox-compatible wget, bounded twice: wget's own -T and an outer timeout.
import { shq, type Probe } from './batch.js';
import { hostPort } from '../util/cidr.js';

/** GET http://host:port/path (an IPv6 host in brackets). */
export function httpProbe(id: string, host: string, port: number, path = '/', timeoutS = 2): Probe {
  return {
    id,
    argv: ['timeout', '-s', 'KILL', String(timeoutS + 1), 'wget', '-q', '-T', String(timeoutS), '-O', '-', `http://${hostPort(host, port)}${path}`],
  };
}

/**
 * `probe` asked up to `attempts` times, `gapS` apart, until it exits 0 (or until the shell test
 * `until` holds; it sees the attempt's output in "$out" and exit code in "$rc"): for something
 * asked right after pods turned Ready — a ClusterIP's proxy rules, the cluster DNS's records may
 * trail their Endpoints by a moment. The output is the last attempt's, followed by
 * "(attempt N of M)" when it took more than one.
 */
export function retrying(probe: Probe, attempts = 4, gapS = 0.5, until = '[ "$rc" = 0 ]'): Probe {
  const cmd = probe.argv.map(shq).join(' ');
  const script = [
    'i=0',
    `while :; do i=$((i + 1)); out=$(${cmd} 2>&1); rc=$?; { ${until} || [ "$i" -ge ${attempts} ]; } && break; sleep ${gapS}; done`,
    `printf '%s\\n' "$out"`,
    `[ "$i" = 1 ] || echo "(attempt $i of ${attempts})"`,
    'exit "$rc"',
  ].join('\n');
  return { id: probe.id, argv: ['sh', '-c', script] };
}

export interface WhoAmI {
  /** The address the server saw as the client ($remote_addr). */
  client: string;
  /** The serving pod's hostname (its pod name). */
  server: string;
}

/** Parses the body of the nginx /whoami location: "client=<ip> server=<hostname>". */
export function parseWhoAmI(body: string): WhoAmI | undefined {
  const m = /client=(\S+)\s+server=(\S+)/.exec(body);
  return m ? { client: m[1], server: m[2] } : undefined;
}

/** nginx's default page, as served by the official image and by ours. */
export function isNginxWelcome(body: string): boolean {
  return /<title>Welcome to nginx!<\/title>/.test(body);
}
