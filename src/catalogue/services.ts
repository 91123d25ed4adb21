// Layer "service": a virtual ClusterIP inside the service range whose Endpoints and EndpointSlices
// list exactly the Ready selected pods' IP:targetPort — and whose traffic follows them: after each
// change (pods replaced, scaled 2 → 3 → 1, a pod not Ready) the same ClusterIP is answered by
// exactly the new set of Ready pods, by name, and never by a removed or unready one.
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { httpProbe, retrying } from '../probes/http.js';
import { parseTrafficLoop, trafficLoopProbe } from '../probes/traffic.js';
import { verifyPage } from '../verdicts/http.js';
import { backends, fmt, verifySet, waitBackends, type Backends } from '../verdicts/endpoints.js';
import { verifyHostNoRoute, verifyNotHeld } from '../verdicts/virtual-ip.js';
import { inCidr } from '../util/cidr.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { execInPod } from '../kube/exec.js';
import { retryOnConflict } from '../kube/errors.js';
import { isLive, isReady, listPods } from '../workload/pods.js';
import { WORKLOAD, type ProbeRef, type RunEnv } from '../workload/setup.js';
import type { Obj } from '../workload/manifests.js';
import { pollUntil } from '../util/poll.js';
import { fanOut, key, label, runFanout } from '../workload/fanout.js';
import { mustFail } from './controls.js';
import type { CheckDef, Observations, PhaseContext, PhaseDef } from './types.js';
import { defined, hostRouteGet, must, podSources, unlessManaged } from './common.js';

const { deployment, service, selector, port } = WORKLOAD;
/** Requests per source pod to the ClusterIP when asking "who answers". */
const REPEAT = 8;
const ip = (env: RunEnv) => env.nginxServiceIP;
const names = (pods: V1Pod[]) => pods.map((p) => p.metadata!.name!).sort();
const livePods = async (env: RunEnv) => (await listPods(env.kube, env.workloadNs, selector)).filter(isLive);

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
 * Asks the ClusterIP from every pod source until the servers that answer are exactly `want` and
 * every request is answered — kube-proxy or its replacement may lag the API by a moment. Each
 * source pod runs the asking loop itself (src/probes/traffic.ts: overlapping rounds of REPEAT
 * requests, ending once consecutive rounds answered only by `want` covered all of it), so one
 * exec per pod covers the whole wait; it starts when `startWhen` resolves (the wanted pods have
 * their IPs), so the exec's start overlaps their start-up and the Endpoints and proxy updates. The wait
 * ends `timeoutMs` after the start, or after `apiSettled` (the API showing the change done: pods
 * Ready, Endpoints updated) when that comes later; then the last rounds are the evidence.
 */
async function trafficUntil(env: RunEnv, want: string[], timeoutMs = 20_000, apiSettled?: Promise<unknown>, startWhen?: Promise<unknown>): Promise<Traffic> {
  // one probe pod per node: each node's proxy rules are asked (the other namespace's probe pod
  // shares a node's rules with one of these, and asks the ClusterIP in service.from-pods)
  const sources = env.probes;
  await startWhen?.catch(() => undefined);
  let deadline = Date.now() + timeoutMs;
  let apiDone = !apiSettled;
  apiSettled?.then(
    () => {
      deadline = Math.max(deadline, Date.now() + timeoutMs);
      apiDone = true;
    },
    () => (apiDone = true),
  );
  const wanted = [...want].sort().join();
  let attempts = 0;
  for (;;) {
    // a loop stops starting rounds 4 s before the deadline (its last round ends in time), and
    // runs 20 s at most: a later API change (pods turning Ready) may move the deadline
    const deadlineS = Math.min(20, Math.max(apiDone ? 1 : 5, Math.floor((deadline - Date.now()) / 1000) - 4));
    const loop = trafficLoopProbe('svc-who', { url: `http://${ip(env)}:${port}/whoami`, requests: REPEAT, want, deadlineS });
    const f = await fanOut(env.kube, sources.map((from) => ({ from, probe: loop })), { concurrency: env.settings.execConcurrency });
    const t: Traffic = { servers: {}, unanswered: [], requests: 0, attempts };
    for (const from of sources) {
      const o = f.outputs.get(key(from))?.get('svc-who');
      let r;
      try {
        if (!o) throw new Error(f.errors.get(key(from)) ?? 'no output');
        r = parseTrafficLoop(o.output);
      } catch (err) {
        t.unanswered.push(`${label(from)}: ${(err as Error).message.split('\n')[0].slice(0, 160)}`);
        continue;
      }
      t.attempts += r.rounds;
      t.requests += r.answers.length;
      for (const a of r.answers) {
        if (a.rc === 0 && a.server) t.servers[a.server] = (t.servers[a.server] ?? 0) + 1;
        else t.unanswered.push(`${label(from)}: exit ${a.rc} ${JSON.stringify(a.body.slice(0, 80))}`);
      }
      if (!r.answers.length) t.unanswered.push(`${label(from)}: no round of requests finished`);
    }
    attempts = t.attempts;
    if (t.unanswered.length === 0 && Object.keys(t.servers).sort().join() === wanted) return t;
    if (Date.now() >= deadline && apiDone) return t;
  }
}

