// Property 1 — pod IPs: every pod has its own cluster-private IP, reachable as podIP:80 from
// every node and from pods on the same and other nodes, without NAT.
// Setup: the shared run (global setup). Assess: one exec per probe pod fans out to every target.
import { beforeAll, describe, expect } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { execa } from 'execa';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadRunState, type ProbeRef, type RunState } from '../../src/fixtures/run.js';
import { waitPodsReady } from '../../src/fixtures/pods.js';
import { httpProbe } from '../../src/probes/http.js';
import { check, negativeControl, recordMatrix } from '../../src/checks/check.js';
import type { ReachabilityRow } from '../../src/report/matrices.js';
import { throwAll, type CheckFailure } from '../../src/checks/failure.js';
import { httpOutcome, verifyNoNat, verifyPage } from '../../src/checks/http.js';
import { verifyPodIPs } from '../../src/checks/pod-ips.js';
import { key, label, runFanout, runFanouts, type Fanout } from '../../src/checks/run-probes.js';
import { unusedAddress } from '../../src/net/cidr.js';

let s: RunState;
let kube: Kube;
let nginx: V1Pod[];
let fanouts: Map<string, Fanout>;
let unheldIP: string;
const target = (p: V1Pod) => `${p.metadata!.name} ${p.status!.podIP}:80 on ${p.spec!.nodeName}`;

beforeAll(async () => {
  s = loadRunState();
  kube = makeKube({ kubeconfig: s.kubeconfig });
  nginx = await waitPodsReady(kube, s.workloadNs, 'run=my-nginx', { count: 2 });
  const node = s.facts.nodes.find((n) => n.name === nginx[0].spec!.nodeName)!;
  const allPods = (await kube.core.listPodForAllNamespaces()).items.map((p) => p.status?.podIP ?? '');
  unheldIP = unusedAddress(node.podCIDRs[0], allPods);
  const sources = [...s.probes, s.otherProbe, ...s.nodeViews];
  fanouts = await runFanouts(
    kube,
    sources.map((from, i) => ({
      from,
      probes: [
        ...nginx.flatMap((p) => [
          httpProbe(`page-${p.metadata!.name}`, p.status!.podIP!, 80, '/'),
          httpProbe(`who-${p.metadata!.name}`, p.status!.podIP!, 80, '/whoami'),
        ]),
        ...(i === 0 ? [httpProbe('unheld', unheldIP, 80, '/', 1)] : []),
      ],
    })),
  );
  recordMatrix('reachability', sources.flatMap((from) => nginx.map((to): ReachabilityRow => {
    const o = fanouts.get(key(from))!.get(`page-${to.metadata!.name}`)!;
    return {
      from: from.hostNetwork ? `node ${from.node}` : `pod ${from.namespace}/${from.pod}`,
      fromKind: from.hostNetwork ? 'node' : 'pod',
      fromNode: from.node,
      to: to.metadata!.name!,
      toNode: to.spec!.nodeName!,
      toIP: to.status!.podIP!,
      outcome: httpOutcome(o),
      ok: !verifyPage('matrix', '', '', o),
      ms: o.durationMs,
    };
  })));
});

/** Runs `verify` for each (source, nginx pod) pair the filter keeps; fails with every bad pair. */
function eachPair(sources: () => ProbeRef[], keep: (from: ProbeRef, to: V1Pod) => boolean, verify: (from: ProbeRef, to: V1Pod, f: Fanout) => CheckFailure | undefined) {
  return async () => {
    const pairs = sources().flatMap((from) => nginx.filter((to) => keep(from, to)).map((to) => [from, to] as const));
    expect(pairs.length).toBeGreaterThan(0);
    throwAll(pairs.map(([from, to]) => verify(from, to, fanouts.get(key(from))!)).filter((f): f is CheckFailure => !!f));
    return pairs.map(([from, to]) => `${label(from)} -> ${target(to)}`);
  };
}
const page = (name: string) => (from: ProbeRef, to: V1Pod, f: Fanout) =>
  verifyPage(name, label(from), target(to), f.get(`page-${to.metadata!.name}`)!);
const noNat = (name: string) => (from: ProbeRef, to: V1Pod, f: Fanout) =>
  verifyNoNat(name, label(from), target(to), from.ip, f.get(`who-${to.metadata!.name}`)!);
const sameNode = (from: ProbeRef, to: V1Pod) => from.node === to.spec!.nodeName;

