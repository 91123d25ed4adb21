// The grading verdicts on hand-made observations: the reference solution passes everything, each
// seeded mistake fails exactly its items (the same sets the selftest spec asserts on the live
// cluster), the detail line says what was seen, and the Deployment's pods are the ones it owns
// (ownerReferences), not whatever carries its labels.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { V1Deployment, V1EndpointSlice, V1Endpoints, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import {
  CHECK_IDS,
  deploymentPods,
  dnsNames,
  evaluate,
  ownedPods,
  resolveTargetPort,
  rolloutDone,
  SEED_LAB,
  selects,
  type CheckId,
  type Observation,
} from '../../src/grade/verdicts.js';
import { planProbes } from '../../src/grade/observe.js';
import { parseSamples, sampled } from '../../src/probes/samples.js';
import { httpProbe } from '../../src/probes/http.js';
import type { ProbeOutput } from '../../src/probes/batch.js';

const NS = 'student';
const CLUSTER_IP = '10.96.12.34';
const DNS_IP = '10.96.0.10';
const IPS = ['10.244.1.5', '10.244.2.7', '10.244.1.6'];
const STRAY_IP = '10.244.2.99';
const DEPLOY_UID = 'uid-deploy';
const RS_UID = 'uid-rs-1';

const controller = (kind: string, name: string, uid: string) => [
  { apiVersion: kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1', kind, name, uid, controller: true, blockOwnerDeletion: true },
];
const deployment = (): V1Deployment => ({
  metadata: { name: 'my-nginx', namespace: NS, uid: DEPLOY_UID },
  spec: {
    replicas: 2,
    selector: { matchLabels: { run: 'my-nginx' } },
    template: {
      metadata: { labels: { run: 'my-nginx' } },
      spec: { containers: [{ name: 'my-nginx', image: 'nginx', ports: [{ name: 'http', containerPort: 80 }] }] },
    },
  },
});
const replicaSet = (name = 'my-nginx-abc', uid = RS_UID, ownerUid = DEPLOY_UID, revision?: string): V1ReplicaSet => ({
  metadata: {
    name,
    namespace: NS,
    uid,
    ownerReferences: controller('Deployment', 'my-nginx', ownerUid),
    ...(revision ? { annotations: { 'deployment.kubernetes.io/revision': revision } } : {}),
  },
  spec: { selector: { matchLabels: { run: 'my-nginx' } } },
});
/** A pod of the Deployment (through ReplicaSet `rsUid`). */
const pod = (i: number, labels: Record<string, string> = { run: 'my-nginx' }, ready = true, rsUid = RS_UID): V1Pod => ({
  metadata: {
    name: `my-nginx-abc-${i}`,
    namespace: NS,
    labels: { ...labels, 'pod-template-hash': 'abc' },
    ownerReferences: controller('ReplicaSet', 'my-nginx-abc', rsUid),
  },
  status: { phase: 'Running', podIP: IPS[i], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
/** A bare pod with the lab's labels that the Deployment does not own. */
const stray = (labels: Record<string, string> = { run: 'my-nginx' }, name = 'stray', ip = STRAY_IP): V1Pod => ({
  metadata: { name, namespace: NS, labels },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});
const service = (): V1Service => ({
  metadata: { name: 'my-nginx', namespace: NS },
  spec: { type: 'ClusterIP', clusterIP: CLUSTER_IP, selector: { run: 'my-nginx' }, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] },
});
const endpoints = (ips: string[], port = 80): V1Endpoints => ({
  metadata: { name: 'my-nginx' },
  subsets: ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port, protocol: 'TCP' }] }] : undefined,
});
/** An EndpointSlice of Service my-nginx, written by the EndpointSlice controller unless `manager` says otherwise. */
const slice = (ips: string[], manager = 'endpointslice-controller.k8s.io', port = 80): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: {
    name: `my-nginx-${manager.length}`,
    namespace: NS,
    labels: { 'kubernetes.io/service-name': 'my-nginx', 'endpointslice.kubernetes.io/managed-by': manager },
  },
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  ports: [{ name: 'http', port, protocol: 'TCP' }],
});
const out = (id: string, exitCode: number, output: string): ProbeOutput => ({ id, exitCode, output, durationMs: 5, command: id });
const PAGE = '<html><head><title>Welcome to nginx!</title></head></html>';
const ok = (id: string) => out(id, 0, PAGE);
const refused = (id: string) => out(id, 1, "wget: can't connect to remote host (10.96.12.34): Connection refused");
const dig = (name: string, status: string, a: string[] = [], server = DNS_IP) =>
  out(
    'dig',
    0,
    [
      `; <<>> DiG 9.20 <<>> +search ${name}`,
      `;; ->>HEADER<<- opcode: QUERY, status: ${status}, id: 1`,
      '',
      ...(a.length ? [';; ANSWER SECTION:', ...a.map((ip) => `${name}.svc.cluster.local. 30 IN A ${ip}`), ''] : []),
      `;; SERVER: ${server}#53(${server}) (UDP)`,
      '',
    ].join('\n'),
  );

