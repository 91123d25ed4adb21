// The engine's honesty rules and the new verdicts, on outputs captured from the live cluster
// (specs/unit/fixtures): the answering pod must be the pod asked, Service traffic must come from
// exactly the Ready pods, a probe that did not run is never a pass, a control whose check failed is
// "not meaningful", a broken cluster reads as one cause, the safety-net control uses the check's own
// verdict, pods that cannot start are recognised at once, facts come from what pods see.
import { describe, it, expect } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { verifyServedBy } from '../../src/verdicts/http.js';
import { parseFanout, type ProbeOutput } from '../../src/probes/batch.js';
import { verifyTraffic } from '../../src/catalogue/services.js';
import { safetyNetAsks, verifyUnrouted, type RouteAsk } from '../../src/catalogue/nodes.js';
import { outputsOf } from '../../src/engine/outputs.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import type { FanoutResult } from '../../src/workload/fanout.js';
import { likelyCause, markNotMeaningful } from '../../src/catalogue/cause.js';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { cannotStart } from '../../src/workload/pods.js';
import { sampleNodes, type ProbeRef } from '../../src/workload/setup.js';
import { clusterDnsServers, domainFromResolvConf, NODELOCAL_DNS_IP, type NodeFacts } from '../../src/cluster/facts.js';
import type { CheckRecord, Observations } from '../../src/catalogue/types.js';
import { capturedFanout, fixtureText } from './fixture-files.js';

const fan = (() => {
  const f = capturedFanout('probe');
  return parseFanout(f.stdout, f.probes);
})();
const who = fan.get('whoami')!; // "client=10.244.1.22 server=whoami", captured
const FROM = 'pod knc-fixtures/probe on kube-netcheck-worker2';
const defs = new Map(CATALOGUE.map((c) => [c.id, c]));

