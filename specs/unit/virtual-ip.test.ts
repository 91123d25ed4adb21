// "The ClusterIP is virtual": interface and route parsers on real `ip -o addr show` and
// `ip route get` outputs captured in a hostNetwork pod on kube-netcheck-worker (and in a probe pod).
import { describe, it, expect } from '@jest/globals';
import { interfacesHolding, routeDevice, verifyHostNoRoute, verifyNotHeld } from '../../src/verdicts/virtual-ip.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { CAPTURE, captured } from './fixture-files.js';

const nodeAddrs = captured('ip-addr-node-view').stdout;
const podAddrs = captured('ip-addr-probe').stdout;
const FROM = 'node knc-fixtures/node-view on kube-netcheck-worker';

describe('interfacesHolding (real ip -o addr show)', () => {
  it("finds the node's own addresses on eth0, cni0 and lo", () => {
    expect(interfacesHolding(nodeAddrs, CAPTURE.nodeIP)).toEqual(['eth0']);
    expect(interfacesHolding(nodeAddrs, CAPTURE.nodeCni0IP)).toEqual(['cni0']);
    expect(interfacesHolding(nodeAddrs, '127.0.0.1')).toEqual(['lo']);
    expect(interfacesHolding(podAddrs, CAPTURE.probePodIP)).toEqual(['eth0']);
  });

  it('no interface holds a ClusterIP (iptables kube-proxy), on the node or in a pod', () => {
    for (const ip of [CAPTURE.webClusterIP, CAPTURE.dnsIP]) {
      expect(interfacesHolding(nodeAddrs, ip)).toEqual([]);
      expect(interfacesHolding(podAddrs, ip)).toEqual([]);
    }
  });

  it("finds IPv6 addresses on inet6 lines, whatever the spelling (the node's ULA on eth0)", () => {
    expect(interfacesHolding(nodeAddrs, 'fc00:f853:ccd:e793::2')).toEqual(['eth0']);
    expect(interfacesHolding(nodeAddrs, 'FC00:F853:0CCD:E793:0:0:0:2')).toEqual(['eth0']);
    expect(interfacesHolding(nodeAddrs, '::1')).toEqual(['lo']);
    expect(interfacesHolding(nodeAddrs, 'fc00:f853:ccd:e793::20')).toEqual([]);
    expect(interfacesHolding(nodeAddrs, 'fd00:10:96::a')).toEqual([]);
  });

  it('matches whole addresses only: no prefix match, dots are literal', () => {
    expect(interfacesHolding(nodeAddrs, '172.18.0.20')).toEqual([]);
    expect(interfacesHolding(nodeAddrs, '10.244.2.10')).toEqual([]);
    expect(interfacesHolding(nodeAddrs, '172.18.0')).toEqual([]);
    expect(interfacesHolding(nodeAddrs.replace('172.18.0.2/', '172x18.0.2/'), CAPTURE.nodeIP)).toEqual([]);
    expect(nodeAddrs).toContain('eth0    inet6 fc00:f853:ccd:e793::2/64');
  });

  it('ignores kube-ipvs0 (IPVS dummy, holds ClusterIPs by design) — synthetic line in the real format', () => {
    const ipvs = `${nodeAddrs}7: kube-ipvs0    inet ${CAPTURE.webClusterIP}/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n`;
    expect(interfacesHolding(ipvs, CAPTURE.webClusterIP)).toEqual([]);
  });

  it("ignores kube-dummy-if (kube-router's service proxy holds every ClusterIP there) — synthetic line in the real format", () => {
    const kr = `${nodeAddrs}8: kube-dummy-if    inet ${CAPTURE.webClusterIP}/32 scope link kube-dummy-if\\       valid_lft forever preferred_lft forever\n`;
    expect(interfacesHolding(kr, CAPTURE.webClusterIP)).toEqual([]);
    expect(verifyNotHeld('virtual-ip', FROM, CAPTURE.webClusterIP, kr)).toBeUndefined();
    // any other interface holding it still counts
    expect(interfacesHolding(kr.replace('kube-dummy-if    inet', 'kube-bridge    inet'), CAPTURE.webClusterIP)).toEqual(['kube-bridge']);
  });
});

