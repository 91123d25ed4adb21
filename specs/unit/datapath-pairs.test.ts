// The datapath checks (src/catalogue/datapath.ts) judge their own (ask, output) pairs (#14 item 3):
// each window ask carries its expected outcome as data ({kind: 'window', window, toNode, …}), the
// node views' address lists are asks of their own, and the verdicts look nothing up by probe id.
// The catalogue's real checks plan the asks on an env built from the captured run's sidecars
// (specs/unit/fixtures/samples-*.json: run knc-rlimq16s on the default cluster) and judge the
// windows captured there.
import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { CATALOGUE } from '../../src/catalogue/index.js';
import type { DpAsk } from '../../src/catalogue/datapath.js';
import type { Answer, Observations } from '../../src/catalogue/types.js';
import { failuresOf } from '../../src/catalogue/controls.js';
import { NotApplicable } from '../../src/verdicts/failure.js';
import type { ProbeOutput } from '../../src/probes/batch.js';
import type { ProbeRef, RunEnv } from '../../src/workload/setup.js';
import { fixtureText } from './fixture-files.js';

const sidecar = JSON.parse(fixtureText('samples-nodeport-local-answer.json')) as { nginxNodes: Record<string, string>; nodes: string[] };
const nodes = sidecar.nodes.map((l) => ({ name: l.split(' ')[0], internalIP: l.split(' ')[1] }));
const nginx: V1Pod[] = Object.entries(sidecar.nginxNodes).map(([name, node]) => ({
  metadata: { name, namespace: 'knc-rlimq16s-a' },
  spec: { nodeName: node, containers: [] },
  status: { podIP: '10.244.9.9' },
}));
const view = (node: string, i: number): ProbeRef => ({ namespace: 'knc-rlimq16s-a', pod: `node-view-${i}-${node}`, node, ip: '172.18.0.9', hostNetwork: true });
const W2 = view('kube-netcheck-worker2', 2);
const probe0: ProbeRef = {
  namespace: 'knc-rlimq16s-a',
  pod: 'probe-0-kube-netcheck-control-plane',
  node: 'kube-netcheck-control-plane',
  ip: '10.244.0.17',
  hostNetwork: false,
};
const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const env = {
  nodes,
  nginx,
  nodeViews: [W2],
  probes: [probe0],
  otherProbe: { ...probe0, namespace: 'knc-rlimq16s-b' },
  objects: [
    svc('knc-nodeport-local', { clusterIP: '10.96.1.1', ports: [{ port: 80, nodePort: 30383 }] }),
    svc('knc-nodeport', { clusterIP: '10.96.1.2', ports: [{ port: 80, nodePort: 31981 }] }),
    svc('knc-affinity', { clusterIP: '10.96.142.210', ports: [{ port: 80 }] }),
  ],
  refused: {},
  facts: { nodes },
} as unknown as RunEnv;

const check = (id: string) => CATALOGUE.find((c) => c.id === id)!;
const samples = (name: string, id: string): ProbeOutput => ({
  id,
  exitCode: 0,
  output: fixtureText(`samples-${name}.txt`),
  durationMs: 0,
  command: `samples ${name}`,
});
/** kube-proxy's nodePortAddresses as the NodePort checks' gather reads them (the default cluster's: not set). */
const facts = (nodePortAddresses: string[] = []) => ({
  range: '30000-32767',
  rangeSource: 'the kube-apiserver default',
  nodePortAddresses,
  nodePortAddressesSource: nodePortAddresses.length
    ? "kube-proxy's ConfigMap (config.conf nodePortAddresses)"
    : "kube-proxy's ConfigMap (config.conf: nodePortAddresses not set)",
  multiAddress: [],
});
const observed = (answers: Answer[], gathered: unknown = facts()) => ({ env, answers: () => answers, gathered }) as unknown as Observations;
/** The failures of a verdict that may be async (the positive window checks add the requests they judged). */
async function failuresOfVerdict(run: () => unknown) {
  try {
    await run();
    return [];
  } catch (err) {
    return failuresOf(() => {
      throw err;
    });
  }
}