/** The traffic verdict: answered by every pod of `want`, by nothing else, every request answered. */
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

/** Read and replace the scale subresource, again on a 409 Conflict (the Deployment changed in between). */
async function scaleTo(env: RunEnv, replicas: number): Promise<void> {
  await retryOnConflict(async () => {
    const cur = await env.kube.apps.readNamespacedDeploymentScale({ name: deployment, namespace: env.workloadNs });
    await env.kube.apps.replaceNamespacedDeploymentScale({ name: deployment, namespace: env.workloadNs, body: { ...cur, spec: { replicas } } });
  });
}

const readyNames = async (env: RunEnv) => names((await livePods(env)).filter(isReady));

/** The workload's live pods once `done` holds for them (the ReplicaSet did its part; not yet Ready). */
const livePodsUntil = (env: RunEnv, what: string, done: (ps: V1Pod[]) => boolean) =>
  pollUntil({ what, timeoutMs: 60_000, intervalMs: 100, probe: () => livePods(env), done, describe: (ps) => names(ps).join(',') || 'no pods' });

/**
 * A change phase's data: what the change should lead to (`want`: the pods that should answer,
 * `removed`: those that must not) and `settled`, the API converging on it (pods Ready, Endpoints
 * and EndpointSlices updated), which the phase's checks await each in their own way: the
 * Endpoints checks judge what it saw, the traffic checks ask the ClusterIP meanwhile.
 */
function changed(env: RunEnv, want: string[], removed: string[], size: number, extra: Record<string, unknown> = {}) {
  const settled = waitBackends(env.kube, env.workloadNs, service, selector, port, size, 90_000);
  // when asking the ClusterIP starts to make sense: every wanted pod has its IP (its sandbox is up,
  // its container starting: the exec of the traffic loop overlaps the rest of the start-up, and no
  // loop competes with the sandboxes' creation for the nodes' CPUs)
  const started = pollUntil({
    what: `pods ${fmt(want)} to have their IPs`,
    timeoutMs: 90_000,
    intervalMs: 100,
    probe: () => listPods(env.kube, env.workloadNs, selector),
    done: (ps) => want.every((w) => ps.some((p) => p.metadata!.name === w && !!p.status?.podIP)),
    describe: (ps) => ps.map((p) => `${p.metadata!.name}:${p.status?.podIP ?? 'no IP'}`).join(',') || 'no pods',
  });
  // both are awaited by the checks; a phase whose checks are not selected must not leave them unhandled
  settled.catch(() => undefined);
  started.catch(() => undefined);
  return { want, removed, settled, started, ...extra };
}

/** A change phase's traffic check: the ClusterIP asked from when the wanted pods have IPs until it is answered by exactly them. */
const trafficAfterChange = ({ env, phaseData }: PhaseContext) =>
  trafficUntil(env, phaseData.want as string[], 20_000, phaseData.settled as Promise<unknown>, phaseData.started as Promise<unknown>);

/** The phase's Backends once settled, or (it did not settle) as the API shows them now. */
const settledBackends = async (env: RunEnv, phaseData: Record<string, unknown>) =>
  (phaseData.settled as Promise<Backends>).catch(() => backends(env.kube, env.workloadNs, service, selector, port));

