// HTTP probes with busybox-compatible wget, bounded twice: wget's own -T and an outer timeout.
import type { Probe } from './fanout.js';

export function httpProbe(id: string, host: string, port: number, path = '/', timeoutS = 2): Probe {
  return {
    id,
    argv: ['timeout', '-s', 'KILL', String(timeoutS + 1), 'wget', '-q', '-T', String(timeoutS), '-O', '-', `http://${host}:${port}${path}`],
  };
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