/** The reference solution as the grader would observe it. */
function reference(): Observation {
  const pods = [pod(0), pod(1)];
  return {
    namespace: NS,
    expect: structuredClone(SEED_LAB),
    deployment: deployment(),
    replicaSets: [replicaSet()],
    pods,
    service: service(),
    endpoints: endpoints(IPS.slice(0, 2)),
    endpointSlices: [slice(IPS.slice(0, 2))],
    podHttp: new Map(pods.map((p) => [p.metadata!.name!, [ok('pod'), ok('pod'), ok('pod')]])),
    serviceHttp: [ok('svc'), ok('svc'), ok('svc')],
    endpointHttp: new Map(IPS.slice(0, 2).map((ip) => [`${ip}:80`, [ok('ep'), ok('ep'), ok('ep')]])),
    dns: dnsNames('my-nginx', NS, 'cluster.local').map((d) => ({ ...d, output: dig(d.name, 'NOERROR', [CLUSTER_IP]) })),
    clusterDomain: 'cluster.local',
    dnsServers: [DNS_IP],
    probeNamespace: 'knc-grade-r1234567',
  };
}

const TWO = IPS.slice(0, 2);
/** The Service's backends as Kubernetes keeps them for a selector: the Endpoints, the controller's EndpointSlice, each address answering. */
function setEndpoints(o: Observation, ips: string[], port = 80): void {
  o.endpoints = endpoints(ips, port);
  o.endpointSlices = [slice(ips, undefined, port)];
  o.endpointHttp = new Map(ips.map((ip) => [`${ip}:${port}`, [ok('ep')]]));
}
const failed = (o: Observation, checks: readonly CheckId[] = CHECK_IDS) => [...evaluate(o, checks)].filter(([, r]) => !r.passed).map(([c]) => c);
const detail = (o: Observation, c: CheckId) => evaluate(o, [c]).get(c)!.detail;

