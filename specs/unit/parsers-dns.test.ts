// DNS parsers against real outputs captured in the kind cluster (specs/unit/fixtures/).
import { describe, it, expect } from '@jest/globals';
import { aRecords, digProbe, getentProbe, nslookupProbe, parseDig, parseGetent, parseNslookup, parseResolvConf } from '../../src/probes/dns.js';
import { CAPTURE, captured, fixtureText } from './fixture-files.js';

const { dnsIP, webClusterIP, webPodIP, whoamiPodIP } = CAPTURE;
const fqdn = (svc: string, ns = CAPTURE.namespace) => `${svc}.${ns}.svc.cluster.local`;

describe('digProbe', () => {
  it('builds exactly the argv that was captured (search, UDP and TCP)', () => {
    expect(digProbe('x', 'web', { search: true, transport: 'udp' }).argv).toEqual(captured('dig-web-search-udp').argv);
    expect(digProbe('x', 'web', { search: true, transport: 'tcp' }).argv).toEqual(captured('dig-web-search-tcp').argv);
    expect(digProbe('x', 'no-such-svc.knc-fixtures', { search: true }).argv).toEqual(captured('dig-nxdomain-search').argv);
  });

  it('puts the server before -x for PTR and the type after the name otherwise', () => {
    expect(digProbe('p', dnsIP, { type: 'PTR', server: dnsIP }).argv).toEqual(captured('dig-ptr-kube-dns').argv);
    expect(digProbe('s', `_http._tcp.${fqdn('web-headless')}`, { type: 'SRV', server: dnsIP }).argv).toEqual(captured('dig-srv-headless').argv);
    expect(digProbe('h', fqdn('web-headless'), { server: dnsIP }).argv).toEqual(captured('dig-headless-a').argv);
    expect(digProbe('t', fqdn('web'), { server: CAPTURE.unheldIP, timeoutS: 1 }).argv).toEqual(captured('dig-timeout-unused-pod-ip').argv);
  });
});

