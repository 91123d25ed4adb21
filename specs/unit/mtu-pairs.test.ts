// The MTU layer's checks judge their own (ask, output) pairs (#14 item 3): each ask carries what it
// expects as data (the address an interface must hold, a DF ping of the sender's MTU, the body's
// size and sha256), and the catalogue's real checks plan the asks and judge outputs captured from
// the live kind cluster (specs/unit/fixtures/README-mtu-policy.md: pod 10.244.1.47 on
// kube-netcheck-worker asking pod 10.244.2.41 and nginx 10.244.2.40 on kube-netcheck-worker2).
// The negative controls go through mustFail on the failures' structured fields.
import { describe, it, expect } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { parseFanout, type Probe, type ProbeOutput } from '../../src/probes/batch.js';
import { PAYLOAD } from '../../src/probes/mtu.js';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { judgeMtuPairs, svcPayloadAsk, verifySvcPayloads, type MtuAnswer, type MtuAsk } from '../../src/catalogue/mtu.js';
import type { SteadyConvergence } from '../../src/catalogue/services.js';
import type { Answer, Observations, ProbeAsk } from '../../src/catalogue/types.js';
import { failuresOf } from '../../src/catalogue/controls.js';
import type { ProbeRef, RunEnv } from '../../src/workload/setup.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { fixtureText } from './fixture-files.js';

const fan = (name: string): Map<string, ProbeOutput> =>
  parseFanout(fixtureText(`fanout-${name}.stdout.txt`), JSON.parse(fixtureText(`fanout-${name}.probes.json`)) as Probe[]);
const captured = fan('mtu-probe');
const hole = fan('mtu-blackhole');

const ref = (pod: string, node: string, ip: string, namespace = 'knc-rfixmtu1-a'): ProbeRef => ({ namespace, pod, node, ip, hostNetwork: false });
const A = ref('probe-1-kube-netcheck-worker', 'kube-netcheck-worker', '10.244.1.47');
const B = ref('probe-2-kube-netcheck-worker2', 'kube-netcheck-worker2', '10.244.2.41');
const nginx: V1Pod = {
  metadata: { name: 'my-nginx-5676675fdb-75fx6', namespace: A.namespace },
  spec: { nodeName: 'kube-netcheck-worker2', containers: [] },
  status: { podIP: '10.244.2.40' },
};
const env = {
  probes: [A, B],
  otherProbe: ref('probe-2-kube-netcheck-worker2', 'kube-netcheck-worker2', '10.244.2.50', 'knc-rfixmtu1-b'),
  nginx: [nginx],
  nodes: [{ name: A.node }, { name: B.node }],
  nginxServiceIP: '10.96.20.30',
} as unknown as RunEnv;

const check = (id: string) => CATALOGUE.find((c) => c.id === id)!;
/** The captured output for an ask, by what it expects (the capture's probe ids are not the plan's). */
function capturedFor(a: MtuAsk, over: Partial<Record<string, string>> = {}): ProbeOutput {
  const e = a.expect!;
  const id = e.kind === 'addr' ? 'mtu-addr' : e.kind === 'link' ? 'mtu-link' : e.kind === 'df' ? 'df-peer' : a.probe.id === 'big-svc' ? 'big-svc' : 'big-pod';
  return captured.get(over[e.kind] ?? id)!;
}
/** Pod A's asks of the check (the capture is A's), each with A's captured output. */
function answersOf(id: string, over: Partial<Record<string, string>> = {}): MtuAnswer[] {
  return (check(id).probes!(env) as MtuAsk[]).filter((a) => a.from === A).map((ask) => ({ ask, out: capturedFor(ask, over) }));
}
const observed = (answers: Answer[], gathered?: unknown) => ({ env, answers: () => answers, gathered }) as unknown as Observations;