describe('verifyNotHeld', () => {
  it('passes for the ClusterIP', () => {
    expect(verifyNotHeld('virtual-ip', FROM, CAPTURE.webClusterIP, nodeAddrs)).toBeUndefined();
  });

  it('fails for the node IP, naming check/from/to/expected/seen', () => {
    const x = verifyNotHeld('virtual-ip', FROM, CAPTURE.nodeIP, nodeAddrs);
    expect(x).toBeInstanceOf(CheckFailure);
    expect(x!.ctx).toEqual({
      check: 'virtual-ip',
      from: FROM,
      to: CAPTURE.nodeIP,
      expected: 'no interface to hold the address',
      seen: 'held by eth0',
      command: 'ip -o addr show',
    });
    expect(x!.message).toBe(
      `[virtual-ip] from ${FROM} to ${CAPTURE.nodeIP}: expected no interface to hold the address, saw held by eth0\n  probe: ip -o addr show`,
    );
  });
});

describe('routeDevice (real ip route get)', () => {
  it('reads the device of a direct and of a gateway route', () => {
    const toNode = captured('ip-route-get-node-node-view').stdout;
    expect(toNode).toBe(`172.18.0.3 dev eth0 src ${CAPTURE.nodeIP} uid 65534 \n    cache \n`);
    expect(routeDevice(toNode)).toBe('eth0');
    expect(routeDevice(captured('ip-route-get-web-node-view').stdout)).toBe('eth0');
    expect(routeDevice(captured('ip-route-get-remote-pod-node-view').stdout)).toBe('eth0');
    expect(routeDevice(captured('ip-route-get-local-pod-cidr-node-view').stdout)).toBe('cni0');
  });

  it('is undefined for unreachable/prohibit/blackhole answers and for errors (synthetic iproute2 wording)', () => {
    expect(routeDevice('RTNETLINK answers: Network is unreachable\n')).toBeUndefined();
    expect(routeDevice('unreachable 10.96.50.233 table main uid 0 \n    cache <> \n')).toBeUndefined();
    expect(routeDevice('prohibit 10.96.50.233 uid 0 \n')).toBeUndefined();
    expect(routeDevice('blackhole 10.96.50.233 uid 0 \n')).toBeUndefined();
    expect(routeDevice('')).toBeUndefined();
  });
});

describe('verifyHostNoRoute', () => {
  const toNode = captured('ip-route-get-node-node-view').stdout;

  it('fails when the ClusterIP routes through the device that leads to the nodes (as seen from a node)', () => {
    const toIp = captured('ip-route-get-web-node-view').stdout;
    const x = verifyHostNoRoute('virtual-ip-host', CAPTURE.webClusterIP, toIp, toNode);
    expect(x).toBeInstanceOf(CheckFailure);
    expect(x!.ctx).toEqual({
      check: 'virtual-ip-host',
      from: 'the host',
      to: CAPTURE.webClusterIP,
      expected: 'no route into the cluster network (eth0)',
      seen: `${CAPTURE.webClusterIP} via ${CAPTURE.nodeGatewayIP} dev eth0 src ${CAPTURE.nodeIP} uid 65534 \n    cache`,
      command: `ip route get ${CAPTURE.webClusterIP}`,
    });
    expect(x!.message).toContain(
      `[virtual-ip-host] from the host to ${CAPTURE.webClusterIP}: expected no route into the cluster network (eth0), saw ${CAPTURE.webClusterIP} via`,
    );
  });

  it('passes when the address routes through another device, or not at all', () => {
    expect(verifyHostNoRoute('virtual-ip-host', CAPTURE.unheldIP, captured('ip-route-get-local-pod-cidr-node-view').stdout, toNode)).toBeUndefined();
    expect(verifyHostNoRoute('virtual-ip-host', CAPTURE.webClusterIP, 'RTNETLINK answers: Network is unreachable\n', toNode)).toBeUndefined();
  });
});
