// The cluster the suite runs on: kind's shape (1 control-plane + 2 workers, all Ready), CoreDNS
// behind kube-dns, pod IPs on both workers from the pod CIDR, and — for a cluster kube-netcheck
// created — the host's safety net: no route to the pod or service ranges.
import { beforeAll, describe, expect } from '@jest/globals';
import type { V1Node } from '@kubernetes/client-node';
import { execa } from 'execa';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadRunState, type RunState } from '../../src/fixtures/run.js';
import { isReady, listPods } from '../../src/fixtures/pods.js';
import { check, negativeControl } from '../../src/checks/check.js';
import { routeDevice } from '../../src/checks/virtual-ip.js';
import { failureEvidence } from '../../src/checks/evidence.js';
import { inCidr, intToIp, ipToInt, parseCidr } from '../../src/net/cidr.js';

let s: RunState;
let kube: Kube;
let nodes: V1Node[];
const ours = !process.env.KNC_KUBECONFIG;
const nodeReady = (n: V1Node) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const routeGet = async (ip: string) => (await execa('ip', ['route', 'get', ip], { reject: false, all: true })).all ?? '';
/** An address well inside a range (its base + 7), for `ip route get`, which sends no packet. */
const inside = (cidr: string) => intToIp(parseCidr(cidr).base + 7);

beforeAll(async () => {
  s = loadRunState();
  kube = makeKube({ kubeconfig: s.kubeconfig });
  nodes = (await kube.core.listNode()).items;
});

describe('cluster', () => {
  check('3 nodes, all Ready: 1 control-plane + 2 workers', { tags: ['cluster'], from: 'api', to: 'nodes' }, async () => {
    const roles = nodes.map((n) => ('node-role.kubernetes.io/control-plane' in (n.metadata?.labels ?? {}) ? 'control-plane' : 'worker')).sort();
    expect(roles).toEqual(['control-plane', 'worker', 'worker']);
    expect(nodes.filter(nodeReady).map((n) => n.metadata!.name)).toHaveLength(3);
    return nodes.map((n) => `${n.metadata!.name} ${n.status!.nodeInfo!.kubeletVersion} ${n.status!.nodeInfo!.containerRuntimeVersion}`);
  });
  check('kube-dns Service in kube-system with 2 Ready CoreDNS pods', { tags: ['cluster', 'dns'], from: 'api', to: 'kube-system/kube-dns' }, async () => {
    const pods = (await listPods(kube, 'kube-system', 'k8s-app=kube-dns')).filter(isReady);
    expect(pods).toHaveLength(2);
    return pods.map((p) => `${p.metadata!.name} ${p.status!.podIP}`);
  });
  check('pods on both workers got IPs from the pod CIDR', { tags: ['cluster', 'pod-ip'], from: 'api', to: 'probe pods' }, async () => {
    const workers = s.facts.nodes.filter((n) => !n.controlPlane).map((n) => n.name);
    const onWorkers = s.probes.filter((p) => workers.includes(p.node));
    expect(onWorkers.map((p) => p.node).sort()).toEqual([...workers].sort());
    for (const p of onWorkers) expect(s.facts.podSubnets.some((c) => inCidr(p.ip, c))).toBe(true);
    return onWorkers.map((p) => `${p.pod} ${p.node} ${p.ip}`);
  });
  (ours ? check : check.skip)('host safety net: the pod and service ranges are unreachable from the host', { tags: ['cluster', 'safety-net'], from: 'the host', to: 'pod + service CIDRs' }, async () => {
    const seen: Record<string, string> = {};
    for (const cidr of [...s.facts.podSubnets, ...s.facts.serviceSubnets]) {
      const out = await routeGet(inside(cidr));
      seen[cidr] = out.trim();
      expect(routeDevice(out)).toBeUndefined();
    }
    return seen;
  });
});

describe('failure evidence', () => {
  check('a failed check can collect the run events, CoreDNS logs and kube-proxy logs', { tags: ['evidence'], from: 'api', to: 'events + logs' }, async () => {
    const e = (await failureEvidence(['dns', 'service'])) as { events: Record<string, string>; corednsLogs: Record<string, string>; kubeProxyLogs: Record<string, string> };
    expect(Object.keys(e.events)).toEqual([s.workloadNs, s.otherNs]);
    expect(e.events[s.workloadNs]).toMatch(/Normal Pod\/\S+ (Scheduled|Pulled|Created|Started)/);
    expect(Object.keys(e.corednsLogs)).toHaveLength(2);
    expect(Object.values(e.corednsLogs).join('\n')).toMatch(/CoreDNS-1\.12\.1|plugin\/reload|\[INFO\]/);
    expect(Object.keys(e.kubeProxyLogs)).toHaveLength(3);
    return { events: Object.keys(e.events), corednsPods: Object.keys(e.corednsLogs), kubeProxyPods: Object.keys(e.kubeProxyLogs) };
  });
});

describe('cluster — negative controls', () => {
  (ours ? negativeControl : negativeControl.skip)('the safety-net check fails for an address the host does route (a node IP)', 'safety-net', async () => {
    const out = await routeGet(s.facts.nodes[0].internalIP);
    expect(routeDevice(out)).toMatch(/\S+/);
    expect(ipToInt(s.facts.nodes[0].internalIP)).toBeGreaterThan(0);
  });
});
