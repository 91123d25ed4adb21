// Grading a class: every namespace read (each by itself: one that does not exist or that the
// grader may not read is that student's error, never the class's), ONE shared set of probe pods in
// a namespace of the grader's own (one per node, deleted at the end), every probe of every student
// carried by one exec per probe pod, then each check judged by its type's verdict and scored.
// Nothing is created or changed in a student's namespace, except for NetworkPolicy checks "from a
// pod with labels …": a grader pod with those labels is created there for the probes and deleted at
// the end (it carries kube-netcheck's managed-by label).
import type { V1Pod } from '@kubernetes/client-node';
import { NetworkingV1Api } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { clusterDnsServers, discoverFacts, domainFromResolvConf, type ClusterFacts } from '../cluster/facts.js';
import { applyDnsService, readDnsInputs } from '../cluster/dns-service.js';
import { execInPod } from '../kube/exec.js';
import { apiStatus } from '../kube/errors.js';
import { isLive } from '../workload/pods.js';
import { deletePods, probePod, probeTemplate, startPods, startProbeNamespace, type ProbeRef } from '../workload/probe-pods.js';
import { label, runFanout } from '../workload/fanout.js';
import { httpProbe } from '../probes/http.js';
import { digProbe } from '../probes/dns.js';
import { parseSamples, sampled } from '../probes/samples.js';
import type { Probe, ProbeOutput } from '../probes/batch.js';
import { runLabels } from '../util/labels.js';
import { pollUntil } from '../util/poll.js';
import { PROBE_TYPES, type Lab, type LabCheck } from './lab.js';
import { expectFor, judge } from './judge.js';
import { score, type GradeResult } from './score.js';
import { dnsNames, deploymentPods, rolloutDone, statefulSetDone, type Observation } from './verdicts.js';
import { planProbes } from './observe.js';

export const probeNamespaceName = (runId: string) => `knc-grade-${runId}`;

/** Probes one exec runs at once in one probe pod. */
export const PROBES_PER_EXEC = 24;

export interface ClassOptions {
  kube: Kube;
  lab: Lab;
  namespaces: string[];
  runId: string;
  probeImage: string;
  passMark?: number;
  log?: (line: string) => void;
  /** Resolves once the probe namespace exists (or its creation failed): cleanup waits for it. */
  onNamespaceCreate?: (creating: Promise<unknown>) => void;
  /** Aborted (the CLI's SIGINT): the probe namespace is not created any more (one already being created is the caller's to delete). */
  signal?: AbortSignal;
  /** Namespaces read at once (default 10). */
  concurrency?: number;
}

export interface StudentGrade {
  namespace: string;
  /** The namespace could not be graded (does not exist, may not be read …): one line. */
  error?: string;
  result?: GradeResult;
}

export interface ClassResult {
  students: StudentGrade[];
  probeNamespace?: string;
  policyEnforced?: { enforced: boolean; detail: string };
  timings: { readMs: number; probeReadyMs?: number; probesMs?: number; totalMs: number };
}

/** A namespace's objects, every kind a check may judge. */
export interface Snapshot {
  namespace: string;
  deployments: Array<Record<string, unknown>>;
  statefulSets: Array<Record<string, unknown>>;
  replicaSets: Array<Record<string, unknown>>;
  pods: V1Pod[];
  services: Array<Record<string, unknown>>;
  endpoints: Array<Record<string, unknown>>;
  endpointSlices: Array<Record<string, unknown>>;
  networkPolicies: Array<Record<string, unknown>>;
}

const code = (err: unknown) => (err as { code?: number }).code;
const firstLine = (err: unknown) => ((err as Error).message ?? String(err)).split('\n')[0];

/** `f` over `items`, at most `n` at a time, results in order. */
export async function pool<T, R>(items: T[], n: number, f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i], i);
      }
    }),
  );
  return out;
}