describe('service.nodeport.local: window asks with their expectation as data, the node views\u2019 addresses as asks', () => {
  const asks = check('service.nodeport.local').probes!(env) as DpAsk[];
  it("plans the node view's address list and one window per other node: answered by that node's pods, or not at all", () => {
    expect(asks.map((a) => [a.probe.id, a.to, a.expect])).toEqual([
      ['addrs', 'the addresses of node kube-netcheck-worker2', { kind: 'addrs' }],
      [
        'npl-kube-netcheck-control-plane',
        'kube-netcheck-control-plane InternalIP 172.18.0.2:30383 (Service knc-nodeport-local) (no local endpoint)',
        {
          kind: 'window',
          window: { kind: 'no-answer', requests: 3 },
          toNode: 'kube-netcheck-control-plane',
          row: 'kube-netcheck-control-plane InternalIP 172.18.0.2:30383 (Service knc-nodeport-local)',
          clientsOf: true,
        },
      ],
      [
        'npl-kube-netcheck-worker',
        'kube-netcheck-worker InternalIP 172.18.0.3:30383 (Service knc-nodeport-local) (local pods my-nginx-8545f4df96-hs4fj)',
        {
          kind: 'window',
          window: { kind: 'answer', requests: 6, want: ['my-nginx-8545f4df96-hs4fj'] },
          toNode: 'kube-netcheck-worker',
          row: 'kube-netcheck-worker InternalIP 172.18.0.3:30383 (Service knc-nodeport-local)',
          clientsOf: true,
        },
      ],
    ]);
  });
  const answers = (addrs: string | undefined) =>
    asks
      .filter((a) => a.expect?.kind !== 'addrs' || addrs)
      .map((ask) => ({
        ask,
        out:
          ask.expect?.kind === 'addrs'
            ? { id: 'addrs', exitCode: 0, output: fixtureText(`${addrs}.txt`), durationMs: 0, command: 'ip -o addr show' }
            : samples(ask.probe.id.endsWith('control-plane') ? 'nodeport-local-none' : 'nodeport-local-answer', ask.probe.id),
      }));
  it("judges the client address against the same source's address list: another node's list fails that window only (structured fields)", async () => {
    // the captured list (ip-addr-node-view) is of a node holding 172.18.0.2, not the asking node 172.18.0.4
    const fs = await failuresOfVerdict(() => check('service.nodeport.local').verify(observed(answers('ip-addr-node-view'))));
    expect(fs.map((f) => [f.ctx.check, f.ctx.from, f.ctx.to])).toEqual([
      [
        'service.nodeport.local',
        'node knc-rlimq16s-a/node-view-2-kube-netcheck-worker2 on kube-netcheck-worker2',
        'kube-netcheck-worker InternalIP 172.18.0.3:30383 (Service knc-nodeport-local) (local pods my-nginx-8545f4df96-hs4fj)',
      ],
    ]);
    expect(fs[0].ctx.seen).toContain('the server saw client {172.18.0.4}');
  });
  it('without the address list asked, the window that needs it fails (never a pass); the no-answer window still needs it too', async () => {
    const fs = await failuresOfVerdict(() => check('service.nodeport.local').verify(observed(answers(undefined))));
    expect(fs.map((f) => f.ctx.seen)).toEqual(['no addrs ask for this source', 'no addrs ask for this source']);
  });
  it('the grid rows come from the same pairs: the row text, the node asked, the expectation', () => {
    const m = check('service.nodeport.local').matrix!(observed(answers('ip-addr-node-view')));
    expect(m.datapath!.map((r) => [r.to, r.toNode, r.expected, r.answered, r.ok])).toEqual([
      ['kube-netcheck-control-plane InternalIP 172.18.0.2:30383 (Service knc-nodeport-local)', 'kube-netcheck-control-plane', 'no answer', 0, true],
      [
        'kube-netcheck-worker InternalIP 172.18.0.3:30383 (Service knc-nodeport-local)',
        'kube-netcheck-worker',
        'answers from my-nginx-8545f4df96-hs4fj',
        6,
        true,
      ],
    ]);
  });
});

