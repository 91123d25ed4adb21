// Layer "service": a virtual ClusterIP inside the service range whose Endpoints and EndpointSlices
// list exactly the Ready selected pods' IP:targetPort — and whose traffic follows them: after each
// change (pods replaced, scaled 2 → 3 → 1, a pod not Ready) the same ClusterIP is answered by
// exactly the new set of Ready pods, by name, and never by a removed or unready one.
import { PatchStrategy, setHeaderOptions, type V1EndpointSlice, type V1Endpoints, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { shq, type Probe, type ProbeOutput } from '../probes/batch.js';
import {
  armedProxySyncLine,
  holdBoundMs,
  holdLine,
  holdProbe,
  holdRequests,
  parseProxySync,
  parseTrafficLoop,
  proxySyncProbe,
  trafficLoopProbe,
  type ProxySync,
} from '../probes/traffic.js';
import {
  backends,
  fmt,
  TRIGGER_TIME,
  latestTriggerS,
  verifyNamedBackends,
  verifySet,
  waitBackends,
  waitNamedBackends,
  type Backends,
  type NamedBackends,
} from '../verdicts/endpoints.js';
import { verifyHold, verifyHolds, type HoldAsk } from '../verdicts/hold.js';
import { verifyHostNoRoute, verifyNotHeld } from '../verdicts/virtual-ip.js';
import { hostCidr, hostPort, inCidr, ipFamily, type IPFamily } from '../util/cidr.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { execInPod, type ExecResult } from '../kube/exec.js';
import { randomBytes } from 'node:crypto';
import { isLive, isReady, listPods } from '../workload/pods.js';
import { WORKLOAD, type ProbeRef, type RunEnv } from '../workload/setup.js';
import { probeRef } from '../workload/probe-pods.js';
import type { Obj } from '../workload/manifests.js';
import { pollUntil } from '../util/poll.js';
import { fanOut, key, label, runFanout } from '../workload/fanout.js';
import { answer, ask, openSessions, type Armed, type Asked } from '../workload/armed.js';
import { literally, mustFail } from './controls.js';
import type { CheckDef, PhaseContext, PhaseDef } from './types.js';
import { defined, hostRouteGet, must, nodeAccess, podSources, unlessManaged } from './common.js';
import type { NodeAccess } from '../cluster/connection.js';

const { deployment, service, selector, port } = WORKLOAD;
/** Requests per source pod and round of the convergence loop (the fallback without kube-proxy). */
const REPEAT = 8;
const ip = (env: RunEnv) => env.nginxServiceIP;
const names = (pods: V1Pod[]) => pods.map((p) => p.metadata!.name!).sort();
const livePods = async (env: RunEnv) => (await listPods(env.kube, env.workloadNs, selector)).filter(isLive);
const svcWhat = (env: RunEnv) => `my-nginx ${hostPort(ip(env), port)}`;
/** Every source a Service data-plane check asks from: a probe pod per node, the other namespace, a node view per node. */
export const holdSources = (env: RunEnv): ProbeRef[] => [...env.probes, env.otherProbe, ...env.nodeViews];

interface Traffic {
  /** Server names that answered, each with how often (in the round each probe pod's loop ended on). */
  servers: Record<string, number>;
  /** Requests of those rounds that got no /whoami answer (refused, timed out, another page). */
  unanswered: string[];
  requests: number;
  /** Rounds of requests the loops started, over every probe pod. */
  attempts: number;
}

/**
 * Convergence by traffic, only where kube-proxy's state cannot be read (no kube-proxy, or its
 * metrics out of reach) and only after a change the run made: asks the ClusterIP from every probe
 * pod until the servers that answer are exactly `want` (src/probes/traffic.ts: overlapping rounds
 * of REPEAT requests) or `timeoutMs` pass. It only decides when the hold window starts: none of
 * its answers is judged.
 */
async function trafficUntil(env: RunEnv, want: string[], timeoutMs = 20_000): Promise<Traffic & { settled: boolean }> {
  const sources = env.probes;
  const deadlineS = Math.max(1, Math.floor(timeoutMs / 1000) - 4);
  const loop = trafficLoopProbe('svc-who', { url: `http://${hostPort(ip(env), port)}/whoami`, requests: REPEAT, want, deadlineS });
  const f = await fanOut(
    env.kube,
    sources.map((from) => ({ from, probe: loop })),
    { concurrency: env.settings.execConcurrency },
  );
  const t: Traffic & { settled: boolean } = { servers: {}, unanswered: [], requests: 0, attempts: 0, settled: true };
  for (const from of sources) {
    const o = f.outputs.get(key(from))?.get('svc-who');
    try {
      if (!o) throw new Error(f.errors.get(key(from)) ?? 'no output');
      const r = parseTrafficLoop(o.output);
      t.attempts += r.rounds;
      t.requests += r.answers.length;
      t.settled &&= r.settled;
      for (const a of r.answers) if (a.rc === 0 && a.server) t.servers[a.server] = (t.servers[a.server] ?? 0) + 1;
    } catch (err) {
      t.settled = false;
      t.unanswered.push(`${label(from)}: ${(err as Error).message.split('\n')[0].slice(0, 160)}`);
    }
  }
  return t;
}

/** The traffic verdict of the convergence loop (kept for its unit tests): exactly `want`, every request answered. */
export function verifyTraffic(check: string, to: string, want: string[], t: Traffic, removed: string[] = []): CheckFailure | undefined {
  const seen = Object.keys(t.servers).sort();
  const stray = seen.filter((s) => !want.includes(s));
  const missing = want.filter((w) => !seen.includes(w));
  if (want.length && !stray.length && !missing.length && !t.unanswered.length) return undefined;
  const removedHit = stray.filter((s) => removed.includes(s));
  return new CheckFailure({
    check,
    from: `probe pods (${t.requests} requests of their last rounds, ${t.attempts} rounds)`,
    to,
    expected: `answers from exactly ${fmt(want)}`,
    seen: `${JSON.stringify(t.servers)}${removedHit.length ? `; removed pods still answering: ${fmt(removedHit)}` : ''}${missing.length ? `; never answered: ${fmt(missing)}` : ''}${t.unanswered.length ? `; ${t.unanswered.length} unanswered (${t.unanswered[0]})` : ''}`,
  });
}

/** What the wait for the nodes' proxy rules saw. */
export interface ProxyWait {
  /** ok: every node's kube-proxy synced the change; timeout: one did not in time; unobservable: no kube-proxy state to read. */
  state: 'ok' | 'timeout' | 'unobservable';
  sinceS?: number;
  waitedMs: number;
  nodes: Array<{ node: string; sync?: ProxySync; error?: string }>;
  note?: string;
}

/**
 * Waits (bounded) until kube-proxy on every node synced its rules after the EndpointSlice change
 * at `sinceS` (src/probes/traffic.ts proxySyncProbe: one exec per node view, polling in the pod).
 * Called once the API shows the EndpointSlices the check expects: kube-proxy watches the same API,
 * so by the time the first metrics are read (an exec later) it has received them; "nothing pending
 * and the last sync after the last queued change" then means its rules hold them. `sinceS` (the
 * slices' last-change-trigger-time: a pod's Ready transition, whole seconds) adds that it received
 * a change at least that recent. Without kube-proxy, or where its metrics cannot be read, says so
 * instead of waiting.
 */
export async function awaitProxyRules(env: RunEnv, sinceS: number | undefined, timeoutMs: number): Promise<ProxyWait> {
  const t0 = Date.now();
  if (!env.facts.kubeProxy)
    return { state: 'unobservable', waitedMs: 0, nodes: [], note: "no kube-proxy DaemonSet: the nodes' Service rules are not observable" };
  if (!env.nodeViews.length)
    return { state: 'unobservable', waitedMs: 0, nodes: [], note: `no node views to read kube-proxy's sync from (${env.nodeViewsRefused ?? 'none probed'})` };
  const probe = proxySyncProbe('proxy-sync', sinceS ?? 0, timeoutMs / 1000, ip(env).includes(':') ? 'IPv6' : 'IPv4');
  const f = await fanOut(
    env.kube,
    env.nodeViews.map((from) => ({ from, probe })),
    { concurrency: env.settings.execConcurrency },
  );
  const nodes: ProxyWait['nodes'] = env.nodeViews.map((v) => {
    const o = f.outputs.get(key(v))?.get('proxy-sync');
    try {
      if (!o) throw new Error(f.errors.get(key(v)) ?? 'no output');
      return { node: v.node, sync: parseProxySync(o.output) };
    } catch (err) {
      return { node: v.node, error: (err as Error).message.split('\n')[0].slice(0, 200) };
    }
  });
  return proxyWait(sinceS, Date.now() - t0, nodes);
}

/** Every node's reading of kube-proxy, judged: ok (all synced), timeout (one did not in time) or unobservable (one could not be read). */
function proxyWait(sinceS: number | undefined, waitedMs: number, nodes: ProxyWait['nodes']): ProxyWait {
  const w: ProxyWait = {
    state: 'ok',
    sinceS,
    waitedMs,
    nodes,
    note: sinceS === undefined ? `no ${TRIGGER_TIME} on the EndpointSlices: waited for every received change to be synced` : undefined,
  };
  if (nodes.some((n) => n.error || n.sync?.state === 'unavailable')) {
    w.state = 'unobservable';
    w.note = `kube-proxy's metrics (127.0.0.1:10249, [::1]:10249) not readable from ${nodes
      .filter((n) => n.error || n.sync?.state === 'unavailable')
      .map((n) => `${n.node} (${n.error ?? n.sync!.line})`)
      .join(', ')}`;
  } else if (nodes.some((n) => n.sync?.state !== 'ok')) w.state = 'timeout';
  return w;
}

const proxyLine = (w: ProxyWait) =>
  w.nodes
    .map(
      (n) =>
        `${n.node}: ${n.error ?? `${n.sync!.state === 'ok' ? 'synced' : 'not synced'} (last sync ${n.sync!.synced ?? '?'}, last queued ${n.sync!.queued ?? '?'}, pending ${n.sync!.pending ?? '?'})`}`,
    )
    .join('; ');

/** The hold window: `requests` GETs of /whoami from every source at once (one exec per source), every answer kept. */
export async function holdFrom(
  env: RunEnv,
  sources: ProbeRef[],
  want: string[],
  never: string[] = [],
  opts: { url?: string; what?: string; requests?: number; parallel?: number } = {},
): Promise<Array<[HoldAsk, ProbeOutput | Error]>> {
  const { url = `http://${hostPort(ip(env), port)}/whoami`, what = svcWhat(env), requests = holdRequests(want.length) } = opts;
  const asks: HoldAsk[] = sources.map((from) => ({ from, to: { what, url }, expect: { requests, answeredBy: want, never } }));
  const probe = holdProbe('svc-hold', { url, requests, parallel: opts.parallel });
  const f = await fanOut(
    env.kube,
    asks.map((a) => ({ from: a.from, probe })),
    { concurrency: env.settings.execConcurrency },
  );
  return asks.map((a) => [a, f.outputs.get(key(a.from))?.get('svc-hold') ?? new Error(f.errors.get(key(a.from)) ?? 'no output')]);
}

/** What a Service data-plane check gathered: how it converged (waited for what, how long), then its hold window. */
export interface Held {
  want: string[];
  never: string[];
  api?: NamedBackends;
  proxy?: ProxyWait;
  /** Only after a change, where kube-proxy cannot be read: the traffic convergence loop. */
  trafficConverged?: { settled: boolean; rounds: number; waitedMs: number };
  convergedMs: number;
  pairs: Array<[HoldAsk, ProbeOutput | Error]>;
}

const convergence = (h: Held) => ({
  waitedMs: h.convergedMs,
  endpoints: h.api ? `${h.api.settled ? 'listed' : 'NOT listed'} exactly ${fmt(h.want)} after ${h.api.waitedMs} ms` : undefined,
  proxyRules: h.proxy
    ? h.proxy.state === 'ok'
      ? `kube-proxy on ${h.proxy.nodes.length} nodes synced after ${h.proxy.sinceS === undefined ? 'every change it received' : `the EndpointSlice change at ${new Date(h.proxy.sinceS * 1000).toISOString()}`}${h.proxy.nodes.length && h.proxy.nodes.every((n) => /NAT rules DNAT exactly/.test(n.sync?.line ?? '')) ? ", each node's NAT rules DNAT exactly the wanted pods" : ''} (waited ${h.proxy.waitedMs} ms)`
      : `${h.proxy.state}: ${h.proxy.note ?? proxyLine(h.proxy)}`
    : undefined,
  trafficConverged: h.trafficConverged,
});

/** The verdict of a Service data-plane check over the sources it judges: evidence with the counts, or every failing source. */
function holdVerdict(check: string, h: Held, sources?: ProbeRef[]) {
  const pairs = sources ? h.pairs.filter(([a]) => sources.some((s) => key(s) === key(a.from))) : h.pairs;
  const to = h.pairs[0]?.[0].to.what ?? 'the ClusterIP';
  const hold = verifyHolds(check, to, pairs);
  return {
    requests: hold.requests,
    answered: hold.answered,
    perSource: hold.requests / Math.max(1, hold.sources),
    sources: hold.sources,
    byServer: hold.byServer,
    convergence: convergence(h),
    hold: hold.perSource,
  };
}

/**
 * The steady phase's hold (service.spread, .from-pods, .from-nodes share it): no convergence wait
 * on traffic. Before the window: the Endpoints list the Ready pods (setup waited for them to be
 * Ready, the EndpointSlice controller may trail by a moment) and every node's kube-proxy synced
 * after that EndpointSlice change — the setup race a retry used to hide, now waited for by name.
 */
const steadyHolds = new WeakMap<RunEnv, Promise<Held>>();
const steadyApis = new WeakMap<RunEnv, Promise<NamedBackends>>();
function steadyBackends(env: RunEnv): Promise<NamedBackends> {
  let b = steadyApis.get(env);
  if (!b) {
    b = waitNamedBackends(env.kube, env.workloadNs, service, selector, port, names(env.nginx), 15_000);
    steadyApis.set(env, b);
  }
  return b;
}
/** The steady Service, ready to be asked: what was awaited, how long, and whether it came. */
export interface SteadyConvergence {
  want: string[];
  api: NamedBackends;
  proxy: ProxyWait;
  convergedMs: number;
}
const steadyConverged = new WeakMap<RunEnv, Promise<SteadyConvergence>>();
/** The steady hold's own convergence (its node views read kube-proxy), for the other checks that ask the ClusterIP. */
const steadyHeldConvergence = new WeakMap<RunEnv, Promise<SteadyConvergence>>();
/**
 * Once per run, shared by every steady-phase check that asks the ClusterIP (the Service holds and
 * mtu.payload-cluster-ip): the Endpoints and EndpointSlices name the steady pods, then every node's
 * kube-proxy synced after that EndpointSlice change — the setup race, waited for by name instead
 * of asking again. Where the steady hold runs too, its node views' readings are this wait: the
 * engine starts every gather of a phase in one synchronous loop, so one turn later the hold, if
 * selected, has registered.
 */
export function steadyConvergence(env: RunEnv): Promise<SteadyConvergence> {
  let c = steadyConverged.get(env);
  if (!c) {
    c = (async () => {
      await Promise.resolve();
      const held = steadyHeldConvergence.get(env);
      if (held) return held;
      const t0 = Date.now();
      const api = await steadyBackends(env);
      const proxy = await awaitProxyRules(env, api.triggerS, STEADY_PROXY_MS);
      return { want: names(env.nginx), api, proxy, convergedMs: Date.now() - t0 };
    })();
    steadyConverged.set(env, c);
  }
  return c;
}
const STEADY_PROXY_MS = 10_000;

/** The run's Services, each with the Ready pods its selector picks and what its EndpointSlices list. */
export interface ServicesSettled {
  settled: boolean;
  waitedMs: number;
  services: Array<{ name: string; want: string[]; have: string[] }>;
  proxy?: ProxyWait;
}

/**
 * One Service against the API: the addresses (in the Service's families) of the Ready pods its
 * selector picks, and the ready addresses its EndpointSlices list (ports aside: a targetPort naming
 * no port still lists the pod), with the slices' latest change-trigger time. Pure: captured lists in.
 */
export function settleRow(svc: V1Service, pods: V1Pod[], slices: V1EndpointSlice[]): { row: ServicesSettled['services'][number]; triggerS?: number } {
  const name = svc.metadata!.name!;
  const families = new Set(svc.spec?.ipFamilies ?? []);
  const want = pods
    .filter(isReady)
    .flatMap((p) => (p.status?.podIPs ?? (p.status?.podIP ? [{ ip: p.status.podIP }] : [])).map((x) => x.ip))
    .filter((a) => !families.size || families.has(ipFamily(a)))
    .sort();
  const own = slices.filter((x) => x.metadata?.labels?.['kubernetes.io/service-name'] === name);
  const have = [...new Set(own.flatMap((x) => (x.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)))].sort();
  return { row: { name: `${svc.metadata?.namespace ?? ''}/${name}`, want, have }, triggerS: latestTriggerS(own) };
}

/**
 * A Service's settle row is done: its EndpointSlices list exactly its Ready pods — none for a Service
 * that selects no pod (the run's no-endpoints Services: setup already waited for every pod it made to be Ready).
 */
export const rowSettled = (r: ServicesSettled['services'][number]) => r.want.join() === r.have.join();

async function servicesNow(env: RunEnv): Promise<{ services: ServicesSettled['services']; triggerS?: number }> {
  const services: ServicesSettled['services'] = [];
  const triggers: number[] = [];
  for (const namespace of [env.workloadNs, env.otherNs]) {
    const [svcs, slices] = await Promise.all([
      env.kube.core.listNamespacedService({ namespace }),
      env.kube.discovery.listNamespacedEndpointSlice({ namespace }),
    ]);
    for (const svc of svcs.items) {
      const sel = svc.spec?.selector;
      if (!sel || !Object.keys(sel).length) continue;
      const pods = await listPods(
        env.kube,
        namespace,
        Object.entries(sel)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      );
      const { row, triggerS } = settleRow(svc, pods.filter(isLive), slices.items);
      services.push(row);
      if (triggerS !== undefined) triggers.push(triggerS);
    }
  }
  return { services, triggerS: triggers.length ? Math.max(...triggers) : undefined };
}

/**
 * Before the steady phase's fan-out, when the run made Services of its own beside my-nginx (the
 * datapath checks' twins, asked by windows in the fan-out itself): every Service of the run's
 * namespaces lists, in its EndpointSlices, exactly the Ready pods its selector picks (addresses: a
 * targetPort naming no port still lists them), and then every node's kube-proxy synced after the
 * last of those EndpointSlice changes. The setup made those Services a moment ago: without this
 * wait a window could start while a node's rules hold one endpoint of two (seen on a one-node
 * cluster: 24 of 24 answers by one of two pods). Bounded; never throws: the windows judge what
 * they see, and their checks carry this wait as evidence.
 */
export async function steadyServicesSettled(env: RunEnv): Promise<ServicesSettled> {
  const t0 = Date.now();
  let last: Awaited<ReturnType<typeof servicesNow>> = { services: [] };
  const settled = await pollUntil({
    what: "every Service of the run's namespaces to list exactly its Ready pods in its EndpointSlices",
    timeoutMs: 15_000,
    intervalMs: 100,
    probe: async () => (last = await servicesNow(env)),
    done: (x) => x.services.every(rowSettled),
  }).then(
    () => true,
    () => false,
  );
  const proxy = await awaitProxyRules(env, last.triggerS, STEADY_PROXY_MS);
  // where kube-proxy cannot be read (no node views, no kube-proxy): traffic to the workload's Service
  // tells when the last change of setup (its nginx pods Ready) was programmed (bounded; answers not
  // judged) — make test's hostnetwork-forbidden spec saw the datapath windows answered by one nginx pod of two
  if (proxy.state === 'unobservable') await trafficUntil(env, names(env.nginx));
  return { settled: settled && proxy.state !== 'timeout', waitedMs: Date.now() - t0, services: last.services, proxy };
}

/** The wait in a line: which Services listed their Ready pods (or not), then each node's kube-proxy, how long. */
export function settledEvidence(s: ServicesSettled): string {
  const off = s.services.filter((x) => !rowSettled(x));
  const api = off.length
    ? `NOT every Service listed its Ready pods: ${off.map((x) => `${x.name} lists ${fmt(x.have)}, its Ready pods are ${fmt(x.want)}`).join('; ')}`
    : `${s.services.length} Services listed exactly their Ready pods`;
  const proxy = !s.proxy
    ? 'kube-proxy not read'
    : s.proxy.state === 'ok'
      ? `kube-proxy on ${s.proxy.nodes.length} nodes synced after`
      : `kube-proxy ${s.proxy.state}: ${s.proxy.note ?? proxyLine(s.proxy)}`;
  return `${api}; ${proxy} (${s.waitedMs} ms)`;
}

const CHANGE_PROXY_MS = 20_000;

/** Why the steady Service is not ready to be asked (the failure's `expected`/`seen`), or undefined. */
export function steadyNotConverged(c: SteadyConvergence): { expected: string; seen: string } | undefined {
  if (!c.api.settled)
    return {
      expected: `Endpoints and EndpointSlices to list exactly ${fmt(c.want)} within ${c.api.timeoutMs} ms (before the ClusterIP is asked)`,
      seen: `after ${c.api.waitedMs} ms: Endpoints ${fmt(c.api.endpoints)}, EndpointSlices ${fmt(c.api.slices)}`,
    };
  if (c.proxy.state === 'timeout')
    return {
      expected: `kube-proxy on every node to sync its rules after the EndpointSlice change within ${STEADY_PROXY_MS} ms (before the ClusterIP is asked)`,
      seen: `after ${c.proxy.waitedMs} ms: ${proxyLine(c.proxy)}`,
    };
  return undefined;
}

/** What the steady convergence waited for, for a check's evidence. */
export const steadyConvergenceEvidence = (c: SteadyConvergence) => convergence({ ...c, never: [], pairs: [] });

function steadyHold(env: RunEnv): Promise<Held> {
  let h = steadyHolds.get(env);
  if (!h) {
    let shared!: (c: SteadyConvergence) => void;
    let failed!: (e: unknown) => void;
    const conv = new Promise<SteadyConvergence>((resolve, reject) => ((shared = resolve), (failed = reject)));
    conv.catch(() => undefined); // awaited only by another check, if any
    steadyHeldConvergence.set(env, conv);
    const want = names(env.nginx);
    h = convergeAndHold(env, {
      sources: holdSources(env),
      want,
      never: [],
      api: steadyBackends(env),
      proxyTimeoutMs: STEADY_PROXY_MS,
      onConverged: (api, proxy, convergedMs) => shared({ want, api, proxy, convergedMs }),
    });
    h.catch(failed);
    steadyHolds.set(env, h);
  }
  return h;
}

/** What a hold waits for first, and who holds. */
interface HoldPlan {
  sources: ProbeRef[];
  /** The pods that must answer, and those that must not. */
  want: string[];
  never: string[];
  /** The API converging on `want` (resolves settled or not). */
  api: Promise<NamedBackends>;
  /** How long every node's kube-proxy may take to sync, once the API converged. */
  proxyTimeoutMs: number;
  /**
   * A change phase's check: a convergence that does not come fails it, naming what was awaited.
   * Without (the steady phase, after setup made the Service and its pods): the hold judges
   * whatever the wait saw. Either way, where kube-proxy's state cannot be read, traffic tells when
   * the change came (bounded; none of its answers judged).
   */
  check?: string;
  /** When the run made the change (epoch s): every EndpointSlice write it caused came after. */
  changedAtS?: number;
  /** Called once every node's kube-proxy reading is in (before the last sources are released). */
  onConverged?: (api: NamedBackends, proxy: ProxyWait, convergedMs: number) => void;
}

const apiNotConverged = (check: string, what: string, want: string[], api: NamedBackends) =>
  new CheckFailure({
    check,
    from: 'the API',
    to: what,
    expected: `Endpoints and EndpointSlices to list exactly ${fmt(want)} within ${api.timeoutMs} ms (convergence, before the hold window)`,
    seen: `after ${api.waitedMs} ms: Endpoints ${fmt(api.endpoints)}, EndpointSlices ${fmt(api.slices)}, pods ${api.want.map((p) => `${p.name}:${p.ip ?? 'no IP'}${p.ready ? '/Ready' : ''}`).join(',')}`,
  });
const proxyNotSynced = (check: string, what: string, proxy: ProxyWait, timeoutMs: number) =>
  new CheckFailure({
    check,
    from: 'node views',
    to: what,
    expected: `kube-proxy on every node to sync its rules after the EndpointSlice change${proxy.sinceS === undefined ? '' : ` at ${new Date(proxy.sinceS * 1000).toISOString()}`} within ${timeoutMs} ms (convergence, before the hold window)`,
    seen: `after ${proxy.waitedMs} ms: ${proxyLine(proxy)}`,
  });
/**
 * Where kube-proxy's state cannot be read: traffic tells when the run's change came (none of its
 * answers is judged). A change phase's check fails when it does not come; the steady phase (its
 * change: setup made the Service and pods, the last pod Ready a moment ago) holds anyway, and the
 * hold judges (seen on a cluster without node views: every hold from a pod answered by one nginx
 * pod of two, the other's rule not yet written).
 */
async function trafficConvergence(check: string | undefined, env: RunEnv, want: string[], proxy: ProxyWait): Promise<NonNullable<Held['trafficConverged']>> {
  const t1 = Date.now();
  const t = await trafficUntil(env, want);
  const tc = { settled: t.settled, rounds: t.attempts, waitedMs: Date.now() - t1 };
  if (check && !t.settled)
    throw new CheckFailure({
      check,
      from: 'probe pods',
      to: svcWhat(env),
      expected: `answers from exactly ${fmt(want)} within 20000 ms (convergence by traffic: ${proxy.note})`,
      seen: `after ${tc.waitedMs} ms: ${JSON.stringify(t.servers)}${t.unanswered.length ? `; ${t.unanswered[0]}` : ''}`,
    });
  return tc;
}

/**
 * The node's clock against the run's, from kube-proxy's /healthz `currentTime` as an armed node
 * view printed it (its "KNC clock" line) and when that line arrived: node minus run, in s. The
 * line took some time to arrive, so this is a lower bound of the true offset: a run time mapped
 * with it is never later than the true node time — a wait on it can only be shorter by that
 * transit, never wait for a change that already came. Undefined without a readable /healthz.
 */
export function clockOffsetS(line: { text: string; atMs: number } | undefined): number | undefined {
  const t = Date.parse(/"currentTime":\s*"([^"]+)"/.exec(line?.text ?? '')?.[1] ?? '');
  return Number.isNaN(t) ? undefined : (t - line!.atMs) / 1000;
}

