// Address and CIDR arithmetic in both IP families, for checks that ask "is this address inside that
// range", "which family is it" and "which address of a range does nothing hold".
//
// Addresses are the forms Kubernetes and iproute2 print: IPv4 dotted quads, IPv6 full or compressed
// (`fd00:10:244::5`, `::`, `::1`), with an embedded dotted quad (`64:ff9b::10.0.0.1`), IPv4-mapped
// (`::ffff:10.244.1.5`, what a dual-stack socket reports for an IPv4 peer). A zone (`fe80::1%eth0`)
// is refused: no pod, node or Service address carries one. An IPv4-mapped address is the IPv4
// address it maps: its family is IPv4, it is inside IPv4 ranges and `canonicalIp` prints the quad.
// A range of one family never contains an address of the other (no throw: a dual-stack cluster
// lists both, in either order).

/** Kubernetes' names for the two families (Service spec.ipFamilies). */
export type IPFamily = 'IPv4' | 'IPv6';
export const IP_FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

export interface ParsedIp {
  family: IPFamily;
  /** the address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits */
  value: bigint;
}

const BITS: Record<IPFamily, number> = { IPv4: 32, IPv6: 128 };

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256n + BigInt(Number(p)), 0n);
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  let tail: bigint[] = [];
  let text = s;
  const quad = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (quad) {
    const v4 = parseV4(quad[2]);
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    text = quad[1].endsWith('::') ? quad[1] : quad[1].slice(0, -1);
  }
  const groups = (g: string) => (g === '' ? [] : g.split(':'));
  const [headText, restText] = text.split('::');
  const head = groups(headText);
  const rest = restText === undefined ? undefined : groups(restText);
  const words = [...head, ...(rest ?? [])];
  if (words.some((w) => !/^[0-9a-fA-F]{1,4}$/.test(w))) return undefined;
  const given = words.length + tail.length;
  if (rest === undefined ? given !== 8 : given > 7) return undefined;
  const all = [...head.map((w) => BigInt(parseInt(w, 16))), ...Array(8 - given).fill(0n), ...(rest ?? []).map((w) => BigInt(parseInt(w, 16))), ...tail];
  return all.reduce((acc, w) => (acc << 16n) | w, 0n);
}

