// DNS probes and their parsers: dig (the verdicts), getent (libc: search path + ndots, as
// applications resolve), busybox nslookup (old and new output formats, informational only:
// busybox > 1.28 mishandles search paths) and /etc/resolv.conf.
import { NOW_MS, type Probe } from './batch.js';

export type Transport = 'udp' | 'tcp';

export interface DigOptions {
  server?: string;
  transport?: Transport;
  /** Use resolv.conf's search list and ndots, as libc would. */
  search?: boolean;
  type?: 'A' | 'AAAA' | 'PTR' | 'SRV';
  timeoutS?: number;
}

export function digProbe(id: string, name: string, o: DigOptions = {}): Probe {
  const argv = ['dig', `+time=${o.timeoutS ?? 2}`, '+tries=1', '+nocookie', o.transport === 'tcp' ? '+tcp' : '+notcp'];
  argv.push(o.search ? '+search' : '+nosearch');
  if (o.server) argv.push(`@${o.server}`);
  if (o.type === 'PTR') argv.push('-x', name);
  else argv.push(name, o.type ?? 'A');
  return { id, argv };
}

const shq = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * A short name asked the way the resolver would ask it, without depending on where the search list
 * ends: the name under each search suffix, each as an absolute name ("my-nginx.<ns>.svc.cluster.local.")
 * with +nosearch (dig) or a trailing dot (libc). The last step of a search — the bare name as it is,
 * which the cluster DNS forwards upstream — is not asked: an unreachable forwarder (an air-gapped
 * cluster with the stock Corefile) answers it with SERVFAIL or a timeout, and that says nothing about
 * the cluster's names. Each ask's output follows a "KNC-NAME <name>" line and ends with "KNC-EXIT <code>".
 */
export function suffixProbe(id: string, name: string, suffixes: string[], via: Transport | 'libc', type: 'A' | 'AAAA' = 'A'): Probe {
  const one =
    via === 'libc'
      ? getentProbe('x', '$n', 6, type === 'AAAA' ? 'IPv6' : 'IPv4')
          .argv.map((a) => (a === '$n' ? '"$n"' : shq(a)))
          .join(' ')
      : digProbe('x', '$n', { transport: via, type })
          .argv.map((a) => (a === '$n' ? '"$n"' : shq(a)))
          .join(' ');
  const script = `for n in "$@"; do echo "KNC-NAME $n"; ${one} 2>&1; echo "KNC-EXIT $?"; done`;
  return { id, argv: ['sh', '-c', script, 'suffixes', ...suffixes.map((x) => `${name}.${x.replace(/\.$/, '')}.`)] };
}

/** suffixProbe's output, one block per name asked (in order). */
export function parseSuffixAsks(out: string): Array<{ name: string; output: string; exitCode: number }> {
  return out
    .split(/^KNC-NAME /m)
    .slice(1)
    .map((p) => {
      const nl = p.indexOf('\n');
      const body = nl < 0 ? '' : p.slice(nl + 1);
      const code = /^KNC-EXIT (\d+)\s*$/m.exec(body);
      return { name: (nl < 0 ? p : p.slice(0, nl)).trim(), output: code ? body.slice(0, code.index) : body, exitCode: code ? Number(code[1]) : -1 };
    });
}

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  /** NOERROR, NXDOMAIN, SERVFAIL ...; TIMEOUT, REFUSED-CONNECTION or NO-SERVER when no server answered. */
  status: string;
  answers: DigRecord[];
  /** The server that answered (address only), if any. */
  server?: string;
  /** UDP or TCP as dig reports it. */
  transport?: string;
}

