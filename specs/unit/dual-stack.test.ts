// Services, EndpointSlices, Endpoints, DNS and MTU per IP family, judged on output captured from the
// dual-stack kind cluster knc-dual (kind ipFamily dual, flannel host-gw): its Services of each
// ipFamilyPolicy (web-singlestack = SingleStack IPv6, web-preferdualstack IPv4-first,
// web-requiredualstack IPv6-first), their EndpointSlices and Endpoints, the nginx pods' podIPs,
// AAAA digs, a probe pod's address and link lists and an IPv6 DF ping between two nodes.
import { describe, it, expect } from '@jest/globals';
import type { V1EndpointSlice, V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { readyAddressesOf, verifyFamilySlices, verifyPrimaryEndpoints, verifyServiceFamilies } from '../../src/verdicts/dual-stack.js';
import { verifyDfPing, verifyPodMtu } from '../../src/verdicts/mtu.js';
import type { CheckFailure } from '../../src/verdicts/failure.js';
import { dfPingProbe, parseDfPing, parseIfaceMtu } from '../../src/probes/mtu.js';
import { dnsHoldVerdict } from '../../src/verdicts/dns-hold.js';
import { digProbe, parseDig, records, type DnsHoldBlock } from '../../src/probes/dns.js';
import { samplesProbe } from '../../src/probes/window.js';
import { asProbeOutput, fixtureText } from './fixture-files.js';

const items = <T>(f: string) => (JSON.parse(fixtureText(f)) as { items: T[] }).items;
const pods = items<V1Pod>('dual-stack-pods.json');
const services = items<V1Service>('dual-stack-services.json');
const slices = items<V1EndpointSlice>('dual-stack-endpointslices.json');
const endpoints = items<V1Endpoints>('dual-stack-endpoints.json');
const svc = (n: string) => services.find((s) => s.metadata!.name === n)!;
const ep = (n: string) => endpoints.find((s) => s.metadata!.name === n);
const ranges = { IPv4: ['10.96.0.0/16'], IPv6: ['fd00:10:96::/112'] };
const C = 'service.prefer-dual-stack';

describe('Services per family (captured knc-dual Services)', () => {
  it('each ipFamilyPolicy as the API gave it passes with its families in order', () => {
    expect(verifyServiceFamilies(C, svc('web-preferdualstack'), { families: ['IPv4', 'IPv6'], ranges })).toEqual([]);
    expect(verifyServiceFamilies(C, svc('web-requiredualstack'), { families: ['IPv6', 'IPv4'], ranges })).toEqual([]);
    expect(verifyServiceFamilies(C, svc('web-singlestack'), { families: ['IPv6'], ranges })).toEqual([]);
    expect(verifyServiceFamilies(C, svc('my-nginx-headless'), { families: ['IPv4'], ranges, headless: true })).toEqual([]);
  });

  it('a single-stack Service judged as dual-stack fails on its ipFamilies and ClusterIPs, naming the family', () => {
    const fs = verifyServiceFamilies(C, svc('web-singlestack'), { families: ['IPv4', 'IPv6'], ranges });
    expect(fs.map((f) => f.ctx.expected)).toEqual(['spec.ipFamilies IPv4,IPv6', 'one ClusterIP per family, in the order IPv4,IPv6']);
    expect(fs[1].ctx.seen).toBe('fd00:10:96::2ced (IPv6)');
  });

  it('the wrong order (IPv6 first expected of an IPv4-first Service) fails', () => {
    const fs = verifyServiceFamilies(C, svc('web-preferdualstack'), { families: ['IPv6', 'IPv4'], ranges });
    expect(fs[0].ctx.seen).toBe('IPv4,IPv6');
  });

  it('a ClusterIP outside its family range fails naming the family and range', () => {
    const fs = verifyServiceFamilies(C, svc('web-preferdualstack'), { families: ['IPv4', 'IPv6'], ranges: { ...ranges, IPv6: ['fd00:10:97::/112'] } });
    expect(fs.map((f) => [f.ctx.expected, f.ctx.seen])).toEqual([['its IPv6 ClusterIP inside the service range fd00:10:97::/112', 'fd00:10:96::291c']]);
  });
});

describe('EndpointSlices and Endpoints per family', () => {
  it("the Ready pods' addresses per family come from status.podIPs", () => {
    expect(readyAddressesOf(pods, 'IPv6').sort()).toEqual(['fd00:10:244:1::8', 'fd00:10:244:1::9']);
    expect(readyAddressesOf(pods, 'IPv4').sort()).toEqual(['10.244.1.8', '10.244.1.9']);
  });

  it('dual-stack Services have one slice per family listing that family; single-stack IPv6 only IPv6', () => {
    expect(verifyFamilySlices(C, 'web-preferdualstack', slices, pods, ['IPv4', 'IPv6'])).toEqual([]);
    expect(verifyFamilySlices(C, 'web-requiredualstack', slices, pods, ['IPv6', 'IPv4'])).toEqual([]);
    expect(verifyFamilySlices(C, 'web-singlestack', slices, pods, ['IPv6'])).toEqual([]);
  });

  it('a missing IPv6 slice fails naming IPv6; an extra family fails too', () => {
    const noV6 = slices.filter((s) => !(s.metadata!.name!.startsWith('web-preferdualstack') && s.addressType === 'IPv6'));
    const fs = verifyFamilySlices(C, 'web-preferdualstack', noV6, pods, ['IPv4', 'IPv6']);
    expect(fs).toHaveLength(1);
    expect(fs[0].ctx.expected).toMatch(/^an EndpointSlice of addressType IPv6 listing \{fd00:10:244:1::8, fd00:10:244:1::9\}$/);
    expect(fs[0].ctx.seen).toBe('none (slices: IPv4)');
    const extra = verifyFamilySlices(C, 'web-preferdualstack', slices, pods, ['IPv4']);
    expect(extra[0].ctx.seen).toBe('addressType IPv4, IPv6');
  });

  it('a slice listing a pod of the other family, or a pod not Ready, fails', () => {
    const notReady = pods.map((p, i) => (i ? p : { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } }));
    const fs = verifyFamilySlices(C, 'web-singlestack', slices, notReady as V1Pod[], ['IPv6']);
    expect(fs[0].ctx.expected).toMatch(/^addressType IPv6: the Ready pods' IPv6 addresses \{fd00:10:244:1::/);
  });

  it("Endpoints carry the Service's primary family only (IPv6 for the IPv6-first RequireDualStack)", () => {
    expect(verifyPrimaryEndpoints(C, 'web-requiredualstack', ep('web-requiredualstack'), pods, 'IPv6')).toEqual([]);
    expect(verifyPrimaryEndpoints(C, 'web-preferdualstack', ep('web-preferdualstack'), pods, 'IPv4')).toEqual([]);
    const fs = verifyPrimaryEndpoints(C, 'web-requiredualstack', ep('web-requiredualstack'), pods, 'IPv4');
    expect(fs[0].ctx.seen).toBe('{fd00:10:244:1::8, fd00:10:244:1::9}');
    expect(verifyPrimaryEndpoints(C, 'gone', undefined, pods, 'IPv4')[0].ctx.seen).toBe('no Endpoints object');
  });
});

describe('DNS per family (captured digs)', () => {
  const block = (file: string): DnsHoldBlock => ({ step: 'hold', server: '10.96.0.10', n: 1, dig: parseDig(fixtureText(file)) });
  it('AAAA of a PreferDualStack Service is its IPv6 ClusterIP; the same answer judged against another address fails', () => {
    const b = block('dig-aaaa-preferdualstack.txt');
    expect(records(b.dig, 'AAAA')).toEqual(['fd00:10:96::291c']);
    const want = { type: 'AAAA' as const, n: 1, exact: ['fd00:10:96::291c'], what: 'AAAA fd00:10:96::291c' };
    const ok = dnsHoldVerdict('dns.aaaa', 'probe', 'web-preferdualstack', [b], [], ['10.96.0.10'], 1, want);
    // no DNS pods asked in this capture: only the Service's answer is judged
    expect(ok.failures.map((f) => f.ctx.expected)).toEqual(['the cluster DNS server pods to ask (Ready pods the DNS Service selects)']);
    const bad = dnsHoldVerdict('dns.aaaa', 'probe', 'web-preferdualstack', [b], [], ['10.96.0.10'], 1, { ...want, exact: ['fd00:10:96::1'] });
    expect(bad.failures[1].ctx.seen).toMatch(/^0 of 1 right; wrong: @10\.96\.0\.10 round 1: NOERROR with 1 AAAA \[fd00:10:96::291c\]/);
  });

  it('the single-stack IPv4 headless Service has no AAAA record (NOERROR, none): right for "no AAAA", wrong for one', () => {
    const b = block('dig-aaaa-headless-dual.txt');
    const none = dnsHoldVerdict('dns.aaaa', 'probe', 'my-nginx-headless', [b], ['10.96.0.10'], [], 1, { type: 'AAAA', n: 0, what: 'no AAAA record' });
    expect(none.failures.filter((f) => /hold/.test(f.ctx.expected))).toEqual([]);
    const one = dnsHoldVerdict('dns.aaaa', 'probe', 'my-nginx-headless', [b], [], ['10.96.0.10'], 1, {
      type: 'AAAA',
      n: 1,
      exact: ['fd00::1'],
      what: 'AAAA fd00::1',
    });
    expect(one.failures.some((f) => /NOERROR with 0 AAAA/.test(f.ctx.seen))).toBe(true);
  });

  it('dig asks AAAA and PTR (-x: ip6.arpa for an IPv6 address)', () => {
    expect(digProbe('a', 'x.ns', { type: 'AAAA', search: true }).argv.slice(-3)).toEqual(['+search', 'x.ns', 'AAAA']);
    expect(digProbe('p', 'fd00:10:96::291c', { type: 'PTR' }).argv.slice(-2)).toEqual(['-x', 'fd00:10:96::291c']);
  });
});

describe('MTU in IPv6 (captured from a knc-dual probe pod)', () => {
  it("the interface holding the pod's IPv6 address and its MTU (>= 1280)", () => {
    const addr = asProbeOutput('ip-addr-all-dual');
    const link = asProbeOutput('ip-link-probe-dual');
    expect(parseIfaceMtu(addr.output, link.output, 'fd00:10:244:2::c')).toEqual({ dev: 'eth0', mtu: 1500 });
    expect(parseIfaceMtu(addr.output, link.output, 'FD00:10:244:2:0::C')).toEqual({ dev: 'eth0', mtu: 1500 });
    expect(parseIfaceMtu(addr.output, link.output, '10.244.2.12')).toEqual({ dev: 'eth0', mtu: 1500 });
    expect(verifyPodMtu('mtu.ipv6', 'probe', 'fd00:10:244:2::c', addr, link)).toEqual({ dev: 'eth0', mtu: 1500 });
    // a 1279-byte link would be below the IPv6 minimum
    const small = { ...link, output: link.output.replace('mtu 1500', 'mtu 1279') };
    const f = verifyPodMtu('mtu.ipv6', 'probe', 'fd00:10:244:2::c', addr, small);
    expect(f).toMatchObject({ ctx: { expected: 'an interface holding the pod IP, with an MTU of at least 1280 (the IPv6 minimum)', seen: 'eth0 mtu 1279' } });
    // the same MTU is fine for IPv4 (minimum 576)
    expect(verifyPodMtu('mtu.pod-interface', 'probe', '10.244.2.12', addr, small)).toEqual({ dev: 'eth0', mtu: 1279 });
  });

  it("a pod-interface failure names every address the list holds (both families), never a raw list cut before the pod's own", () => {
    const addr = asProbeOutput('ip-addr-all-dual');
    const link = asProbeOutput('ip-link-probe-dual');
    const f = verifyPodMtu('mtu.pod-interface', 'probe', '10.244.9.9', addr, link) as CheckFailure;
    const seen = String(f.ctx.seen);
    expect(seen).toMatch(/^no interface holds it \(ip addr exit 0: holds lo 127\.0\.0\.1, .*eth0 10\.244\.2\.12.*; ip link exit 0\)$/);
    expect(seen).toContain('eth0 fd00:10:244:2::c');
    // the control's pattern (mtu.pod-interface.negative) finds the pod's own IPv4 and IPv6 address in it, and not a longer one
    expect(seen).toMatch(/\b10\.244\.2\.12\b/);
    expect(seen).not.toMatch(/\b10\.244\.2\.1\b/);
  });

  it('the IPv6 DF ping: ping -6, 48 bytes of headers, 1500 answered, 1501 refused by the sender', () => {
    const o = asProbeOutput('df-ping-ipv6-dual');
    const p = parseDfPing(o.output);
    expect(p).toMatchObject({
      dev: 'eth0',
      mtu: 1500,
      family: 'IPv6',
      df: 'do',
      fit: { exit: 0, received: true, frags: 0 },
      over: { received: false, tooLong: true },
    });
    expect(verifyDfPing('mtu.ipv6', 'probe', 'pod (IPv6)', o, 1500)).toBeUndefined();
    const probe = dfPingProbe('d', 'fd00:10:244:2::c', 'fd00:10:244:1::8').argv[2];
    expect(probe).toContain('ping -6 -n -c 1 -W 2 $df -s $((mtu-48)) fd00:10:244:1::8');
    expect(probe).toContain('/proc/net/snmp6');
    expect(dfPingProbe('d', '10.244.2.12', '10.244.1.8').argv[2]).toContain('ping -n -c 1 -W 2 $df -s $((mtu-28)) 10.244.1.8');
  });

  it('the IPv6 DF ping whose full-size packet got no answer fails, saying so', () => {
    const o = asProbeOutput('df-ping-ipv6-dual');
    const lost = {
      ...o,
      output: o.output.replace('1 packets transmitted, 1 received', '1 packets transmitted, 0 received').replace('KNC fit-exit=0', 'KNC fit-exit=1'),
    };
    expect(verifyDfPing('mtu.ipv6', 'probe', 'pod (IPv6)', lost, 1500)?.ctx).toMatchObject({
      expected: 'a reply to a 1500-byte packet with DF set (ping -6 -M do -s 1452)',
    });
  });
});

describe('hold windows over IPv6', () => {
  it('an IPv6 ClusterIP goes in brackets in the URL', () => {
    const s = samplesProbe('w', { host: 'fd00:10:96::291c', port: 80, requests: 2 }).argv[2];
    expect(s).toContain('case "$host" in *:*) url="http://[$host]:$port$path"');
  });
});
