// The engine's two kinds of concurrency, as data: a lane of phases (the NetworkPolicy truth tables
// beside the workload's phases) and the fault lanes of a phase's negative controls.
import { describe, expect, it } from '@jest/globals';
import { PHASES, CATALOGUE } from '../../src/catalogue/index.js';
import { inFaultLanes, phaseChains } from '../../src/engine/run-suite.js';

describe('phase lanes', () => {
  it('the first two NetworkPolicy cases are one chain beside steady, cluster and the Service changes; the later cases and the policy phases wait for it, after the changes', () => {
    const chains = phaseChains(PHASES);
    const netpol = chains.find((c) => c[0].name === 'netpol-none')!;
    expect(netpol.map((p) => p.name)).toEqual(['netpol-none', 'netpol-deny-ingress']);
    expect(netpol[0].beside).toEqual(['steady', 'cluster', 'not-ready', 'replaced', 'scaled-3', 'scaled-1']);
    // every other phase is a chain of its own, in order; the later cases are not beside anything
    expect(chains.filter((c) => c !== netpol).every((c) => c.length === 1)).toBe(true);
    const order = chains.map((c) => c[0].name);
    expect(order.indexOf('netpol-deny-egress')).toBeGreaterThan(order.indexOf('scaled-1'));
    expect(order.indexOf('policy-deny')).toBeGreaterThan(order.indexOf('netpol-sctp'));
    expect(PHASES.find((p) => p.name === 'netpol-deny-egress')!.beside).toBeUndefined();
    expect(PHASES.find((p) => p.name === 'policy-deny')!.beside).toBeUndefined();
  });
  it('a lane ends where a phase of another lane, or none, comes', () => {
    const chains = phaseChains([
      { name: 'a', title: 'a', lane: 'x', beside: ['c'] },
      { name: 'b', title: 'b', lane: 'x' },
      { name: 'c', title: 'c' },
      { name: 'd', title: 'd', lane: 'x' },
    ]);
    expect(chains.map((c) => c.map((p) => p.name))).toEqual([['a', 'b'], ['c'], ['d']]);
  });
});

describe('fault lanes', () => {
  const at = () => Number(process.hrtime.bigint() / 1000n);
  async function schedule(faults: Array<{ id: string; faultLane?: string }>) {
    const spans: Record<string, [number, number]> = {};
    await inFaultLanes(faults, async (c) => {
      const s = at();
      await new Promise((r) => setTimeout(r, 40));
      spans[c.id] = [s, at()];
    });
    return spans;
  }
  const overlap = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];
  it('lanes run at the same time, one fault after another within a lane, the lane-less alone after every lane', async () => {
    const s = await schedule([
      { id: 'p1', faultLane: 'pods' },
      { id: 'n1', faultLane: 'nginx' },
      { id: 'p2', faultLane: 'pods' },
      { id: 'alone1' },
      { id: 'd1', faultLane: 'dns' },
      { id: 'alone2' },
    ]);
    expect(overlap(s.p1, s.n1)).toBe(true);
    expect(overlap(s.p1, s.d1)).toBe(true);
    expect(overlap(s.p1, s.p2)).toBe(false);
    expect(s.p2[0]).toBeGreaterThanOrEqual(s.p1[1]);
    const lanesEnd = Math.max(s.p2[1], s.n1[1], s.d1[1]);
    expect(s.alone1[0]).toBeGreaterThanOrEqual(lanesEnd);
    expect(s.alone2[0]).toBeGreaterThanOrEqual(s.alone1[1]);
  });
  it('every steady negative control that changes a node names its lane, and the lanes are the claims the catalogue writes', () => {
    const steadyFaults = CATALOGUE.filter((c) => c.fault && (c.phase ?? 'steady') === 'steady');
    expect(steadyFaults.length).toBeGreaterThan(10);
    const byLane: Record<string, string[]> = {};
    for (const c of steadyFaults) (byLane[c.faultLane ?? '(alone)'] ??= []).push(c.id);
    expect(Object.keys(byLane).sort()).toEqual(['(alone)', 'hostport', 'nginx', 'target-pods', 'udp']);
    // the one that drops every IPv6 packet of a probe pod matches too much to share the time with any other
    expect(byLane['(alone)']).toEqual(['service.single-stack.ipv6.negative']);
    expect(byLane.nginx).toEqual(expect.arrayContaining(['service.spread.lossy-endpoint.negative', 'service.hairpin.negative', 'mtu.pmtu-blackhole.negative']));
  });
});
