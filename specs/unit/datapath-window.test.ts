// The Service datapath verdicts (src/verdicts/window.ts) on hold windows captured from the live
// default cluster (specs/unit/fixtures/samples-*.{txt,json}: the window's output and its arguments,
// the nginx pods and nodes of that run): every sample counts, the expected outcome is data.
import { describe, expect, it, test } from '@jest/globals';
import { parseSamples } from '../../src/probes/window.js';
import { tally, verifyCoverage, verifyWindow, type SampleExpectation, type WindowTally } from '../../src/verdicts/window.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { coverRequests, heldAddresses, kubeProxyNodePortAddresses, servePort, servesNodePortOn, withRequests } from '../../src/catalogue/datapath.js';
import type { CheckDef, Observations } from '../../src/catalogue/types.js';
import type { ProbeOutput } from '../../src/probes/batch.js';
import { fixtureText } from './fixture-files.js';

interface Sidecar {
  pod: string;
  node: string;
  argv: string[];
  exitCode: number;
  durationMs: number;
  nginx: string[];
  nginxNodes: Record<string, string>;
}
const load = (name: string) => {
  const meta = JSON.parse(fixtureText(`samples-${name}.json`)) as Sidecar;
  const out: ProbeOutput = {
    id: name,
    exitCode: meta.exitCode,
    output: fixtureText(`samples-${name}.txt`),
    durationMs: meta.durationMs,
    command: `sh -c <script> ${meta.argv.join(' ')}`,
  };
  return { meta, out };
};
const failure = (r: WindowTally | CheckFailure) => {
  if (!(r instanceof CheckFailure)) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.ctx;
};
const passed = (r: WindowTally | CheckFailure) => {
  if (r instanceof CheckFailure) throw new Error(r.message);
  return r;
};

