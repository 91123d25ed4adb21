// Service backends three ways — the ready selected pods, the Endpoints object, the
// EndpointSlices — as sorted "ip:port" sets, and a poll until all three agree.
import type { V1EndpointSlice, V1Endpoints, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { pollUntil } from '../util/poll.js';
import { isReady, listPods } from '../workload/pods.js';
import { CheckFailure } from './failure.js';

export const fmt = (set: string[]) => `{${set.join(', ')}}`;

/** The Ready pods among `pods` as sorted "ip:port" (one entry per pod: a count, not only a set). */
export function readyAddresses(pods: V1Pod[], port: number): string[] {
  return pods.filter(isReady).map((p) => `${p.status!.podIP}:${port}`).sort();
}

export async function readyPodSet(kube: Kube, ns: string, selector: string, port: number): Promise<string[]> {
  return readyAddresses(await listPods(kube, ns, selector), port);
}

/**
 * An Endpoints object's ready addresses as sorted "ip:port"; with `portName`, only the port of
 * that name (a Service port's name, '' for an unnamed one).
 */
export function endpointsAddresses(ep: V1Endpoints | undefined, portName?: string): string[] {
  const wanted = (p: { name?: string }) => portName === undefined || (p.name ?? '') === portName;
  return (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).filter(wanted).map((p) => `${a.ip}:${p.port}`))).sort();
}

export async function endpointsSet(kube: Kube, ns: string, svc: string): Promise<string[]> {
  try {
    return endpointsAddresses(await kube.core.readNamespacedEndpoints({ name: svc, namespace: ns }));
  } catch (err) {
    if ((err as { code?: number }).code === 404) return [];
    throw err;
  }
}

/**
 * EndpointSlices' ready endpoints as sorted "ip:port"; with `portName`, only the port of that name
 * (a Service port's name, '' for an unnamed one).
 */
export function sliceAddresses(slices: V1EndpointSlice[], portName?: string): string[] {
  const wanted = (p: { name?: string }) => portName === undefined || (p.name ?? '') === portName;
  return slices
    .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses.flatMap((a) => (s.ports ?? []).filter(wanted).map((p) => `${a}:${p.port}`))))
    .sort();
}

export async function sliceSet(kube: Kube, ns: string, svc: string): Promise<string[]> {
  const slices = await kube.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${svc}` });
  return sliceAddresses(slices.items);
}

export function verifySet(check: string, to: string, what: string, expected: string[], seen: string[]): CheckFailure | undefined {
  if (expected.join() === seen.join()) return undefined;
  return new CheckFailure({ check, from: 'the API', to, expected: `${what} = ready pods ${fmt(expected)}`, seen: seen.length ? fmt(seen) : '{} (the empty set)' });
}

export interface Backends {
  pods: string[];
  endpoints: string[];
  slices: string[];
}

export async function backends(kube: Kube, ns: string, svc: string, selector: string, port: number): Promise<Backends> {
  const [pods, endpoints, slices] = await Promise.all([readyPodSet(kube, ns, selector, port), endpointsSet(kube, ns, svc), sliceSet(kube, ns, svc)]);
  return { pods, endpoints, slices };
}

/** Polls until Endpoints and EndpointSlices both equal the `want` ready pods (count `size`). */
export async function waitBackends(kube: Kube, ns: string, svc: string, selector: string, port: number, size: number, timeoutMs = 60_000): Promise<Backends> {
  return pollUntil({
    what: `Endpoints and EndpointSlices of ${ns}/${svc} to list exactly the ${size} ready pods (${selector}) on port ${port}`,
    timeoutMs,
    intervalMs: 200,
    probe: () => backends(kube, ns, svc, selector, port),
    done: (b) => b.pods.length === size && b.endpoints.join() === b.pods.join() && b.slices.join() === b.pods.join(),
    describe: (b) => `ready pods ${fmt(b.pods)}, Endpoints ${fmt(b.endpoints)}, EndpointSlices ${fmt(b.slices)}`,
  });
}
