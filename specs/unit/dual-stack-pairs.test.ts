// The per-family checks (src/catalogue/dual-stack.ts) judge their own (ask, output) pairs (#14 item 3):
// each ask carries what it expects as data — a hold window to one ClusterIP ({ip, window, cover}),
// the interface that must hold the pod's IPv6 address, a DF ping over IPv6, the body's size and
// sha256 — and the verdicts receive (ask, output) pairs, never looking outputs up by probe id. The
// outputs are captured from live kind clusters: the dual-stack pod's `ip -o addr`/`ip -o link`
// (ip-addr-probe-dual, ip-link-probe-dual) and its IPv6 DF ping (df-ping-ipv6-dual, knc-dual,
// flannel host-gw), and hold windows from the default cluster (samples-nodeport-pod: 8 requests
// answered by two nginx pods; samples-nodeport-off: 4 refused).
import { describe, it, expect } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { CATALOGUE } from '../../src/catalogue/index.js';
import type { MtuAsk } from '../../src/catalogue/mtu.js';
import { PAYLOAD } from '../../src/probes/mtu.js';
import { judgeWindows } from '../../src/catalogue/dual-stack.js';
import type { Answer, Observations, ProbeAsk } from '../../src/catalogue/types.js';
import { failuresOf } from '../../src/catalogue/controls.js';
import type { ProbeOutput } from '../../src/probes/batch.js';
import type { ProbeRef, RunEnv } from '../../src/workload/setup.js';
import type { SampleExpectation } from '../../src/verdicts/window.js';
import { asProbeOutput } from './fixture-files.js';

const ref = (pod: string, node: string, ips: string[]): ProbeRef => ({ namespace: 'knc-dual-a', pod, node, ip: ips[0], ips, hostNetwork: false });
const A = ref('probe-1-knc-dual-worker', 'knc-dual-worker', ['10.244.2.11', 'fd00:10:244:2::b']);
const B = ref('probe-2-knc-dual-worker2', 'knc-dual-worker2', ['10.244.1.12', 'fd00:10:244:1::8']);
const nginx = (name: string, node: string, ips: string[]): V1Pod => ({
  metadata: { name, namespace: A.namespace },
  spec: { nodeName: node, containers: [] },
  status: { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
});
const N1 = nginx('my-nginx-8545f4df96-5bdtj', 'knc-dual-worker2', ['10.244.1.9', 'fd00:10:244:1::9']);
const N2 = nginx('my-nginx-8545f4df96-hs4fj', 'knc-dual-worker', ['10.244.2.9', 'fd00:10:244:2::9']);
const svc = (name: string, clusterIPs: string[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: clusterIPs[0], clusterIPs } });
const env = {
  probes: [A, B],
  otherProbe: { ...ref('probe-0-knc-dual-worker2', 'knc-dual-worker2', ['10.244.1.13', 'fd00:10:244:1::d']), namespace: 'knc-dual-b' },
  nginx: [N1, N2],
  nodes: [{ name: A.node }, { name: B.node }],
  objects: [svc('knc-prefer-dual', ['10.96.7.7', 'fd00:10:96::7b7'])],
  refused: {},
} as unknown as RunEnv;

const check = (id: string) => CATALOGUE.find((c) => c.id === id)!;
const observed = (answers: Answer[]) => ({ env, answers: () => answers }) as unknown as Observations;
const out = (name: string, id: string): ProbeOutput => asProbeOutput(name, id);