describe('seeded mistakes fail exactly their items', () => {
  it('the reference solution passes every check', () => {
    expect(failed(reference())).toEqual([]);
    expect(detail(reference(), 'endpoints')).toBe(
      'Endpoints and EndpointSlices {10.244.1.5:80, 10.244.2.7:80}: the 2 Ready pods of Deployment my-nginx on port 80',
    );
    expect(detail(reference(), 'service-selector')).toBe('selector {run=my-nginx} selects exactly the 2 pods of Deployment my-nginx');
    expect(detail(reference(), 'dns-fqdn')).toBe(`my-nginx.${NS}.svc.cluster.local -> ${CLUSTER_IP}`);
  });

  it('an empty namespace fails every check', () => {
    const o: Observation = {
      ...reference(),
      deployment: undefined,
      replicaSets: [],
      pods: [],
      service: undefined,
      endpoints: undefined,
      podHttp: new Map(),
      serviceHttp: undefined,
    };
    o.dns = o.dns.map((d) => ({ ...d, output: dig(d.name, 'NXDOMAIN') }));
    expect(failed(o)).toEqual([...CHECK_IDS]);
    expect(detail(o, 'dns-svc-ns')).toBe(`my-nginx.${NS}: NXDOMAIN [] from server ${DNS_IP} (no Service my-nginx in namespace ${NS})`);
  });

  it('wrong pod label (app=my-nginx): pod-labels, service-selector, endpoints, service-http', () => {
    const o = reference();
    o.deployment!.spec!.selector = { matchLabels: { app: 'my-nginx' } };
    o.deployment!.spec!.template.metadata!.labels = { app: 'my-nginx' };
    o.pods = [pod(0, { app: 'my-nginx' }), pod(1, { app: 'my-nginx' })];
    setEndpoints(o, []);
    o.serviceHttp = [refused('svc')];
    expect(failed(o)).toEqual(['pod-labels', 'service-selector', 'endpoints', 'service-http']);
    expect(detail(o, 'pod-labels')).toBe('expected pod labels {run=my-nginx}; the pod template has {app=my-nginx}');
    expect(detail(o, 'service-selector')).toBe("selector {run=my-nginx} does not match the Deployment's pod labels {app=my-nginx}");
    expect(detail(o, 'endpoints')).toBe(
      'expected Endpoints {10.244.1.5:80, 10.244.2.7:80} (the 2 Ready pods of Deployment my-nginx); saw {} (the empty set): missing: 10.244.1.5:80 (pod my-nginx-abc-0), 10.244.2.7:80 (pod my-nginx-abc-1)',
    );
  });

  it('wrong containerPort (8080, nginx still on 80): container-port only', () => {
    const o = reference();
    o.deployment!.spec!.template.spec!.containers[0].ports = [{ name: 'http', containerPort: 8080 }];
    expect(failed(o)).toEqual(['container-port']);
    expect(detail(o, 'container-port')).toBe('expected a container to declare containerPort 80/TCP; declared: my-nginx:8080/TCP');
  });

  it('wrong targetPort (8080): service-port, endpoints, service-http', () => {
    const o = reference();
    o.service!.spec!.ports![0].targetPort = 8080 as never;
    setEndpoints(o, TWO, 8080);
    o.serviceHttp = [refused('svc')];
    expect(failed(o)).toEqual(['service-port', 'endpoints', 'service-http']);
    expect(detail(o, 'service-port')).toBe('expected port 80 -> targetPort 80; the Service has 80/TCP->8080');
    expect(detail(o, 'endpoints')).toMatch(
      /saw \{10\.244\.1\.5:8080, 10\.244\.2\.7:8080\}: not the Deployment's Ready pods on port 80: 10\.244\.1\.5:8080 \(pod my-nginx-abc-0\), 10\.244\.2\.7:8080 \(pod my-nginx-abc-1\); missing: /,
    );
    // the HTTP verdict is src/verdicts/http.ts's verifyPage: its "expected …; saw <outcome> (exit …)" words
    expect(detail(o, 'service-http')).toMatch(
      /^my-nginx 10\.96\.12\.34:80: expected an HTTP answer; saw fail \(exit 1 after 5ms: "wget: can't connect .*Connection refused"\) \(1 of 1 samples failed\)$/,
    );
  });

  it('1 replica: replicas only (the Endpoints hold the one Ready pod)', () => {
    const o = reference();
    o.deployment!.spec!.replicas = 1;
    o.pods = [pod(0)];
    setEndpoints(o, [IPS[0]]);
    o.podHttp = new Map([[o.pods[0].metadata!.name!, [ok('pod')]]]);
    expect(failed(o)).toEqual(['replicas']);
    expect(detail(o, 'replicas')).toBe('expected 2 replicas, all Ready; saw spec.replicas=1, 1 of 1 pod of the Deployment Ready');
  });

  it('selector typo (run=my-ngnix): service-selector, endpoints, service-http', () => {
    const o = reference();
    o.service!.spec!.selector = { run: 'my-ngnix' };
    setEndpoints(o, []);
    o.serviceHttp = [out('svc', 137, '')];
    expect(failed(o)).toEqual(['service-selector', 'endpoints', 'service-http']);
    expect(detail(o, 'service-http')).toBe(
      'my-nginx 10.96.12.34:80: expected an HTTP answer; saw timeout (exit 137 after 5ms: "") (1 of 1 samples failed); the Service has no endpoint addresses on port 80',
    );
  });
});