export function parseDig(out: string): DigResult {
  if (!/->>HEADER<<-/.test(out)) {
    // no answer at all: DiG words it per transport and version, e.g. "connection timed out; no
    // servers could be reached" (UDP), "Connection to ... failed: timed out." (TCP, 9.20),
    // "communications error to ...: connection refused" / "failed: connection refused."
    if (/timed out/i.test(out)) return { status: 'TIMEOUT', answers: [] };
    if (/connection refused/i.test(out)) return { status: 'REFUSED-CONNECTION', answers: [] };
    if (/no servers could be reached|communications error/i.test(out)) return { status: 'NO-SERVER', answers: [] };
  }
  const status = /->>HEADER<<-.*status: ([A-Z]+)/.exec(out)?.[1] ?? 'UNPARSED';
  const answers: DigRecord[] = [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(out)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[2] === 'IN') answers.push({ name: f[0], ttl: Number(f[1]), type: f[3], data: f.slice(4).join(' ') });
  }
  const srv = /;; SERVER: ([^#\s]+)#\d+(?:\([^)]*\))?(?: \((UDP|TCP)\))?/.exec(out);
  return { status, answers, server: srv?.[1], transport: srv?.[2] };
}

/** The data of a dig result's answers of one type (A: addresses, PTR: names, SRV: "prio weight port target"). */
export function records(r: DigResult, type: string): string[] {
  return r.answers.filter((a) => a.type === type).map((a) => a.data);
}

/** Addresses of the A records in a dig result. */
export const aRecords = (r: DigResult): string[] => records(r, 'A');

/**
 * libc resolution (nsswitch + resolv.conf search/ndots): `getent ahostsv4 NAME` (glibc: IPv4 only;
 * `family` IPv6: `getent ahostsv6`, the AAAA records an IPv6-only cluster's Service has), else
 * `getent hosts NAME` where getent has no ahostsv4 database (musl's, as on Alpine images such as
 * agnhost: "Unknown database", exit 1). Both exit 2 for "not found".
 */
export function getentProbe(id: string, name: string, timeoutS = 6, family: 'IPv4' | 'IPv6' = 'IPv4'): Probe {
  const db = family === 'IPv6' ? 'ahostsv6' : 'ahostsv4';
  const script = `getent ${db} "$1"; rc=$?; [ "$rc" = 1 ] || exit "$rc"; getent hosts "$1"`;
  return { id, argv: ['timeout', '-s', 'KILL', String(timeoutS), 'sh', '-c', script, 'getent', name] };
}

export interface GetentResult {
  found: boolean;
  /** getent's own "key not found" (exit 2), as opposed to being killed by the timeout. */
  notFound: boolean;
  addresses: string[];
  canonicalName?: string;
}

/** Parses `getent ahostsv4|ahostsv6` ("ADDR STREAM NAME") or `getent hosts` ("ADDR NAME ALIASES…") output; exit code 2 means "not found". */
export function parseGetent(out: string, exitCode: number): GetentResult {
  const lines = out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f[0]) || (f[0].includes(':') && /^[0-9a-fA-F:.]+$/.test(f[0])));
  const addresses = [...new Set(lines.map((f) => f[0]))];
  const first = lines[0];
  const canonicalName = first && /^(STREAM|DGRAM|RAW)$/.test(first[1] ?? '') ? first[2] : first?.[1];
  return { found: exitCode === 0 && addresses.length > 0, notFound: exitCode === 2, addresses, canonicalName };
}

export function nslookupProbe(id: string, name: string, server?: string, timeoutS = 4): Probe {
  return { id, argv: ['timeout', '-s', 'KILL', String(timeoutS), 'busybox', 'nslookup', name, ...(server ? [server] : [])] };
}

export interface NslookupResult {
  format: 'busybox-old' | 'busybox-new';
  server?: string;
  /** name → addresses, as printed. */
  addresses: string[];
  names: string[];
  nxdomain: boolean;
}

/**
 * Parses busybox nslookup output. Old (<= 1.28): "Address 1: 10.0.0.1 name" lines.
 * New (>= 1.29): "Server:/Address:" header, then "Name:" / "Address:" pairs, errors as "** server can't find".
 */
export function parseNslookup(out: string): NslookupResult {
  const old = /^Address \d+: /m.test(out);
  const blocks = out.split(/\n\s*\n/);
  const head = blocks[0] ?? '';
  const server = /^Server:\s+(\S+)/m.exec(head)?.[1];
  const names: string[] = [];
  const addresses: string[] = [];
  for (const b of blocks.slice(1)) {
    const name = /^Name:\s+(\S+)/m.exec(b)?.[1];
    if (!name) continue;
    names.push(name);
    const re = old ? /^Address \d+: (\S+)/gm : /^Address:\s+(\S+)/gm;
    for (const m of b.matchAll(re)) addresses.push(m[1].replace(/:53$/, ''));
  }
  const nxdomain = /can't (find|resolve)|NXDOMAIN/.test(out) && addresses.length === 0;
  return { format: old ? 'busybox-old' : 'busybox-new', server, names, addresses: [...new Set(addresses)], nxdomain };
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: Record<string, string | true>;
}