describe('mtu.ipv6 asks carry their expectation as data and are judged as pairs', () => {
  const asks = check('mtu.ipv6').probes!(env) as MtuAsk[];
  it("asks each pod for the interface holding its IPv6 address, and a DF ping over IPv6 to every other node's pod", () => {
    expect(asks.filter((a) => a.from === A).map((a) => [a.probe.id, a.expect, a.to])).toEqual([
      ['mtu-addr', { kind: 'addr', holds: 'fd00:10:244:2::b' }, 'its interface holding fd00:10:244:2::b'],
      ['mtu-link', { kind: 'link' }, 'its links'],
      ['df6-probe-2-knc-dual-worker2', { kind: 'df' }, 'pod knc-dual-a/probe-2-knc-dual-worker2 fd00:10:244:1::8 on knc-dual-worker2 (IPv6)'],
    ]);
    // the sender is the run's own probe pod (its primary address), the ping's source and target its IPv6 ones
    const df = asks.find((a) => a.from === A && a.expect?.kind === 'df')!;
    expect(df.probe.argv.join(' ')).toContain('ping -6');
    expect(df.probe.argv.join(' ')).toContain('fd00:10:244:1::8');
  });
  const mine = (over: Partial<Record<string, ProbeOutput>> = {}) =>
    asks
      .filter((a) => a.from === A)
      .map((ask) => ({
        ask,
        out:
          over[ask.expect!.kind] ??
          { addr: out('ip-addr-probe-dual', 'mtu-addr'), link: out('ip-link-probe-dual', 'mtu-link'), df: out('df-ping-ipv6-dual', ask.probe.id) }[
            ask.expect!.kind as 'addr' | 'link' | 'df'
          ],
      }));
  it('passes on the captured dual-stack outputs: eth0 mtu 1500 holds the IPv6 address; 1500 with DF answered, 1501 refused', () => {
    expect(check('mtu.ipv6').verify(observed(mine()))).toEqual({
      podMtus: { 'pod knc-dual-a/probe-1-knc-dual-worker on knc-dual-worker': 'eth0 mtu 1500' },
      pairs: [
        'pod knc-dual-a/probe-1-knc-dual-worker on knc-dual-worker -> pod knc-dual-a/probe-2-knc-dual-worker2 fd00:10:244:1::8 on knc-dual-worker2 (IPv6): mtu 1500 with DF answered, mtu+1 refused locally',
      ],
    });
  });
  it("fails on an IPv4-only address list: no interface holds the pod's IPv6 address (structured fields)", () => {
    const [f, ...rest] = failuresOf(() => check('mtu.ipv6').verify(observed(mine({ addr: out('ip-addr-probe', 'mtu-addr') }))));
    expect(rest).toHaveLength(0);
    expect(f.ctx).toMatchObject({ check: 'mtu.ipv6', from: `pod ${A.namespace}/${A.pod} on ${A.node}`, to: 'its interface holding fd00:10:244:2::b' });
    expect(f.ctx.seen).toMatch(/^no interface holds it/);
  });
  it('fails when the DF answer comes without any interface ask, and when there is no pair at all', () => {
    const [f] = failuresOf(() => check('mtu.ipv6').verify(observed(mine().filter((a) => a.ask.expect!.kind === 'df'))));
    expect(f.ctx).toMatchObject({ check: 'mtu.ipv6', seen: 'none' }); // no interface asked: nothing to hold the MTU against
    const [g] = failuresOf(() => check('mtu.ipv6').verify(observed(mine().filter((a) => a.ask.expect!.kind !== 'df'))));
    expect(g.ctx).toMatchObject({ check: 'mtu.ipv6', expected: 'at least one source → target pair' });
  });
});

describe('mtu.payload-cross-node.ipv6 asks expect the body as data', () => {
  it('asks each probe pod for the body from every nginx pod on another node, at its IPv6 address', () => {
    const asks = check('mtu.payload-cross-node.ipv6').probes!(env) as MtuAsk[];
    expect(asks.map((a) => [a.from.pod, a.to, a.expect?.kind])).toEqual([
      [A.pod, `my-nginx-8545f4df96-5bdtj [fd00:10:244:1::9]:80${PAYLOAD.path} on knc-dual-worker2 (IPv6)`, 'payload'],
      [B.pod, `my-nginx-8545f4df96-hs4fj [fd00:10:244:2::9]:80${PAYLOAD.path} on knc-dual-worker (IPv6)`, 'payload'],
    ]);
  });
});