describe('the answering pod is the one asked', () => {
  it('passes only when /whoami names the target pod', () => {
    expect(verifyServedBy('pod-ip-cross-node', FROM, 'whoami 10.244.2.21:80', 'whoami', who)).toBeUndefined();
    expect(verifyServedBy('pod-ip-cross-node', FROM, 'web-1 10.244.2.21:80', 'web-1', who)?.message).toBe(
      `[pod-ip-cross-node] from ${FROM} to web-1 10.244.2.21:80: expected an answer from pod web-1, saw server=whoami\n  probe: ${who.command}`,
    );
  });
  it('an nginx welcome page is not an answer from a named pod', () => {
    expect(verifyServedBy('x', FROM, 'whoami', 'whoami', fan.get('page')!)?.message).toMatch(/expected an answer from pod whoami, saw ok \(exit 0/);
  });
});

describe('Service traffic after a change', () => {
  const t = (servers: Record<string, number>, unanswered: string[] = []) => ({ servers, unanswered, requests: 24, attempts: 3 });
  it('exactly the Ready pods, every request answered', () => {
    expect(verifyTraffic('svc', 'my-nginx 10.96.0.5:80', ['a', 'b'], t({ a: 12, b: 12 }))).toBeUndefined();
  });
  it('a removed pod still answering, a new pod never answering, or a lost request each fail, by name', () => {
    expect(verifyTraffic('svc', 'ip', ['b', 'c'], t({ a: 3, b: 21 }), ['a'])?.message).toBe(
      '[svc] from probe pods (24 requests of their last rounds, 3 rounds) to ip: expected answers from exactly {b, c}, saw {"a":3,"b":21}; removed pods still answering: {a}; never answered: {c}',
    );
    expect(verifyTraffic('svc', 'ip', ['b'], t({ b: 23 }, ['pod x: exit 1 "wget: can\'t connect"']))?.message).toMatch(
      /saw \{"b":23\}; 1 unanswered \(pod x: exit 1/,
    );
  });
  it('an empty want never passes', () => {
    expect(verifyTraffic('svc', 'ip', [], t({}))).toBeDefined();
  });
});

describe('no empty passes', () => {
  const from: ProbeRef = { namespace: 'ns', pod: 'probe-0', node: 'n1', ip: '10.0.0.1', hostNetwork: false };
  it('an output of an exec that failed is a "not run" failure, never a value', () => {
    const f: FanoutResult = {
      outputs: new Map(),
      errors: new Map([['probe-0@ns', 'exec ["sh"] in pod ns/probe-0: timed out after 30000ms']]),
      execs: 1,
      probes: 3,
    };
    expect(() => outputsOf(f, 'steady')(from, 'page-x')).toThrow(
      '[not-run] from pod ns/probe-0 on n1 to page-x: expected the probe to run, saw not run: the fan-out exec failed: exec ["sh"] in pod ns/probe-0: timed out after 30000ms',
    );
  });
  it('a probe nobody planned is not run either', () => {
    const f: FanoutResult = { outputs: new Map([['probe-0@ns', new Map<string, ProbeOutput>()]]), errors: new Map(), execs: 1, probes: 0 };
    expect(() => outputsOf(f, 'replaced')(from, 'svc-page')).toThrow(
      /not run: the fan-out exec failed: probe svc-page was not planned for this pod in phase replaced/,
    );
  });
});

describe('negative controls and the likely cause', () => {
  const rec = (id: string, status: CheckRecord['status'], error?: string): CheckRecord => {
    const c = defs.get(id)!;
    return { id, check: c.title, layer: c.layer, tags: c.tags, from: c.from, to: c.to, status, durationMs: 1, error };
  };
  it('a control whose check failed is skipped as not meaningful, with the reason; otherwise untouched', () => {
    const rows = markNotMeaningful(
      [
        rec('dns.matrix-udp', 'failed', 'x'),
        rec('dns.nx.negative', 'failed', 'y'),
        rec('pod-ip.cross-node', 'passed'),
        rec('pod-ip.unheld.negative', 'failed', 'z'),
      ],
      defs,
    );
    expect(rows[1]).toMatchObject({
      status: 'skipped',
      reason: `not meaningful: the check it controls ("${defs.get('dns.matrix-udp')!.title}") already failed on this cluster`,
    });
    expect(rows[1].error).toBeUndefined();
    expect(rows[3]).toMatchObject({ status: 'failed', error: 'z' });
  });
  it('the lowest failing layer is the cause; the rest are listed as also failed', () => {
    const c = likelyCause([
      rec('dns.matrix-udp', 'failed', '[dns] x\nmore'),
      rec('service.from-pods', 'failed', 's'),
      rec('coredns.service', 'failed', '[coredns] no Ready DNS pods'),
      rec('nodes.ready', 'passed'),
    ]);
    expect(c).toEqual({
      layer: 'coredns',
      check: defs.get('coredns.service')!.title,
      id: 'coredns.service',
      error: '[coredns] no Ready DNS pods',
      alsoFailed: [defs.get('dns.matrix-udp')!.title, defs.get('service.from-pods')!.title],
    });
    expect(likelyCause([rec('nodes.ready', 'passed')])).toBeUndefined();
    expect(
      likelyCause([
        rec(
          'pod-ip.cross-node',
          'failed',
          '2 failures:\n[pod-ip-cross-node] from a to b: expected x, saw y\n  probe: wget\n[pod-ip-cross-node] from c to d: expected x, saw z',
        ),
      ])!.error,
    ).toBe('2 failures, the first: [pod-ip-cross-node] from a to b: expected x, saw y');
  });
});

describe("the safety net judges (ask, output) pairs; its control runs the check's own verdict through mustFail", () => {
  const routed = fixtureText('ip-route-get-node-node-view.txt');
  const nodeAsk: RouteAsk = { range: '172.18.0.3/32', ip: '172.18.0.3', expect: 'no route' };
  it('asks an address well inside each range, expecting no route (as data)', () => {
    expect(safetyNetAsks(['10.244.0.0/16', '10.96.0.0/16'])).toEqual([
      { range: '10.244.0.0/16', ip: '10.244.0.7', expect: 'no route' },
      { range: '10.96.0.0/16', ip: '10.96.0.7', expect: 'no route' },
    ]);
  });
  it('routed (a node IP, captured) fails on its structured fields; unreachable passes', () => {
    const f = verifyUnrouted({ ask: nodeAsk, out: routed })!;
    expect(f.ctx).toMatchObject({ check: 'nodes.safety-net', from: 'the host', to: '172.18.0.3/32 (172.18.0.3)', expected: 'no route (unreachable)' });
    expect(f.ctx.seen).toMatch(/^routed via eth0: 172\.18\.0\.3 dev eth0 /);
    expect(verifyUnrouted({ ask: safetyNetAsks(['10.244.0.0/16'])[0], out: 'unreachable 10.244.0.7 table main\n' })).toBeUndefined();
  });
  it('the catalogue control passes on the captured route, and fails ("it passed") when the host does not route the address', () => {
    const control = CATALOGUE.find((c) => c.id === 'nodes.safety-net.negative')!;
    const observed = (out: string) => ({ gathered: { ask: nodeAsk, out } }) as unknown as Observations;
    expect(control.verify(observed(routed))).toEqual([expect.objectContaining({ check: 'nodes.safety-net', to: '172.18.0.3/32 (172.18.0.3)' })]);
    let failure: unknown;
    try {
      control.verify(observed('unreachable 172.18.0.3 table main\n'));
    } catch (err) {
      failure = err;
    }
    expect((failure as CheckFailure).ctx).toMatchObject({ check: 'negative-control', from: 'the host', to: '172.18.0.3', seen: 'it passed' });
  });
});

describe('pods that cannot start end the wait at once', () => {
  const pod = (waiting?: { reason: string; message?: string }, sched?: string, restartCount = 0): V1Pod => ({
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName: waiting ? 'worker' : undefined, containers: [] },
    status: {
      containerStatuses: waiting ? [{ name: 'c', image: 'nginx:9', imageID: '', ready: false, restartCount, state: { waiting } }] : [],
      conditions: sched ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: sched }] : [],
    },
  });
  it('names pod, node, image and reason', () => {
    expect(cannotStart(pod({ reason: 'ErrImageNeverPull', message: 'Container image "nginx:9" is not present with pull policy of Never' }))).toBe(
      'pod ns/p on node worker: ErrImageNeverPull for image nginx:9 (Container image "nginx:9" is not present with pull policy of Never)',
    );
    expect(cannotStart(pod({ reason: 'CrashLoopBackOff' }, undefined, 3))).toBe('pod ns/p on node worker: CrashLoopBackOff for image nginx:9 after 3 restarts');
    expect(cannotStart(pod(undefined, '0/3 nodes are available: 3 Insufficient cpu.'))).toBe(
      'pod ns/p on node (none): Unschedulable (0/3 nodes are available: 3 Insufficient cpu.)',
    );
    expect(cannotStart(pod({ reason: 'ContainerCreating' }))).toBeUndefined();
  });
  it('a transient start failure the kubelet retries does not end the wait; the same failure repeated does', () => {
    // the waiting state a probe pod showed in a `make test` run: runc failed once, the kubelet's retry started it
    const runc = {
      reason: 'RunContainerError',
      message:
        'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error setting cgroup config for procHooks process: unable to freeze: unknown',
    };
    expect(cannotStart(pod(runc, undefined, 0))).toBeUndefined();
    expect(cannotStart(pod(runc, undefined, 1))).toBeUndefined();
    expect(cannotStart(pod({ reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=c' }, undefined, 1))).toBeUndefined();
    expect(cannotStart(pod({ reason: 'CreateContainerError', message: 'context deadline exceeded' }, undefined, 0))).toBeUndefined();
    expect(cannotStart(pod(runc, undefined, 3))).toMatch(
      /^pod ns\/p on node worker: RunContainerError for image nginx:9 after 3 restarts \(failed to create containerd task: .*unable to start container process/,
    );
    // a missing image cannot recover: at once, whatever the count
    expect(cannotStart(pod({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:9"' }))).toBe(
      'pod ns/p on node worker: ImagePullBackOff for image nginx:9 (Back-off pulling image "nginx:9")',
    );
  });
});

describe('facts as pods see them', () => {
  it("the cluster domain and nameserver from a probe pod's resolv.conf (captured)", () => {
    expect(domainFromResolvConf(fixtureText('resolv-conf-probe.txt'), 'knc-fixtures')).toEqual({ domain: 'cluster.local', nameserver: '10.96.0.10' });
    expect(domainFromResolvConf('search a.svc.corp.internal svc.corp.internal corp.internal\nnameserver 169.254.20.10\n', 'a')).toEqual({
      domain: 'corp.internal',
      nameserver: '169.254.20.10',
    });
    expect(domainFromResolvConf(fixtureText('resolv-conf-node-view.txt'), 'knc-fixtures').domain).toBeUndefined();
  });
  it('NodeLocal DNSCache is recognised as the cluster DNS, any other nameserver is not', () => {
    expect(clusterDnsServers({ dnsServiceIP: '10.96.0.10', podNameserver: NODELOCAL_DNS_IP })).toEqual(['10.96.0.10', NODELOCAL_DNS_IP]);
    expect(clusterDnsServers({ dnsServiceIP: '10.96.0.10', podNameserver: '172.18.0.1' })).toEqual(['10.96.0.10']);
    // any link-local address the operator chose (Kubespray: 169.254.25.10), found in the pod's resolv.conf
    const kubespray = domainFromResolvConf('search a.svc.cluster.local svc.cluster.local cluster.local\nnameserver 169.254.25.10\noptions ndots:5\n', 'a');
    expect(clusterDnsServers({ dnsServiceIP: '10.233.0.3', podNameserver: kubespray.nameserver })).toEqual(['10.233.0.3', '169.254.25.10']);
    expect(clusterDnsServers({ dnsServiceIP: '10.96.0.10', podNameserver: '169.254.0.1' })).toEqual(['10.96.0.10', '169.254.0.1']);
    expect(clusterDnsServers({ dnsServiceIP: '10.96.0.10', podNameserver: '10.96.0.10' })).toEqual(['10.96.0.10']);
    for (const notLinkLocal of ['169.255.20.10', '169.254.256.1', '1169.254.2.1', '169.254.20']) {
      expect(clusterDnsServers({ dnsServiceIP: '10.96.0.10', podNameserver: notLinkLocal })).toEqual(['10.96.0.10']);
    }
  });
});

describe('--max-nodes: a stratified sample', () => {
  const n = (name: string, controlPlane = false): NodeFacts => ({ name, internalIP: '', podCIDRs: [], controlPlane, tainted: controlPlane });
  const all = [n('cp', true), n('w1'), n('w2'), n('w3'), n('w4')];
  it('keeps the nginx nodes (same node), a control plane and fills up to the budget', () => {
    expect(sampleNodes(all, ['w3', 'w4'], 3).map((x) => x.name)).toEqual(['cp', 'w3', 'w4']);
    expect(sampleNodes(all, ['w2', 'w2'], 3).map((x) => x.name)).toEqual(['cp', 'w1', 'w2']);
    expect(sampleNodes(all, ['w1', 'w4'], 2).map((x) => x.name)).toEqual(['w1', 'w4']);
  });
});
