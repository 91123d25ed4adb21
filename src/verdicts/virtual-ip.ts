// "The ClusterIP is virtual": no node interface holds it (`ip -o addr` on each node), and the
// host outside the cluster does not route it into the cluster's network (`ip route get`, which
// sends no packet).
import { sameIp } from '../util/cidr.js';
import { CheckFailure } from './failure.js';

/**
 * Dummy interfaces a service proxy puts every ClusterIP on by design, so the kernel accepts packets
 * for them (no route leads there from outside the node): kube-proxy's IPVS mode (kube-ipvs0) and
 * kube-router's service proxy (kube-dummy-if).
 */
export const SERVICE_DUMMY_DEVS = ['kube-ipvs0', 'kube-dummy-if'];

/** Interfaces that hold `ip` (either family) in `ip -o addr show` output, a service proxy's dummy devices left out. */
export function interfacesHolding(ipAddrOutput: string, ip: string): string[] {
  // `inet` and `inet6` lines; the address compared by value (any spelling of an IPv6 address)
  return [...ipAddrOutput.matchAll(/^\d+:\s+(\S+)\s+inet6?\s+([0-9a-fA-F.:]+)\//gm)]
    .filter((m) => sameIp(m[2], ip))
    .map((m) => m[1])
    .filter((dev) => !SERVICE_DUMMY_DEVS.includes(dev));
}

export function verifyNotHeld(check: string, from: string, ip: string, ipAddrOutput: string): CheckFailure | undefined {
  const held = interfacesHolding(ipAddrOutput, ip);
  return held.length
    ? new CheckFailure({ check, from, to: ip, expected: 'no interface to hold the address', seen: `held by ${held.join(', ')}`, command: 'ip -o addr show' })
    : undefined;
}

/** The device a `ip route get` answer routes through, or undefined when unreachable. */
export function routeDevice(routeGetOutput: string): string | undefined {
  if (/unreachable|No route to host|prohibit|blackhole/i.test(routeGetOutput)) return undefined;
  return /\bdev (\S+)/.exec(routeGetOutput)?.[1];
}

/** The host must not route `ip` through the device that leads to the cluster's nodes. */
export function verifyHostNoRoute(check: string, ip: string, routeToIp: string, routeToNode: string): CheckFailure | undefined {
  const dev = routeDevice(routeToIp);
  const nodeDev = routeDevice(routeToNode);
  if (dev === undefined || dev !== nodeDev) return undefined;
  return new CheckFailure({
    check,
    from: 'the host',
    to: ip,
    expected: `no route into the cluster network (${nodeDev})`,
    seen: routeToIp.trim(),
    command: `ip route get ${ip}`,
  });
}