describe("the Deployment's own pods (ownerReferences), not whatever carries the label", () => {
  it('ownedPods: Deployment → ReplicaSet → Pod by controller uid; labels, names and non-controller references play no part', () => {
    const d = deployment();
    const old = replicaSet('my-nginx-old', 'uid-rs-0');
    const foreign = replicaSet('my-nginx-xyz', 'uid-rs-9', 'uid-other-deploy'); // another Deployment's
    const notController: V1Pod = {
      ...pod(2, undefined, true, 'uid-rs-0'),
      metadata: {
        ...pod(2).metadata,
        name: 'adopted-not',
        ownerReferences: [{ ...controller('ReplicaSet', 'my-nginx-old', 'uid-rs-0')[0], controller: false }],
      },
    };
    const pods = [pod(0), pod(1, undefined, true, 'uid-rs-0'), pod(2, undefined, true, 'uid-rs-9'), notController, stray()];
    // a rollout: the pods of both live ReplicaSets of the Deployment are its pods
    expect(ownedPods(d, [replicaSet(), old, foreign], pods).map((p) => p.metadata!.ownerReferences![0].uid)).toEqual([RS_UID, 'uid-rs-0']);
    expect(ownedPods(d, [replicaSet()], pods)).toHaveLength(1);
    // a Deployment without a uid (never created) owns nothing; nor does one whose uid differs
    expect(ownedPods({ ...d, metadata: { name: 'my-nginx' } }, [replicaSet()], pods)).toEqual([]);
    expect(ownedPods({ ...d, metadata: { ...d.metadata, uid: 'uid-recreated' } }, [replicaSet()], pods)).toEqual([]);
    expect(ownedPods(undefined, [replicaSet()], pods)).toEqual([]);
    // a ReplicaSet being deleted no longer counts
    expect(ownedPods(d, [{ ...replicaSet(), metadata: { ...replicaSet().metadata, deletionTimestamp: new Date() } }], pods)).toEqual([]);
  });

  it('a stray bare Pod labelled run=my-nginx that the Service selects: service-selector and endpoints fail, the Deployment items neither gain nor lose', () => {
    const o = reference();
    o.pods = [pod(0), pod(1), stray()];
    setEndpoints(o, [...TWO, STRAY_IP]);
    expect(failed(o)).toEqual(['service-selector', 'endpoints']);
    expect(deploymentPods(o).map((p) => p.metadata!.name)).toEqual(['my-nginx-abc-0', 'my-nginx-abc-1']);
    expect(detail(o, 'replicas')).toBe(
      'spec.replicas=2, 2 of 2 pods of the Deployment Ready (not counted: 1 other pod labelled {run=my-nginx} that Deployment my-nginx does not own: stray)',
    );
    expect(detail(o, 'pod-labels')).toMatch(/^pod template and 2 pods of the Deployment labelled \{run=my-nginx\} \(not counted: 1 other pod/);
    expect(detail(o, 'service-selector')).toBe(
      'expected selector {run=my-nginx} to select exactly the 2 pods of Deployment my-nginx; it also selects pod stray {run=my-nginx}, which Deployment my-nginx does not own',
    );
    expect(detail(o, 'endpoints')).toBe(
      "expected Endpoints {10.244.1.5:80, 10.244.2.7:80} (the 2 Ready pods of Deployment my-nginx); saw {10.244.1.5:80, 10.244.2.7:80, 10.244.2.99:80}: not the Deployment's Ready pods on port 80: 10.244.2.99:80 (pod stray)",
    );
    // the stray is not asked over HTTP: pod-http is about the Deployment's pods
    expect([...planProbes(o, { podHttp: true, serviceHttp: false, dns: false }).podIds.values()]).toEqual(['my-nginx-abc-0', 'my-nginx-abc-1']);
  });

  it('a stray pod with the label that the Service does not select costs nothing: 100 %', () => {
    const o = reference();
    o.deployment!.spec!.template.metadata!.labels = { run: 'my-nginx', tier: 'web' };
    o.service!.spec!.selector = { run: 'my-nginx', tier: 'web' };
    o.pods = [pod(0, { run: 'my-nginx', tier: 'web' }), pod(1, { run: 'my-nginx', tier: 'web' }), stray()];
    expect(failed(o)).toEqual([]);
  });

  it('strays earn nothing: 1 replica plus a stray Ready pod still fails replicas, and the stray in the Endpoints fails endpoints', () => {
    const o = reference();
    o.deployment!.spec!.replicas = 1;
    o.pods = [pod(0), stray()];
    setEndpoints(o, [IPS[0], STRAY_IP]);
    o.podHttp = new Map([
      ['my-nginx-abc-0', [ok('pod')]],
      ['stray', [refused('pod')]],
    ]);
    expect(failed(o)).toEqual(['replicas', 'service-selector', 'endpoints']);
    expect(detail(o, 'replicas')).toMatch(
      /^expected 2 replicas, all Ready; saw spec\.replicas=1, 1 of 1 pod of the Deployment Ready \(not counted: 1 other pod/,
    );
    // another Deployment's pods with the same labels are strays too
    const other = reference();
    other.replicaSets.push(replicaSet('their-nginx-x', 'uid-rs-9', 'uid-other-deploy'));
    other.pods = [
      pod(0),
      pod(1),
      { ...pod(2, undefined, true, 'uid-rs-9'), metadata: { ...pod(2, undefined, true, 'uid-rs-9').metadata, name: 'their-nginx-x-0' } },
    ];
    setEndpoints(other, IPS);
    expect(failed(other)).toEqual(['service-selector', 'endpoints']);
    expect(detail(other, 'service-selector')).toMatch(/it also selects pod their-nginx-x-0 /);
  });

  it('scaled to 3: replicas fails; the Endpoints hold the 3 Ready pods of the Deployment, so endpoints passes', () => {
    const o = reference();
    o.deployment!.spec!.replicas = 3;
    o.pods = [pod(0), pod(1), pod(2)];
    setEndpoints(o, IPS);
    o.podHttp.set('my-nginx-abc-2', [ok('pod')]);
    expect(failed(o)).toEqual(['replicas']);
    expect(detail(o, 'endpoints')).toBe(
      'Endpoints and EndpointSlices {10.244.1.5:80, 10.244.1.6:80, 10.244.2.7:80}: the 3 Ready pods of Deployment my-nginx on port 80',
    );
  });

  it('the Endpoints need exactly as many addresses as the Deployment has Ready pods: one missing fails, and so does the same one twice', () => {
    const o = reference();
    setEndpoints(o, [IPS[0]]);
    expect(failed(o)).toEqual(['endpoints']);
    expect(detail(o, 'endpoints')).toMatch(/saw \{10\.244\.1\.5:80\}: missing: 10\.244\.2\.7:80 \(pod my-nginx-abc-1\)$/);
    o.endpoints = { metadata: { name: 'my-nginx' }, subsets: [{ addresses: [{ ip: IPS[0] }, { ip: IPS[0] }], ports: [{ name: 'http', port: 80 }] }] };
    expect(failed(o)).toEqual(['endpoints']);
    // a not-Ready pod of the Deployment is a backend missing: the Endpoints, and every reachability item, fail
    const notReady = reference();
    notReady.pods = [pod(0), pod(1, undefined, false)];
    setEndpoints(notReady, [IPS[0]]);
    expect(failed(notReady)).toEqual(['replicas', 'endpoints', 'pod-http', 'service-http']);
  });

  it("a Service selector that leaves out one of the Deployment's pods: service-selector and endpoints", () => {
    const o = reference();
    o.service!.spec!.selector = { run: 'my-nginx', tier: 'web' };
    o.deployment!.spec!.template.metadata!.labels = { run: 'my-nginx', tier: 'web' };
    // one pod relabelled by hand: it lost tier=web (still owned by the ReplicaSet)
    o.pods = [pod(0, { run: 'my-nginx', tier: 'web' }), pod(1, { run: 'my-nginx' })];
    setEndpoints(o, [IPS[0]]);
    expect(failed(o)).toEqual(['service-selector', 'endpoints']);
    expect(detail(o, 'service-selector')).toBe(
      "expected selector {run=my-nginx, tier=web} to select exactly the 2 pods of Deployment my-nginx; it leaves out the Deployment's pod my-nginx-abc-1 {run=my-nginx, pod-template-hash=abc}",
    );
  });

  it("endpoints reads the entries of the lab's Service port only (a second Service port is not an extra address)", () => {
    const o = reference();
    o.service!.spec!.ports!.push({ name: 'https', port: 443, targetPort: 443 as never, protocol: 'TCP' });
    o.endpoints = {
      metadata: { name: 'my-nginx' },
      subsets: [
        {
          addresses: TWO.map((ip) => ({ ip })),
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        },
      ],
    };
    expect(failed(o, ['endpoints'])).toEqual([]);
  });
});

describe('verdict details', () => {
  it('replicas: a pod not Ready fails it, and so does spec.replicas alone', () => {
    const o = reference();
    o.pods = [pod(0), pod(1, undefined, false)];
    expect(detail(o, 'replicas')).toBe('expected 2 replicas, all Ready; saw spec.replicas=2, 1 of 2 pods of the Deployment Ready');
    // the Endpoints hold the Ready pod only: consistent, but a pod of the Deployment is missing from the Service
    setEndpoints(o, [IPS[0]]);
    expect(failed(o)).toEqual(['replicas', 'endpoints', 'pod-http', 'service-http']);
    expect(detail(o, 'service-http')).toBe('expected every pod of Deployment my-nginx Ready behind the Service; pod my-nginx-abc-1 is Running, not Ready');
  });

  it('pod-labels: a pod relabelled by hand is named', () => {
    const o = reference();
    o.pods[1] = pod(1, { run: 'other' });
    expect(detail(o, 'pod-labels')).toBe('expected pod labels {run=my-nginx}; pod my-nginx-abc-1 has {run=other, pod-template-hash=abc}');
  });

  it('service-port: a missing port, a named targetPort, and an unresolvable name', () => {
    const o = reference();
    o.service!.spec!.ports = [{ port: 8080, targetPort: 80 as never }];
    expect(detail(o, 'service-port')).toBe('expected port 80/TCP; the Service has ports 8080/TCP->80');
    o.service!.spec!.ports = [{ port: 80, targetPort: 'http' as never }];
    expect(evaluate(o, ['service-port']).get('service-port')!.passed).toBe(true);
    o.service!.spec!.ports = [{ port: 80, targetPort: 'web' as never }];
    expect(detail(o, 'service-port')).toBe('expected port 80 -> targetPort 80; the Service has 80/TCP->web (targetPort "web" names no container port)');
  });

  it('service-selector: no selector selects nothing', () => {
    const o = reference();
    o.service!.spec!.selector = undefined;
    expect(detail(o, 'service-selector')).toBe(
      'the Service has no selector, so it selects no pods: Kubernetes keeps no Endpoints for it (hand-written Endpoints do not count)',
    );
  });

  it('endpoints: an extra address (not a pod of the namespace) fails it', () => {
    const o = reference();
    setEndpoints(o, [...TWO, '10.244.1.99']);
    expect(detail(o, 'endpoints')).toMatch(
      /saw \{10\.244\.1\.5:80, 10\.244\.1\.99:80, 10\.244\.2\.7:80\}: not the Deployment's Ready pods on port 80: 10\.244\.1\.99:80$/,
    );
  });

  it("a headless Service where the lab asks for a ClusterIP one; a headless lab's DNS", () => {
    const o = reference();
    o.service!.spec!.clusterIP = 'None';
    o.dns = o.dns.map((d) => ({ ...d, output: dig(d.name, 'NOERROR', TWO) }));
    // a headless Service is not the ClusterIP Service the lab asks for: every Service item says so
    expect(detail(o, 'service-http')).toBe('Service my-nginx is of type Headless; the lab asks for a ClusterIP Service with a selector');
    expect(failed(o)).toEqual(['service-port', 'service-selector', 'endpoints', 'service-http', 'dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn']);
    // a lab that asks for a headless Service: its names resolve to the Ready pods
    o.expect = { ...o.expect, serviceType: 'Headless' };
    expect(detail(o, 'dns-svc-ns-svc')).toBe(`my-nginx.${NS}.svc -> ${TWO.join(', ')} (the 2 Ready pods)`);
    o.dns[1].output = dig(o.dns[1].name, 'NOERROR', [IPS[0]]);
    expect(detail(o, 'dns-svc-ns-svc')).toMatch(
      /expected NOERROR from the cluster DNS 10\.96\.0\.10 with A \{10\.244\.1\.5, 10\.244\.2\.7\}; saw NOERROR \[10\.244\.1\.5\]/,
    );
  });

  it('DNS (the DNS matrix verdict verifyDig): an answer from another server fails; a NodeLocal DNSCache the probe pod was given passes; two A records fail', () => {
    const o = reference();
    o.dns[0].output = dig(o.dns[0].name, 'NOERROR', [CLUSTER_IP], '8.8.8.8');
    expect(detail(o, 'dns-svc-ns')).toBe(`my-nginx.${NS}: expected an answer from the cluster DNS ${DNS_IP}; saw NOERROR [${CLUSTER_IP}] from server 8.8.8.8`);
    o.dns[0].output = dig(o.dns[0].name, 'NOERROR', [CLUSTER_IP], '169.254.20.10');
    expect(failed(o, ['dns-svc-ns'])).toEqual(['dns-svc-ns']);
    o.dnsServers = [DNS_IP, '169.254.20.10'];
    expect(failed(o, ['dns-svc-ns'])).toEqual([]);
    o.dns[1].output = dig(o.dns[1].name, 'NOERROR', [CLUSTER_IP, '10.96.12.35']);
    expect(detail(o, 'dns-svc-ns-svc')).toBe(`my-nginx.${NS}.svc: expected A ${CLUSTER_IP}; saw NOERROR [${CLUSTER_IP}, 10.96.12.35] from server ${DNS_IP}`);
  });

  it('DNS: the FQDN form follows the cluster domain the probe pod saw', () => {
    const o = reference();
    o.clusterDomain = 'corp.internal';
    o.dns = dnsNames('my-nginx', NS, 'corp.internal').map((d) => ({ ...d, output: dig(d.name, 'NOERROR', [CLUSTER_IP]) }));
    expect(o.dns.map((d) => d.name)).toEqual([`my-nginx.${NS}`, `my-nginx.${NS}.svc`, `my-nginx.${NS}.svc.corp.internal`]);
    expect(failed(o, ['dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn'])).toEqual([]);
  });

  it("pod-http names the pod that did not answer, with the shared HTTP verdict's words", () => {
    const o = reference();
    o.podHttp.set('my-nginx-abc-1', [refused('pod')]);
    expect(detail(o, 'pod-http')).toMatch(
      /^expected every pod of the Deployment Ready and answering HTTP on port 80 in every sample; pod my-nginx-abc-1 10\.244\.2\.7:80: expected an HTTP answer; saw fail \(exit 1 after 5ms: .*Connection refused"\) \(1 of 1 samples failed\)$/,
    );
    o.podHttp.delete('my-nginx-abc-0');
    expect(detail(o, 'pod-http')).toMatch(/; pod my-nginx-abc-0 10\.244\.1\.5:80: not asked; pod my-nginx-abc-1 /);
  });

  it('a probe pod that could not be used fails the probe checks only, with the reason', () => {
    const o = { ...reference(), probeError: 'probe pod not Ready' };
    expect(failed(o)).toEqual(['pod-http', 'service-http', 'dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn']);
    expect(detail(o, 'dns-fqdn')).toBe('probe pod not Ready');
  });
});

describe('helpers', () => {
  it('selects: every selector label must match; an empty selector selects nothing', () => {
    expect(selects({ run: 'my-nginx' }, { run: 'my-nginx', x: 'y' })).toBe(true);
    expect(selects({ run: 'my-nginx', x: 'z' }, { run: 'my-nginx', x: 'y' })).toBe(false);
    expect(selects({}, { run: 'my-nginx' })).toBe(false);
    expect(selects(undefined, { run: 'my-nginx' })).toBe(false);
  });

  it('resolveTargetPort: number, numeric string, name, unset', () => {
    expect(resolveTargetPort(8080, 80, deployment())).toBe(8080);
    expect(resolveTargetPort('8080', 80, deployment())).toBe(8080);
    expect(resolveTargetPort('http', 80, deployment())).toBe(80);
    expect(resolveTargetPort('nope', 80, deployment())).toBeUndefined();
    expect(resolveTargetPort(undefined, 81, undefined)).toBe(81);
  });

  it('planProbes: HTTP to each pod IP, the ClusterIP and each endpoint address (sampled over the hold window), dig with the search path for each name form', () => {
    const o = reference();
    const { probes, podIds, endpointIds } = planProbes(o, { podHttp: true, serviceHttp: true, dns: true }, { samples: 4, gapS: 0.5 });
    expect(probes.map((p) => p.id)).toEqual(['pod-0', 'pod-1', 'svc', 'ep-0', 'ep-1', 'dns-0', 'dns-1', 'dns-2']);
    expect([...podIds]).toEqual([
      ['pod-0', 'my-nginx-abc-0'],
      ['pod-1', 'my-nginx-abc-1'],
    ]);
    expect([...endpointIds]).toEqual([
      ['ep-0', '10.244.1.5:80'],
      ['ep-1', '10.244.2.7:80'],
    ]);
    expect(probes[2]).toEqual(sampled(httpProbe('svc', CLUSTER_IP, 80), { samples: 4, gapS: 0.5 }));
    expect(probes[2].argv[2]).toContain(httpProbe('svc', CLUSTER_IP, 80).argv.join("' '"));
    expect(probes[7].argv).toEqual(expect.arrayContaining(['dig', '+search', `my-nginx.${NS}.svc.cluster.local`, 'A']));
    // no ClusterIP, no pod IPs: nothing to ask over HTTP
    const bare = planProbes(
      { ...o, pods: [], endpoints: undefined, service: { ...service(), spec: { ...service().spec, clusterIP: 'None' } } },
      { podHttp: true, serviceHttp: true, dns: false },
    );
    expect(bare.probes).toEqual([]);
  });

  it('sampled: every sample is run and framed (exit 0 only when all were), parseSamples splits them back (run with the local sh)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'knc-samples-'));
    try {
      const count = path.join(dir, 'n');
      // the 2nd of 3 samples fails: all 3 still run, the exit code is the failure's
      const p = sampled(
        { id: 'x', argv: ['sh', '-c', `echo . >>${count}; n=$(wc -l <${count}); echo "sample $n"; [ "$n" != 2 ] || exit 3`] },
        { samples: 3, gapS: 0.1 },
      );
      const r = await execa(p.argv[0], p.argv.slice(1), { reject: false });
      expect([r.exitCode, readFileSync(count, 'utf8')]).toEqual([3, '.\n.\n.\n']);
      const s = parseSamples({ id: 'x', exitCode: r.exitCode ?? -1, output: r.stdout, durationMs: 0, command: 'c' });
      expect(s.map((x) => [x.id, x.exitCode, x.output])).toEqual([
        ['x#1', 0, 'sample 1'],
        ['x#2', 3, 'sample 2'],
        ['x#3', 0, 'sample 3'],
      ]);
      const empty = sampled({ id: 'y', argv: ['true'] }, { samples: 2, gapS: 0 });
      const r2 = await execa(empty.argv[0], empty.argv.slice(1), { reject: false });
      expect(parseSamples({ id: 'y', exitCode: 0, output: r2.stdout, durationMs: 0, command: 'c' }).map((x) => [x.exitCode, x.output])).toEqual([
        [0, ''],
        [0, ''],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Gaming cases (issue 18, "Why"): each loses exactly the items it did not earn.
describe('not gameable', () => {
  const SERVICE_ITEMS: CheckId[] = ['service-port', 'service-selector', 'endpoints', 'service-http', 'dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn'];

  it('a Service with no selector plus hand-written Endpoints listing the pods loses every Service item', () => {
    const o = reference();
    o.service!.spec!.selector = undefined;
    // hand-written Endpoints: the mirroring controller copies them into a slice it manages, not the EndpointSlice controller
    o.endpointSlices = [slice(TWO, 'endpointslicemirroring-controller.k8s.io')];
    expect(failed(o)).toEqual(SERVICE_ITEMS);
    expect(detail(o, 'endpoints')).toMatch(/no selector/);
    expect(detail(o, 'service-http')).toMatch(/no selector/);
  });

  it('an ExternalName Service carrying a selector and a port plus hand-written Endpoints loses every Service item', () => {
    const o = reference();
    o.service!.spec = {
      type: 'ExternalName',
      externalName: 'example.invalid',
      selector: { run: 'my-nginx' },
      ports: [{ name: 'http', port: 80, targetPort: 80 as never, protocol: 'TCP' }],
    };
    o.endpointSlices = [];
    expect(failed(o)).toEqual(SERVICE_ITEMS);
    expect(detail(o, 'service-port')).toMatch(/type ExternalName.*ClusterIP/);
  });

  it('EndpointSlices not written by the EndpointSlice controller do not count', () => {
    const o = reference();
    o.endpointSlices = [slice(TWO, 'a-student')];
    expect(failed(o)).toEqual(['endpoints']);
    expect(detail(o, 'endpoints')).toMatch(/EndpointSlice/);
  });

  it('one of the two owned pods stuck Pending: replicas, endpoints, pod-http and service-http are lost', () => {
    const o = reference();
    const pending = pod(1, undefined, false);
    pending.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] };
    o.pods = [pod(0), pending];
    setEndpoints(o, [IPS[0]]);
    o.endpointSlices = [slice([IPS[0]])];
    o.podHttp = new Map([['my-nginx-abc-0', [ok('pod')]]]);
    o.endpointHttp = new Map([[`${IPS[0]}:80`, [ok('ep')]]]);
    expect(failed(o)).toEqual(['replicas', 'endpoints', 'pod-http', 'service-http']);
    expect(detail(o, 'pod-http')).toMatch(/pod my-nginx-abc-1 .*Pending/);
    expect(detail(o, 'endpoints')).toMatch(/my-nginx-abc-1.*not Ready/);
  });

  it('a Service with one dead endpoint of two: service-http fails whichever samples the ClusterIP happened to get', () => {
    const o = reference();
    // every ClusterIP sample happened to land on the live pod; the dead one is asked by itself
    o.serviceHttp = [ok('svc'), ok('svc'), ok('svc'), ok('svc'), ok('svc')];
    o.endpointHttp.set(`${IPS[1]}:80`, [ok('ep'), refused('ep'), refused('ep'), refused('ep'), refused('ep')]);
    expect(failed(o)).toEqual(['service-http']);
    expect(detail(o, 'service-http')).toMatch(/endpoint 10\.244\.2\.7:80 \(pod my-nginx-abc-1\): expected an HTTP answer; saw fail .*4 of 5 samples/);
  });

  it('every sample counts: one failed ClusterIP sample of five fails service-http, one failed pod sample fails pod-http', () => {
    const o = reference();
    o.serviceHttp = [ok('svc'), ok('svc'), refused('svc'), ok('svc'), ok('svc')];
    expect(failed(o)).toEqual(['service-http']);
    const p = reference();
    p.podHttp.set('my-nginx-abc-0', [ok('pod'), ok('pod'), ok('pod'), ok('pod'), refused('pod')]);
    expect(failed(p)).toEqual(['pod-http']);
    expect(detail(p, 'pod-http')).toMatch(/1 of 5 samples/);
  });

  it("a correct solution mid-rollout is judged on the Deployment's current ReplicaSet: the old revision's pods are not its pods", () => {
    const o = reference();
    // the template was fixed (run=my-nginx); revision 1's pod (labelled app=old) is still there, terminating later
    o.replicaSets = [replicaSet('my-nginx-old', 'uid-rs-0', DEPLOY_UID, '1'), replicaSet('my-nginx-abc', RS_UID, DEPLOY_UID, '2')];
    o.deployment!.metadata!.annotations = { 'deployment.kubernetes.io/revision': '2' };
    const old: V1Pod = {
      ...pod(2, { app: 'old' }, true, 'uid-rs-0'),
      metadata: { ...pod(2, { app: 'old' }, true, 'uid-rs-0').metadata, name: 'my-nginx-old-2' },
    };
    o.pods = [pod(0), pod(1), old];
    expect(deploymentPods(o).map((p) => p.metadata!.name)).toEqual(['my-nginx-abc-0', 'my-nginx-abc-1']);
    expect(failed(o)).toEqual([]);
    expect(rolloutDone(o.deployment!, o.replicaSets, o.pods)).toBe(false);
    expect(rolloutDone(o.deployment!, o.replicaSets, [pod(0), pod(1)])).toBe(true);
  });
});