async function readOnce(kube: Kube, ns: string): Promise<Snapshot> {
  const net = kube.kc.makeApiClient(NetworkingV1Api);
  const [deployments, statefulSets, replicaSets, pods, services, endpoints, endpointSlices, networkPolicies] = await Promise.all([
    kube.apps.listNamespacedDeployment({ namespace: ns }).then((l) => l.items),
    kube.apps.listNamespacedStatefulSet({ namespace: ns }).then((l) => l.items),
    kube.apps.listNamespacedReplicaSet({ namespace: ns }).then((l) => l.items),
    kube.core.listNamespacedPod({ namespace: ns }).then((l) => l.items.filter(isLive).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))),
    kube.core.listNamespacedService({ namespace: ns }).then((l) => l.items),
    kube.core.listNamespacedEndpoints({ namespace: ns }).then((l) => l.items),
    kube.discovery.listNamespacedEndpointSlice({ namespace: ns }).then((l) => l.items),
    net.listNamespacedNetworkPolicy({ namespace: ns }).then((l) => l.items),
  ]);
  const raw = <T>(x: T[]) => x as unknown as Array<Record<string, unknown>>;
  return {
    namespace: ns,
    deployments: raw(deployments),
    statefulSets: raw(statefulSets),
    replicaSets: raw(replicaSets),
    pods,
    services: raw(services),
    endpoints: raw(endpoints),
    endpointSlices: raw(endpointSlices),
    networkPolicies: raw(networkPolicies),
  };
}

const named = (list: Array<Record<string, unknown>>, name: string) => list.find((x) => (x.metadata as { name?: string } | undefined)?.name === name);

/** Every workload of the lab that exists has finished rolling out (a change the student just made is judged once it is in). */
function settled(s: Snapshot, lab: Lab): boolean {
  return lab.workloads.every((w) => {
    if (w.kind === 'Deployment') {
      const d = named(s.deployments, w.name);
      return !d || rolloutDone(d as never, s.replicaSets as never, s.pods);
    }
    const st = named(s.statefulSets, w.name);
    return !st || statefulSetDone(st as never, s.pods);
  });
}

/** Reads a namespace; waits (bounded by the lab's rollout timeout) while a workload of the lab is mid-rollout. */
export async function snapshot(kube: Kube, ns: string, lab: Lab, log?: (line: string) => void): Promise<Snapshot> {
  try {
    await kube.core.readNamespace({ name: ns });
  } catch (err) {
    if (code(err) === 404) throw new Error(`namespace ${ns} does not exist`);
    if (code(err) === 403) throw new Error(`the grader may not read namespace ${ns} (403 Forbidden): see manifests/grading/rbac.yaml`);
    throw err;
  }
  let last: Snapshot;
  try {
    last = await readOnce(kube, ns);
  } catch (err) {
    if (code(err) === 403)
      throw new Error(`the grader may not read the objects of namespace ${ns} (403 Forbidden: ${(apiStatus(err)?.message ?? firstLine(err)).slice(0, 200)})`);
    throw err;
  }
  if (settled(last, lab)) return last;
  log?.(`${ns}: a workload is mid-rollout; waiting up to ${lab.timeouts.rolloutMs / 1000}s for it to finish`);
  try {
    return await pollUntil({
      what: `the workloads of ${ns} to finish rolling out`,
      timeoutMs: lab.timeouts.rolloutMs,
      intervalMs: 500,
      probe: async () => (last = await readOnce(kube, ns)),
      done: (s) => settled(s, lab),
    });
  } catch {
    log?.(`${ns}: the rollout did not finish within ${lab.timeouts.rolloutMs / 1000}s; judged on the current revision as it is`);
    return last;
  }
}

/** Everything a check's verdict reads that does not come from a probe. */
function baseObservation(
  s: Snapshot,
  c: LabCheck,
  ctx: { facts?: ClusterFacts; domain?: string; dnsServers?: string[]; probeNs?: string; probeError?: string },
): Observation {
  const e = expectFor(c);
  const workload = e.kind === 'StatefulSet' ? named(s.statefulSets, e.deployment) : named(s.deployments, e.deployment);
  return {
    namespace: s.namespace,
    expect: e,
    deployment: workload as never,
    replicaSets: s.replicaSets as never,
    pods: s.pods,
    service: named(s.services, e.service) as never,
    endpoints: named(s.endpoints, e.service) as never,
    endpointSlices: s.endpointSlices.filter(
      (x) => (x.metadata as { labels?: Record<string, string> }).labels?.['kubernetes.io/service-name'] === e.service,
    ) as never,
    podHttp: new Map(),
    endpointHttp: new Map(),
    dns: [],
    clusterDomain: ctx.domain,
    dnsServers: ctx.dnsServers,
    probeNamespace: ctx.probeNs,
    probeError: ctx.probeError,
    objects: { Deployment: s.deployments, StatefulSet: s.statefulSets, Service: s.services, NetworkPolicy: s.networkPolicies, Pod: s.pods as never },
  };
}

