// The per-Service signal the Service holds wait for on a cluster whose nodes kube-netcheck reaches:
// the node's own NAT rules for the ClusterIP (src/catalogue/services.ts dnatEndpoints), on
// `iptables-save -t nat` captured from a kind worker (kube-proxy v1.34, iptables mode).
import { describe, expect, it } from '@jest/globals';
import { dnatEndpoints } from '../../src/catalogue/services.js';
import { fixtureText } from './fixture-files.js';

const saved = fixtureText('iptables-save-nat-worker.txt');

describe("a node's DNAT set for a ClusterIP:port", () => {
  it('follows KUBE-SERVICES to the KUBE-SVC chain and each KUBE-SEP to its endpoint', () => {
    expect(dnatEndpoints(saved, '10.96.0.10', 53)).toEqual(['10.244.0.2:53', '10.244.0.3:53']);
  });
  it('a chain that still lists a removed endpoint reads as it is (the hold then waits, and says what it saw)', () => {
    const stale = saved.replace(
      /^(-A KUBE-SVC-ERIFXISQEP7F7OF4 .*-> 10\.244\.0\.3:53.*)$/m,
      '$1\n-A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment "kube-system/kube-dns:dns-tcp -> 10.244.9.9:53" -j KUBE-SEP-STALE\n-A KUBE-SEP-STALE -p tcp -m tcp -j DNAT --to-destination 10.244.9.9:53',
    );
    expect(dnatEndpoints(stale, '10.96.0.10', 53)).toEqual(['10.244.0.2:53', '10.244.0.3:53', '10.244.9.9:53']);
  });
  it('an address or port no rule names, or a kube-proxy in another mode (no KUBE-SERVICES), reads as unknown, not as empty', () => {
    expect(dnatEndpoints(saved, '10.96.0.11', 53)).toBeUndefined();
    expect(dnatEndpoints(saved, '10.96.0.10', 80)).toBeUndefined();
    expect(dnatEndpoints('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', '10.96.0.10', 53)).toBeUndefined();
  });
  it('an IPv6 ClusterIP: /128 and bracketed endpoints', () => {
    const v6 = [
      '-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m comment --comment "ns/my-nginx:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAA',
      '-A KUBE-SVC-AAA -m comment --comment "ns/my-nginx:http -> [fd00:10:244:1::5]:80" -j KUBE-SEP-B',
      '-A KUBE-SEP-B -p tcp -m comment --comment "ns/my-nginx:http" -m tcp -j DNAT --to-destination [fd00:10:244:1::5]:80',
    ].join('\n');
    expect(dnatEndpoints(v6, 'fd00:10:96::a', 80)).toEqual(['[fd00:10:244:1::5]:80']);
  });
});