describe('the per-family Service windows: one ask per source and ClusterIP, judged by ClusterIP', () => {
  type W = { ip: string; window: SampleExpectation; cover: string[] };
  const asks = check('service.prefer-dual-stack').probes!(env) as Array<ProbeAsk<W>>;
  it('asks every ClusterIP (both families) from every pod source, with the window and the pods to cover as data', () => {
    expect(asks.map((a) => `${a.from.pod}@${a.from.namespace} ${a.probe.id} -> ${a.to}`)).toEqual([
      'probe-1-knc-dual-worker@knc-dual-a ds-knc-prefer-dual-ipv4 -> knc-prefer-dual 10.96.7.7:80 (IPv4)',
      'probe-1-knc-dual-worker@knc-dual-a ds-knc-prefer-dual-ipv6 -> knc-prefer-dual fd00:10:96::7b7:80 (IPv6)',
      'probe-2-knc-dual-worker2@knc-dual-a ds-knc-prefer-dual-ipv4 -> knc-prefer-dual 10.96.7.7:80 (IPv4)',
      'probe-2-knc-dual-worker2@knc-dual-a ds-knc-prefer-dual-ipv6 -> knc-prefer-dual fd00:10:96::7b7:80 (IPv6)',
      'probe-0-knc-dual-worker2@knc-dual-b ds-knc-prefer-dual-ipv4 -> knc-prefer-dual 10.96.7.7:80 (IPv4)',
      'probe-0-knc-dual-worker2@knc-dual-b ds-knc-prefer-dual-ipv6 -> knc-prefer-dual fd00:10:96::7b7:80 (IPv6)',
    ]);
    expect(asks[1].expect).toEqual({
      ip: 'fd00:10:96::7b7',
      window: { kind: 'answer', requests: 6, want: [], allowed: [N1.metadata!.name, N2.metadata!.name] },
      cover: [N1.metadata!.name, N2.metadata!.name],
    });
  });
  // the captured window made 8 requests: the expectation (data) says so, the rest is the check's own
  const as8 = (a: ProbeAsk<W>): ProbeAsk<W> => ({ ...a, expect: { ...a.expect!, window: { ...a.expect!.window, requests: 8 } as SampleExpectation } });
  const answered = (a: ProbeAsk<W>) => ({ ask: as8(a), out: out('samples-nodeport-pod', a.probe.id) });
  it('passes on captured windows both nginx pods answered: evidence per ClusterIP, one line per source', () => {
    const ev = judgeWindows('service.prefer-dual-stack', asks.map(answered));
    expect(Object.keys(ev)).toEqual(['knc-prefer-dual 10.96.7.7:80 (IPv4)', 'knc-prefer-dual fd00:10:96::7b7:80 (IPv6)']);
    expect(ev['knc-prefer-dual fd00:10:96::7b7:80 (IPv6)']).toHaveLength(3);
    expect(ev['knc-prefer-dual fd00:10:96::7b7:80 (IPv6)'][0]).toBe(
      'pod knc-dual-a/probe-1-knc-dual-worker on knc-dual-worker: 8/8 answered {"my-nginx-8545f4df96-5bdtj":4,"my-nginx-8545f4df96-hs4fj":4}',
    );
  });
  it('fails, per ClusterIP, when a pod the ask names in `cover` never answered', () => {
    const third = (a: ProbeAsk<W>): ProbeAsk<W> =>
      a.expect!.ip === '10.96.7.7' ? a : { ...a, expect: { ...a.expect!, cover: [...a.expect!.cover, 'my-nginx-gone'] } };
    const fs = failuresOf(() =>
      judgeWindows(
        'service.prefer-dual-stack',
        asks.map((a) => ({ ...answered(a), ask: third(as8(a)) })),
      ),
    );
    expect(fs.map((f) => [f.ctx.from, f.ctx.to])).toEqual([['every probe pod', 'knc-prefer-dual fd00:10:96::7b7:80 (IPv6)']]);
    expect(fs[0].ctx.expected).toContain('my-nginx-gone');
  });
  it("a refused window fails the check from that source to that ClusterIP (structured fields), the other address's windows still judged", () => {
    const off = (a: ProbeAsk<W>, i: number) =>
      i === 1
        ? {
            ask: { ...a, expect: { ...a.expect!, window: { ...a.expect!.window, requests: 4 } as SampleExpectation } },
            out: out('samples-nodeport-off', a.probe.id),
          }
        : answered(a);
    const fs = failuresOf(() => judgeWindows('service.prefer-dual-stack', asks.map(off)));
    expect(fs.map((f) => [f.ctx.check, f.ctx.from, f.ctx.to])).toEqual([
      ['service.prefer-dual-stack', 'pod knc-dual-a/probe-1-knc-dual-worker on knc-dual-worker', 'knc-prefer-dual fd00:10:96::7b7:80 (IPv6)'],
    ]);
    expect(fs[0].ctx.seen).toMatch(/4 of 4 unanswered/);
  });
  it('no ask at all is a failure, never a pass', () => {
    expect(failuresOf(() => judgeWindows('service.prefer-dual-stack', []))[0].ctx.seen).toBe('none asked');
  });
});