/** A probe a check asks, from a pod, and where its output goes in the check's observation. */
interface Ask {
  from: ProbeRef;
  probe: Probe;
  put: (o: Observation, out: ProbeOutput | undefined) => void;
}

/** The probes of one check of one student (ids made unique by `tag`). */
function asksFor(c: LabCheck, o: Observation, tag: string, grader: ProbeRef, lab: Lab, facts: ClusterFacts | undefined, client?: ProbeRef): Ask[] {
  const hold = { samples: lab.timeouts.samples, gapS: lab.timeouts.gapS };
  const t = lab.timeouts.requestS;
  const id = (x: string) => `${tag}-${x}`;
  const samples = (out: ProbeOutput | undefined) => (out ? parseSamples(out) : []);
  switch (c.type) {
    case 'pod-http':
    case 'service-http': {
      const plan = planProbes(o, { podHttp: c.type === 'pod-http', serviceHttp: c.type === 'service-http', dns: false }, hold);
      return plan.probes.map((p) => ({
        from: grader,
        probe: { ...p, id: id(p.id) },
        put: (ob, out) => {
          if (p.id === 'svc') ob.serviceHttp = samples(out);
          else if (plan.podIds.has(p.id)) ob.podHttp.set(plan.podIds.get(p.id)!, samples(out));
          else if (plan.endpointIds.has(p.id)) ob.endpointHttp.set(plan.endpointIds.get(p.id)!, samples(out));
        },
      }));
    }
    case 'dns': {
      if (!o.clusterDomain) return [];
      const form = { 'svc.ns': 'svc.ns', 'svc.ns.svc': 'svc.ns.svc', fqdn: 'svc.ns.svc.domain' }[c.form!];
      const d = dnsNames(o.expect.service, o.namespace, o.clusterDomain).find((x) => x.form === form)!;
      return [{ from: grader, probe: digProbe(id('dns'), d.name, { search: true, timeoutS: t }), put: (ob, out) => void (ob.dns = [{ ...d, output: out }]) }];
    }
    case 'dns-pods':
      return deploymentPods(o).map((p, i) => ({
        from: grader,
        probe: digProbe(id(`pod${i}`), `${p.metadata!.name}.${o.expect.service}.${o.namespace}.svc.${o.clusterDomain ?? 'cluster.local'}`, { timeoutS: t }),
        put: (ob, out) => {
          if (out) (ob.podDns ??= new Map()).set(p.metadata!.name!, out);
        },
      }));
    case 'nodeport-http': {
      const port = (o.service?.spec?.ports ?? []).find((p) => p.port === o.expect.servicePort && (p.protocol ?? 'TCP') === 'TCP');
      if (!port?.nodePort || !facts) return [];
      return facts.nodes.map((n, i) => ({
        from: grader,
        probe: sampled(httpProbe(id(`node${i}`), n.internalIP, port.nodePort!, '/', t), hold),
        put: (ob, out) => void (ob.nodePortHttp ??= new Map()).set(`node ${n.name} ${n.internalIP}:${port.nodePort}`, samples(out)),
      }));
    }
    case 'policy': {
      const from = c.policy!.from === 'grader' ? grader : client;
      if (!from) return [];
      const setFrom = (ob: Observation) =>
        void (ob.policyFrom =
          c.policy!.from === 'grader'
            ? `the grader's namespace (${label(grader)})`
            : `a pod labelled ${Object.entries((c.policy!.from as { labels: Record<string, string> }).labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')} in ${o.namespace}`);
      if (c.policy!.to === 'service') {
        const ip = o.service?.spec?.clusterIP;
        if (!ip || ip === 'None') return [];
        return [
          {
            from,
            probe: sampled(httpProbe(id('svc'), ip, o.expect.servicePort, '/', t), hold),
            put: (ob, out) => {
              setFrom(ob);
              (ob.policyHttp ??= new Map()).set(`Service ${o.expect.service} ${ip}:${o.expect.servicePort}`, samples(out));
            },
          },
        ];
      }
      return deploymentPods(o)
        .filter((p) => p.status?.podIP)
        .map((p, i) => ({
          from,
          probe: sampled(httpProbe(id(`pod${i}`), p.status!.podIP!, o.expect.containerPort, '/', t), hold),
          put: (ob, out) => {
            setFrom(ob);
            (ob.policyHttp ??= new Map()).set(`pod ${p.metadata!.name} ${p.status!.podIP}:${o.expect.containerPort}`, samples(out));
          },
        }));
    }
    default:
      return [];
  }
}