/** Parses an address of either family (throws naming the input when it is neither). */
export function parseIp(ip: string): ParsedIp {
  if (typeof ip === 'string' && ip.includes('%')) throw new Error(`not an IP address (zone index not allowed): ${JSON.stringify(ip)}`);
  const v4 = typeof ip === 'string' ? parseV4(ip) : undefined;
  if (v4 !== undefined) return { family: 'IPv4', value: v4 };
  const v6 = typeof ip === 'string' && ip.includes(':') ? parseV6(ip) : undefined;
  if (v6 === undefined) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  return { family: 'IPv6', value: v6 };
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for; any other address as it is. */
function unmapped(p: ParsedIp): ParsedIp {
  return p.family === 'IPv6' && p.value >> 32n === 0xffffn ? { family: 'IPv4', value: p.value & 0xffffffffn } : p;
}

export function formatIp(family: IPFamily, value: bigint): string {
  if (family === 'IPv4') return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const words = [...Array(8).keys()].map((i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  if (words.slice(0, 6).every((w, i) => (i === 5 ? w === 0xffff : w === 0))) return `::ffff:${formatIp('IPv4', value & 0xffffffffn)}`;
  // RFC 5952: the longest run (the first of equals) of two or more zero words becomes "::"
  let best = -1,
    bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** The family of an address (an IPv4-mapped IPv6 address is IPv4); throws on what is not an address. */
export function ipFamily(ip: string): IPFamily {
  return unmapped(parseIp(ip)).family;
}

/** One spelling per address: IPv4 dotted quad (also for IPv4-mapped), IPv6 compressed lower case (RFC 5952). */
export function canonicalIp(ip: string): string {
  const p = unmapped(parseIp(ip));
  return formatIp(p.family, p.value);
}

/** Same address, whatever the spelling (`fd00::1` = `FD00:0::0:1`, `::ffff:10.0.0.1` = `10.0.0.1`). */
export function sameIp(a: string, b: string): boolean {
  try {
    return canonicalIp(a) === canonicalIp(b);
  } catch {
    return false;
  }
}

export function isIPv4(s: string): boolean {
  try {
    return ipFamily(s) === 'IPv4';
  } catch {
    return false;
  }
}

export function isIPv6(s: string): boolean {
  try {
    return ipFamily(s) === 'IPv6';
  } catch {
    return false;
  }
}

/** IPv4 only, as a number (kept for 32-bit arithmetic). */
export function ipToInt(ip: string): number {
  const v = parseV4(ip);
  if (v === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return Number(v);
}

export function intToIp(n: number): string {
  return formatIp('IPv4', BigInt(n));
}

export interface Cidr {
  family: IPFamily;
  /** the network address (host bits cleared) */
  base: bigint;
  bits: number;
  text: string;
}

export function parseCidr(text: string): Cidr {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  const bitsText = slash < 0 ? '' : text.slice(slash + 1);
  let ip: ParsedIp;
  try {
    ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  } catch {
    throw new Error(`not a CIDR: ${JSON.stringify(text)}`);
  }
  const max = BITS[ip.family];
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > max) throw new Error(`not an ${ip.family} CIDR (prefix length 0-${max}): ${JSON.stringify(text)}`);
  const host = BigInt(max - bits);
  return { family: ip.family, base: (ip.value >> host) << host, bits, text };
}

/** The family of a range. */
export function cidrFamily(cidr: string | Cidr): IPFamily {
  return (typeof cidr === 'string' ? parseCidr(cidr) : cidr).family;
}

/** Number of addresses in a range. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.bits);
}

/** Whether `ip` lies in `cidr`; an address of the other family is never inside (an IPv4-mapped address is IPv4). */
export function inCidr(ip: string, cidr: string | Cidr): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const raw = parseIp(ip);
  const within = (p: ParsedIp) => p.family === c.family && p.value >= c.base && p.value < c.base + cidrSize(c);
  return within(unmapped(raw)) || (raw.family === 'IPv6' && within(raw));
}

/** The address `offset` places after a range's network address (e.g. one well inside it, for `ip route get`). */
export function addressInCidr(cidr: string | Cidr, offset: number | bigint): string {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const o = BigInt(offset);
  if (o < 0n || o >= cidrSize(c)) throw new Error(`offset ${o} is outside ${c.text}`);
  return formatIp(c.family, c.base + o);
}

/** The highest usable address of a range that is not in `taken` (for "no pod holds it" probes). */
export function unusedAddress(cidr: string, taken: Iterable<string>): string {
  const c = parseCidr(cidr);
  const used = new Set<string>();
  for (const t of taken) {
    try {
      used.add(canonicalIp(t));
    } catch {
      /* not an address: holds nothing */
    }
  }
  for (let n = c.base + cidrSize(c) - 2n; n > c.base; n--) {
    const ip = formatIp(c.family, n);
    if (!used.has(ip)) return ip;
  }
  throw new Error(`no unused address left in ${cidr}`);
}

/** Items split by the family of their address; an item whose address is no IP goes nowhere. */
export function byFamily<T>(items: Iterable<T>, addressOf: (item: T) => string): Record<IPFamily, T[]> {
  const out: Record<IPFamily, T[]> = { IPv4: [], IPv6: [] };
  for (const item of items) {
    try {
      out[ipFamily(addressOf(item))].push(item);
    } catch {
      /* not an address */
    }
  }
  return out;
}

/** The families a list of addresses or ranges covers, IPv4 first. */
export function familiesOf(addressesOrRanges: Iterable<string>): IPFamily[] {
  const seen = new Set<IPFamily>();
  for (const a of addressesOrRanges) {
    try {
      seen.add(a.includes('/') ? cidrFamily(a) : ipFamily(a));
    } catch {
      /* neither */
    }
  }
  return IP_FAMILIES.filter((f) => seen.has(f));
}

/** The first of `addresses` in `family`, if any (e.g. a pod's IPv6 address from status.podIPs). */
export function addressOfFamily(addresses: Iterable<string>, family: IPFamily): string | undefined {
  for (const a of addresses) if (isIPv4(a) ? family === 'IPv4' : isIPv6(a) && family === 'IPv6') return a;
  return undefined;
}

/** `host:port` for a URL or wget: IPv6 addresses in brackets. */
export function hostPort(ip: string, port: number | string): string {
  return `${isIPv6(ip) ? `[${ip}]` : ip}:${port}`;
}

/** The `ip` command's family flag for an address. */
export function ipFlag(ip: string): '-4' | '-6' {
  return isIPv6(ip) ? '-6' : '-4';
}

/**
 * The smallest CIDR that holds every address, IPv4 or IPv6 (e.g. the pods of the NetworkPolicy
 * matrix, for an ipBlock); the addresses must be of one family.
 */
export function coveringCidr(ips: string[]): string {
  if (!ips.length) throw new Error('coveringCidr: no address');
  const ps = ips.map((ip) => unmapped(parseIp(ip)));
  const family = ps[0].family;
  if (ps.some((p) => p.family !== family)) throw new Error(`coveringCidr: addresses of both families: ${ips.join(', ')}`);
  const max = BITS[family];
  for (let bits = max; bits >= 0; bits--) {
    const host = BigInt(max - bits);
    const base = (ps[0].value >> host) << host;
    if (ps.every((p) => p.value >> host === ps[0].value >> host)) return `${formatIp(family, base)}/${bits}`;
  }
  return family === 'IPv6' ? '::/0' : '0.0.0.0/0';
}

/** The one-address CIDR of an address: /32 for IPv4, /128 for IPv6 (an ipBlock `except` of one pod). */
export function hostCidr(ip: string): string {
  return `${ip}/${isIPv6(ip) ? 128 : 32}`;
}
