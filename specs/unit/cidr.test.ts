// IPv4 CIDR arithmetic, on the kind cluster's real ranges and addresses (see fixtures/README.md).
import { describe, it, expect } from '@jest/globals';
import { inCidr, intToIp, ipToInt, isIPv4, parseCidr, unusedAddress } from '../../src/util/cidr.js';
import { parseGetent } from '../../src/probes/dns.js';
import { CAPTURE, captured } from './fixture-files.js';

describe('ipToInt / intToIp', () => {
  it('round-trips and orders addresses', () => {
    expect(ipToInt('0.0.0.0')).toBe(0);
    expect(ipToInt('255.255.255.255')).toBe(2 ** 32 - 1);
    expect(ipToInt('10.96.0.10')).toBe(10 * 2 ** 24 + 96 * 2 ** 16 + 10);
    for (const ip of [CAPTURE.dnsIP, CAPTURE.webClusterIP, CAPTURE.webPodIP, CAPTURE.nodeIP, '255.255.255.255', '0.0.0.0']) {
      expect(intToIp(ipToInt(ip))).toBe(ip);
    }
    expect(ipToInt('10.244.2.250')).toBeGreaterThan(ipToInt('10.244.2.21'));
  });

  it('rejects what is not a dotted quad', () => {
    for (const bad of ['', '10.244.1', '10.244.1.256', '10.244.1.1.1', 'a.b.c.d', '10.244.1.-1', ' 10.244.1.1', '10.244.1.1/24', 'fe80::1']) {
      expect(() => ipToInt(bad)).toThrow(/not an IPv4 address/);
      expect(isIPv4(bad)).toBe(false);
    }
  });
});

describe('parseCidr / inCidr', () => {
  it('normalises the base to the network address', () => {
    expect(parseCidr('10.244.0.0/16')).toEqual({ base: ipToInt('10.244.0.0'), bits: 16, text: '10.244.0.0/16' });
    expect(parseCidr('10.244.2.21/24').base).toBe(ipToInt('10.244.2.0'));
    expect(parseCidr('0.0.0.0/0')).toEqual({ base: 0, bits: 0, text: '0.0.0.0/0' });
    expect(parseCidr('10.96.0.10/32').base).toBe(ipToInt('10.96.0.10'));
  });

  it('places the cluster\'s real addresses in the right ranges', () => {
    for (const ip of [CAPTURE.webPodIP, CAPTURE.whoamiPodIP, CAPTURE.probePodIP, CAPTURE.nodeCni0IP, CAPTURE.unheldIP]) {
      expect(inCidr(ip, CAPTURE.podCidr)).toBe(true);
      expect(inCidr(ip, CAPTURE.serviceCidr)).toBe(false);
    }
    for (const ip of [CAPTURE.dnsIP, CAPTURE.webClusterIP]) {
      expect(inCidr(ip, CAPTURE.serviceCidr)).toBe(true);
      expect(inCidr(ip, CAPTURE.podCidr)).toBe(false);
    }
    expect(inCidr(CAPTURE.nodeIP, CAPTURE.podCidr)).toBe(false);
    // per-node pod CIDRs: worker 10.244.2.0/24, worker2 10.244.1.0/24
    expect(inCidr(CAPTURE.whoamiPodIP, '10.244.2.0/24')).toBe(true);
    expect(inCidr(CAPTURE.webPodIP, '10.244.2.0/24')).toBe(false);
    expect(inCidr(CAPTURE.webPodIP, parseCidr('10.244.1.0/24'))).toBe(true);
  });

  it('bounds are inclusive of the network and broadcast addresses, exclusive beyond', () => {
    expect(inCidr('10.244.2.0', '10.244.2.0/24')).toBe(true);
    expect(inCidr('10.244.2.255', '10.244.2.0/24')).toBe(true);
    expect(inCidr('10.244.3.0', '10.244.2.0/24')).toBe(false);
    expect(inCidr('10.244.1.255', '10.244.2.0/24')).toBe(false);
    expect(inCidr('255.255.255.255', '0.0.0.0/0')).toBe(true);
  });

  it('addresses parsed from real getent output are IPv4 and in the service range', () => {
    const c = captured('getent-web');
    for (const a of parseGetent(c.stdout, c.exitCode).addresses) {
      expect(isIPv4(a)).toBe(true);
      expect(inCidr(a, CAPTURE.serviceCidr)).toBe(true);
    }
  });

  it('rejects invalid prefix lengths and addresses', () => {
    for (const bad of ['10.244.0.0', '10.244.0.0/33', '10.244.0.0/-1', '10.244.0.0/16.5', '10.244.0.0/x', '10.244.0/16']) {
      expect(() => parseCidr(bad)).toThrow();
    }
  });

  // BUG (src/util/cidr.ts parseCidr): the prefix length is read with Number(), so an empty one
  // ("10.244.0.0/") becomes Number('') === 0 and the text parses as /0 — every IPv4 address is
  // then "inside" it. `.failing` keeps the suite green while the bug exists.
  it('rejects an empty prefix length ("10.244.0.0/")', () => {
    expect(() => parseCidr('10.244.0.0/')).toThrow(/not an IPv4 CIDR/);
  });
});

describe('unusedAddress', () => {
  it('picks the highest usable address of a node pod CIDR that no pod holds', () => {
    expect(unusedAddress('10.244.2.0/24', [CAPTURE.whoamiPodIP, '10.244.2.14'])).toBe('10.244.2.254');
    expect(unusedAddress('10.244.2.0/24', ['10.244.2.254', '10.244.2.253'])).toBe('10.244.2.252');
    expect(inCidr(unusedAddress('10.244.1.0/24', [CAPTURE.webPodIP]), '10.244.1.0/24')).toBe(true);
  });

  it('never returns the network or broadcast address, and throws when the range is full', () => {
    expect(unusedAddress('10.0.0.0/30', [])).toBe('10.0.0.2');
    expect(unusedAddress('10.0.0.0/30', ['10.0.0.2'])).toBe('10.0.0.1');
    expect(() => unusedAddress('10.0.0.0/30', ['10.0.0.2', '10.0.0.1'])).toThrow(/no unused address left in 10\.0\.0\.0\/30/);
    expect(() => unusedAddress('10.0.0.0/31', [])).toThrow(/no unused address left/);
  });
});