const labelsKey = (l: Record<string, string>) =>
  Object.entries(l)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * Does the cluster enforce NetworkPolicy? The grader's own control, once per class: a target pod
 * (busybox httpd) in the grader's namespace answers the probe pod; a deny-all ingress policy on it
 * must make the connection fail within 10 s. Still answering then: not enforced.
 */
async function policyControl(
  kube: Kube,
  probe: ProbeRef,
  ns: string,
  image: string,
  labels: Record<string, string>,
): Promise<{ enforced: boolean; detail: string }> {
  const target = probePod(probeTemplate('probe-pod'), 'policy-control', undefined, ns, image, labels);
  target.metadata!.labels = { ...target.metadata!.labels, 'app.kubernetes.io/component': 'policy-control' };
  target.spec.containers[0].command = ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/tmp'];
  const [{ ip }] = await startPods(kube, [target], { selector: 'app.kubernetes.io/component=policy-control', timeoutMs: 60_000 });
  // any HTTP answer (busybox httpd says 404 for /) means connected; a timeout or refusal means not
  const connects = async () => {
    const out = (await runFanout(kube, probe, [httpProbe('ctl', ip, 8080, '/', 2)], 15_000)).get('ctl')!;
    return out.exitCode === 0 || /server returned error|HTTP\/1\.[01] \d{3}/i.test(out.output);
  };
  if (!(await connects()))
    return {
      enforced: false,
      detail: `the grader's control could not reach its own target ${ip}:8080 even without a policy, so policy checks cannot be told apart`,
    };
  await kube.kc.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({
    namespace: ns,
    body: {
      metadata: { name: 'knc-grade-control-deny', labels },
      spec: { podSelector: { matchLabels: { 'app.kubernetes.io/component': 'policy-control' } }, policyTypes: ['Ingress'] },
    },
  });
  const t0 = Date.now();
  try {
    await pollUntil({ what: 'the control deny policy to take effect', timeoutMs: 10_000, intervalMs: 500, probe: connects, done: (c) => !c });
    return { enforced: true, detail: `a deny-all ingress policy on the grader's control pod took effect after ${Date.now() - t0}ms` };
  } catch {
    return {
      enforced: false,
      detail: `the grader's control pod ${ns}/policy-control still answered ${Date.now() - t0}ms after a deny-all ingress NetworkPolicy selected it`,
    };
  }
}