/**
 * What a node's kube-proxy must have queued a change at or after, for its rules to hold the state
 * the API showed last (epoch s, the node's clock): the EndpointSlices' trigger time (the cluster's
 * clock), and, mapped onto the node's clock with `offsetS`, the start of the last poll that saw the
 * slices otherwise and the moment the run made its change — the final write came after both.
 * (The trigger time alone has whole seconds and none for a removed pod: a sync of an earlier write
 * of the same change would pass for the last one.)
 */
export function sinceOn(api: NamedBackends, changedAtS: number | undefined, offsetS: number | undefined): number | undefined {
  const ours = offsetS === undefined ? [] : [api.writtenAfterS, changedAtS].filter((x): x is number => x !== undefined).map((t) => t + offsetS);
  const t = [api.triggerS, ...ours].filter((x): x is number => x !== undefined);
  return t.length ? Math.max(...t) : undefined;
}

/** Why kube-proxy's state cannot be read on this cluster at all, or undefined. */
function proxyUnobservable(env: RunEnv): ProxyWait | undefined {
  if (!env.facts.kubeProxy)
    return { state: 'unobservable', waitedMs: 0, nodes: [], note: "no kube-proxy DaemonSet: the nodes' Service rules are not observable" };
  if (!env.nodeViews.length)
    return { state: 'unobservable', waitedMs: 0, nodes: [], note: `no node views to read kube-proxy's sync from (${env.nodeViewsRefused ?? 'none probed'})` };
  return undefined;
}

