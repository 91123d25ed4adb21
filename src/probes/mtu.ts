// MTU and large-payload probes and their parsers: the interface that holds a pod's IP and its MTU
// (`ip -o addr` + `ip -o link`, never assuming eth0), pings of exactly that MTU with DF set (and one
// byte more), and a large HTTP body fetched into a file whose size and sha256 are reported.
import { createHash } from 'node:crypto';
import type { Probe } from './batch.js';
import { hostPort, isIPv6, sameIp } from '../util/cidr.js';

/** `ip -o addr show`: which interface holds which address (both families: an IPv6-only pod has no inet line). */
export const addrProbe = (id: string): Probe => ({ id, argv: ['ip', '-o', 'addr', 'show'] });
/** `ip -o link show`: every interface with its MTU. */
export const linkProbe = (id: string): Probe => ({ id, argv: ['ip', '-o', 'link', 'show'] });

export interface Iface {
  dev: string;
  mtu: number;
}

/** The interface holding `ip` (from `ip -o -4|-6 addr show`) and its MTU (from `ip -o link show`). */
export function parseIfaceMtu(addrOut: string, linkOut: string, ip: string): Iface | undefined {
  let dev: string | undefined;
  for (const line of addrOut.split('\n')) {
    // "2: eth0    inet 10.244.1.3/24 brd 10.244.1.255 scope global eth0\       valid_lft forever ..."
    // IPv6: "2: eth0    inet6 fd00:10:244:1::5/64 scope global ..." (compared by value: any spelling)
    const m = /^\d+:\s+(\S+)\s+inet6?\s+([0-9A-Fa-f.:]+)\//.exec(line);
    if (m && sameIp(m[2], ip)) {
      dev = m[1].replace(/@.*$/, '');
      break;
    }
  }
  if (!dev) return undefined;
  for (const line of linkOut.split('\n')) {
    // "2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP ..."
    const m = /^\d+:\s+([^:\s]+):\s.*\smtu\s+(\d+)\s/.exec(line);
    if (m && m[1].replace(/@.*$/, '') === dev) return { dev, mtu: Number(m[2]) };
  }
  return undefined;
}

