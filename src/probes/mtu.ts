// MTU and large-payload probes and their parsers: the interface that holds a pod's IP and its MTU
// (`ip -o addr` + `ip -o link`, never assuming eth0), pings of exactly that MTU with DF set (and one
// byte more), and a large HTTP body fetched into a file whose size and sha256 are reported.
import { createHash } from 'node:crypto';
import type { Probe } from './batch.js';

/** `ip -o -4 addr show`: which interface holds which IPv4 address. */
export const addrProbe = (id: string): Probe => ({ id, argv: ['ip', '-o', '-4', 'addr', 'show'] });
/** `ip -o link show`: every interface with its MTU. */
export const linkProbe = (id: string): Probe => ({ id, argv: ['ip', '-o', 'link', 'show'] });

export interface Iface {
  dev: string;
  mtu: number;
}

/** The interface holding `ip` (from `ip -o -4 addr show`) and its MTU (from `ip -o link show`). */
export function parseIfaceMtu(addrOut: string, linkOut: string, ip: string): Iface | undefined {
  let dev: string | undefined;
  for (const line of addrOut.split('\n')) {
    // "2: eth0    inet 10.244.1.3/24 brd 10.244.1.255 scope global eth0\       valid_lft forever ..."
    const m = /^\d+:\s+(\S+)\s+inet\s+([0-9.]+)\//.exec(line);
    if (m && m[2] === ip) {
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

/** IPv4 (20 bytes) + ICMP echo (8 bytes) headers: `ping -s <mtu-28>` sends a packet of exactly the MTU. */
export const ICMP_OVERHEAD = 28;

/**
 * From inside the pod holding `src`: find the interface that holds it, read its MTU, then ping
 * `dst` with DF set (iputils `ping -M do`) with a packet of exactly that MTU and with one byte
 * more. Prints "KNC dev=… mtu=…", both pings' output and "KNC fit-exit=N" / "KNC over-exit=N".
 */
export function dfPingProbe(id: string, src: string, dst: string, waitS = 2): Probe {
  const ping = (extra: number) => `timeout -s KILL ${waitS + 2} ping -n -c 1 -W ${waitS} -M do -s $((mtu-${ICMP_OVERHEAD - extra})) ${dst}`;
  const script = [
    `dev=$(ip -o -4 addr show | awk -v a=${src} '{split($4,p,"/"); if (p[1]==a) {sub(/@.*/,"",$2); print $2; exit}}')`,
    `[ -n "$dev" ] || { echo "KNC no interface holds ${src}"; ip -o -4 addr show; exit 3; }`,
    'mtu=$(cat /sys/class/net/$dev/mtu)',
    'echo "KNC dev=$dev mtu=$mtu"',
    `${ping(0)}; echo "KNC fit-exit=$?"`,
    `${ping(1)}; echo "KNC over-exit=$?"`,
  ].join('\n');
  return { id, argv: ['sh', '-c', script] };
}

export interface DfPing {
  dev?: string;
  mtu?: number;
  fit: { exit?: number; output: string; received: boolean };
  over: { exit?: number; output: string; received: boolean; tooLong: boolean };
}

const received = (s: string) => /\b1 (packets )?received\b/.test(s);

/** Splits the dfPingProbe output into the MTU read and the two pings. */
export function parseDfPing(out: string): DfPing {
  const dm = /^KNC dev=(\S+) mtu=(\d+)$/m.exec(out);
  const fitEnd = out.indexOf('KNC fit-exit=');
  const overEnd = out.indexOf('KNC over-exit=');
  const start = dm ? dm.index + dm[0].length : 0;
  const fitOut = fitEnd >= 0 ? out.slice(start, fitEnd) : out.slice(start);
  const overOut = overEnd >= 0 && fitEnd >= 0 ? out.slice(out.indexOf('\n', fitEnd) + 1, overEnd) : '';
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  return {
    dev: dm?.[1],
    mtu: dm ? Number(dm[2]) : undefined,
    fit: { exit: num(/^KNC fit-exit=(\d+)$/m), output: fitOut.trim(), received: received(fitOut) },
    over: { exit: num(/^KNC over-exit=(\d+)$/m), output: overOut.trim(), received: received(overOut), tooLong: /message too long/i.test(overOut) },
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
 * With `attempts` > 1, a fetch where nothing arrived at all (no connection: a Service's proxy rules
 * may trail its Endpoints by a moment) is tried again 0.5 s later; one where anything arrived never is.
 */
export function payloadProbe(id: string, host: string, port: number, path = PAYLOAD_PATH, timeoutS = 10, attempts = 1): Probe {
  const script = [
    'f=$(mktemp) || exit 97',
    'i=0',
    'while :; do',
    '  i=$((i + 1))',
    `  timeout -s KILL ${timeoutS * 2 + 2} wget -q -T ${timeoutS} -O "$f" http://${host}:${port}${path}; rc=$?`,
    `  { [ "$rc" = 0 ] || [ -s "$f" ] || [ "$i" -ge ${attempts} ]; } && break`,
    '  sleep 0.5',
    'done',
    'echo "KNC wget-exit=$rc"',
    '[ "$i" = 1 ] || echo "KNC attempts=$i"',
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
    said: out.split('\n').filter((l) => l && !l.startsWith('KNC ')).join(' ').trim(),
  };
}