/**
 * Converge, then hold, in every source's session (src/workload/armed.ts: one exec per source for
 * the run, started by the first hold while the cluster converges, reused by every later one — an
 * exec's round trip and its CPU on the cluster are paid once, not per hold): once the API lists
 * exactly the wanted pods, each node's kube-proxy is read (in its node view's session), and that
 * node's sources (its probe pods, the other namespace's pod there, its node view) hold
 * as soon as THAT node's kube-proxy synced the change — a ClusterIP connection is DNATed by the
 * source node's rules, and by no other node's. Every source still holds only after convergence,
 * every sample counts. Where the armed execs would not fit in the run's exec concurrency (a large
 * cluster), the same steps run in turn: the API, every node's kube-proxy (one fan-out), then every
 * source's hold (another).
 */
async function convergeAndHold(env: RunEnv, plan: HoldPlan): Promise<Held> {
  const t0 = Date.now();
  const { sources, want, never, check } = plan;
  const what = svcWhat(env);
  const url = `http://${hostPort(ip(env), port)}/whoami`;
  const requests = holdRequests(want.length);
  const unobservable = proxyUnobservable(env);
  const onNodes = new Set(sources.map((s) => s.node));
  const readers = unobservable ? [] : env.nodeViews.filter((v) => onNodes.has(v.node));
  if (new Set([...readers, ...sources].map(key)).size > env.settings.execConcurrency) return convergeInTurn(env, plan);
  const family = ip(env).includes(':') ? 'IPv6' : 'IPv4';
  // every source's session: the run's own, idle since its last hold, or one started now
  const pool = openSessions(env.kube);
  const sessions = new Map(sources.map((s) => [key(s), pool.acquire(s)]));
  // a session is given back only once every command sent to it has been read to its end
  const unread = new Set<string>();
  const keep = new Map(sources.map((s) => [key(s), `/tmp/knc-hold-${randomBytes(6).toString('hex')}`]));
  const hold = { url, requests };
  const released = new Map<string, Asked>();
  const release = (r: ProbeRef) => {
    if (released.has(key(r))) return;
    unread.add(key(r));
    released.set(key(r), ask(sessions.get(key(r))!, holdLine(hold, keep.get(key(r))!)));
  };
  try {
    const api = await plan.api;
    if (check && !api.settled) throw apiNotConverged(check, what, want, api);
    const t1 = Date.now();
    const sinces: number[] = [];
    // each node's kube-proxy read now, in its node view's armed exec (or an exec of its own where
    // the node view is no source), as awaitProxyRules does: after the API showed the state —
    // kube-proxy's sync gauges are global, so the reading must come after kube-proxy could have
    // received that state; this node's sources go as soon as its own kube-proxy synced
    const readings = await Promise.all(
      readers.map(async (v): Promise<ProxyWait['nodes'][number]> => {
        const a = sessions.get(key(v));
        // the node's clock if its armed exec printed it by now (never waited for: without it, the API's trigger time)
        const since = sinceOn(api, plan.changedAtS, clockOffsetS(a?.seen(/^KNC clock /)));
        if (since !== undefined) sinces.push(since);
        const probe = proxySyncProbe('proxy-sync', since ?? 0, plan.proxyTimeoutMs / 1000, family);
        let sync: ProxySync;
        try {
          sync = parseProxySync(await readProxy(env, v, a, probe, plan.proxyTimeoutMs + 15_000, unread));
        } catch (err) {
          return { node: v.node, error: (err as Error).message.split('\n')[0].slice(0, 200) };
        }
        if (sync.state === 'ok') {
          // where the node's rules can be read: this Service's own DNAT set, not only the global gauges
          const wantAt = api.want
            .filter((p) => p.ip)
            .map((p) => hostPort(p.ip!, port))
            .sort();
          const rules = await awaitNodeRules(env, v.node, ip(env), wantAt, t1 + plan.proxyTimeoutMs);
          if (rules)
            sync = rules.matched
              ? { ...sync, line: `${sync.line}; NAT rules DNAT exactly ${fmt(rules.seen)}` }
              : { ...sync, state: 'wait', line: `${sync.line}; but its NAT rules DNAT ${fmt(rules.seen)}, not ${fmt(wantAt)}` };
        }
        if (sync.state === 'ok') for (const s of sources) if (s.node === v.node) release(s);
        return { node: v.node, sync };
      }),
    );
    const proxy = unobservable ?? proxyWait(sinces.length ? Math.max(...sinces) : undefined, Date.now() - t1, readings);
    if (check && proxy.state === 'timeout') throw proxyNotSynced(check, what, proxy, plan.proxyTimeoutMs);
    const trafficConverged = proxy.state === 'unobservable' ? await trafficConvergence(check, env, want, proxy) : undefined;
    const convergedMs = Date.now() - t0;
    plan.onConverged?.(api, proxy, convergedMs);
    for (const s of sources) release(s);
    const bound = holdBoundMs(hold);
    const outs = await Promise.all(
      sources.map(async (s) => {
        const a = sessions.get(key(s))!;
        const got = await answer(a, released.get(key(s))!, bound);
        if (got) unread.delete(key(s));
        return heldOutput(env, s, got, released.get(key(s))!.atMs, a, keep.get(key(s))!);
      }),
    );
    const command = holdProbe('svc-hold', hold).argv.join(' ');
    const pairs = sources.map((from, i): [HoldAsk, ProbeOutput | Error] => {
      const o = outs[i];
      const ask: HoldAsk = { from, to: { what, url }, expect: { requests, answeredBy: want, never } };
      return [ask, o instanceof Error ? o : { id: 'svc-hold', exitCode: o.exitCode, output: o.stdout, durationMs: o.durationMs, command }];
    });
    return { want, never, api, proxy, trafficConverged, convergedMs, pairs };
  } finally {
    // whatever happened: a session read to its end serves the next hold; one with output unread is stopped
    for (const [k, a] of sessions) {
      if (unread.has(k)) pool.discard(a);
      else pool.giveBack(a);
    }
  }
}

