// The steady phase's wait before its windows (src/catalogue/services.ts settleRow): each Service of
// the run lists, in its EndpointSlices, exactly the Ready pods its selector picks. On pods,
// Services and EndpointSlices captured from a live run's workload namespace (the datapath twins
// beside my-nginx), at the moment the steady phase started.
import { fixtureText } from './fixture-files.js';
import { describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { rowSettled, settleRow, settledEvidence } from '../../src/catalogue/services.js';

const cap = JSON.parse(fixtureText('steady-services-settled.json')) as {
  svc: V1Service[];
  pods: V1Pod[];
  slices: V1EndpointSlice[];
};
const selected = (svc: V1Service, pods: V1Pod[]) =>
  pods.filter((p) => Object.entries(svc.spec!.selector ?? {}).every(([k, v]) => p.metadata?.labels?.[k] === v));
const rowOf = (name: string, pods = cap.pods, slices = cap.slices) => {
  const svc = cap.svc.find((s) => s.metadata!.name === name)!;
  return settleRow(svc, selected(svc, pods), slices);
};
const nginxIPs = cap.pods.filter((p) => p.metadata!.labels?.run === 'my-nginx').map((p) => p.status!.podIP!);

describe('steady settle: every Service of the run lists exactly its Ready pods before the windows', () => {
  it('on the captured namespace every selector Service is settled, the named-port twin whose targetPort names no port too', () => {
    for (const s of cap.svc.filter((x) => Object.keys(x.spec!.selector ?? {}).length)) {
      const { row } = rowOf(s.metadata!.name!);
      expect(row.want.length).toBeGreaterThan(0); // every Service of this capture selects pods
      expect(rowSettled(row)).toBe(true);
    }
    expect(rowOf('knc-badport').row.have.sort()).toEqual([...nginxIPs].sort());
    expect(rowOf('my-nginx').triggerS).toBeGreaterThan(1.7e9);
  });
  it("a slice that still lists one endpoint of two is not settled (a node's rules could hold one)", () => {
    const slices = cap.slices.map((s) =>
      s.metadata!.labels!['kubernetes.io/service-name'] === 'knc-multiport' ? { ...s, endpoints: (s.endpoints ?? []).slice(0, 1) } : s,
    );
    const { row } = rowOf('knc-multiport', cap.pods, slices);
    expect(rowSettled(row)).toBe(false);
    expect(row.have).toHaveLength(1);
    expect(row.want).toHaveLength(2);
    expect(settledEvidence({ settled: false, waitedMs: 15_000, services: [row], proxy: { state: 'ok', waitedMs: 0, nodes: [] } })).toMatch(
      /^NOT every Service listed its Ready pods: .*knc-multiport lists/,
    );
  });
  it('a pod not Ready is not wanted; a slice still listing it as ready is not settled', () => {
    const [first] = nginxIPs;
    const pods = cap.pods.map((p) =>
      p.status?.podIP === first ? { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } } : p,
    ) as V1Pod[];
    const { row } = rowOf('my-nginx', pods);
    expect(row.want).not.toContain(first);
    expect(rowSettled(row)).toBe(false);
  });
  it('a Service that selects no pod is settled when its slices list none (the no-endpoints Services), not when they list one', () => {
    expect(rowSettled(rowOf('my-nginx', [], []).row)).toBe(true);
    const { row } = rowOf('my-nginx', [], cap.slices);
    expect(row.want).toEqual([]);
    expect(row.have.length).toBeGreaterThan(0);
    expect(rowSettled(row)).toBe(false);
  });
});
