// IPv4 CIDR arithmetic for checks that ask "is this address inside that range".

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  base: number;
  bits: number;
  text: string;
}

export function parseCidr(text: string): Cidr {
  const [ip, bitsText = ''] = text.split('/');
  const bits = Number(bitsText);
  if (!/^\d{1,2}$/.test(bitsText) || bits > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(ipToInt(ip) / size) * size, bits, text };
}

export function inCidr(ip: string, cidr: string | Cidr): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + 2 ** (32 - c.bits);
}

export function isIPv4(s: string): boolean {
  try { ipToInt(s); return true; } catch { return false; }
}

/** The highest usable address of a range that is not in `taken` (for "no pod holds it" probes). */
export function unusedAddress(cidr: string, taken: Iterable<string>): string {
  const c = parseCidr(cidr);
  const used = new Set(taken);
  for (let n = c.base + 2 ** (32 - c.bits) - 2; n > c.base; n--) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  throw new Error(`no unused address left in ${cidr}`);
}