/**
 * A node's kube-proxy reading (proxySyncProbe's output): in the node view's session, where the node
 * view is one of the sources (sessionArgv's "sync" line: no exec of its own), else in an exec of its
 * own. The session's line not coming within `timeoutMs` (the poll ends itself at its deadline) is an
 * error, as an exec's would be, and leaves the session in `unread`.
 */
async function readProxy(env: RunEnv, v: ProbeRef, session: Armed | undefined, probe: Probe, timeoutMs: number, unread: Set<string>): Promise<string> {
  if (!session) return (await runFanout(env.kube, v, [probe], timeoutMs)).get('proxy-sync')!.output;
  env.kube.tally.probes++;
  unread.add(key(v));
  const got = await answer(session, ask(session, armedProxySyncLine(probe)), timeoutMs);
  if (!got) {
    const r = session.ended() ? await session.done : undefined;
    throw new Error(
      `no kube-proxy reading from the session in ${v.namespace}/${v.pod} within ${timeoutMs} ms${r instanceof Error ? `: ${r.message.split('\n')[0]}` : r ? ` (it ended, exit ${r.exitCode})` : ''}`,
    );
  }
  unread.delete(key(v));
  return got.lines.join('\n');
}

/**
 * The endpoints a node's kube-proxy (iptables mode) DNATs a ClusterIP:port to, read from that
 * node's `iptables-save -t nat` (ip6tables-save for an IPv6 ClusterIP): the KUBE-SERVICES rule
 * for the address and port names the Service's KUBE-SVC chain, its KUBE-SEP jumps each DNAT to one
 * endpoint (TCP: the Services this waits for serve HTTP). undefined: no such rule (kube-proxy in another mode, or the Service not programmed at
 * all). Pure: the saved table in, "ip:port" sorted out (IPv6 as [addr]:port).
 */
