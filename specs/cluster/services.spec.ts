// Property 2 — Services: a stable virtual ClusterIP reachable only inside the cluster, whose
// Endpoints and EndpointSlices list exactly the ready selected pods' IP:targetPort and follow
// scaling. Setup: shared run + a Service selecting nothing (negative control). It changes the
// shared nginx pods, so it runs after the read-only specs (specs/cluster/order.mjs).
import { beforeAll, describe, expect } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { execa } from 'execa';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadRunState, type ProbeRef, type RunState } from '../../src/fixtures/run.js';
import { isReady, listPods } from '../../src/fixtures/pods.js';
import { runLabels } from '../../src/util/labels.js';
import { httpProbe } from '../../src/probes/http.js';
import { parseWhoAmI } from '../../src/probes/http.js';
import { check, negativeControl } from '../../src/checks/check.js';
import { CheckFailure, throwAll } from '../../src/checks/failure.js';
import { verifyPage } from '../../src/checks/http.js';
import { backends, fmt, verifySet, waitBackends } from '../../src/checks/endpoints.js';
import { verifyHostNoRoute, verifyNotHeld } from '../../src/checks/virtual-ip.js';
import { inCidr } from '../../src/net/cidr.js';
import { key, label, runFanouts, type Fanout } from '../../src/checks/run-probes.js';

const SEL = 'run=my-nginx';
const REPEAT = 6;
let s: RunState;
let kube: Kube;
let svc: V1Service;
let none: V1Service;
let fanouts: Map<string, Fanout>;
const ip = () => svc.spec!.clusterIP!;
const podSources = () => [...s.probes, s.otherProbe];

async function scale(replicas: number) {
  const cur = await kube.apps.readNamespacedDeploymentScale({ name: 'my-nginx', namespace: s.workloadNs });
  await kube.apps.replaceNamespacedDeploymentScale({ name: 'my-nginx', namespace: s.workloadNs, body: { ...cur, spec: { replicas } } });
  return waitBackends(kube, s.workloadNs, 'my-nginx', SEL, 80, replicas);
}

beforeAll(async () => {
  s = loadRunState();
  kube = makeKube({ kubeconfig: s.kubeconfig });
  svc = await kube.core.readNamespacedService({ name: 'my-nginx', namespace: s.workloadNs });
  none = await kube.core.createNamespacedService({
    namespace: s.workloadNs,
    body: { metadata: { name: 'selects-nothing', labels: runLabels(s.runId) }, spec: { selector: { run: 'nobody' }, ports: [{ port: 80, targetPort: 80 }] } },
  });
  await waitBackends(kube, s.workloadNs, 'my-nginx', SEL, 80, 2);
  fanouts = await runFanouts(kube, [
    ...podSources().map((from, i) => ({
      from,
      probes: [
        httpProbe('page', ip(), 80),
        ...Array.from({ length: REPEAT }, (_, n) => httpProbe(`who-${n}`, ip(), 80, '/whoami')),
        ...(i === 0 ? [httpProbe('none', none.spec!.clusterIP!, 80, '/', 1)] : []),
      ],
    })),
    ...s.nodeViews.map((from) => ({
      from,
      probes: [httpProbe('page', ip(), 80), { id: 'addrs', argv: ['ip', '-o', 'addr', 'show'] }],
    })),
  ]);
});

const pages = (sources: () => ProbeRef[], name: string) => async () => {
  throwAll(sources().map((from) => verifyPage(name, label(from), `my-nginx ${ip()}:80`, fanouts.get(key(from))!.get('page')!)).filter((f): f is CheckFailure => !!f));
  return sources().map(label);
};