describe('parseDig (DiG 9.20.30, real CoreDNS answers)', () => {
  it('NOERROR over UDP via the search path: the ClusterIP, answered by kube-dns over UDP', () => {
    const c = captured('dig-web-search-udp');
    expect(c.exitCode).toBe(0);
    const r = parseDig(c.stdout);
    expect(r).toEqual({
      status: 'NOERROR',
      answers: [{ name: `${fqdn('web')}.`, ttl: 30, type: 'A', data: webClusterIP }],
      server: dnsIP,
      transport: 'UDP',
    });
    expect(aRecords(r)).toEqual([webClusterIP]);
  });

  it('NOERROR over TCP: same answer, transport TCP', () => {
    const r = parseDig(captured('dig-web-search-tcp').stdout);
    expect(r.status).toBe('NOERROR');
    expect(aRecords(r)).toEqual([webClusterIP]);
    expect(r.server).toBe(dnsIP);
    expect(r.transport).toBe('TCP');
  });

  it('NXDOMAIN: no answers, still a server and a transport (dig exits 0)', () => {
    const c = captured('dig-nxdomain-search');
    expect(c.exitCode).toBe(0);
    expect(parseDig(c.stdout)).toEqual({ status: 'NXDOMAIN', answers: [], server: dnsIP, transport: 'UDP' });
  });

  it('the bare name of a Service in another namespace is NXDOMAIN through the search path', () => {
    const r = parseDig(captured('dig-kube-dns-bare-search').stdout);
    expect(r.status).toBe('NXDOMAIN');
    expect(aRecords(r)).toEqual([]);
    expect(r.server).toBe(dnsIP);
  });

  it('PTR of the web ClusterIP (plain `dig -x IP @dns`, cookie line present) gives the Service FQDN', () => {
    const r = parseDig(captured('dig-ptr-web').stdout);
    expect(r.status).toBe('NOERROR');
    expect(r.answers).toEqual([{ name: '233.50.96.10.in-addr.arpa.', ttl: 30, type: 'PTR', data: `${fqdn('web')}.` }]);
    expect(aRecords(r)).toEqual([]);
    expect(r.server).toBe(dnsIP);
  });

  it('PTR of the kube-dns ClusterIP', () => {
    const r = parseDig(captured('dig-ptr-kube-dns').stdout);
    expect(r.answers.map((a) => [a.type, a.data])).toEqual([['PTR', 'kube-dns.kube-system.svc.cluster.local.']]);
  });

  it('SRV of a named port on a headless Service: one record per pod, ADDITIONAL section ignored', () => {
    const r = parseDig(captured('dig-srv-headless').stdout);
    expect(r.status).toBe('NOERROR');
    expect(r.answers).toEqual([{ name: `_http._tcp.${fqdn('web-headless')}.`, ttl: 30, type: 'SRV', data: `0 100 80 10-244-1-23.${fqdn('web-headless')}.` }]);
    // the A record of the ADDITIONAL section is not an answer
    expect(aRecords(r)).toEqual([]);

    const two = parseDig(captured('dig-srv-headless-two-pods').stdout);
    expect(two.answers.map((a) => a.data)).toEqual([`0 50 80 10-244-2-21.${fqdn('nginx-all')}.`, `0 50 80 10-244-1-23.${fqdn('nginx-all')}.`]);
  });

  it('SRV of a named port on a ClusterIP Service points at the Service name', () => {
    const r = parseDig(captured('dig-srv-clusterip').stdout);
    expect(r.answers).toEqual([{ name: `_http._tcp.${fqdn('web')}.`, ttl: 30, type: 'SRV', data: `0 100 80 ${fqdn('web')}.` }]);
    expect(aRecords(r)).toEqual([]);
  });

  it('headless A: one record per ready pod', () => {
    expect(aRecords(parseDig(captured('dig-headless-a').stdout))).toEqual([webPodIP]);
    expect(aRecords(parseDig(captured('dig-headless-two-pods').stdout)).sort()).toEqual([webPodIP, whoamiPodIP].sort());
  });

  it('UDP to an address nobody holds: TIMEOUT (dig exit 9), no server', () => {
    const c = captured('dig-timeout-unused-pod-ip');
    expect(c.exitCode).toBe(9);
    expect(parseDig(c.stdout)).toEqual({ status: 'TIMEOUT', answers: [] });
  });

  it('UDP to a pod without a DNS server (ICMP refused): REFUSED-CONNECTION, no server', () => {
    const c = captured('dig-refused-udp-pod-without-dns');
    expect(c.exitCode).toBe(9);
    expect(c.stdout).toContain('communications error to 10.244.1.23#53: connection refused');
    expect(parseDig(c.stdout)).toEqual({ status: 'REFUSED-CONNECTION', answers: [] });
  });

  // Fixed bug: dig 9.20 reports a failed TCP query as
  //   ";; Connection to 10.244.2.250#53(10.244.2.250) for web.knc-fixtures.svc.cluster.local failed: timed out."
  //   ";; no servers could be reached"
  // which matches neither "connection timed out; no servers could be reached" (dig <= 9.16 wording,
  // one line) nor "communications error"; it used to come out as UNPARSED.
  it('TCP to an address nobody holds: TIMEOUT', () => {
    const c = captured('dig-timeout-tcp-unused-pod-ip');
    expect(c.exitCode).toBe(9);
    expect(parseDig(c.stdout).status).toBe('TIMEOUT');
  });

  it('TCP to a pod without a DNS server: REFUSED-CONNECTION', () => {
    expect(parseDig(captured('dig-refused-tcp-pod-without-dns').stdout).status).toBe('REFUSED-CONNECTION');
  });

  it('TCP failures never parse as an answer: no status NOERROR/NXDOMAIN, no records, no server', () => {
    for (const name of ['dig-timeout-tcp-unused-pod-ip', 'dig-refused-tcp-pod-without-dns']) {
      const r = parseDig(captured(name).stdout);
      expect(['NOERROR', 'NXDOMAIN']).not.toContain(r.status);
      expect(r.answers).toEqual([]);
      expect(r.server).toBeUndefined();
    }
  });

  it('garbage is UNPARSED with no answers', () => {
    expect(parseDig('')).toEqual({ status: 'UNPARSED', answers: [], server: undefined, transport: undefined });
  });
});