export function dnatEndpoints(saved: string, clusterIP: string, port: number): string[] | undefined {
  const lines = saved.split('\n');
  const dst = `-d ${clusterIP}/${clusterIP.includes(':') ? 128 : 32} `;
  const svc = lines.find(
    (l) => l.startsWith('-A KUBE-SERVICES ') && l.includes(dst) && l.includes(' -p tcp ') && new RegExp(`--dport ${port}\\b`).test(l) && /-j KUBE-SVC-/.test(l),
  );
  const chain = svc && /-j (KUBE-SVC-\S+)/.exec(svc)?.[1];
  if (!chain) return undefined;
  // the rules of a chain, each rule's match of `re`
  const inChain = (c: string, re: RegExp) => lines.filter((l) => l.startsWith(`-A ${c} `)).map((l) => re.exec(l)?.[1]);
  return inChain(chain, /-j (KUBE-SEP-\S+)/)
    .filter((sep): sep is string => !!sep)
    .map((sep) => inChain(sep, /--to-destination (\S+)/).find((x) => !!x))
    .filter((x): x is string => !!x)
    .sort();
}

/**
 * On a cluster whose nodes kube-netcheck reaches (the kind cluster it manages), after kube-proxy's
 * sync gauges said "synced": polls the node's own NAT rules until the Service's DNAT set is
 * exactly `want` — the per-Service signal the gauges are not (they are global, and on a
 * dual-stack node one unlabelled "pending" gauge is set by both proxiers: a sync of the other
 * family, or of another Service whose slice arrived first, read as this Service's). Returns the
 * rules seen last and whether they matched by the deadline; undefined where the rules cannot be read.
 */