describe('Service my-nginx', () => {
  check('ClusterIP is allocated inside the service CIDR, port 80 -> targetPort 80/TCP', { tags: ['service'], from: 'api', to: 'svc/my-nginx' }, async () => {
    const p = svc.spec!.ports![0];
    expect(s.facts.serviceSubnets.some((c) => inCidr(ip(), c))).toBe(true);
    expect({ type: svc.spec!.type, port: p.port, targetPort: p.targetPort, protocol: p.protocol }).toEqual({ type: 'ClusterIP', port: 80, targetPort: 80, protocol: 'TCP' });
    return { clusterIP: ip(), serviceSubnets: s.facts.serviceSubnets };
  });
  check('Endpoints list exactly the ready pods IP:80, and the EndpointSlices agree', { tags: ['service', 'endpoints'], from: 'api', to: 'svc/my-nginx' }, async () => {
    const b = await backends(kube, s.workloadNs, 'my-nginx', SEL, 80);
    expect(b.pods).toHaveLength(2);
    throwAll([verifySet('endpoints', 'svc/my-nginx', 'Endpoints', b.pods, b.endpoints), verifySet('endpointslices', 'svc/my-nginx', 'EndpointSlices', b.pods, b.slices)].filter((f): f is CheckFailure => !!f));
    return b;
  });
  check('ClusterIP:80 serves nginx from pods on every node and in another namespace', { tags: ['service', 'pod'], from: 'probe pods', to: 'svc/my-nginx' }, pages(podSources, 'service-from-pods'));
  check('ClusterIP:80 serves nginx from every node', { tags: ['service', 'node'], from: 'every node', to: 'svc/my-nginx' }, pages(() => s.nodeViews, 'service-from-nodes'));
  check('repeated requests to the ClusterIP reach every endpoint', { tags: ['service', 'load-balancing'], from: 'probe pods', to: 'svc/my-nginx' }, async () => {
    const pods = (await listPods(kube, s.workloadNs, SEL)).filter(isReady).map((p) => p.metadata!.name!).sort();
    const seen = podSources().flatMap((from) => Array.from({ length: REPEAT }, (_, n) => parseWhoAmI(fanouts.get(key(from))!.get(`who-${n}`)!.output)?.server ?? 'no answer'));
    const servers = [...new Set(seen)].sort();
    if (servers.join() !== pods.join()) {
      throw new CheckFailure({ check: 'service-spread', from: 'probe pods', to: `my-nginx ${ip()}:80 x${seen.length}`, expected: `answers from every backend ${fmt(pods)}`, seen: fmt(servers) });
    }
    return { requests: seen.length, servers };
  });
  check('the ClusterIP is virtual: no node interface holds it and the host has no route into the cluster for it', { tags: ['service', 'virtual-ip'], from: 'every node + host', to: 'svc/my-nginx' }, async () => {
    const failures = s.nodeViews.map((v) => verifyNotHeld('virtual-ip', label(v), ip(), fanouts.get(key(v))!.get('addrs')!.output));
    const route = async (a: string) => (await execa('ip', ['route', 'get', a], { reject: false, all: true })).all ?? '';
    const [toIp, toNode] = await Promise.all([route(ip()), route(s.facts.nodes[0].internalIP)]);
    failures.push(verifyHostNoRoute('virtual-ip-host', ip(), toIp, toNode));
    throwAll(failures.filter((f): f is CheckFailure => !!f));
    return { hostRoute: toIp.trim(), hostRouteToNode: toNode.trim() };
  });
  // mutating checks last, cheapest order: replace both (2), scale 3 then 1, replace the one left
  check('the ClusterIP stays the same after both pods are deleted and replaced', { tags: ['service', 'stable-ip'], from: 'api', to: 'svc/my-nginx' }, async () => {
    const old = (await kube.core.listNamespacedPod({ namespace: s.workloadNs, labelSelector: SEL })).items;
    await Promise.all(old.map((p) => kube.core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: s.workloadNs, gracePeriodSeconds: 0 })));
    const after = await waitBackends(kube, s.workloadNs, 'my-nginx', SEL, 80, 2);
    const now = await kube.core.readNamespacedService({ name: 'my-nginx', namespace: s.workloadNs });
    expect(now.spec!.clusterIP).toBe(ip());
    return { clusterIP: ip(), endpoints: after.endpoints };
  });
  check('Endpoints and EndpointSlices follow scaling 2 -> 3 -> 1', { tags: ['service', 'endpoints', 'scaling'], from: 'api', to: 'svc/my-nginx' }, async () => {
    const three = await scale(3);
    const one = await scale(1);
    return { three, one };
  });
  check('Endpoints and EndpointSlices converge after a pod is deleted', { tags: ['service', 'endpoints'], from: 'api', to: 'svc/my-nginx' }, async () => {
    const before = await backends(kube, s.workloadNs, 'my-nginx', SEL, 80);
    const [victim] = (await kube.core.listNamespacedPod({ namespace: s.workloadNs, labelSelector: SEL })).items;
    await kube.core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: s.workloadNs, gracePeriodSeconds: 0 });
    const gone = `${victim.status!.podIP}:80`;
    const after = await waitBackends(kube, s.workloadNs, 'my-nginx', SEL, 80, before.pods.length);
    // the deleted pod's address may be reused by its replacement; the pod set must have changed
    const pods = (await kube.core.listNamespacedPod({ namespace: s.workloadNs, labelSelector: SEL })).items.filter((p) => !p.metadata!.deletionTimestamp).map((p) => p.metadata!.name);
    expect(pods).not.toContain(victim.metadata!.name);
    return { before: before.endpoints, deleted: gone, after: after.endpoints };
  });
});

describe('Service — negative controls', () => {
  negativeControl('the Endpoints check fails, naming the empty set, for a Service whose selector matches nothing', 'service', async () => {
    const b = await backends(kube, s.workloadNs, 'selects-nothing', SEL, 80);
    const f = verifySet('endpoints', 'svc/selects-nothing', 'Endpoints', b.pods, b.endpoints);
    expect(f?.message).toMatch(/\[endpoints\] from the API to svc\/selects-nothing: expected Endpoints = ready pods \{.+\}, saw \{\} \(the empty set\)/);
  });
  negativeControl('the ClusterIP check fails for a Service without endpoints', 'service', () => {
    const o = fanouts.get(key(s.probes[0]))!.get('none')!;
    expect(verifyPage('service-from-pods', label(s.probes[0]), `selects-nothing ${none.spec!.clusterIP}:80`, o)?.message).toMatch(/expected the nginx welcome page, saw (fail|timeout)/);
  });
  negativeControl('the virtual-IP check fails for an address a node does hold', 'service', () => {
    const v = s.nodeViews[0];
    const nodeIP = s.facts.nodes.find((n) => n.name === v.node)!.internalIP;
    expect(verifyNotHeld('virtual-ip', label(v), nodeIP, fanouts.get(key(v))!.get('addrs')!.output)?.message).toMatch(/held by eth0/);
  });
});