describe('MTU asks carry their expectation as data', () => {
  it('pod-interface asks each source for its address list (holding its own IP) and its link list', () => {
    const asks = check('mtu.pod-interface').probes!(env) as MtuAsk[];
    expect(asks.filter((a) => a.from === A).map((a) => [a.probe.id, a.expect])).toEqual([
      ['mtu-addr', { kind: 'addr', holds: '10.244.1.47' }],
      ['mtu-link', { kind: 'link' }],
    ]);
    expect(new Set(asks.map((a) => a.from.pod)).size).toBe(2); // A, B; the other namespace's pod shares B's name, not its namespace
  });
  it('df-cross-node asks every ordered pair of probe pods on different nodes, with the target as `to`', () => {
    const df = (check('mtu.df-cross-node').probes!(env) as MtuAsk[]).filter((a) => a.expect?.kind === 'df');
    expect(df.map((a) => `${a.from.node} -> ${a.to}`)).toEqual([
      'kube-netcheck-worker -> pod knc-rfixmtu1-a/probe-2-kube-netcheck-worker2 10.244.2.41 on kube-netcheck-worker2',
      'kube-netcheck-worker2 -> pod knc-rfixmtu1-a/probe-1-kube-netcheck-worker 10.244.1.47 on kube-netcheck-worker',
    ]);
  });
  it('the payload asks expect the body: size and sha256', () => {
    const big = check('mtu.payload-cross-node').probes!(env) as MtuAsk[];
    expect(big.map((a) => [a.from.pod, a.expect])).toEqual([[A.pod, { kind: 'payload', bytes: PAYLOAD.bytes, sha256: PAYLOAD.sha256 }]]);
  });
});

describe('the MTU verdicts judge (ask, output) pairs captured from the cluster', () => {
  it('healthy: the interface, the DF pair and both bodies pass with evidence per pair', () => {
    expect(check('mtu.pod-interface').verify(observed(answersOf('mtu.pod-interface')))).toEqual({
      [`pod ${A.namespace}/${A.pod} on ${A.node}`]: 'eth0 mtu 1500',
    });
    // the requests each verdict judged: a DF pair is two pings (MTU-sized answered, a byte over refused), a payload pair one fetch
    expect(check('mtu.df-cross-node').verify(observed(answersOf('mtu.df-cross-node')))).toEqual({
      requests: 2,
      pairs: [`pod ${A.namespace}/${A.pod} on ${A.node} -> pod ${B.namespace}/${B.pod} ${B.ip} on ${B.node}: mtu 1500 with DF answered, mtu+1 refused locally`],
    });
    expect(check('mtu.payload-cross-node').verify(observed(answersOf('mtu.payload-cross-node')))).toMatchObject({ requests: 1, pairs: [expect.any(String)] });
    // the ClusterIP body is asked once per source after the steady Service converged (gathered, not a steady-fan-out ask)
    const svc = svcPayloadAsk(env, A);
    const converged = { want: [], api: { settled: true }, proxy: { state: 'ok' }, convergedMs: 1 } as unknown as SteadyConvergence;
    expect(verifySvcPayloads(env, { converged, answers: [{ ask: svc, out: capturedFor(svc) }], errors: [] })).toEqual([
      expect.stringMatching(/-> my-nginx 10\.96\.20\.30:80\/big\/payload\.txt: 1288895 bytes, sha256 5af7b95208fdcff4… in \d+ms$/),
    ]);
  });
  it('no reply to the full-size packet fails the DF pair, on structured fields', () => {
    const [f] = failuresOf(() => check('mtu.df-cross-node').verify(observed(answersOf('mtu.df-cross-node', { df: 'df-unheld' }))));
    expect(f.ctx).toMatchObject({
      check: 'mtu.df-cross-node',
      from: `pod ${A.namespace}/${A.pod} on ${A.node}`,
      expected: expect.stringMatching(/^a reply to a 1500-byte packet/),
    });
    expect(f.ctx.seen).toMatch(/^no reply \(exit 1\): /);
  });
  it('a DF ask whose sender has no interface answer fails (its MTU is unknown), never passes', () => {
    const df = answersOf('mtu.df-cross-node').filter((a) => a.ask.expect?.kind === 'df');
    const [f] = failuresOf(() => judgeMtuPairs('mtu.df-cross-node', df, 'x'));
    expect(f.ctx.seen).toBe('no interface ask for the sender');
  });
  it('no pair at all is a failure naming why', () => {
    const [f] = failuresOf(() => check('mtu.payload-cross-node').verify(observed([])));
    expect(f.ctx).toMatchObject({
      check: 'mtu.payload-cross-node',
      expected: 'at least one source → target pair',
      seen: 'none: the cluster has a single node',
    });
  });
});