/** Every address in an `ip -o addr` list as "dev address" (both families), in the list's order. */
export function listAddrs(addrOut: string): string[] {
  return addrOut
    .split('\n')
    .map((line) => /^\d+:\s+(\S+)\s+inet6?\s+([0-9A-Fa-f.:]+)\//.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1].replace(/@.*$/, '')} ${m[2]}`);
}

/** IPv4 (20 bytes) + ICMP echo (8 bytes) headers: `ping -s <mtu-28>` sends a packet of exactly the MTU. */
export const ICMP_OVERHEAD = 28;
/** IPv6 (40 bytes) + ICMPv6 echo (8 bytes) headers: `ping -6 -s <mtu-48>` sends a packet of exactly the MTU. */
export const ICMP6_OVERHEAD = 48;
/** The IPv6 minimum link MTU (RFC 8200 section 5): every link carrying IPv6 must take packets this big whole. */
export const IPV6_MIN_MTU = 1280;

export const icmpOverhead = (family: 'IPv4' | 'IPv6' = 'IPv4') => (family === 'IPv6' ? ICMP6_OVERHEAD : ICMP_OVERHEAD);

/** `ip -o -6 addr show`: which interface holds which IPv6 address. */
export const addr6Probe = (id: string): Probe => ({ id, argv: ['ip', '-o', '-6', 'addr', 'show'] });

/**
 * From inside the pod holding `src`: find the interface that holds it, read its MTU, then ping
 * `dst` with DF set with a packet of exactly that MTU and with one byte more. DF comes from
 * iputils' `ping -M do` where the image's ping has it (the oversized packet is then refused by the
 * sender: "message too long"); busybox ping (Alpine images such as agnhost) has no -M and sends
 * with the kernel's default path-MTU discovery, which sets DF on every packet that fits and
 * fragments one that does not: the namespace's fragment counter (/proc/net/snmp Ip FragCreates,
 * read around each ping, one DF probe at a time per pod) shows which happened. Prints
 * "KNC dev=… mtu=…", "KNC df=do|kernel", both pings' output, "KNC fit-exit=N" / "KNC over-exit=N"
 * and "KNC fit-frags=N over-frags=N".
 * IPv6 (`src` an IPv6 address; prints "KNC family=IPv6"): `ping -6`, 48 bytes of headers, the counter /proc/net/snmp6 Ip6FragCreates. No
 * router fragments an IPv6 packet (RFC 8200): only the sender may, so a packet of the MTU must
 * arrive whole and one byte more is refused or fragmented by the sender itself.
 */
export function dfPingProbe(id: string, src: string, dst: string, waitS = 2): Probe {
  const family = isIPv6(src) ? 'IPv6' : 'IPv4';
  const v6 = family === 'IPv6';
  const over = icmpOverhead(family);
  const ping = (extra: number) => `timeout -s KILL ${waitS + 2} ping ${v6 ? '-6 ' : ''}-n -c 1 -W ${waitS} $df -s $((mtu-${over - extra})) ${dst}`;
  const addrs = `ip -o ${v6 ? '-6' : '-4'} addr show`;
  const frags = v6
    ? `frags() { awk '$1=="Ip6FragCreates" { print $2; exit }' /proc/net/snmp6; }`
    : `frags() { awk '$1=="Ip:" { if (!c) { for (i = 2; i <= NF; i++) if ($i == "FragCreates") c = i } else { print $c; exit } }' /proc/net/snmp; }`;
  const script = [
    `dev=$(${addrs} | awk -v a=${src} '{split($4,p,"/"); if (p[1]==a) {sub(/@.*/,"",$2); print $2; exit}}')`,
    `[ -n "$dev" ] || { echo "KNC no interface holds ${src}"; ${addrs}; exit 3; }`,
    'mtu=$(cat /sys/class/net/$dev/mtu)',
    'echo "KNC dev=$dev mtu=$mtu"',
    ...(v6 ? ['echo "KNC family=IPv6"'] : []),
    // iputils: -M do; busybox ping rejects the option at once (nothing is sent)
    'df="-M do"; ping -M do -c 1 -W 1 -s 0 127.0.0.1 >/dev/null 2>&1 || df=""',
    'if [ -n "$df" ]; then echo "KNC df=do"; else echo "KNC df=kernel"; fi',
    frags,
    // the counter is the network namespace's: the pod's other DF probes wait (at most 10 s)
    'l=/tmp/knc-df.lock; i=0; until mkdir "$l" 2>/dev/null || [ "$i" -ge 100 ]; do i=$((i + 1)); sleep 0.1; done',
    'f0=$(frags)',
    `${ping(0)}; echo "KNC fit-exit=$?"`,
    'f1=$(frags)',
    `${ping(1)}; echo "KNC over-exit=$?"`,
    'f2=$(frags); rmdir "$l" 2>/dev/null',
    'echo "KNC fit-frags=$((f1 - f0)) over-frags=$((f2 - f1))"',
  ].join('\n');
  return { id, argv: ['sh', '-c', script] };
}

export interface DfPing {
  dev?: string;
  mtu?: number;
  /** IPv6 when the probe pinged with -6 (no line: IPv4). */
  family?: 'IPv4' | 'IPv6';
  /** How DF was set: iputils' -M do, or the kernel's path-MTU discovery (busybox ping); undefined in older captures (-M do). */
  df?: 'do' | 'kernel';
  /** Fragments the pod's stack created during each ping (undefined when the probe did not count). */
  fit: { exit?: number; output: string; received: boolean; frags?: number };
  over: { exit?: number; output: string; received: boolean; tooLong: boolean; frags?: number };
}

const received = (s: string) => /\b1 (packets )?received\b/.test(s);

/** Splits the dfPingProbe output into the MTU read and the two pings. */
export function parseDfPing(out: string): DfPing {
  const dm = /^KNC dev=(\S+) mtu=(\d+)$/m.exec(out);
  const fitEnd = out.indexOf('KNC fit-exit=');
  const overEnd = out.indexOf('KNC over-exit=');
  const start = dm ? dm.index + dm[0].length : 0;
  const dfLine = /^KNC df=(do|kernel)\n/m.exec(out);
  const from = dfLine && dfLine.index >= start ? dfLine.index + dfLine[0].length : start;
  const fitOut = fitEnd >= 0 ? out.slice(from, fitEnd) : out.slice(from);
  const overOut = overEnd >= 0 && fitEnd >= 0 ? out.slice(out.indexOf('\n', fitEnd) + 1, overEnd) : '';
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  return {
    dev: dm?.[1],
    family: /^KNC family=IPv6$/m.test(out) ? 'IPv6' : 'IPv4',
    mtu: dm ? Number(dm[2]) : undefined,
    df: dfLine?.[1] as DfPing['df'],
    fit: { exit: num(/^KNC fit-exit=(\d+)$/m), output: fitOut.trim(), received: received(fitOut), frags: num(/^KNC fit-frags=(-?\d+) /m) },
    over: {
      exit: num(/^KNC over-exit=(\d+)$/m),
      output: overOut.trim(),
      received: received(overOut),
      tooLong: /message too long/i.test(overOut),
      frags: num(/ over-frags=(-?\d+)$/m),
    },
  };
}

/** The large body nginx serves (manifests/workload serves /big/ from an empty directory). */
export const PAYLOAD_PATH = '/big/payload.txt';
export const PAYLOAD_LINES = 200_000;
/** Writes the payload into an nginx pod of the workload (run in each one the checks use, at setup). */
export const PAYLOAD_WRITE = ['sh', '-c', `seq 1 ${PAYLOAD_LINES} > /usr/share/nginx${PAYLOAD_PATH}`];

/** The payload as `seq 1 N` prints it, so its size and checksum are known without asking a pod. */
export function payloadText(lines = PAYLOAD_LINES): string {
  let s = '';
  for (let i = 1; i <= lines; i++) s += `${i}\n`;
  return s;
}

export const PAYLOAD = (() => {
  const text = payloadText();
  return { path: PAYLOAD_PATH, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
})();

/**
 * Fetches http://host:port/path into a temporary file (busybox wget, idle timeout `timeoutS`,
 * killed after `timeoutS * 2 + 2` s) and reports wget's exit, the bytes that arrived and their sha256.
 * One fetch: a Service's proxy rules are waited for by name before it (never asked again).
 */
export function payloadProbe(id: string, host: string, port: number, path = PAYLOAD_PATH, timeoutS = 10): Probe {
  const script = [
    'f=$(mktemp) || exit 97',
    `timeout -s KILL ${timeoutS * 2 + 2} wget -q -T ${timeoutS} -O "$f" http://${hostPort(host, port)}${path}; rc=$?`,
    'echo "KNC wget-exit=$rc"',
    'echo "KNC bytes=$(wc -c < "$f")"',
    'echo "KNC sha256=$(sha256sum < "$f" | cut -d" " -f1)"',
    'rm -f "$f"',
  ].join('\n');
  return { id, argv: ['sh', '-c', script] };
}

export interface Payload {
  wgetExit?: number;
  bytes?: number;
  sha256?: string;
  /** What wget said (its errors), without our KNC lines. */
  said: string;
}

export function parsePayload(out: string): Payload {
  const get = (k: string) => new RegExp(`^KNC ${k}=(\\S*)$`, 'm').exec(out)?.[1];
  const n = (s: string | undefined) => (s === undefined || s === '' ? undefined : Number(s));
  return {
    wgetExit: n(get('wget-exit')),
    bytes: n(get('bytes')),
    sha256: get('sha256') || undefined,
    said: out
      .split('\n')
      .filter((l) => l && !l.startsWith('KNC '))
      .join(' ')
      .trim(),
  };
}