describe("service.nodeport.local honours kube-proxy's nodePortAddresses (a node it serves no NodePort on is not judged)", () => {
  const asks = check('service.nodeport.local').probes!(env) as DpAsk[];
  const answers = asks.map((ask) => ({
    ask,
    out:
      ask.expect?.kind === 'addrs'
        ? { id: 'addrs', exitCode: 0, output: fixtureText('ip-addr-node-view.txt'), durationMs: 0, command: 'ip -o addr show' }
        : samples(ask.probe.id.endsWith('control-plane') ? 'nodeport-local-none' : 'nodeport-local-answer', ask.probe.id),
  }));
  it('only the served node is judged and drawn; the other is reported as not asked', async () => {
    const m = check('service.nodeport.local').matrix!(observed(answers, facts(['172.18.0.3/32'])));
    expect(m.datapath!.map((r) => r.toNode)).toEqual(['kube-netcheck-worker']);
    const fs = await failuresOfVerdict(() => check('service.nodeport.local').verify(observed(answers, facts(['172.18.0.3/32']))));
    // the captured address list is another node's: the served node's window still fails on it (judged), the unserved one is not
    expect(fs.map((f) => f.ctx.to)).toEqual([
      'kube-netcheck-worker InternalIP 172.18.0.3:30383 (Service knc-nodeport-local) (local pods my-nginx-8545f4df96-hs4fj)',
    ]);
  });
  it('served nodes without a local nginx pod, or no served node at all: not applicable, naming the setting and the nodes', async () => {
    const verdict = (npa: string[]) => Promise.resolve().then(() => check('service.nodeport.local').verify(observed(answers, facts(npa))));
    await expect(verdict(['172.18.0.2/32'])).rejects.toThrow(
      /^kube-proxy serves NodePorts only on 172\.18\.0\.2\/32 \(kube-proxy's ConfigMap \(config\.conf nodePortAddresses\)\): none of the nodes it serves has a local nginx pod \(not asked: kube-netcheck-worker 172\.18\.0\.3\)$/,
    );
    await expect(verdict(['127.0.0.0/8'])).rejects.toThrow(
      /: no probed node's InternalIP is among them \(kube-netcheck-control-plane 172\.18\.0\.2, kube-netcheck-worker 172\.18\.0\.3\)$/,
    );
    await expect(verdict(['127.0.0.0/8'])).rejects.toBeInstanceOf(NotApplicable);
  });
});

describe('service.session-affinity: one window per pod source, every answer by one backend', () => {
  it('passes on the captured affinity window from each source; a spread window fails with the structured fields', async () => {
    const asks = check('service.session-affinity').probes!(env) as DpAsk[];
    expect(asks.map((a) => [a.from.pod, a.to, a.expect?.kind])).toEqual([
      [probe0.pod, 'knc-affinity 10.96.142.210:80', 'window'],
      [probe0.pod, 'knc-affinity 10.96.142.210:80', 'window'],
    ]);
    const ok = (await check('service.session-affinity').verify(observed(asks.map((ask) => ({ ask, out: samples('affinity', 'affinity') }))))) as {
      backendsChosen: string;
    };
    expect(ok.backendsChosen).toBe('1 distinct backend(s) over 2 clients (clients on other nodes may differ)');
    const spread = { ...samples('nodeport-pod', 'affinity') };
    const fs = await failuresOfVerdict(() => check('service.session-affinity').verify(observed([{ ask: asks[0], out: spread }])));
    expect(fs.map((f) => [f.ctx.check, f.ctx.to])).toEqual([['service.session-affinity', 'knc-affinity 10.96.142.210:80']]);
    expect(fs[0].ctx.seen).toMatch(/answered by 2 different servers$/);
  });
});