describe('parseSamples', () => {
  test('a window with a gate: the gate and every sample, in order', () => {
    const w = parseSamples(load('hairpin').out.output);
    expect(w.gate).toEqual({ rc: 0, tries: 1, ms: 10 });
    expect(w.asked).toBe(16);
    expect(w.samples.map((s) => s.i)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(w.samples.every((s) => s.rc === 0 && s.server && s.client)).toBe(true);
  });
  test('killed requests (hairpin off) keep their exit code and what came back', () => {
    const w = parseSamples(load('hairpin-off').out.output);
    expect(w.gate).toBeUndefined();
    expect(w.samples.filter((s) => s.rc === 137).map((s) => s.i)).toEqual([4, 6, 11, 13, 18]);
    expect(w.samples.find((s) => s.i === 4)!.line).toBe('Killed');
  });
  test('not a window at all: throws', () => {
    expect(() => parseSamples('error: unable to upgrade connection: container not found')).toThrow(/no sample-window result/);
  });
});

describe('verifyWindow: answers', () => {
  test('hairpin: the nginx pod is answered by itself (masqueraded: the bridge address) and by the other pod', () => {
    const { meta, out } = load('hairpin');
    const t = passed(verifyWindow('service.hairpin', meta.pod, 'my-nginx', out, { kind: 'answer', requests: 16, want: meta.nginx }));
    expect(t.answered).toBe(16);
    expect(Object.keys(t.servers).sort()).toEqual(meta.nginx);
  });
  test("hairpin off on the pod's bridge port: fails naming the pod itself as never answering, and the lost requests", () => {
    const { meta, out } = load('hairpin-off');
    const self = meta.pod.split('/')[1];
    const f = failure(verifyWindow('service.hairpin', meta.pod, 'my-nginx', out, { kind: 'answer', requests: 24, want: meta.nginx }));
    expect(f.check).toBe('service.hairpin');
    expect(f.from).toBe(meta.pod);
    expect(f.seen).toContain(`never answered by {${self}}`);
    expect(f.seen).toMatch(/^\{"my-nginx-8545f4df96-hs4fj":19\}: 5 of 24 unanswered \(#4 exit 137 "Killed"/);
  });
  test('a fixed count: fewer samples than asked is a failure, never a pass', () => {
    const { meta, out } = load('hairpin');
    const f = failure(verifyWindow('service.hairpin', meta.pod, 'my-nginx', out, { kind: 'answer', requests: 20, want: meta.nginx }));
    expect(f.seen).toBe('16 samples of 20');
  });
  test('NodePort with the KUBE-NODEPORTS rule removed on the node: every request refused', () => {
    const { meta, out } = load('nodeport-off');
    const f = failure(
      verifyWindow('service.nodeport.from-nodes', meta.pod, 'worker 172.18.0.3:nodePort', out, { kind: 'answer', requests: 4, want: meta.nginx }),
    );
    expect(f.seen).toMatch(/^\{\}: 4 of 4 unanswered \(#1 exit 1 "wget: can't connect to remote host \(172\.18\.0\.3\): Connection refused"/);
    expect(f.command).toBe('sample window (src/probes/window.ts): 172.18.0.3 31981 /whoami 4 0 1 4  http');
  });
  test('a window whose gate never saw an answer says how long it asked', () => {
    const out: ProbeOutput = { id: 'g', exitCode: 0, output: 'KNC gate rc=1 tries=7 ms=10300\nKNC done samples=0\n', durationMs: 10400, command: 'x' };
    expect(failure(verifyWindow('c', 'a', 'b', out, { kind: 'answer', requests: 8, want: ['p'] })).seen).toBe(
      'no answer at all within the 10.3 s gate (7 tries, last exit 1)',
    );
  });
});

describe('verifyWindow: externalTrafficPolicy Local', () => {
  const local = (ips: string[]): SampleExpectation => ({
    kind: 'answer',
    requests: 6,
    want: ['my-nginx-8545f4df96-hs4fj'],
    clients: { ips, what: "the client node's addresses" },
  });
  test("answered only by the node's own pod, which sees the client node's address", () => {
    const { meta, out } = load('nodeport-local-answer');
    const t = passed(verifyWindow('service.nodeport.local', meta.pod, 'worker:npl', out, local(['172.18.0.4', '10.244.1.1'])));
    expect(t.clients).toEqual({ '172.18.0.4': 6 });
  });
  test('the same answers with the client address rewritten are a failure naming the address seen', () => {
    const { meta, out } = load('nodeport-local-answer');
    expect(failure(verifyWindow('service.nodeport.local', meta.pod, 'worker:npl', out, local(['172.18.0.9']))).seen).toContain(
      'the server saw client {172.18.0.4}',
    );
  });
  test('the Cluster twin asked the same way: the remote pod answers and the node rewrote the client', () => {
    const { meta, out } = load('nodeport-cluster-from-node');
    const f = failure(verifyWindow('service.nodeport.local', meta.pod, 'worker:np', out, { ...local(['172.18.0.4']), requests: 8 }));
    expect(f.seen).toBe(
      '{"my-nginx-8545f4df96-hs4fj":6,"my-nginx-8545f4df96-5bdtj":2}: answered by {my-nginx-8545f4df96-5bdtj}, not allowed; the server saw client {10.244.2.1, 172.18.0.3}',
    );
  });
  test('a node without a local endpoint: the gate (the Cluster twin answers there) passed, then 3 of 3 timed out', () => {
    const { meta, out } = load('nodeport-local-none');
    const t = passed(verifyWindow('service.nodeport.local', meta.pod, 'control-plane:npl', out, { kind: 'no-answer', requests: 3 }));
    expect(t).toMatchObject({ answered: 0, unanswered: 3, gate: { rc: 0 } });
    // and an answer there would be the failure
    const { out: answered } = load('nodeport-local-answer');
    expect(failure(verifyWindow('service.nodeport.local', meta.pod, 'control-plane:npl', answered, { kind: 'no-answer', requests: 6 })).seen).toMatch(
      /^6 of 6 answered/,
    );
  });
});

describe('verifyWindow: one backend (session affinity), UDP, a named port nothing has', () => {
  test("affinity: 8 answers from one pod pass; the same rule over the seed Service's spread answers fails", () => {
    const { meta, out } = load('affinity');
    const single: SampleExpectation = { kind: 'answer', requests: 8, want: [], allowed: meta.nginx, single: true };
    expect(Object.keys(passed(verifyWindow('service.session-affinity', meta.pod, 'knc-affinity', out, single)).servers)).toHaveLength(1);
    const { out: spread } = load('hairpin');
    expect(failure(verifyWindow('service.session-affinity', meta.pod, 'my-nginx', spread, { ...single, requests: 16 })).seen).toMatch(
      /answered by 2 different servers$/,
    );
  });
  test('UDP: every datagram answered by an echo pod, both echo pods among them', () => {
    const { meta, out } = load('udp');
    const pods = [...new Set(parseSamples(out.output).samples.map((s) => s.server!))].sort();
    expect(pods).toHaveLength(2);
    expect(passed(verifyWindow('service.udp', meta.pod, 'knc-udp', out, { kind: 'answer', requests: 12, want: pods })).answered).toBe(12);
    // answers from a pod that is not an echo pod are not allowed
    expect(failure(verifyWindow('service.udp', meta.pod, 'knc-udp', out, { kind: 'answer', requests: 12, want: [pods[0]] })).seen).toContain(
      `answered by {${pods[1]}}, not allowed`,
    );
  });
  test('a Service whose named targetPort no container has: 3 of 3 timed out', () => {
    const { meta, out } = load('badport');
    expect(failure(verifyWindow('service.multi-port', meta.pod, 'knc-badport', out, { kind: 'answer', requests: 3, want: meta.nginx })).seen).toMatch(
      /^\{\}: 3 of 3 unanswered \(#1 exit 1 "wget: download timed out"/,
    );
  });
});

describe('verifyCoverage', () => {
  test("over a source's windows: both pods answered somewhere; a pod that answered none is named", () => {
    const { meta } = load('nodeport-pod');
    const ts = ['nodeport-pod', 'nodeport-cluster-from-node'].map((n) => tally(parseSamples(load(n).out.output)));
    expect(verifyCoverage('service.nodeport.from-pods', meta.pod, 'every node', ts, meta.nginx)).toBeUndefined();
    const only = [tally(parseSamples(load('nodeport-local-answer').out.output))];
    expect(verifyCoverage('c', 'a', 'b', only, meta.nginx)?.ctx.seen).toBe(
      '{"my-nginx-8545f4df96-hs4fj":6} over 6 answers: never answered by {my-nginx-8545f4df96-5bdtj}',
    );
    expect(verifyCoverage('c', 'a', 'b', [], meta.nginx)).toBeInstanceOf(CheckFailure);
  });
});

describe('helpers', () => {
  test("heldAddresses: every address of a node view's `ip -o addr show`", () => {
    expect(heldAddresses(fixtureText('ip-addr-node-view.txt'))).toEqual([
      '127.0.0.1',
      '::1',
      '10.244.2.1',
      '172.18.0.2',
      'fc00:f853:ccd:e793::2',
      'fe80::42:acff:fe12:2',
    ]);
  });
  test('servePort: a port per run id, in 20000-29999, stable', () => {
    expect(servePort('rabc1234')).toBe(servePort('rabc1234'));
    for (const id of ['r0000000', 'rzzzzzzz', 'rj7kf3r7']) {
      expect(servePort(id)).toBeGreaterThanOrEqual(20000);
      expect(servePort(id)).toBeLessThan(30000);
    }
  });
});

describe("kube-proxy's nodePortAddresses (service.nodeport.*)", () => {
  // config.conf of the default kind cluster's kube-proxy ConfigMap (kubectl -n kube-system get cm kube-proxy), nodePortAddresses: null
  const conf = fixtureText('kube-proxy-config.conf');
  it('read from the ConfigMap (unset: every address), the flag winning over it', () => {
    expect(kubeProxyNodePortAddresses(conf, ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf'])).toEqual({
      addresses: [],
      source: "kube-proxy's ConfigMap (config.conf: nodePortAddresses not set)",
    });
    const set = conf.replace('nodePortAddresses: null', 'nodePortAddresses:\n- 172.18.0.0/16\n- fc00:f853::/64');
    expect(kubeProxyNodePortAddresses(set, []).addresses).toEqual(['172.18.0.0/16', 'fc00:f853::/64']);
    expect(kubeProxyNodePortAddresses(set, ['--nodeport-addresses=primary'])).toEqual({ addresses: ['primary'], source: 'kube-proxy --nodeport-addresses' });
    expect(kubeProxyNodePortAddresses(undefined, []).addresses).toEqual([]);
  });
  it('a node is asked only where kube-proxy serves NodePorts on its InternalIP', () => {
    expect(servesNodePortOn([], '172.18.0.3')).toBe(true);
    expect(servesNodePortOn(['primary'], '172.18.0.3')).toBe(true);
    expect(servesNodePortOn(['172.18.0.0/16'], '172.18.0.3')).toBe(true);
    expect(servesNodePortOn(['127.0.0.0/8', 'fc00:f853::/64'], '172.18.0.3')).toBe(false);
    expect(servesNodePortOn(['10.0.0.0/8'], '172.18.0.3')).toBe(false);
  });
});

describe('the requests a window check judged, in its record (results.json)', () => {
  const out = (output: string, id = 'w'): ProbeOutput => ({ id, exitCode: 0, output, durationMs: 1, command: 'sh -c …' });
  const windowOut = out(
    'KNC gate rc=0 tries=3 ms=400\nKNC sample=1 rc=0 client=10.244.1.5 server=a\nKNC sample=2 rc=0 client=10.244.1.5 server=b\nKNC done samples=2\n',
  );
  const def = (tags: string[], evidence: unknown): CheckDef =>
    ({ id: 'x', title: 'x', layer: 'service', tags, from: 'a', to: 'b', probes: () => [], verify: () => evidence }) as unknown as CheckDef;
  const obs = (outs: ProbeOutput[]) => ({ answers: () => outs.map((o) => ({ ask: {}, out: o })) }) as unknown as Observations;
  it('counts every sample of every window it judged (not the gate tries, not a non-window ask)', async () => {
    const c = withRequests(def(['service'], ['a -> b: 2/2 answered']));
    expect(await c.verify(obs([windowOut, windowOut, out('2: eth0    inet 10.244.1.5/24', 'addrs')]))).toEqual({
      requests: 4,
      windows: ['a -> b: 2/2 answered'],
    });
    expect(await withRequests(def(['service'], { nodePort: 30080 })).verify(obs([windowOut]))).toEqual({ requests: 2, nodePort: 30080 });
  });
  it('leaves negative controls and checks without windows as they are', async () => {
    expect(await withRequests(def(['service', 'negative-control'], ['x'])).verify(obs([windowOut]))).toEqual(['x']);
    expect(await withRequests(def(['service'], ['x'])).verify(obs([out('nothing')]))).toEqual(['x']);
  });
});

describe('requests per window where every endpoint must answer over few windows (a one-node cluster)', () => {
  it('one window of 8 to 2 pods missed one 1 time in 128 (seen live): enough requests that a miss is under 1e-6; three nodes keep the base', () => {
    const miss = (endpoints: number, n: number) => endpoints * (1 - 1 / endpoints) ** n;
    expect(miss(2, 8)).toBeCloseTo(1 / 128);
    expect(coverRequests(8, 2, 1)).toBe(24);
    expect(miss(2, coverRequests(8, 2, 1))).toBeLessThan(1e-6);
    expect(coverRequests(8, 2, 3)).toBe(8);
    expect(coverRequests(12, 2, 2)).toBe(12);
    expect(miss(3, coverRequests(8, 3, 1))).toBeLessThan(1e-6);
  });
});