/** Grades every namespace of the class against the lab. */
export async function gradeClass(o: ClassOptions): Promise<ClassResult> {
  const { kube, lab } = o;
  const t0 = Date.now();
  const needProbe = lab.checks.some((c) => PROBE_TYPES.includes(c.type));
  const needPolicy = lab.checks.some((c) => c.type === 'policy');
  const probeNs = probeNamespaceName(o.runId);
  const labels = runLabels(o.runId);
  const factsP = needProbe ? discoverFacts(kube) : undefined;
  factsP?.catch(() => undefined);
  const dnsInputsP = needProbe ? readDnsInputs(kube) : undefined;
  dnsInputsP?.catch(() => undefined);
  // the shared probe pods start while the namespaces are read: one per node
  const probesP = needProbe
    ? factsP!.then((f) => {
        // checked in the tick that creates it: after an abort nothing is created behind the caller's clean-up
        o.signal?.throwIfAborted();
        return startProbeNamespace(kube, { namespace: probeNs, labels, image: o.probeImage, nodes: f.nodes.map((n) => n.name), onCreate: o.onNamespaceCreate });
      })
    : undefined;
  probesP?.catch(() => undefined);
  if (needProbe) o.log?.(`probe: namespace ${probeNs}, image ${o.probeImage}`);

  const snaps = await pool(o.namespaces, o.concurrency ?? 10, async (ns) => {
    try {
      return { ns, snap: await snapshot(kube, ns, lab, o.log) };
    } catch (err) {
      return { ns, error: firstLine(err) };
    }
  });
  const readMs = Date.now() - t0;
  const result: ClassResult = { students: [], timings: { readMs, totalMs: 0 }, ...(needProbe ? { probeNamespace: probeNs } : {}) };

  let probeError: string | undefined;
  let probes: ProbeRef[] = [];
  let facts: ClusterFacts | undefined;
  let domain: string | undefined;
  let dnsServers: string[] | undefined;
  if (needProbe) {
    try {
      [facts, probes] = await Promise.all([factsP!, probesP!]);
      result.timings.probeReadyMs = Date.now() - t0;
      const rc = await execInPod({ kc: kube.kc, namespace: probes[0].namespace, pod: probes[0].pod, command: ['cat', '/etc/resolv.conf'], timeoutMs: 15_000 });
      const seen = domainFromResolvConf(rc.stdout, probes[0].namespace);
      domain = seen.domain ?? facts.clusterDomain;
      // the DNS Service behind the probe pods' nameserver, whatever its name and namespace
      const noDns = applyDnsService(facts, seen.nameserver, await dnsInputsP!);
      if (noDns) throw new Error(`the cluster DNS Service: ${noDns}`);
      dnsServers = clusterDnsServers({ dnsServiceIP: facts.dnsServiceIP, podNameserver: seen.nameserver });
    } catch (err) {
      probeError = `the grader's probe pods could not be used: ${firstLine(err)}`;
      o.log?.(`probe: ${probeError}`);
    }
  }
  if (needPolicy && !probeError) {
    try {
      result.policyEnforced = await policyControl(kube, probes[0], probeNs, o.probeImage, labels);
    } catch (err) {
      result.policyEnforced = { enforced: false, detail: `the grader's policy control failed: ${firstLine(err)}` };
    }
    o.log?.(`policy: ${result.policyEnforced.enforced ? 'enforced' : 'NOT enforced'}: ${result.policyEnforced.detail}`);
  }

  // NetworkPolicy checks from a labelled pod: one grader pod per student and label set, in the student's namespace
  const clients = new Map<string, ProbeRef>();
  const good = snaps.filter((s): s is { ns: string; snap: Snapshot } => !!s.snap);
  const clientLabels = [
    ...new Map(
      lab.checks
        .filter((c) => c.type === 'policy' && c.policy!.from !== 'grader')
        .map((c) => {
          const l = (c.policy!.from as { labels: Record<string, string> }).labels;
          return [labelsKey(l), l] as const;
        }),
    ).values(),
  ];
  const created: Array<{ namespace: string; pod: string }> = [];
  try {
    if (clientLabels.length && !probeError && result.policyEnforced?.enforced) {
      const t = probeTemplate('probe-pod');
      await pool(good, o.concurrency ?? 10, async ({ ns }) => {
        const pods = clientLabels.map((l, i) => {
          const p = probePod(t, `knc-grade-client-${i}-${o.runId}`, undefined, ns, o.probeImage, labels);
          p.metadata!.labels = { ...labels, ...l, 'app.kubernetes.io/component': `grade-client-${i}` };
          return p;
        });
        // deleted in `finally` whatever happens: remembered before they are asked for
        created.push(...pods.map((p) => ({ namespace: ns, pod: p.metadata!.name! })));
        try {
          const ready = await startPods(kube, pods, { selector: `${Object.keys(labels)[1]}=${o.runId}`, timeoutMs: 60_000 });
          for (const [i, l] of clientLabels.entries())
            clients.set(
              `${ns}/${labelsKey(l)}`,
              ready.find((r) => r.pod === pods[i].metadata!.name)!,
            );
        } catch (err) {
          o.log?.(`${ns}: the grader's client pods could not start: ${firstLine(err)}`);
        }
      });
    }

    // every probe of every student, by the pod that asks it
    const perStudent = good.map(({ ns, snap }, si) => {
      const grader = probes.length ? probes[si % probes.length] : undefined;
      const checks = lab.checks.map((c, ci) => {
        const base = baseObservation(snap, c, { facts, domain, dnsServers, probeNs: needProbe ? probeNs : undefined, probeError });
        if (result.policyEnforced) base.policyEnforced = result.policyEnforced;
        const client =
          c.type === 'policy' && c.policy!.from !== 'grader'
            ? clients.get(`${ns}/${labelsKey((c.policy!.from as { labels: Record<string, string> }).labels)}`)
            : undefined;
        const asks = grader && !probeError && PROBE_TYPES.includes(c.type) ? asksFor(c, base, `s${si}c${ci}`, grader, lab, facts, client) : [];
        return { c, base, asks };
      });
      return { ns, checks };
    });
    const allAsks = perStudent.flatMap((s) => s.checks.flatMap((c) => c.asks));
    const byPod = new Map<string, { from: ProbeRef; asks: Ask[] }>();
    for (const a of allAsks) {
      const k = `${a.from.namespace}/${a.from.pod}`;
      const slot = byPod.get(k) ?? { from: a.from, asks: [] };
      slot.asks.push(a);
      byPod.set(k, slot);
    }
    const t1 = Date.now();
    const execTimeout = (lab.timeouts.samples * (lab.timeouts.requestS + 1 + lab.timeouts.gapS) + 30) * 1000;
    const outputs = new Map<Ask, ProbeOutput | undefined>();
    const execErrors = new Map<string, string>();
    // at most PROBES_PER_EXEC probes at once in one probe pod (a class's hold-window loops would
    // otherwise compete for the node's CPU and time out on a healthy solution): a pod's batches run
    // one after the other, the pods side by side
    await Promise.all(
      [...byPod.entries()].map(async ([k, { from, asks }]) => {
        for (let i = 0; i < asks.length; i += PROBES_PER_EXEC) {
          const batch = asks.slice(i, i + PROBES_PER_EXEC);
          try {
            const out = await runFanout(
              kube,
              from,
              batch.map((a) => a.probe),
              execTimeout,
            );
            for (const a of batch) outputs.set(a, out.get(a.probe.id));
          } catch (err) {
            execErrors.set(k, firstLine(err));
          }
        }
      }),
    );
    if (allAsks.length) {
      result.timings.probesMs = Date.now() - t1;
      o.log?.(
        `probe: ${allAsks.length} probes for ${good.length} namespaces from ${byPod.size} probe pods (at most ${PROBES_PER_EXEC} at once each), ${result.timings.probesMs}ms`,
      );
    }
    for (const s of snaps) {
      if (s.error) {
        result.students.push({ namespace: s.ns, error: s.error });
        continue;
      }
      const mine = perStudent.find((p) => p.ns === s.ns)!;
      const judged = new Map(
        mine.checks.map(({ c, base, asks }) => {
          for (const a of asks) {
            const err = execErrors.get(`${a.from.namespace}/${a.from.pod}`);
            if (err && !base.probeError) base.probeError = `the probe exec failed: ${err}`;
            a.put(base, outputs.get(a));
          }
          return [c.id, base] as const;
        }),
      );
      result.students.push({ namespace: s.ns, result: score(lab, s.ns, (c) => judge(c, judged.get(c.id)!), o.passMark) });
    }
  } finally {
    // the grader's pods in students' namespaces go, whatever happened
    await deletePods(kube, created);
  }
  result.timings.totalMs = Date.now() - t0;
  return result;
}
