// Verdicts on MTU probes: the pod interface and its MTU, a packet of exactly that MTU with DF set
// crossing nodes (and one byte more refused locally, not lost on the way), and a large HTTP body
// arriving whole (size and sha256 of what arrived).
import type { ProbeOutput } from '../probes/batch.js';
import { icmpOverhead, IPV6_MIN_MTU, listAddrs, parseDfPing, parseIfaceMtu, parsePayload, type Iface } from '../probes/mtu.js';
import { isIPv6 } from '../util/cidr.js';
import { CheckFailure } from './failure.js';

const brief = (s: string, n = 160) => JSON.stringify(s.replace(/\s+/g, ' ').trim().slice(0, n));

/** What the address list holds, every address of both families ("eth0 10.244.1.3, lo ::1"), else the raw output briefly. */
const held = (out: string) => {
  const all = listAddrs(out);
  return all.length ? `holds ${all.join(', ')}` : brief(out);
};

// IPv4's minimum datagram every host takes (RFC 791) is 576; IPv6's minimum link MTU (RFC 8200) 1280
const minMtu = (ip: string) => (isIPv6(ip) ? IPV6_MIN_MTU : 576);
/** What verifyPodMtu expects of the interface holding `ip` (in its family). */
export const podMtuExpected = (ip: string) =>
  `an interface holding the pod IP, with an MTU of at least ${minMtu(ip)}${isIPv6(ip) ? ' (the IPv6 minimum)' : ''}`;

/** The interface holding `ip` and its MTU, or a failure naming what the pod's address list showed. */
export function verifyPodMtu(check: string, from: string, ip: string, addr: ProbeOutput, link: ProbeOutput): Iface | CheckFailure {
  const iface = addr.exitCode === 0 && link.exitCode === 0 ? parseIfaceMtu(addr.output, link.output, ip) : undefined;
  if (iface && iface.mtu >= minMtu(ip)) return iface;
  return new CheckFailure({
    check,
    from,
    to: `its interface holding ${ip}`,
    expected: podMtuExpected(ip),
    seen: iface
      ? `${iface.dev} mtu ${iface.mtu}`
      : `no interface holds it (ip addr exit ${addr.exitCode}: ${held(addr.output)}; ip link exit ${link.exitCode})`,
    command: `${addr.command}; ${link.command}`,
  });
}

/**
 * A packet of exactly the pod's MTU with DF set got a reply across nodes, and one byte more did not
 * fit: refused by the sender's own stack ("message too long", iputils `ping -M do`) instead of
 * being sent and lost, or — busybox ping, DF from the kernel's path-MTU discovery — fragmented by
 * the sender (its fragment counter rose), while the fitting packet left whole (no fragment).
 * `mtu`: the MTU read from the pod's interface list (the probe reads it again itself: they must agree).
 */
export function verifyDfPing(check: string, from: string, to: string, o: ProbeOutput, mtu: number): CheckFailure | undefined {
  const p = parseDfPing(o.output);
  const ICMP_OVERHEAD = icmpOverhead(p.family);
  const v6 = p.family === 'IPv6' ? '-6 ' : '';
  const fail = (expected: string, seen: string) => new CheckFailure({ check, from, to, expected, seen, command: o.command });
  if (p.mtu === undefined) return fail(`the probe to read the MTU of the interface holding the pod IP (${mtu})`, `exit ${o.exitCode}: ${brief(o.output)}`);
  if (p.mtu !== mtu) return fail(`the probe to read the same MTU as the pod's interface list (${mtu})`, `${p.dev} mtu ${p.mtu}`);
  const how = (n: number) => (p.df === 'kernel' ? `ping ${v6}-s ${n - ICMP_OVERHEAD}, DF by path-MTU discovery` : `ping ${v6}-M do -s ${n - ICMP_OVERHEAD}`);
  const size = `${mtu}-byte packet with DF set (${how(mtu)})`;
  if (!(p.fit.exit === 0 && p.fit.received)) {
    const why = /message too long/i.test(p.fit.output)
      ? 'refused locally (message too long): the route MTU is below the interface MTU'
      : `no reply (exit ${p.fit.exit ?? 'none'}): ${brief(p.fit.output)}`;
    return fail(`a reply to a ${size}`, why);
  }
  if (p.fit.frags !== undefined && p.fit.frags !== 0)
    return fail(`a ${size} to leave unfragmented`, `the sender created ${p.fit.frags} fragments: the route's MTU is below the interface MTU`);
  const over = `${mtu + 1}-byte packet with DF set (${how(mtu + 1)})`;
  if (p.df === 'kernel') {
    if (p.over.frags === undefined || p.over.frags > 0)
      return p.over.frags === undefined ? fail(`the sender's fragment count for a ${over}`, `none printed: ${brief(o.output)}`) : undefined;
    return fail(
      `a ${over} not to fit: fragmented by the sender`,
      `it left whole (no fragment created)${p.over.received ? ' and was answered' : ''}: the interface MTU is not what the pod says`,
    );
  }
  if (p.over.received)
    return fail(
      `a ${over} to be refused locally (message too long)`,
      'it was sent and answered: the interface MTU is not what the pod says, or DF was not set',
    );
  if (!p.over.tooLong)
    return fail(
      `a ${over} to be refused locally (message too long)`,
      `no local error, the packet was lost on the way (exit ${p.over.exit ?? 'none'}): ${brief(p.over.output)}`,
    );
  return undefined;
}

export type PayloadOutcome = 'intact' | 'timeout' | 'refused' | 'truncated' | 'corrupted' | 'failed';

export function payloadOutcome(o: ProbeOutput, want: { bytes: number; sha256: string }): PayloadOutcome {
  const p = parsePayload(o.output);
  if (p.wgetExit === 0 && p.bytes === want.bytes && p.sha256 === want.sha256) return 'intact';
  if (p.wgetExit === 137 || /timed out/i.test(p.said)) return 'timeout';
  if (/refused/i.test(p.said)) return 'refused';
  if (p.wgetExit === 0 && p.bytes !== undefined && p.bytes !== want.bytes) return 'truncated';
  if (p.wgetExit === 0) return 'corrupted';
  return 'failed';
}

/** The body arrived whole: wget succeeded, exactly `want.bytes` bytes with sha256 `want.sha256`. */
export function verifyPayload(check: string, from: string, to: string, o: ProbeOutput, want: { bytes: number; sha256: string }): CheckFailure | undefined {
  const outcome = payloadOutcome(o, want);
  if (outcome === 'intact') return undefined;
  const p = parsePayload(o.output);
  return new CheckFailure({
    check,
    from,
    to,
    expected: `${want.bytes} bytes with sha256 ${want.sha256.slice(0, 16)}…`,
    seen: `${outcome} after ${o.durationMs}ms: ${p.bytes ?? '?'} of ${want.bytes} bytes arrived${p.sha256 && p.bytes ? ` (sha256 ${p.sha256.slice(0, 16)}…)` : ''}, wget exit ${p.wgetExit ?? 'none'}${p.said ? ` ${brief(p.said, 100)}` : ''}`,
    command: o.command,
  });
}
