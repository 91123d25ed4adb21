// Per-family verdicts on output captured from the dual-stack kind cluster knc-dual (kind ipFamily
// dual, flannel host-gw; namespace knc-fixtures-dual): its pods' status.podIPs, its Services of each
// ipFamilyPolicy (SingleStack IPv4/IPv6, PreferDualStack, RequireDualStack IPv6-first), nodes, and
// nginx's /whoami asked over IPv6 and IPv4 from a probe pod (10.244.2.11, fd00:10:244:2::b).
import { describe, it, expect } from '@jest/globals';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { familyReport, serviceFamilies, verifyFamilies, type FamilyReport } from '../../src/catalogue/families.js';
import type { ClusterFacts } from '../../src/cluster/facts.js';
import { httpProbe, parseWhoAmI } from '../../src/probes/http.js';
import { verifyNoNat } from '../../src/verdicts/http.js';
import { asProbeOutput, fixtureText } from './fixture-files.js';

const pods = (JSON.parse(fixtureText('dual-stack-pods.json')) as { items: V1Pod[] }).items;
const services = (JSON.parse(fixtureText('dual-stack-services.json')) as { items: V1Service[] }).items;
const nodes = (JSON.parse(fixtureText('dual-stack-nodes.json')) as { items: V1Node[] }).items;
const facts = {
  podSubnets: ['10.244.0.0/16', 'fd00:10:244::/56'],
  serviceSubnets: ['10.96.0.0/16', 'fd00:10:96::/112'],
  dnsServiceIP: '10.96.0.10',
  nodes: nodes.map((n) => ({
    name: n.metadata!.name!,
    internalIP: n.status!.addresses![0].address,
    internalIPs: n.status!.addresses!.filter((a) => a.type === 'InternalIP').map((a) => a.address),
    podCIDRs: n.spec!.podCIDRs ?? [],
    controlPlane: false,
    tainted: false,
  })),
} as unknown as ClusterFacts;
const CHECK = 'pod-ip.ip-families';

describe('verifyFamilies on the captured dual-stack cluster', () => {
  const r = familyReport(facts, pods, services);

  it("reads every family: nodes with both InternalIPs, pods with both podIPs, each Service's policy and ClusterIPs", () => {
    expect(r.families).toEqual(['IPv4', 'IPv6']);
    expect(r.primary).toBe('IPv4');
    expect(r.nodes.every((n) => n.addresses.length === 2)).toBe(true);
    expect(r.pods.map((p) => p.podIPs.length)).toEqual(pods.map(() => 2));
    const by = Object.fromEntries(r.services.map((s) => [s.service.split('/')[1], s]));
    expect(by['web-singlestack']).toMatchObject({ ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
    expect(by['web-preferdualstack'].ipFamilies).toEqual(['IPv4', 'IPv6']);
    expect(by['web-requiredualstack'].ipFamilies).toEqual(['IPv6', 'IPv4']);
    expect(by['web-requiredualstack'].clusterIPs[0]).toMatch(/^fd00:10:96::/);
    expect(by['my-nginx-headless'].clusterIPs).toEqual(['None']);
    expect(verifyFamilies(CHECK, r)).toEqual([]);
  });

  it('a pod short of its IPv6 address fails naming the family order it should have', () => {
    const broken: FamilyReport = { ...r, pods: [{ ...r.pods[0], podIPs: r.pods[0].podIPs.slice(0, 1) }] };
    const [f] = verifyFamilies(CHECK, broken);
    expect(f.ctx).toMatchObject({ check: CHECK, expected: 'status.podIPs of the families IPv4,IPv6, in that order', seen: r.pods[0].podIPs[0] });
  });

  it("an address outside its family's pod range, a node without IPv6, a ClusterIP of the wrong family: each its own failure", () => {
    const fs = verifyFamilies(CHECK, {
      ...r,
      pods: [{ ...r.pods[0], podIPs: [r.pods[0].podIPs[0], 'fd00:10:999::5'] }],
      nodes: [{ node: 'knc-dual-worker', addresses: ['172.18.0.10'] }],
      services: [{ ...serviceFamilies(services.find((s) => s.metadata!.name === 'web-preferdualstack')!), ipFamilies: ['IPv6', 'IPv4'] }],
    });
    expect(fs.map((f) => [f.ctx.to.split(' ')[0], f.ctx.expected])).toEqual([
      ['node', 'an IPv6 InternalIP (the cluster is IPv4+IPv6)'],
      ['pod', 'its IPv6 address inside the pod range fd00:10:244::/56'],
      ['service', 'ClusterIPs of its ipFamilies IPv6,IPv4'],
    ]);
  });

  it("judged as a single-stack IPv4 cluster, the same pods are one address too many (the families are the cluster's, not the pods')", () => {
    const v4only = familyReport(
      { ...facts, podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/16'], nodes: [] } as unknown as ClusterFacts,
      pods.slice(0, 1),
      [],
    );
    expect(v4only.families).toEqual(['IPv4']);
    expect(verifyFamilies(CHECK, v4only).map((f) => f.ctx.expected)).toEqual(['status.podIPs of the families IPv4, in that order']);
  });
});

describe('no NAT over IPv6: nginx echoes the IPv6 client address', () => {
  it("the captured /whoami over IPv6 names the probe pod's IPv6 address, over IPv4 its IPv4 address", () => {
    expect(parseWhoAmI(asProbeOutput('whoami-ipv6').output)).toEqual({ client: 'fd00:10:244:2::b', server: 'my-nginx-846446688d-fvkv5' });
    expect(verifyNoNat('c', 'probe', 'nginx', 'fd00:10:244:2::b', asProbeOutput('whoami-ipv6'))).toBeUndefined();
    expect(verifyNoNat('c', 'probe', 'nginx', 'fd00:10:244:2:0:0:0:b', asProbeOutput('whoami-ipv6'))).toBeUndefined();
    expect(verifyNoNat('c', 'probe', 'nginx', '10.244.2.11', asProbeOutput('whoami-ipv4-dual'))).toBeUndefined();
    // the other family's address is not the client: a rewrite across families fails
    expect(verifyNoNat('c', 'probe', 'nginx', '10.244.2.11', asProbeOutput('whoami-ipv6'))!.ctx).toMatchObject({
      expected: 'the server to see client address 10.244.2.11',
      seen: 'client=fd00:10:244:2::b server=my-nginx-846446688d-fvkv5',
    });
  });

  it('an IPv4 client seen on a [::] socket as ::ffff:a.b.c.d is the same client (no NAT)', () => {
    const mapped = { ...asProbeOutput('whoami-ipv4-dual'), output: 'client=::ffff:10.244.2.11 server=my-nginx-846446688d-fvkv5\n' };
    expect(verifyNoNat('c', 'probe', 'nginx', '10.244.2.11', mapped)).toBeUndefined();
  });

  it('the probe asks an IPv6 pod in brackets, as the capture did', () => {
    const cap = JSON.parse(fixtureText('whoami-ipv6.json')) as { argv: string[] };
    const url = httpProbe('who', 'fd00:10:244:1::9', 80, '/whoami').argv.at(-1);
    expect(url).toBe('http://[fd00:10:244:1::9]:80/whoami');
    expect(cap.argv.at(-1)).toBe(url);
    expect(httpProbe('who', '10.244.1.9', 80, '/whoami').argv.at(-1)).toBe('http://10.244.1.9:80/whoami');
  });
});
