// IP families of a cluster from its facts (cluster/facts.ts) and the workload's IPv6 listen line
// (workload/setup.ts), on kind's real ranges: IPv4 (the captured cluster), IPv6 and dual-stack
// (kind's ipFamily defaults, the ranges scripts/lib/cluster-config.sh gives kind).
import { describe, it, expect } from '@jest/globals';
import path from 'node:path';
import { clusterFamilies, describeFamilies, familyMissing, nodeAddresses, primaryFamily, rangesOf, type NodeFacts } from '../../src/cluster/facts.js';
import { MANIFESTS_DIR, loadYamlDocs } from '../../src/workload/manifests.js';
import { nginxListenFor, podAddresses } from '../../src/workload/setup.js';
import type { V1Pod } from '@kubernetes/client-node';

const node = (name: string, ...ips: string[]): NodeFacts => ({
  name,
  internalIP: ips[0] ?? '',
  internalIPs: ips,
  podCIDRs: [],
  controlPlane: false,
  tainted: false,
});
const V4 = { podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/16'], nodes: [node('w1', '172.18.0.2')], dnsServiceIPs: ['10.96.0.10'] };
const V6 = {
  podSubnets: ['fd00:10:244::/56'],
  serviceSubnets: ['fd00:10:96::/112'],
  nodes: [node('w1', 'fc00:f853:ccd:e793::2')],
  dnsServiceIPs: ['fd00:10:96::a'],
};
const DUAL = {
  podSubnets: ['10.244.0.0/16', 'fd00:10:244::/56'],
  serviceSubnets: ['10.96.0.0/16', 'fd00:10:96::/112'],
  nodes: [node('w1', '172.18.0.2', 'fc00:f853:ccd:e793::2')],
  dnsServiceIPs: ['10.96.0.10', 'fd00:10:96::a'],
};

describe('cluster families from facts', () => {
  it('single-stack IPv4, single-stack IPv6, dual-stack with either family primary', () => {
    expect(clusterFamilies(V4)).toEqual(['IPv4']);
    expect(clusterFamilies(V6)).toEqual(['IPv6']);
    expect(clusterFamilies(DUAL)).toEqual(['IPv4', 'IPv6']);
    const v6first = { ...DUAL, serviceSubnets: ['fd00:10:96::/112', '10.96.0.0/16'], podSubnets: ['fd00:10:244::/56', '10.244.0.0/16'] };
    expect(primaryFamily(v6first)).toBe('IPv6');
    expect(clusterFamilies(v6first)).toEqual(['IPv6', 'IPv4']);
    expect(describeFamilies(DUAL)).toBe('IPv4 and IPv6 (dual-stack, IPv4 primary)');
    expect(describeFamilies(v6first)).toBe('IPv6 and IPv4 (dual-stack, IPv6 primary)');
    expect(describeFamilies(V6)).toBe('IPv6 (single-stack)');
  });

  it("ranges unknown (a cluster that hides them): the nodes' and kube-dns' addresses still say the family", () => {
    const hidden = { podSubnets: [], serviceSubnets: [], nodes: [node('w1', 'fc00:f853:ccd:e793::2')], dnsServiceIP: 'fd00:10:96::a' };
    expect(clusterFamilies(hidden)).toEqual(['IPv6']);
    expect(primaryFamily(hidden)).toBe('IPv6');
    expect(describeFamilies({ podSubnets: [], serviceSubnets: [], nodes: [] })).toBe('unknown');
  });

  it('a family the cluster lacks: not applicable with the reason, naming what it has', () => {
    expect(familyMissing(DUAL, 'IPv6')).toBeUndefined();
    expect(familyMissing(V4, 'IPv4')).toBeUndefined();
    expect(familyMissing(V4, 'IPv6')).toBe('the cluster has no IPv6 (IPv4 only: pod ranges 10.244.0.0/16, service ranges 10.96.0.0/16)');
    expect(familyMissing(V6, 'IPv4')).toMatch(/^the cluster has no IPv4 \(IPv6 only: pod ranges fd00:10:244::\/56/);
  });

  it('ranges of one family; node addresses with and without internalIPs', () => {
    expect(rangesOf(DUAL, 'IPv6')).toEqual({ pod: ['fd00:10:244::/56'], service: ['fd00:10:96::/112'] });
    expect(rangesOf(DUAL, 'IPv4')).toEqual({ pod: ['10.244.0.0/16'], service: ['10.96.0.0/16'] });
    expect(rangesOf(V4, 'IPv6')).toEqual({ pod: [], service: [] });
    expect(nodeAddresses(DUAL.nodes[0])).toEqual(['172.18.0.2', 'fc00:f853:ccd:e793::2']);
    expect(nodeAddresses({ name: 'old', internalIP: '172.18.0.3', podCIDRs: [], controlPlane: false, tainted: false })).toEqual(['172.18.0.3']);
  });
});

describe('the workload on IPv4-only and IPv6 clusters', () => {
  const [conf] = loadYamlDocs(path.join(MANIFESTS_DIR, 'workload/nginx-deployment.yaml')).filter((o) => o.kind === 'ConfigMap');

  it('the manifest listens on 80 and [::]:80; without IPv6 in the cluster the [::] line goes (nginx cannot bind it there)', () => {
    expect(conf.data!['default.conf']).toMatch(/^\s*listen 80;\n\s*listen \[::\]:80;\n/m);
    const v4 = nginxListenFor(structuredClone(conf), false);
    expect(v4.data!['default.conf']).not.toContain('[::]');
    expect(v4.data!['default.conf']).toMatch(/^\s*listen 80;\n\s*location \//m);
    expect(nginxListenFor(structuredClone(conf), true).data).toEqual(conf.data);
  });

  it("a pod's addresses: status.podIPs (dual-stack), else podIP, else none", () => {
    const pod = (status: V1Pod['status']) => ({ status }) as V1Pod;
    expect(podAddresses(pod({ podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00:10:244:1::5' }] }))).toEqual(['10.244.1.5', 'fd00:10:244:1::5']);
    expect(podAddresses(pod({ podIP: '10.244.1.5' }))).toEqual(['10.244.1.5']);
    expect(podAddresses(pod({}))).toEqual([]);
  });
});

describe('a single-stack cluster whose nodes hold an address of the other family', () => {
  it('is single-stack: the ranges say the families, node addresses only when nothing else is known', () => {
    const v4nodesDual = { ...V4, nodes: [node('w1', '172.18.0.2', 'fc00:f853:ccd:e793::2')] };
    expect(clusterFamilies(v4nodesDual)).toEqual(['IPv4']);
    expect(familyMissing(v4nodesDual, 'IPv6')).toMatch(/^the cluster has no IPv6/);
  });
});