async function awaitNodeRules(
  env: RunEnv,
  node: string,
  clusterIP: string,
  want: string[],
  deadline: number,
): Promise<{ matched: boolean; seen: string[] } | undefined> {
  if (!env.nodeAccess) return undefined;
  const save = clusterIP.includes(':') ? 'ip6tables-save' : 'iptables-save';
  let seen: string[] | undefined;
  for (;;) {
    const r = await env.nodeAccess.exec(node, [save, '-t', 'nat']).catch(() => undefined);
    seen = r ? dnatEndpoints(r.stdout, clusterIP, port) : undefined;
    if (!seen) return undefined;
    if (seen.join() === want.join()) return { matched: true, seen };
    if (Date.now() >= deadline) return { matched: false, seen };
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * A session's hold output: its lines as streamed, up to the hold's end line — or, where they did not
 * all come (the session ended, or the hold's bound passed; stdout was seen cut short at load 50-60
 * on an exec whose stdin stayed open), the hold's own output as the command kept it in `keep`,
 * read in a second exec. Never a pass by itself: the verdict parses and judges whatever this returns.
 */
async function heldOutput(
  env: RunEnv,
  from: ProbeRef,
  got: { lines: string[]; rc: number; atMs: number } | undefined,
  sentAtMs: number,
  session: Armed,
  keep: string,
): Promise<ExecResult | Error> {
  if (got) return { stdout: got.lines.join('\n'), stderr: '', exitCode: got.rc, durationMs: got.atMs - sentAtMs };
  const ended = session.ended() ? await session.done : undefined;
  env.kube.tally.execs++;
  const kept = await execInPod({ kc: env.kube.kc, namespace: from.namespace, pod: from.pod, command: ['cat', keep], timeoutMs: 30_000 }).catch((e: Error) => e);
  if (!(kept instanceof Error) && kept.exitCode === 0 && /^KNC hold done/m.test(kept.stdout))
    return { stdout: kept.stdout, stderr: '', exitCode: 0, durationMs: Date.now() - sentAtMs };
  const why = ended instanceof Error ? ended.message.split('\n')[0] : ended ? `its exec ended (exit ${ended.exitCode})` : 'no end within its bound';
  return new Error(
    `the hold's output did not come from the session in ${from.namespace}/${from.pod}: ${why}; its kept copy ${keep}: ${kept instanceof Error ? kept.message.split('\n')[0] : `exit ${kept.exitCode}, ${JSON.stringify(kept.stdout.slice(-120))}`}`,
  );
}

/** The same steps in turn (no armed execs): the API, every node's kube-proxy, then every source's hold. */
async function convergeInTurn(env: RunEnv, plan: HoldPlan): Promise<Held> {
  const t0 = Date.now();
  const { sources, want, never, check } = plan;
  const what = svcWhat(env);
  const api = await plan.api;
  if (check && !api.settled) throw apiNotConverged(check, what, want, api);
  const proxy = await awaitProxyRules(env, api.triggerS, plan.proxyTimeoutMs);
  if (check && proxy.state === 'timeout') throw proxyNotSynced(check, what, proxy, plan.proxyTimeoutMs);
  const trafficConverged = proxy.state === 'unobservable' ? await trafficConvergence(check, env, want, proxy) : undefined;
  const convergedMs = Date.now() - t0;
  plan.onConverged?.(api, proxy, convergedMs);
  return { want, never, api, proxy, trafficConverged, convergedMs, pairs: await holdFrom(env, sources, want, never) };
}

/**
 * A change phase's traffic: converge (bounded, reported), then hold. Converged means: the API
 * lists exactly the pods the change names (the phase's `settled`), then the source's node's
 * kube-proxy synced after that EndpointSlice change (or, where kube-proxy cannot be read, the
 * traffic loop saw exactly those pods answer). A convergence that does not come is a failure
 * naming what was awaited, how long and what was seen last. Then every source's hold window
 * counts, every sample.
 */
function convergeThenHold(check: string, { env, phaseData }: PhaseContext, sources = holdSources(env)): Promise<Held> {
  const { want, removed, changedAtS } = phaseData as { want: string[]; removed: string[]; changedAtS?: number };
  const api = phaseData.settled as Promise<NamedBackends>;
  return convergeAndHold(env, { sources, want, never: removed, api, proxyTimeoutMs: CHANGE_PROXY_MS, check, changedAtS });
}

/**
 * A merge patch of the scale subresource's replicas, as `kubectl scale` sends it: no resourceVersion,
 * so no write of anyone else in between (the Deployment controller's status, another client) can
 * make it conflict. (A read-and-replace retried on 409, as client-go's RetryOnConflict, once ran out
 * of tries in make test's selftest beside a writer rewriting the Deployment as fast as the API took it.)
 */
export async function scaleTo(env: Pick<RunEnv, 'kube' | 'workloadNs'>, replicas: number): Promise<void> {
  await env.kube.apps.patchNamespacedDeploymentScale(
    { name: deployment, namespace: env.workloadNs, body: { spec: { replicas } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** The workload's live pods once `done` holds for them (the ReplicaSet did its part; not yet Ready). */
const livePodsUntil = (env: RunEnv, what: string, done: (ps: V1Pod[]) => boolean) =>
  pollUntil({ what, timeoutMs: 60_000, intervalMs: 100, probe: () => livePods(env), done, describe: (ps) => names(ps).join(',') || 'no pods' });

/**
 * A change phase's data: what the change should lead to (`want`: the pods that should answer,
 * `removed`: those that must not, `removedIPs` their addresses) and `settled`, the API converging
 * on exactly those pods (Endpoints and EndpointSlices list them, each Ready; resolves with what it
 * saw, settled or not), which the phase's Endpoints checks judge and its traffic checks await.
 * `atMs`: when the run started the change (every EndpointSlice write it causes comes after).
 */
function changed(env: RunEnv, atMs: number, want: string[], removed: string[], extra: Record<string, unknown> = {}) {
  const settled = waitNamedBackends(env.kube, env.workloadNs, service, selector, port, want, 90_000);
  return { want, removed, settled, changedAtS: atMs / 1000, ...extra };
}

const podIPs = (pods: V1Pod[]) => Object.fromEntries(pods.map((p) => [p.metadata!.name!, p.status?.podIP ?? '']));

export const SERVICE_PHASES: PhaseDef[] = [
  {
    name: 'not-ready',
    title: 'one of the 2 pods made not Ready (its readiness page removed)',
    // the page is removed in a session of the pod, opened while the steady phase runs
    warm: (env) => openSessions(env.kube).warm(probeRef(env.nginx[0])),
    enter: async (env) => {
      // first of the changes: the 2 pods of the steady phase, one of them made not Ready (the
      // next phase replaces both, so nothing needs restoring and no extra pod has to start)
      // (the steady phase's state is checked at the same time as the page is removed: when it
      // does not hold, the phase fails as a whole)
      const at = Date.now();
      const [victim, other] = env.nginx;
      const vName = victim.metadata!.name!;
      await Promise.all([
        waitBackends(env.kube, env.workloadNs, service, selector, port, 2).then((b) => {
          const ips = env.nginx.map((p) => `${p.status!.podIP}:${port}`).sort();
          if (b.pods.join() !== ips.join()) throw new Error(`the steady phase's Ready pods ${fmt(ips)} are not the Ready pods now: ${fmt(b.pods)}`);
        }),
        runFanout(env.kube, probeRef(victim), [{ id: 'unready', argv: ['rm', '-f', '/usr/share/nginx/html/index.html'] }], 15_000).then((o) => {
          const r = o.get('unready')!;
          if (r.exitCode !== 0) throw new Error(`\`${r.command}\` in pod ${env.workloadNs}/${vName} exited ${r.exitCode}: ${r.output.trim().slice(0, 200)}`);
        }),
      ]);
      return changed(env, at, [other.metadata!.name!], [vName], {
        victim: vName,
        victimIP: victim.status!.podIP!,
        removedIPs: { [vName]: victim.status!.podIP! },
      });
    },
  },
  {
    name: 'replaced',
    title: 'both nginx pods deleted and replaced',
    enter: async (env) => {
      const at = Date.now();
      const before = await livePods(env);
      const old = names(before);
      await Promise.all(old.map((name) => env.kube.core.deleteNamespacedPod({ name, namespace: env.workloadNs, gracePeriodSeconds: 0 })));
      const now = await livePodsUntil(
        env,
        'the ReplicaSet to create 2 replacement pods',
        (ps) => ps.length === 2 && !ps.some((p) => old.includes(p.metadata!.name!)),
      );
      return changed(env, at, names(now), old, { removedIPs: podIPs(before) });
    },
  },
  {
    name: 'scaled-3',
    title: 'scaled 2 -> 3',
    enter: async (env) => {
      const at = Date.now();
      await scaleTo(env, 3);
      return changed(env, at, names(await livePodsUntil(env, 'the ReplicaSet to create a third pod', (ps) => ps.length === 3)), []);
    },
  },
  {
    name: 'scaled-1',
    title: 'scaled 3 -> 1',
    enter: async (env) => {
      const at = Date.now();
      const before = await livePods(env);
      await scaleTo(env, 1);
      const want = names(await livePodsUntil(env, 'the ReplicaSet to remove 2 of the 3 pods', (ps) => ps.length === 1));
      const removed = names(before).filter((n) => !want.includes(n));
      return changed(env, at, want, removed, { removedIPs: podIPs(before.filter((p) => removed.includes(p.metadata!.name!))) });
    },
  },
];

/** Endpoints + traffic checks for one change phase. */
function changeChecks(phase: string, what: string, n: string): CheckDef[] {
  return [
    {
      id: `service.${phase}.endpoints`,
      title: `${what}: Endpoints and EndpointSlices list exactly the ${n} Ready pods`,
      layer: 'service',
      tags: ['service', 'endpoints', phase],
      phase,
      from: 'api',
      to: 'svc/my-nginx',
      // the pods the change names and their count, waited for (bounded); never "whoever is Ready now"
      gather: ({ phaseData }) => phaseData.settled as Promise<NamedBackends>,
      verify: (o) => {
        const b = o.gathered as NamedBackends;
        throwAll(verifyNamedBackends(`service.${phase}.endpoints`, 'svc/my-nginx', b, port));
        return { pods: b.want, endpoints: b.endpoints, endpointSlices: b.slices, waitedMs: b.waitedMs };
      },
    },
    {
      id: `service.${phase}.traffic`,
      title: `${what}: the same ClusterIP is answered by exactly the ${n} Ready pods, by name${phase === 'replaced' || phase === 'scaled-1' ? ', and never by a removed one' : ''}`,
      layer: 'service',
      tags: ['service', 'traffic', phase],
      phase,
      from: 'probe pods, the other namespace, node views',
      to: 'the ClusterIP from before the change',
      gather: (ctx) => convergeThenHold(`service.${phase}.traffic`, ctx),
      verify: (o) => holdVerdict(`service.${phase}.traffic`, o.gathered as Held),
    },
  ];
}

export const SERVICE_CHECKS: CheckDef[] = [
  {
    id: 'service.cluster-ip',
    phase: 'cluster',
    title: 'ClusterIP is allocated inside the service range, port 80 -> targetPort 80/TCP',
    layer: 'service',
    tags: ['service'],
    from: 'api',
    to: 'svc/my-nginx',
    notApplicable: (env) =>
      env.facts.serviceSubnets.length ? undefined : 'the service range is not discoverable (no ServiceCIDR API, kubeadm-config or kube-apiserver flag visible)',
    gather: ({ env }) => env.kube.core.readNamespacedService({ name: service, namespace: env.workloadNs }),
    verify: (o) => {
      const svc = o.gathered as V1Service;
      const p = svc.spec!.ports![0];
      const got = `${svc.spec!.type} ${svc.spec!.clusterIP} port ${p.port} -> ${p.targetPort}/${p.protocol}`;
      must(
        o.env.facts.serviceSubnets.some((c) => inCidr(svc.spec!.clusterIP!, c)) &&
          svc.spec!.type === 'ClusterIP' &&
          p.port === 80 &&
          String(p.targetPort) === '80' &&
          p.protocol === 'TCP',
        {
          check: 'service-cluster-ip',
          from: 'the API',
          to: 'svc/my-nginx',
          expected: `ClusterIP inside ${o.env.facts.serviceSubnets.join(',')}, port 80 -> 80/TCP`,
          seen: got,
        },
      );
      return { service: got, serviceRange: `${o.env.facts.serviceSubnets.join(',')} (from ${o.env.facts.sources.serviceSubnets})` };
    },
  },
  {
    id: 'service.endpoints',
    title: 'Endpoints list exactly the Ready pods IP:80, and the EndpointSlices agree',
    layer: 'service',
    tags: ['service', 'endpoints'],
    from: 'api',
    to: 'svc/my-nginx',
    // the pods setup saw Ready, by name and count (the EndpointSlice controller may trail them by a moment: waited for, bounded)
    gather: ({ env }) => steadyBackends(env),
    verify: (o) => {
      const b = o.gathered as NamedBackends;
      must(b.want.length === WORKLOAD.replicas, {
        check: 'service.endpoints',
        from: 'the API',
        to: 'svc/my-nginx',
        expected: `${WORKLOAD.replicas} Ready pods`,
        seen: fmt(b.want.map((p) => p.name)),
      });
      throwAll(verifyNamedBackends('service.endpoints', 'svc/my-nginx', b, port));
      return { pods: b.want, endpoints: b.endpoints, endpointSlices: b.slices, waitedMs: b.waitedMs };
    },
  },
  ...(['pods', 'nodes'] as const).map((kind): CheckDef => ({
    id: `service.from-${kind}`,
    title: kind === 'pods' ? 'ClusterIP:80 serves nginx from pods on every node and in another namespace' : 'ClusterIP:80 serves nginx from every node',
    layer: 'service',
    tags: [...(kind === 'nodes' ? ['node-view'] : []), 'service', kind === 'pods' ? 'pod' : 'node'],
    from: kind === 'pods' ? 'probe pods' : 'every node',
    to: 'svc/my-nginx',
    // a hold window from each source (no "any one of 4 requests"): every request answered by a
    // Ready pod, each Ready pod reached; the nodes' proxy rules are waited for first, by name
    gather: ({ env }) => steadyHold(env),
    verify: (o) => holdVerdict(`service.from-${kind}`, o.gathered as Held, kind === 'pods' ? podSources(o.env) : o.env.nodeViews),
  })),
  {
    id: 'service.spread',
    title: 'repeated requests to the ClusterIP are answered by every Ready pod and by nothing else',
    layer: 'service',
    tags: ['service', 'load-balancing', 'traffic'],
    from: 'probe pods, the other namespace, node views',
    to: 'svc/my-nginx',
    gather: ({ env }) => steadyHold(env),
    verify: (o) => holdVerdict('service.spread', o.gathered as Held),
  },
  {
    id: 'service.virtual-ip',
    phase: 'cluster',
    title: 'the ClusterIP is virtual: no node interface holds it (and, for our cluster, the host has no route into the cluster for it)',
    layer: 'service',
    tags: ['node-view', 'service', 'virtual-ip'],
    from: 'every node (+ host)',
    to: 'svc/my-nginx',
    probes: (env) => env.nodeViews.map((from) => ({ from, probe: { id: 'addrs', argv: ['ip', '-o', 'addr', 'show'] } })),
    gather: async ({ env }) =>
      env.nodeAccess ? { toIp: await hostRouteGet(env, ip(env)), toNode: await hostRouteGet(env, env.facts.nodes[0].internalIP) } : undefined,
    verify: (o) => {
      const failures = o.env.nodeViews.map((v) => {
        const out = o.out(v, 'addrs');
        if (out.exitCode !== 0 || !/\binet\s/.test(out.output))
          return new CheckFailure({
            check: 'virtual-ip',
            from: label(v),
            to: ip(o.env),
            expected: "the node's address list",
            seen: `exit ${out.exitCode}: ${out.output.slice(0, 120)}`,
            command: out.command,
          });
        return verifyNotHeld('virtual-ip', label(v), ip(o.env), out.output);
      });
      const host = o.gathered as { toIp: string; toNode: string } | undefined;
      if (host) failures.push(verifyHostNoRoute('virtual-ip-host', ip(o.env), host.toIp, host.toNode));
      throwAll(failures.filter(defined));
      return { nodes: o.env.nodeViews.map(label), host: host ? host.toIp.trim() : 'not checked (a cluster kube-netcheck did not create)' };
    },
  },
  {
    id: 'service.not-ready.endpoints',
    title: 'a selected pod that is not Ready: absent from Endpoints addresses, listed in notReadyAddresses, ready=false in its EndpointSlice',
    layer: 'service',
    tags: ['service', 'endpoints', 'not-ready'],
    phase: 'not-ready',
    from: 'api',
    to: 'svc/my-nginx',
    gather: async ({ env, phaseData }) => {
      await (phaseData.settled as Promise<unknown>).catch(() => undefined); // judged as the API shows it then
      const [eps, slices] = await Promise.all([
        env.kube.core.readNamespacedEndpoints({ name: service, namespace: env.workloadNs }),
        env.kube.discovery.listNamespacedEndpointSlice({ namespace: env.workloadNs, labelSelector: `kubernetes.io/service-name=${service}` }),
      ]);
      return { eps, slices: slices.items };
    },
    verify: (o) => {
      const { victimIP, victim } = o.phaseData as { victimIP: string; victim: string };
      const { eps, slices } = o.gathered as {
        eps: V1Endpoints;
        slices: Array<{ endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }>;
      };
      const addrs = (eps.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
      const notReady = (eps.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip));
      const sliceEp = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses.includes(victimIP));
      const f = (expected: string, seen: string) =>
        new CheckFailure({ check: 'endpoints-not-ready', from: 'the API', to: `pod ${victim} ${victimIP}`, expected, seen });
      throwAll(
        [
          addrs.includes(victimIP) ? f('absent from Endpoints addresses', `addresses {${addrs.join(', ')}}`) : undefined,
          notReady.includes(victimIP) ? undefined : f('listed in Endpoints notReadyAddresses', `notReadyAddresses {${notReady.join(', ')}}`),
          sliceEp && sliceEp.conditions?.ready === false
            ? undefined
            : f('an EndpointSlice endpoint with ready=false', sliceEp ? `ready=${sliceEp.conditions?.ready}` : 'no endpoint for it'),
        ].filter(defined),
      );
      return { addresses: addrs, notReadyAddresses: notReady, slice: sliceEp };
    },
  },
  {
    id: 'service.selects-nothing.negative',
    phase: 'cluster',
    title: 'verdict self-test: the Endpoints verdict fails, naming the empty set, for a Service whose selector matches nothing',
    layer: 'service',
    tags: ['service', 'negative-control', 'verdict-self-test'],
    controls: 'service.endpoints',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a Service selecting nothing',
    setupObjects: [nothingService('selects-nothing')],
    gather: ({ env }) => backends(env.kube, env.workloadNs, 'selects-nothing', selector, port),
    verify: (o) => {
      const b = o.gathered as Backends;
      // the real Endpoints of a Service selecting nothing, judged against the nginx pods' set
      return mustFail(
        { from: 'the API', to: 'svc/selects-nothing' },
        () => verifySet('service.endpoints', 'svc/selects-nothing', 'Endpoints', b.pods, b.endpoints),
        {
          check: 'service.endpoints',
          from: 'the API',
          to: 'svc/selects-nothing',
          expected: /^Endpoints = ready pods \{.+\}$/,
          seen: '{} (the empty set)',
        },
      );
    },
  },
  {
    id: 'service.no-endpoints.negative',
    phase: 'cluster',
    title: 'verdict self-test: the ClusterIP verdict fails for a Service without endpoints (asked live)',
    layer: 'service',
    tags: ['service', 'negative-control', 'verdict-self-test'],
    controls: 'service.from-pods',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a Service without endpoints',
    setupObjects: [nothingService('no-endpoints')],
    // the check's own hold window, from one probe pod, to a ClusterIP with no endpoint: the nginx
    // pods are what the check would want; none of the requests may come back answered
    gather: async ({ env }) => {
      const svc = await env.kube.core.readNamespacedService({ name: 'no-endpoints', namespace: env.workloadNs });
      const clusterIP = svc.spec!.clusterIP!;
      // 8 requests at once: each waits for wget's timeout (kube-proxy drops them), together 2 s
      return holdFrom(env, [env.probes[0]], names(env.nginx), [], {
        url: `http://${hostPort(clusterIP, port)}/whoami`,
        what: `no-endpoints ${hostPort(clusterIP, port)}`,
        requests: 8,
        parallel: 8,
      });
    },
    verify: (o) => {
      const [[ask, out]] = o.gathered as Array<[HoldAsk, ProbeOutput | Error]>;
      // every request unanswered: the tally's counts, not the message text
      return mustFail({ from: label(ask.from), to: ask.to.what }, () => verifyHold('service.from-pods', ask, out).failure, {
        check: 'service.from-pods',
        from: label(ask.from),
        to: ask.to.what,
        seen: new RegExp(`^0 of ${ask.expect.requests} answered by a wanted pod \\(no answer\\); ${ask.expect.requests} unanswered \\(`),
      });
    },
  },
  {
    id: 'service.virtual-ip.negative',
    phase: 'cluster',
    title: 'verdict self-test: the virtual-IP verdict fails for an address a node does hold',
    layer: 'service',
    tags: ['node-view', 'service', 'negative-control', 'verdict-self-test'],
    controls: 'service.virtual-ip',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a node IP',
    probes: (env) => env.nodeViews.map((from) => ({ from, probe: { id: 'addrs', argv: ['ip', '-o', 'addr', 'show'] } })),
    verify: (o) => {
      const v = o.env.nodeViews[0];
      const nodeIP = o.env.facts.nodes.find((n) => n.name === v.node)!.internalIP;
      return mustFail({ from: label(v), to: nodeIP }, () => verifyNotHeld('service.virtual-ip', label(v), nodeIP, o.out(v, 'addrs').output), {
        check: 'service.virtual-ip',
        from: label(v),
        to: nodeIP,
        expected: 'no interface to hold the address',
        seen: /^held by \S+/,
      });
    },
  },
  ...changeChecks('replaced', 'after both pods are replaced', '2 new'),
  ...changeChecks('scaled-3', 'after scaling 2 -> 3', '3'),
  ...changeChecks('scaled-1', 'after scaling 3 -> 1', '1 remaining'),
  {
    id: 'service.not-ready.traffic',
    title: 'a selected pod that is not Ready receives no Service traffic; the Ready one answers every request',
    layer: 'service',
    tags: ['service', 'traffic', 'not-ready'],
    phase: 'not-ready',
    from: 'probe pods, the other namespace, node views',
    to: 'the ClusterIP',
    gather: (ctx) => convergeThenHold('service.not-ready.traffic', ctx),
    verify: (o) => holdVerdict('service.not-ready.traffic', o.gathered as Held),
  },
  {
    id: 'service.spread.lossy-endpoint.negative',
    title: 'negative control: the ClusterIP hold fails when one node drops 30 % of its new connections to one nginx pod',
    layer: 'service',
    tags: ['service', 'negative-control', 'intermittent'],
    controls: 'service.spread',
    controlKind: 'live',
    from: 'live cluster',
    to: 'one node losing 30 % of its connections to one endpoint',
    notApplicable: unlessManaged('a fault injected on a node (iptables in its container)'),
    // lane nginx: its fault touches the nginx pods' paths or their Services' rules; every control that asks nginx is in this lane
    faultLane: 'nginx',
    fault: 'one node drops 30 % of its new TCP connections to one nginx pod, each for its whole life (iptables statistic + connmark)',
    gather: async ({ env }) => {
      const target = env.nginx[0];
      const tnode = target.spec!.nodeName!;
      // a node other than the target's (its traffic crosses the node's FORWARD/OUTPUT chains), the other namespace's if it can
      const node = [env.otherProbe, ...env.probes].find((p) => p.node !== tnode)?.node ?? env.probes[0].node;
      const sources = holdSources(env).filter((s) => s.node === node);
      const pairs = await withFault(nodeAccess(env), node, lossyRules(target.status!.podIP!, `KNC-LOSSY-${env.runId}`.slice(0, 28)), () =>
        holdFrom(env, sources, names(env.nginx), [], { parallel: holdRequests(env.nginx.length) }),
      );
      return { node, target: target.metadata!.name!, targetIP: target.status!.podIP!, pairs };
    },
    verify: (o) => {
      const g = o.gathered as { node: string; target: string; targetIP: string; pairs: Array<[HoldAsk, ProbeOutput | Error]> };
      // requests that timed out (their connections to the target dropped), counted per source
      return faultVerdict('service.spread', g.pairs, g.node, /\d+ unanswered \([^)]*timed out \d+/);
    },
  },
  ...(['not-ready', 'scaled-1'] as const).map((phase): CheckDef => ({
    id: `service.${phase}.stale-rule.negative`,
    title: `negative control: the ${phase} traffic check fails when one node keeps the ${phase === 'not-ready' ? 'unready' : 'removed'} pod in its Service rules`,
    layer: 'service',
    // node-view: the fault is judged after kube-proxy's sync, read by the node views (without them, convergence by traffic cannot tell the stale rule from a slow proxy)
    tags: ['node-view', 'service', 'negative-control', 'intermittent', phase],
    phase,
    controls: `service.${phase}.traffic`,
    controlKind: 'live',
    from: 'live cluster',
    to: `one node still sending half of its ClusterIP connections to the ${phase === 'not-ready' ? 'unready' : 'removed'} pod`,
    notApplicable: unlessManaged('a fault injected on a node (iptables in its container)'),
    fault: `one node's NAT rules send half of the new ClusterIP connections to the ${phase === 'not-ready' ? 'unready' : 'removed'} pod's IP, ahead of kube-proxy's rules`,
    gather: async (ctx) => {
      const { env, phaseData } = ctx;
      const [stale, staleIP] = Object.entries(phaseData.removedIPs as Record<string, string>).find(([, a]) => a)!;
      const node = env.otherProbe.node;
      const held = await withFault(nodeAccess(env), node, staleRules(ip(env), staleIP), () =>
        convergeThenHold(
          `service.${phase}.traffic`,
          ctx,
          holdSources(env).filter((s) => s.node === node),
        ),
      );
      return { node, stale, staleIP, held };
    },
    verify: (o) => {
      const g = o.gathered as { node: string; stale: string; staleIP: string; held: Held };
      // the unready pod still answers (a stray server); a removed one answers while it terminates
      // (seen on a one-node cluster: 7 of 16 by the removed pod) and not once it is gone (unanswered)
      const strayed = literally(`answered by {${g.stale}}, which must not answer`);
      return faultVerdict(
        `service.${phase}.traffic`,
        g.held.pairs,
        g.node,
        phase === 'not-ready' ? strayed : new RegExp(`\\d+ unanswered \\(|${strayed.source}`),
      );
    },
  })),
];

/**
 * A fault control's verdict: the check's own hold verdict over the faulted node's sources must
 * fail, and every failure's structured fields must show the fault (from a source on that node, to
 * the ClusterIP, `seen` with the counts the fault makes), not its message text.
 */
function faultVerdict(check: string, pairs: Array<[HoldAsk, ProbeOutput | Error]>, node: string, seen: RegExp) {
  const to = pairs[0]?.[0].to.what ?? 'the ClusterIP';
  return mustFail({ from: `sources on ${node}`, to }, () => verifyHolds(check, to, pairs), {
    check,
    from: new RegExp(` on ${node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    to,
    seen,
  });
}

/** A fault on a node: iptables steps, each with the step that undoes it (`ip6tables` for the addresses of an IPv6 cluster). */
type Fault = Array<{ add: string[]; undo: string[] }> & { family?: IPFamily };
const inFamilyOf = (ip: string, f: Fault): Fault => Object.assign(f, { family: ipFamily(ip) });

/**
 * 30 % of the node's new connections to `podIP`:80 lose their replies for their whole life: the
 * first packet of a connection is marked at random (conntrack keeps the mark, so a retransmitted
 * SYN is not drawn again), the marked connections' packets back from the pod are dropped — from the
 * node's pods (FORWARD) and from the node itself (OUTPUT/INPUT).
 */
function lossyRules(podIP: string, chain: string): Fault {
  const to = ['-d', hostCidr(podIP), '-p', 'tcp', '--dport', '80', '-j', chain];
  const back = ['-s', hostCidr(podIP), '-p', 'tcp', '--sport', '80', '-m', 'connmark', '--mark', '0x100000/0x100000', '-j', 'DROP'];
  return inFamilyOf(podIP, [
    { add: ['-N', chain], undo: ['-X', chain] },
    {
      add: [
        '-A',
        chain,
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-m',
        'statistic',
        '--mode',
        'random',
        '--probability',
        '0.3',
        '-j',
        'CONNMARK',
        '--set-xmark',
        '0x100000/0x100000',
      ],
      undo: ['-F', chain],
    },
    ...[
      ['FORWARD', to],
      ['OUTPUT', to],
      ['FORWARD', back],
      ['INPUT', back],
    ].map(([c, r]) => ({ add: ['-I', c as string, '1', ...(r as string[])], undo: ['-D', c as string, ...(r as string[])] })),
  ]);
}

/** Half of the node's new connections to the ClusterIP DNATed to a pod the Service no longer has, ahead of kube-proxy's rules. */
function staleRules(clusterIP: string, podIP: string): Fault {
  const rule = [
    '-d',
    hostCidr(clusterIP),
    '-p',
    'tcp',
    '--dport',
    '80',
    '-m',
    'statistic',
    '--mode',
    'random',
    '--probability',
    '0.5',
    '-j',
    'DNAT',
    '--to-destination',
    hostPort(podIP, 80),
  ];
  return inFamilyOf(
    clusterIP,
    ['PREROUTING', 'OUTPUT'].map((c) => ({ add: ['-t', 'nat', '-I', c, '1', ...rule], undo: ['-t', 'nat', '-D', c, ...rule] })),
  );
}

/**
 * Runs `body` with the fault on the node (a kind node's container): the steps in one command
 * (stopping at the first that fails), then, whatever happens, the undo of every step that was
 * made, in reverse, in one command; an undo that fails is an error naming it.
 */
async function withFault<T>(nodes: NodeAccess, node: string, fault: Fault, body: () => Promise<T>): Promise<T> {
  const tool = fault.family === 'IPv6' ? 'ip6tables' : 'iptables';
  const q = (args: string[]) => [tool, '-w', '5', ...args].map(shq).join(' ');
  let made = 0;
  try {
    const add = fault.map((step, i) => `${q(step.add)} || exit 1; echo "KNC made ${i + 1}"`).join('\n');
    await nodes.exec(node, ['sh', '-c', add]).catch((err: Error & { stdout?: string }) => {
      made = Math.max(0, ...[...(err.stdout ?? err.message).matchAll(/KNC made (\d+)/g)].map((m) => Number(m[1])));
      throw err;
    });
    made = fault.length;
    return await body();
  } finally {
    if (made > 0) {
      const undo = fault
        .slice(0, made)
        .reverse()
        .map((step) => `${q(step.undo)} || echo "KNC left ${shq(step.undo.join(' '))}"`)
        .join('\n');
      const r = await nodes.exec(node, ['sh', '-c', undo]);
      const left = [...r.stdout.matchAll(/^KNC left (.*)$/gm)].map((m) => m[1]);
      // eslint-disable-next-line no-unsafe-finally -- a fault left on a node must fail the run, whatever the body's outcome
      if (left.length) throw new Error(`removing the fault on ${node} failed: ${tool} ${left.join(`; ${tool} `)}`);
    }
  }
}

/** A Service whose selector matches no pod (created at setup: its proxy rules are in place when it is asked). */
function nothingService(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { run: 'nobody' }, ports: [{ port, targetPort: port }] } };
}