export function parseResolvConf(text: string): ResolvConf {
  const rc: ResolvConf = { nameservers: [], search: [], options: {} };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) rc.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') rc.search = rest;
    else if (key === 'options')
      for (const o of rest) {
        const [k, v] = o.split(':');
        rc.options[k] = v ?? true;
      }
  }
  return rc;
}

/**
 * Converge, then hold, for records that pods the run just made Ready create (a headless Service's
 * A and SRV records): first each DNS server pod in `servers`, asked by its own IP, is asked — every
 * 0.2 s, for at most `waitS` seconds — until it serves exactly `n` records of `type` for `name`:
 * the condition "this server serves the new EndpointSlice", bounded and reported. Then the hold:
 * `rounds` rounds, each asking every server pod and every address in `via` (the Service the pods
 * use) once; every one of those answers counts (the verdict is dnsHoldVerdict). Each block of
 * output starts with "KNC-DNS wait <server> <asks> <ms>" or "KNC-DNS hold <server> <round>".
 */
export function dnsHoldProbe(
  id: string,
  name: string,
  type: 'A' | 'AAAA' | 'SRV' | 'PTR',
  n: number,
  servers: string[],
  via: string[],
  o: { rounds?: number; waitS?: number; search?: boolean } = {},
): Probe {
  const dig = (server: string) =>
    digProbe('x', name, { server, type, search: o.search })
      .argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
  const count = `printf '%s\\n' "$out" | grep -cE '[[:space:]]IN[[:space:]]+${type}[[:space:]]'`;
  const waitMs = Math.round((o.waitS ?? 5) * 1000);
  const rounds = o.rounds ?? 3;
  const asked = [...servers, ...via];
  // the servers are waited for at once and each round's asks go out at once; every block goes to
  // its own file, printed in order at the end
  const lines = [NOW_MS, 'd=$(mktemp -d) || exit 97'];
  servers.forEach((s, k) => {
    lines.push(
      `( t0=$(now); i=0; while :; do i=$((i + 1)); out=$(${dig(s)} 2>&1); [ "$(${count})" -eq ${n} ] && break; ` +
        `[ $(($(now) - t0)) -ge ${waitMs} ] && break; sleep 0.2; done; { echo "KNC-DNS wait ${s} $i $(($(now) - t0))"; printf '%s\\n' "$out"; } >"$d/w${k}" ) &`,
    );
  });
  lines.push('wait');
  for (let r = 1; r <= rounds; r++) {
    asked.forEach((s, k) => lines.push(`( out=$(${dig(s)} 2>&1); { echo "KNC-DNS hold ${s} ${r}"; printf '%s\\n' "$out"; } >"$d/h${r}-${k}" ) &`));
    lines.push('wait');
  }
  const files = [...servers.map((_, k) => `w${k}`), ...Array.from({ length: rounds }, (_, r) => asked.map((_, k) => `h${r + 1}-${k}`)).flat()];
  lines.push(`for f in ${files.join(' ')}; do cat "$d/$f"; done`, 'rm -rf "$d"');
  return { id, argv: ['sh', '-c', lines.join('\n')] };
}

export interface DnsHoldBlock {
  step: 'wait' | 'hold';
  /** The server asked (a DNS pod's IP, or the Service address). */
  server: string;
  /** wait: how many asks it took; hold: the round. */
  n: number;
  /** wait: how long the server took to serve the records (or until the wait gave up). */
  ms?: number;
  dig: DigResult;
}

/** Splits dnsHoldProbe's output into its asks. */
export function parseDnsHold(out: string): DnsHoldBlock[] {
  const blocks: DnsHoldBlock[] = [];
  const parts = out.split(/^KNC-DNS /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    const [step, server, n, ms] = (nl < 0 ? p : p.slice(0, nl)).trim().split(/\s+/);
    if (step !== 'wait' && step !== 'hold') continue;
    blocks.push({ step, server, n: Number(n), ...(ms !== undefined ? { ms: Number(ms) } : {}), dig: parseDig(nl < 0 ? '' : p.slice(nl + 1)) });
  }
  return blocks;
}