describe('getentProbe / parseGetent (glibc getent ahostsv4)', () => {
  it('getentProbe bounds getent with timeout -s KILL', () => {
    // ahostsv4 (glibc), else `hosts` where getent has no such database (musl's on Alpine: exit 1)
    expect(getentProbe('g', 'web').argv).toEqual([
      'timeout',
      '-s',
      'KILL',
      '6',
      'sh',
      '-c',
      'getent ahostsv4 "$1"; rc=$?; [ "$rc" = 1 ] || exit "$rc"; getent hosts "$1"',
      'getent',
      'web',
    ]);
    expect(getentProbe('g', 'web', 3).argv.slice(0, 4)).toEqual(['timeout', '-s', 'KILL', '3']);
  });

  it('bare name in its own namespace: found, one address, canonical FQDN', () => {
    const c = captured('getent-web');
    expect(c.exitCode).toBe(0);
    expect(parseGetent(c.stdout, c.exitCode)).toEqual({ found: true, notFound: false, addresses: [webClusterIP], canonicalName: fqdn('web') });
  });

  it('FQDN and svc.ns forms resolve the same way', () => {
    const f = captured('getent-web-fqdn');
    expect(parseGetent(f.stdout, f.exitCode)).toEqual({ found: true, notFound: false, addresses: [webClusterIP], canonicalName: fqdn('web') });
    const k = captured('getent-kube-dns-ns');
    expect(parseGetent(k.stdout, k.exitCode)).toEqual({
      found: true,
      notFound: false,
      addresses: [dnsIP],
      canonicalName: 'kube-dns.kube-system.svc.cluster.local',
    });
  });

  it("`getent hosts` lines (ADDR NAME ALIASES, as musl's and glibc's getent print them) parse the same", () => {
    expect(parseGetent(`${webClusterIP}    ${fqdn('web')}\n`, 0)).toEqual({
      found: true,
      notFound: false,
      addresses: [webClusterIP],
      canonicalName: fqdn('web'),
    });
    expect(parseGetent(`${webClusterIP}    ${fqdn('web')} web\n`, 0).canonicalName).toBe(fqdn('web'));
  });

  it('missing name: exit 2, empty output, not found', () => {
    const c = captured('getent-missing');
    expect(c.exitCode).toBe(2);
    expect(c.stdout).toBe('');
    expect(parseGetent(c.stdout, c.exitCode)).toEqual({ found: false, notFound: true, addresses: [], canonicalName: undefined });
  });

  it('bare name of a Service in another namespace: exit 2, not found', () => {
    const c = captured('getent-kube-dns-bare');
    expect(c.exitCode).toBe(2);
    expect(parseGetent(c.stdout, c.exitCode).found).toBe(false);
  });

  it('headless Service with two pods: both addresses, deduplicated across STREAM/DGRAM/RAW', () => {
    const c = captured('getent-headless-two-pods');
    const r = parseGetent(c.stdout, 0);
    expect(r.addresses.sort()).toEqual([webPodIP, whoamiPodIP].sort());
    expect(r.canonicalName).toBe(fqdn('nginx-all'));
  });

  it('addresses printed but a non-zero exit (killed by timeout) is not "found"', () => {
    expect(parseGetent(captured('getent-web').stdout, 137)).toMatchObject({ found: false, addresses: [webClusterIP] });
  });
});

