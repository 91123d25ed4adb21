// Address and CIDR arithmetic in both families, on the kind cluster's real ranges and addresses (see fixtures/README.md)
// and kind's IPv6/dual-stack defaults (pod fd00:10:244::/56, service fd00:10:96::/112, node network fc00:f853:ccd:e793::/64).
import { describe, it, expect } from '@jest/globals';
import {
  addressInCidr,
  addressOfFamily,
  byFamily,
  canonicalIp,
  cidrFamily,
  familiesOf,
  hostPort,
  inCidr,
  intToIp,
  ipFamily,
  ipToInt,
  isIPv4,
  isIPv6,
  parseCidr,
  parseIp,
  sameIp,
  unusedAddress,
} from '../../src/util/cidr.js';
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
    expect(parseCidr('10.244.0.0/16')).toEqual({ family: 'IPv4', base: BigInt(ipToInt('10.244.0.0')), bits: 16, text: '10.244.0.0/16' });
    expect(parseCidr('10.244.2.21/24').base).toBe(BigInt(ipToInt('10.244.2.0')));
    expect(parseCidr('0.0.0.0/0')).toEqual({ family: 'IPv4', base: 0n, bits: 0, text: '0.0.0.0/0' });
    expect(parseCidr('10.96.0.10/32').base).toBe(BigInt(ipToInt('10.96.0.10')));
  });

  it("places the cluster's real addresses in the right ranges", () => {
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

  // An empty prefix length must not read as /0 (Number('') === 0: every address would be inside).
  it('rejects an empty prefix length ("10.244.0.0/")', () => {
    expect(() => parseCidr('10.244.0.0/')).toThrow(/not an IPv4 CIDR/);
    expect(() => parseCidr('fd00:10:244::/')).toThrow(/not an IPv6 CIDR/);
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

// kind's defaults for ipFamily ipv6 / dual (kind's config docs), the node network docker gives kind,
// and addresses in every spelling an operator meets (kubectl, iproute2, nginx's $remote_addr).
const V6 = {
  podCidr: 'fd00:10:244::/56',
  serviceCidr: 'fd00:10:96::/112',
  nodeCidr: 'fc00:f853:ccd:e793::/64',
  dnsIP: 'fd00:10:96::a',
  podIP: 'fd00:10:244:1::5',
  nodeIP: 'fc00:f853:ccd:e793::2',
  nodePodCidr: 'fd00:10:244:1::/64',
} as const;

describe('parseIp / canonicalIp / ipFamily (IPv6 forms)', () => {
  it('reads full, compressed and mixed-case spellings as one value', () => {
    const one = parseIp('fd00:10:244:1::5');
    expect(one.family).toBe('IPv6');
    for (const s of ['fd00:0010:0244:0001:0000:0000:0000:0005', 'FD00:10:244:1:0:0:0:5', 'fd00:10:244:1::0:5', 'fd00:10:244:1:0::5']) {
      expect(parseIp(s)).toEqual(one);
      expect(canonicalIp(s)).toBe('fd00:10:244:1::5');
      expect(sameIp(s, V6.podIP)).toBe(true);
    }
    expect(parseIp('::').value).toBe(0n);
    expect(parseIp('::1').value).toBe(1n);
    expect(parseIp('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff').value).toBe((1n << 128n) - 1n);
    expect(parseIp('1::').value).toBe(1n << 112n);
  });

  it('prints RFC 5952: longest zero run compressed (first of equals), one zero word not, lower case', () => {
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalIp('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
    expect(canonicalIp('0:0:0:0:0:0:0:0')).toBe('::');
    expect(canonicalIp('fe80:0:0:0:42:ACFF:FE12:2')).toBe('fe80::42:acff:fe12:2');
    expect(canonicalIp('fd00:10:96:0:0:0:0:a')).toBe(V6.dnsIP);
  });

  it('an IPv4-mapped address (::ffff:a.b.c.d, how a dual-stack socket shows an IPv4 peer) is that IPv4 address', () => {
    for (const s of ['::ffff:10.244.1.23', '::FFFF:10.244.1.23', '0:0:0:0:0:ffff:10.244.1.23', '::ffff:af4:117']) {
      expect(ipFamily(s)).toBe('IPv4');
      expect(canonicalIp(s)).toBe(CAPTURE.webPodIP);
      expect(sameIp(s, CAPTURE.webPodIP)).toBe(true);
      expect(isIPv4(s)).toBe(true);
      expect(isIPv6(s)).toBe(false);
      expect(inCidr(s, CAPTURE.podCidr)).toBe(true);
      expect(inCidr(s, '::ffff:0:0/96')).toBe(true);
      expect(inCidr(s, V6.podCidr)).toBe(false);
    }
    // other embedded quads stay IPv6 (NAT64 well-known prefix)
    expect(ipFamily('64:ff9b::10.244.1.23')).toBe('IPv6');
    expect(canonicalIp('64:ff9b::10.244.1.23')).toBe('64:ff9b::af4:117');
    expect(ipFamily('::10.0.0.1')).toBe('IPv6');
  });

  it('refuses zones, bad groups and what is no address, naming the input', () => {
    expect(() => parseIp('fe80::1%eth0')).toThrow(/zone index not allowed\): "fe80::1%eth0"/);
    for (const bad of [
      '',
      ':',
      ':::',
      '1::2::3',
      'fd00:10:244:1::5/64',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::1',
      'g::1',
      ':1::',
      '1::2:',
      '::ffff:10.244.1.256',
      '::ffff:10.244.1',
      '1:2:3:4:5:6:7:1.2.3.4',
      '[::1]',
      ' ::1',
      'localhost',
    ]) {
      expect(() => parseIp(bad)).toThrow(/not an IP address/);
      expect(isIPv6(bad)).toBe(false);
      expect(isIPv4(bad)).toBe(false);
      expect(sameIp(bad, bad)).toBe(false);
    }
    expect(() => ipToInt('fd00::1')).toThrow(/not an IPv4 address/);
  });
});

describe('parseCidr / inCidr (IPv6 and dual-stack)', () => {
  it('normalises an IPv6 range to its network address and reads its family', () => {
    expect(parseCidr(V6.podCidr)).toEqual({ family: 'IPv6', base: parseIp('fd00:10:244::').value, bits: 56, text: V6.podCidr });
    expect(parseCidr('fd00:10:244:1::5/64').base).toBe(parseIp('fd00:10:244:1::').value);
    expect(parseCidr('::/0')).toEqual({ family: 'IPv6', base: 0n, bits: 0, text: '::/0' });
    expect(cidrFamily(V6.serviceCidr)).toBe('IPv6');
    expect(cidrFamily(CAPTURE.serviceCidr)).toBe('IPv4');
    for (const bad of ['fd00::/129', 'fd00::/-1', 'fd00::', 'fd00::/x', 'fd00::1%eth0/64', 'fd00:::/64', '/64'])
      expect(() => parseCidr(bad)).toThrow(/not an? (IPv6 )?CIDR/);
  });

  it("places kind's IPv6 addresses in the right ranges, bounds inclusive", () => {
    expect(inCidr(V6.podIP, V6.podCidr)).toBe(true);
    expect(inCidr(V6.podIP, V6.nodePodCidr)).toBe(true);
    expect(inCidr(V6.podIP, 'fd00:10:244:2::/64')).toBe(false);
    expect(inCidr(V6.dnsIP, V6.serviceCidr)).toBe(true);
    expect(inCidr(V6.dnsIP, V6.podCidr)).toBe(false);
    expect(inCidr(V6.nodeIP, V6.nodeCidr)).toBe(true);
    expect(inCidr(V6.nodeIP, V6.podCidr)).toBe(false);
    expect(inCidr('fd00:10:244:ff:ffff:ffff:ffff:ffff', V6.podCidr)).toBe(true);
    expect(inCidr('fd00:10:244:100::', V6.podCidr)).toBe(false);
    expect(inCidr('fd00:10:96::ffff', V6.serviceCidr)).toBe(true);
    expect(inCidr('fd00:10:96::1:0', V6.serviceCidr)).toBe(false);
    expect(inCidr('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '::/0')).toBe(true);
  });

  it('a range of one family never holds an address of the other, and never throws on one (dual-stack, IPv6 listed first)', () => {
    const dual = [V6.podCidr, CAPTURE.podCidr];
    expect(dual.some((c) => inCidr(CAPTURE.webPodIP, c))).toBe(true);
    expect(dual.some((c) => inCidr(V6.podIP, c))).toBe(true);
    expect(dual.some((c) => inCidr(V6.dnsIP, c))).toBe(false);
    expect(inCidr(CAPTURE.webPodIP, V6.podCidr)).toBe(false);
    expect(inCidr(V6.podIP, '0.0.0.0/0')).toBe(false);
    expect(inCidr('0.0.0.0', '::/0')).toBe(false);
  });
});

describe('addressInCidr / unusedAddress / family helpers', () => {
  it("an address well inside a range, in both families (the safety net's `ip route get` target)", () => {
    expect(addressInCidr(CAPTURE.podCidr, 7)).toBe('10.244.0.7');
    expect(addressInCidr(V6.podCidr, 7)).toBe('fd00:10:244::7');
    expect(addressInCidr(V6.serviceCidr, 10)).toBe(V6.dnsIP);
    expect(() => addressInCidr('10.0.0.0/30', 4)).toThrow(/outside 10\.0\.0\.0\/30/);
  });

  it("picks the highest usable IPv6 address of a node's pod range that no pod holds, any spelling of a taken one", () => {
    expect(unusedAddress(V6.nodePodCidr, [V6.podIP])).toBe('fd00:10:244:1:ffff:ffff:ffff:fffe');
    expect(unusedAddress(V6.nodePodCidr, ['FD00:10:244:1:FFFF:FFFF:FFFF:FFFE'])).toBe('fd00:10:244:1:ffff:ffff:ffff:fffd');
    expect(unusedAddress('fd00::/126', [])).toBe('fd00::2');
    expect(() => unusedAddress('fd00::/127', [])).toThrow(/no unused address left/);
  });

  it("splits addresses and ranges by family; a pod's address of a family from status.podIPs", () => {
    const podIPs = [{ ip: V6.podIP }, { ip: CAPTURE.webPodIP }];
    expect(byFamily(podIPs, (p) => p.ip)).toEqual({ IPv4: [{ ip: CAPTURE.webPodIP }], IPv6: [{ ip: V6.podIP }] });
    expect(byFamily([{ ip: '' }, { ip: 'none' }], (p) => p.ip)).toEqual({ IPv4: [], IPv6: [] });
    expect(familiesOf([V6.podCidr, CAPTURE.podCidr])).toEqual(['IPv4', 'IPv6']);
    expect(familiesOf([V6.serviceCidr])).toEqual(['IPv6']);
    expect(familiesOf([CAPTURE.dnsIP, 'junk'])).toEqual(['IPv4']);
    expect(familiesOf([])).toEqual([]);
    expect(
      addressOfFamily(
        podIPs.map((p) => p.ip),
        'IPv4',
      ),
    ).toBe(CAPTURE.webPodIP);
    expect(
      addressOfFamily(
        podIPs.map((p) => p.ip),
        'IPv6',
      ),
    ).toBe(V6.podIP);
    expect(addressOfFamily([CAPTURE.webPodIP], 'IPv6')).toBeUndefined();
  });

  it('host:port brackets IPv6 addresses only', () => {
    expect(hostPort(V6.podIP, 80)).toBe('[fd00:10:244:1::5]:80');
    expect(hostPort(CAPTURE.webPodIP, 80)).toBe('10.244.1.23:80');
  });
});