export const SERVICE_PHASES: PhaseDef[] = [
  {
    name: 'not-ready',
    title: 'one of the 2 pods made not Ready (its readiness page removed)',
    enter: async (env) => {
      // first of the changes: the 2 pods of the steady phase, one of them made not Ready (the
      // next phase replaces both, so nothing needs restoring and no extra pod has to start)
      // (the steady phase's state is checked at the same time as the page is removed: when it
      // does not hold, the phase fails as a whole)
      const [victim, other] = env.nginx;
      const vName = victim.metadata!.name!;
      await Promise.all([
        waitBackends(env.kube, env.workloadNs, service, selector, port, 2).then((b) => {
          const ips = env.nginx.map((p) => `${p.status!.podIP}:${port}`).sort();
          if (b.pods.join() !== ips.join()) throw new Error(`the steady phase's Ready pods ${fmt(ips)} are not the Ready pods now: ${fmt(b.pods)}`);
        }),
        execInPod({ kc: env.kube.kc, namespace: env.workloadNs, pod: vName, command: ['sh', '-c', 'rm -f /usr/share/nginx/html/index.html'], timeoutMs: 15_000 }),
      ]);
      return changed(env, [other.metadata!.name!], [vName], 1, { victim: vName, victimIP: victim.status!.podIP! });
    },
  },
  {
    name: 'replaced',
    title: 'both nginx pods deleted and replaced',
    enter: async (env) => {
      const old = names(await livePods(env));
      await Promise.all(old.map((name) => env.kube.core.deleteNamespacedPod({ name, namespace: env.workloadNs, gracePeriodSeconds: 0 })));
      const now = await livePodsUntil(env, 'the ReplicaSet to create 2 replacement pods', (ps) => ps.length === 2 && !ps.some((p) => old.includes(p.metadata!.name!)));
      return changed(env, names(now), old, 2);
    },
  },
  {
    name: 'scaled-3',
    title: 'scaled 2 -> 3',
    enter: async (env) => {
      await scaleTo(env, 3);
      return changed(env, names(await livePodsUntil(env, 'the ReplicaSet to create a third pod', (ps) => ps.length === 3)), [], 3);
    },
  },
  {
    name: 'scaled-1',
    title: 'scaled 3 -> 1',
    enter: async (env) => {
      const before = names(await livePods(env));
      await scaleTo(env, 1);
      const want = names(await livePodsUntil(env, 'the ReplicaSet to remove 2 of the 3 pods', (ps) => ps.length === 1));
      return changed(env, want, before.filter((n) => !want.includes(n)), 1);
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
      gather: ({ env, phaseData }) => settledBackends(env, phaseData),
      verify: (o) => {
        const b = o.gathered as Backends;
        must(b.pods.length > 0, { check: 'endpoints', from: 'the API', to: 'svc/my-nginx', expected: 'Ready pods', seen: 'none' });
        throwAll([verifySet('endpoints', 'svc/my-nginx', 'Endpoints', b.pods, b.endpoints), verifySet('endpointslices', 'svc/my-nginx', 'EndpointSlices', b.pods, b.slices)].filter(defined));
        return b;
      },
    },
    {
      id: `service.${phase}.traffic`,
      title: `${what}: the same ClusterIP is answered by exactly the ${n} Ready pods, by name${phase === 'replaced' || phase === 'scaled-1' ? ', and never by a removed one' : ''}`,
      layer: 'service',
      tags: ['service', 'traffic', phase],
      phase,
      from: 'probe pods',
      to: 'the ClusterIP from before the change',
      gather: trafficAfterChange,
      verify: (o) => trafficVerdict(o, `service-${phase}-traffic`),
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
    notApplicable: (env) => (env.facts.serviceSubnets.length ? undefined : 'the service range is not discoverable (no ServiceCIDR API, kubeadm-config or kube-apiserver flag visible)'),
    gather: ({ env }) => env.kube.core.readNamespacedService({ name: service, namespace: env.workloadNs }),
    verify: (o) => {
      const svc = o.gathered as V1Service;
      const p = svc.spec!.ports![0];
      const got = `${svc.spec!.type} ${svc.spec!.clusterIP} port ${p.port} -> ${p.targetPort}/${p.protocol}`;
      must(o.env.facts.serviceSubnets.some((c) => inCidr(svc.spec!.clusterIP!, c)) && svc.spec!.type === 'ClusterIP' && p.port === 80 && String(p.targetPort) === '80' && p.protocol === 'TCP',
        { check: 'service-cluster-ip', from: 'the API', to: 'svc/my-nginx', expected: `ClusterIP inside ${o.env.facts.serviceSubnets.join(',')}, port 80 -> 80/TCP`, seen: got });
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
    gather: ({ env }) => waitBackends(env.kube, env.workloadNs, service, selector, port, WORKLOAD.replicas, 30_000).catch(() => backends(env.kube, env.workloadNs, service, selector, port)),
    verify: (o) => {
      const b = o.gathered as Backends;
      must(b.pods.length === WORKLOAD.replicas, { check: 'endpoints', from: 'the API', to: 'svc/my-nginx', expected: `${WORKLOAD.replicas} Ready pods`, seen: fmt(b.pods) });
      throwAll([verifySet('endpoints', 'svc/my-nginx', 'Endpoints', b.pods, b.endpoints), verifySet('endpointslices', 'svc/my-nginx', 'EndpointSlices', b.pods, b.slices)].filter(defined));
      return b;
    },
  },
  ...(['pods', 'nodes'] as const).map((kind): CheckDef => ({
    id: `service.from-${kind}`,
    title: kind === 'pods' ? 'ClusterIP:80 serves nginx from pods on every node and in another namespace' : 'ClusterIP:80 serves nginx from every node',
    layer: 'service',
    tags: ['service', kind === 'pods' ? 'pod' : 'node'],
    from: kind === 'pods' ? 'probe pods' : 'every node',
    to: 'svc/my-nginx',
    // asked again (4 times, 0.5 s apart) when it fails: the Service's proxy rules may trail the
    // Endpoints of pods that just turned Ready by a moment
    probes: (env) => (kind === 'pods' ? podSources(env) : env.nodeViews).map((from) => ({ from, probe: retrying(httpProbe('svc-page', ip(env), port)) })),
    verify: (o) => {
      const sources = kind === 'pods' ? podSources(o.env) : o.env.nodeViews;
      must(sources.length > 0, { check: `service-from-${kind}`, from: 'the run', to: 'svc/my-nginx', expected: 'sources', seen: 'none' });
      throwAll(sources.map((from) => verifyPage(`service-from-${kind}`, label(from), `my-nginx ${ip(o.env)}:80`, o.out(from, 'svc-page'))).filter(defined));
      return sources.map(label);
    },
  })),
  {
    id: 'service.spread',
    title: 'repeated requests to the ClusterIP are answered by every Ready pod and by nothing else',
    layer: 'service',
    tags: ['service', 'load-balancing', 'traffic'],
    from: 'probe pods',
    to: 'svc/my-nginx',
    gather: async ({ env }) => trafficUntil(env, await readyNames(env)),
    verify: async (o) => {
      const want = await readyNames(o.env);
      const t = o.gathered as Traffic;
      const f = verifyTraffic('service-spread', `my-nginx ${ip(o.env)}:80`, want, t);
      if (f) throw f;
      return t;
    },
  },
  {
    id: 'service.virtual-ip',
    phase: 'cluster',
    title: 'the ClusterIP is virtual: no node interface holds it (and, for our cluster, the host has no route into the cluster for it)',
    layer: 'service',
    tags: ['service', 'virtual-ip'],
    from: 'every node (+ host)',
    to: 'svc/my-nginx',
    probes: (env) => env.nodeViews.map((from) => ({ from, probe: { id: 'addrs', argv: ['ip', '-o', 'addr', 'show'] } })),
    gather: async ({ env }) => (env.nodeAccess ? { toIp: await hostRouteGet(env, ip(env)), toNode: await hostRouteGet(env, env.facts.nodes[0].internalIP) } : undefined),
    verify: (o) => {
      const failures = o.env.nodeViews.map((v) => {
        const out = o.out(v, 'addrs');
        if (out.exitCode !== 0 || !/\binet\s/.test(out.output)) return new CheckFailure({ check: 'virtual-ip', from: label(v), to: ip(o.env), expected: 'the node\'s address list', seen: `exit ${out.exitCode}: ${out.output.slice(0, 120)}`, command: out.command });
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
      const { eps, slices } = o.gathered as { eps: V1Endpoints; slices: Array<{ endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }> };
      const addrs = (eps.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
      const notReady = (eps.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip));
      const sliceEp = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses.includes(victimIP));
      const f = (expected: string, seen: string) => new CheckFailure({ check: 'endpoints-not-ready', from: 'the API', to: `pod ${victim} ${victimIP}`, expected, seen });
      throwAll([
        addrs.includes(victimIP) ? f('absent from Endpoints addresses', `addresses {${addrs.join(', ')}}`) : undefined,
        notReady.includes(victimIP) ? undefined : f('listed in Endpoints notReadyAddresses', `notReadyAddresses {${notReady.join(', ')}}`),
        sliceEp && sliceEp.conditions?.ready === false ? undefined : f('an EndpointSlice endpoint with ready=false', sliceEp ? `ready=${sliceEp.conditions?.ready}` : 'no endpoint for it'),
      ].filter(defined));
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
      return mustFail({ from: 'the API', to: 'svc/selects-nothing' }, () => verifySet('service.endpoints', 'svc/selects-nothing', 'Endpoints', b.pods, b.endpoints), {
        check: 'service.endpoints', from: 'the API', to: 'svc/selects-nothing', expected: /^Endpoints = ready pods \{.+\}$/, seen: '{} (the empty set)',
      });
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
    gather: async ({ env }) => {
      const svc = await env.kube.core.readNamespacedService({ name: 'no-endpoints', namespace: env.workloadNs });
      const from = env.probes[0];
      const out = await runFanout(env.kube, from, [httpProbe('none', svc.spec!.clusterIP!, port, '/', 1)]);
      return { from, clusterIP: svc.spec!.clusterIP!, out: out.get('none')! };
    },
    verify: (o) => {
      const { from, clusterIP, out } = o.gathered as { from: ProbeRef; clusterIP: string; out: ReturnType<Observations['out']> };
      const to = `no-endpoints ${clusterIP}:80`;
      return mustFail({ from: label(from), to }, () => verifyPage('service.from-pods', label(from), to, out), { check: 'service.from-pods', from: label(from), to, expected: 'the nginx welcome page', seen: /^(fail|timeout) \(exit / });
    },
  },
  {
    id: 'service.virtual-ip.negative',
    phase: 'cluster',
    title: 'verdict self-test: the virtual-IP verdict fails for an address a node does hold',
    layer: 'service',
    tags: ['service', 'negative-control', 'verdict-self-test'],
    controls: 'service.virtual-ip',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a node IP',
    probes: (env) => env.nodeViews.map((from) => ({ from, probe: { id: 'addrs', argv: ['ip', '-o', 'addr', 'show'] } })),
    verify: (o) => {
      const v = o.env.nodeViews[0];
      const nodeIP = o.env.facts.nodes.find((n) => n.name === v.node)!.internalIP;
      return mustFail({ from: label(v), to: nodeIP }, () => verifyNotHeld('service.virtual-ip', label(v), nodeIP, o.out(v, 'addrs').output), { check: 'service.virtual-ip', from: label(v), to: nodeIP, expected: 'no interface to hold the address', seen: /^held by \S+/ });
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
    from: 'probe pods',
    to: 'the ClusterIP',
    gather: trafficAfterChange,
    verify: (o) => trafficVerdict(o, 'service-not-ready-traffic'),
  },
];

function trafficVerdict(o: Observations, check: string): Traffic {
  const { want, removed } = o.phaseData as { want: string[]; removed: string[] };
  const f = verifyTraffic(check, `my-nginx ${ip(o.env)}:80 (the ClusterIP from before the change)`, want, o.gathered as Traffic, removed);
  if (f) throw f;
  return o.gathered as Traffic;
}

/** A Service whose selector matches no pod (created at setup: its proxy rules are in place when it is asked). */
function nothingService(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { run: 'nobody' }, ports: [{ port, targetPort: port }] } };
}