describe('nslookupProbe / parseNslookup', () => {
  it('nslookupProbe runs busybox nslookup under timeout -s KILL, with an optional server', () => {
    expect(nslookupProbe('n', fqdn('web')).argv).toEqual(['timeout', '-s', 'KILL', '4', 'busybox', 'nslookup', fqdn('web')]);
    expect(nslookupProbe('n', fqdn('web'), CAPTURE.unheldIP).argv).toEqual(captured('nslookup-busybox-1.37-timeout-unused-pod-ip').argv);
  });

  it('busybox 1.37 (new format), FQDN: server, name, address', () => {
    const c = captured('nslookup-busybox-1.37-web-fqdn');
    expect(c.exitCode).toBe(0);
    expect(parseNslookup(c.stdout)).toEqual({ format: 'busybox-new', server: dnsIP, names: [fqdn('web')], addresses: [webClusterIP], nxdomain: false });
  });

  it('busybox 1.37 with an explicit server prints the same', () => {
    expect(parseNslookup(captured('nslookup-busybox-1.37-web-server').stdout)).toEqual(parseNslookup(captured('nslookup-busybox-1.37-web-fqdn').stdout));
  });

  it('busybox 1.37 missing name: NXDOMAIN (twice: A and AAAA), no names, no addresses, exit 1', () => {
    const c = captured('nslookup-busybox-1.37-missing');
    expect(c.exitCode).toBe(1);
    expect(parseNslookup(c.stdout)).toEqual({ format: 'busybox-new', server: dnsIP, names: [], addresses: [], nxdomain: true });
  });

  it('busybox 1.37 bare name: NXDOMAIN blocks interleaved with the answer, exit 1, still parsed as found', () => {
    const c = captured('nslookup-busybox-1.37-web-bare');
    expect(c.exitCode).toBe(1);
    expect(c.stdout).toContain("** server can't find web.cluster.local: NXDOMAIN");
    expect(parseNslookup(c.stdout)).toEqual({ format: 'busybox-new', server: dnsIP, names: [fqdn('web')], addresses: [webClusterIP], nxdomain: false });
  });

  it('busybox 1.37 does not search for names with a dot: svc.ns is NXDOMAIN (why its verdict is informational)', () => {
    const r = parseNslookup(captured('nslookup-busybox-1.37-web-svc-ns').stdout);
    expect(r.nxdomain).toBe(true);
    expect(r.addresses).toEqual([]);
  });

  it('busybox 1.37, two A records: both addresses, the name once per block', () => {
    const r = parseNslookup(captured('nslookup-busybox-1.37-headless-two-pods').stdout);
    expect(r.format).toBe('busybox-new');
    expect(r.names).toEqual([fqdn('nginx-all')]);
    expect(r.addresses).toEqual([whoamiPodIP, webPodIP]);
    expect(r.nxdomain).toBe(false);
  });

  it('busybox 1.37 killed while waiting for an unanswering server: empty output, neither found nor NXDOMAIN', () => {
    const c = captured('nslookup-busybox-1.37-timeout-unused-pod-ip');
    expect(c.exitCode).toBe(137);
    expect(parseNslookup(c.stdout)).toEqual({ format: 'busybox-new', server: undefined, names: [], addresses: [], nxdomain: false });
  });

  // HAND-WRITTEN fixtures: busybox <= 1.28 cannot be captured here (only busybox 1.37 is available
  // offline). Written from the documented old format ("Address 1: <ip> <name>",
  // "nslookup: can't resolve '<name>'") with this cluster's addresses.
  it('busybox <= 1.28 (old format, hand-written fixture): server, name, address without the trailing name', () => {
    expect(parseNslookup(fixtureText('nslookup-busybox-1.28-handwritten.txt'))).toEqual({
      format: 'busybox-old',
      server: dnsIP,
      names: ['web.knc-fixtures'],
      addresses: [webClusterIP],
      nxdomain: false,
    });
  });

  it("busybox <= 1.28 (old format, hand-written fixture): can't resolve is NXDOMAIN", () => {
    expect(parseNslookup(fixtureText('nslookup-busybox-1.28-missing-handwritten.txt'))).toEqual({
      format: 'busybox-old',
      server: dnsIP,
      names: [],
      addresses: [],
      nxdomain: true,
    });
  });
});

describe('parseResolvConf', () => {
  it('ClusterFirst pod: kube-dns nameserver, namespace search path, ndots:5', () => {
    const c = captured('resolv-conf-probe');
    expect(parseResolvConf(c.stdout)).toEqual({
      nameservers: [dnsIP],
      search: ['knc-fixtures.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: { ndots: '5' },
    });
  });

  it('hostNetwork pod (ClusterFirst falls back to the node resolver): node nameserver, no search, ndots:0', () => {
    expect(parseResolvConf(captured('resolv-conf-node-view').stdout)).toEqual({
      nameservers: [CAPTURE.nodeGatewayIP],
      search: [],
      options: { ndots: '0' },
    });
  });

  it('comments, flag options, several nameservers, last search line wins', () => {
    const rc = parseResolvConf(
      [
        '# generated',
        'search a.example b.example',
        'nameserver 10.96.0.10 ; primary',
        'nameserver 10.96.0.11',
        'search c.example',
        'options ndots:2 edns0 timeout:1',
      ].join('\n'),
    );
    expect(rc).toEqual({ nameservers: ['10.96.0.10', '10.96.0.11'], search: ['c.example'], options: { ndots: '2', edns0: true, timeout: '1' } });
  });
});
