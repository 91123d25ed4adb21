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
  return pods
    .filter(isReady)
    .map((p) => `${p.status!.podIP}:${port}`)
    .sort();
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
    .flatMap((s) =>
      (s.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false)
        .flatMap((e) => e.addresses.flatMap((a) => (s.ports ?? []).filter(wanted).map((p) => `${a}:${p.port}`))),
    )
    .sort();
}

export async function sliceSet(kube: Kube, ns: string, svc: string): Promise<string[]> {
  const slices = await kube.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${svc}` });
  return sliceAddresses(slices.items);
}

export function verifySet(check: string, to: string, what: string, expected: string[], seen: string[]): CheckFailure | undefined {
  if (expected.join() === seen.join()) return undefined;
  return new CheckFailure({
    check,
    from: 'the API',
    to,
    expected: `${what} = ready pods ${fmt(expected)}`,
    seen: seen.length ? fmt(seen) : '{} (the empty set)',
  });
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

/** A pod the change should leave behind the Service, as the API shows it. */
export interface NamedPod {
  name: string;
  ip?: string;
  ready: boolean;
}

/** The Service's backends against the pods a change names: waited for, and what was seen last. */
export interface NamedBackends {
  /** Did Endpoints and EndpointSlices come to list exactly the named pods, each Ready? */
  settled: boolean;
  /** The pods that should be listed, in name order. */
  want: NamedPod[];
  endpoints: string[];
  slices: string[];
  /** Every selected pod's name by IP (to name what Endpoints list). */
  names: Record<string, string>;
  /** The latest `endpoints.kubernetes.io/last-change-trigger-time` of the Service's EndpointSlices (epoch s). */
  triggerS?: number;
  /**
   * The EndpointSlices were last written after this moment (epoch s): the start of the last poll
   * that saw them otherwise (other names or resourceVersions than the last poll) — undefined when
   * every poll saw them as they are now. A lower bound, finer than `triggerS` (whole seconds, and
   * none for a removed pod), on when a watcher such as kube-proxy received the state seen last.
   */
  writtenAfterS?: number;
  waitedMs: number;
  timeoutMs: number;
}

export const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

async function namedBackends(kube: Kube, ns: string, svc: string, selector: string, port: number, want: string[]) {
  const [pods, endpoints, slices] = await Promise.all([
    listPods(kube, ns, selector),
    endpointsSet(kube, ns, svc),
    kube.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${svc}` }),
  ]);
  const names: Record<string, string> = {};
  for (const p of pods) if (p.status?.podIP && !p.metadata?.deletionTimestamp) names[`${p.status.podIP}:${port}`] = p.metadata!.name!;
  const wanted: NamedPod[] = [...want].sort().map((name) => {
    const p = pods.find((x) => x.metadata?.name === name);
    return { name, ip: p?.status?.podIP, ready: !!p && isReady(p) };
  });
  const sliceAddrs = slices.items
    .flatMap((s) =>
      (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses.flatMap((a) => (s.ports ?? []).map((p) => `${a}:${p.port}`))),
    )
    .sort();
  const versions = slices.items
    .map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`)
    .sort()
    .join(',');
  return { want: wanted, endpoints, slices: sliceAddrs, names, versions, triggerS: latestTriggerS(slices.items) };
}

/** The latest last-change-trigger-time of some EndpointSlices (epoch s), or undefined when none carries one. */
export function latestTriggerS(slices: V1EndpointSlice[]): number | undefined {
  const triggers = slices.map((s) => Date.parse(s.metadata?.annotations?.[TRIGGER_TIME] ?? '')).filter((t) => !Number.isNaN(t));
  return triggers.length ? Math.max(...triggers) / 1000 : undefined;
}

/** The "ip:port" set the named pods should give (a pod without an IP yet gives none). */
export const wantAddresses = (b: Pick<NamedBackends, 'want'>, port: number) =>
  b.want
    .filter((p) => p.ip)
    .map((p) => `${p.ip}:${port}`)
    .sort();

/**
 * Polls until Endpoints and EndpointSlices list exactly the named pods' IP:port, every one of them
 * Ready; resolves (never rejects) with the last state seen and whether it settled by the deadline.
 */
export async function waitNamedBackends(
  kube: Kube,
  ns: string,
  svc: string,
  selector: string,
  port: number,
  want: string[],
  timeoutMs = 60_000,
): Promise<NamedBackends> {
  const start = Date.now();
  let last: Omit<NamedBackends, 'settled' | 'waitedMs' | 'timeoutMs'> & { versions?: string } = {
    want: want.map((name) => ({ name, ready: false })),
    endpoints: [],
    slices: [],
    names: {},
  };
  // every poll's start and the EndpointSlices' versions it saw
  const seen: Array<[number, string]> = [];
  const done = (b: typeof last) => {
    const w = wantAddresses(b, port);
    return b.want.length > 0 && b.want.every((p) => p.ip && p.ready) && w.join() === b.endpoints.join() && w.join() === b.slices.join();
  };
  const settled = await pollUntil({
    what: `Endpoints and EndpointSlices of ${ns}/${svc} to list exactly ${fmt(want)}`,
    timeoutMs,
    intervalMs: 100,
    probe: async () => {
      const t = Date.now();
      last = await namedBackends(kube, ns, svc, selector, port, want);
      seen.push([t, last.versions!]);
      return last;
    },
    done,
  }).then(
    () => true,
    () => false,
  );
  const { versions, ...b } = last;
  const before = seen.filter(([, v]) => v !== versions).map(([t]) => t);
  return { settled, ...b, ...(before.length ? { writtenAfterS: Math.max(...before) / 1000 } : {}), waitedMs: Date.now() - start, timeoutMs };
}

const named = (b: NamedBackends, set: string[]) => (set.length ? fmt(set.map((a) => `${b.names[a] ?? 'no pod'} ${a}`)) : '{} (the empty set)');

/**
 * Endpoints and EndpointSlices list exactly the named pods (and so their count), each Ready —
 * never "whatever pods are Ready now": a change that left 2 of 3 pods Ready fails "exactly 3".
 */
export function verifyNamedBackends(check: string, to: string, b: NamedBackends, port: number): CheckFailure[] {
  const want = wantAddresses(b, port);
  const expected = (what: string) =>
    `${what} = ${fmt(b.want.map((p) => `${p.name} ${p.ip ? `${p.ip}:${port}` : '(no IP)'}`))} (${b.want.length} pod${b.want.length === 1 ? '' : 's'}, each Ready)`;
  const waited = b.settled ? '' : ` (not settled after ${b.waitedMs} ms)`;
  const f: CheckFailure[] = [];
  if (!b.want.length) f.push(new CheckFailure({ check, from: 'the API', to, expected: 'pods the change names', seen: 'none' }));
  const notReady = b.want.filter((p) => !p.ready || !p.ip).map((p) => p.name);
  if (notReady.length)
    f.push(
      new CheckFailure({ check, from: 'the API', to, expected: `pods ${fmt(b.want.map((p) => p.name))} Ready`, seen: `not Ready: ${fmt(notReady)}${waited}` }),
    );
  if (want.length !== b.want.length || want.join() !== b.endpoints.join())
    f.push(new CheckFailure({ check, from: 'the API', to, expected: expected('Endpoints'), seen: `${named(b, b.endpoints)}${waited}` }));
  if (want.length !== b.want.length || want.join() !== b.slices.join())
    f.push(new CheckFailure({ check, from: 'the API', to, expected: expected('EndpointSlices (ready)'), seen: `${named(b, b.slices)}${waited}` }));
  return f;
}