describe('pod IPs', () => {
  check('nginx pods are Ready with distinct IPs inside the pod CIDR, on distinct nodes', { tags: ['pod-ip'], from: 'api', to: 'run=my-nginx' }, async () => {
    throwAll(verifyPodIPs('pod-ip-allocation', nginx, s.facts.podSubnets));
    return nginx.map(target);
  });
  check('podIP:80 serves nginx from every node (hostNetwork view)', { tags: ['pod-ip', 'node'], from: 'every node', to: 'every nginx pod' },
    eachPair(() => s.nodeViews, () => true, page('pod-ip-from-node')));
  check('podIP:80 serves nginx from a pod on the same node', { tags: ['pod-ip', 'same-node'], from: 'probe pods', to: 'nginx on the same node' },
    eachPair(() => s.probes, sameNode, page('pod-ip-same-node')));
  check('podIP:80 serves nginx from a pod on another node', { tags: ['pod-ip', 'cross-node'], from: 'probe pods', to: 'nginx on other nodes' },
    eachPair(() => s.probes, (f, t) => !sameNode(f, t), page('pod-ip-cross-node')));
  check('podIP:80 serves nginx from a pod in another namespace', { tags: ['pod-ip', 'cross-namespace'], from: 'other namespace', to: 'every nginx pod' },
    eachPair(() => [s.otherProbe], () => true, page('pod-ip-cross-namespace')));
  check('no NAT: nginx sees the client pod IP, same node', { tags: ['pod-ip', 'nat', 'same-node'], from: 'probe pods', to: 'nginx on the same node' },
    eachPair(() => s.probes, sameNode, noNat('no-nat-same-node')));
  check('no NAT: nginx sees the client pod IP, across nodes', { tags: ['pod-ip', 'nat', 'cross-node'], from: 'probe pods', to: 'nginx on other nodes' },
    eachPair(() => [...s.probes, s.otherProbe], (f, t) => !sameNode(f, t), noNat('no-nat-cross-node')));
});

describe('pod IPs — negative controls', () => {
  negativeControl('reachability check fails, within its timeout, for a pod-CIDR address no pod holds', 'pod-ip', () => {
    const o = fanouts.get(key(s.probes[0]))!.get('unheld')!;
    const failure = verifyPage('pod-ip-unheld', label(s.probes[0]), `${unheldIP}:80`, o);
    expect(failure?.message).toMatch(new RegExp(`\\[pod-ip-unheld\\] from pod .* to ${unheldIP.replace(/\./g, '\\.')}:80: expected the nginx welcome page, saw (timeout|fail)`));
    expect(httpOutcome(o)).not.toBe('ok');
    expect(o.durationMs).toBeLessThan(3_500);
  });
  negativeControl('pod-IP allocation check fails for an address outside the pod CIDR', 'pod-ip', () => {
    const fake = structuredClone(nginx[0]);
    fake.status!.podIP = s.facts.nodes[0].internalIP;
    const failures = verifyPodIPs('pod-ip-allocation', [fake, nginx[1]], s.facts.podSubnets);
    expect(failures.map((f) => f.message).join('\n')).toMatch(/outside the pod CIDR/);
  });
  negativeControl('no-NAT check fails when the client node masquerades its pod traffic', 'pod-ip', async () => {
    const from = s.probes.find((p) => nginx.some((n) => n.spec!.nodeName !== p.node))!;
    const to = nginx.find((n) => n.spec!.nodeName !== from.node)!;
    const rule = ['-t', 'nat', '-I', 'POSTROUTING', '1', '-s', `${from.ip}/32`, '-d', `${to.status!.podIP}/32`, '-j', 'MASQUERADE'];
    const node = from.node; // kind node containers are named after their nodes
    await execa('docker', ['exec', node, 'iptables', ...rule]);
    try {
      const f = await runFanout(kube, from, [httpProbe('who', to.status!.podIP!, 80, '/whoami')]);
      const failure = verifyNoNat('no-nat-cross-node', label(from), target(to), from.ip, f.get('who')!);
      expect(failure?.message).toMatch(new RegExp(`expected the server to see client address ${from.ip.replace(/\./g, '\\.')}, saw client=\\S+`));
    } finally {
      await execa('docker', ['exec', node, 'iptables', ...rule.map((a) => (a === '-I' ? '-D' : a)).filter((a) => a !== '1')]);
    }
  });
});