describe('the MTU negative controls: the check verdict must fail, asserted by mustFail on structured fields', () => {
  it('pod-interface.negative asks A for an interface holding B`s IP (the wrong expectation as data): the verdict fails naming the address list', () => {
    const asks = check('mtu.pod-interface.negative').probes!(env) as MtuAsk[];
    expect(asks.map((a) => [a.from.pod, a.expect])).toEqual([
      [A.pod, { kind: 'addr', holds: B.ip }],
      [A.pod, { kind: 'link' }],
    ]);
    const evidence = check('mtu.pod-interface.negative').verify(observed(asks.map((ask) => ({ ask, out: capturedFor(ask) })))) as Array<{ to: string }>;
    expect(evidence).toEqual([expect.objectContaining({ check: 'mtu.pod-interface', to: `its interface holding ${B.ip}` })]);
    // the same control on an address list that does hold the IP: the verdict passed, so the control fails
    const holding = asks.map((ask) => ({
      ask: { ...ask, expect: ask.expect?.kind === 'addr' ? { kind: 'addr', holds: A.ip } : ask.expect } as ProbeAsk,
      out: capturedFor(ask),
    }));
    const [f] = failuresOf(() => check('mtu.pod-interface.negative').verify(observed(holding)));
    expect(f.ctx).toMatchObject({ check: 'negative-control', seen: 'it passed' });
  });
  it('pmtu-blackhole.negative: the large body timed out under the black hole (captured) while the welcome page came', () => {
    const c = check('mtu.pmtu-blackhole.negative');
    const target = { pod: nginx.metadata!.name!, ip: '10.244.2.40', node: 'kube-netcheck-worker2', nginx: true };
    const to = `${target.pod} 10.244.2.40:80 on kube-netcheck-worker2`;
    const big: MtuAnswer = {
      ask: {
        from: A,
        probe: { id: 'bh-big', argv: [] },
        to: `${to}${PAYLOAD.path}`,
        expect: { kind: 'payload', bytes: PAYLOAD.bytes, sha256: PAYLOAD.sha256 },
      },
      out: hole.get('big-pod')!,
    };
    const page = { ask: { from: A, probe: { id: 'bh-page', argv: [] }, to, expect: { kind: 'page', target } }, out: hole.get('page')! };
    const ev = c.verify(observed([], { big, small: [page] })) as { largePayload: { check: string; seen: string } };
    expect(ev.largePayload).toMatchObject({ check: 'mtu.payload-cross-node', seen: expect.stringMatching(/^timeout after \d+ms: 0 of 1288895 bytes arrived/) });
    // healthy output under the "fault": the payload verdict passed, so the control fails
    const [f] = failuresOf(() => c.verify(observed([], { big: { ...big, out: captured.get('big-pod')! }, small: [page] })));
    expect(f).toBeInstanceOf(CheckFailure);
    expect(f.ctx).toMatchObject({ check: 'negative-control', seen: 'it passed' });
  });
  it('df-blackhole.negative: no reply to the full-size packet under the fault; a healthy reply fails the control', () => {
    const c = check('mtu.df-blackhole.negative');
    const ifaces = (c.probes!(env) as MtuAsk[]).map((ask) => ({ ask, out: capturedFor(ask) }));
    expect(ifaces.map((a) => a.ask.from.pod)).toEqual([A.pod, A.pod]);
    const df = answersOf('mtu.df-cross-node').find((a) => a.ask.expect?.kind === 'df')!;
    const ev = c.verify(observed(ifaces, { ...df, out: captured.get('df-unheld')! })) as Array<{ expected: string }>;
    expect(ev[0]).toMatchObject({ check: 'mtu.df-cross-node', expected: expect.stringMatching(/^a reply to a 1500-byte packet with DF set \(/) });
    const [f] = failuresOf(() => c.verify(observed(ifaces, df)));
    expect(f.ctx).toMatchObject({ check: 'negative-control', seen: 'it passed' });
  });
});
