// The run's lifecycle on a cluster: its two labelled namespaces, the seed workload, the probe pods
// (one per node in the workload's namespace, one in the other namespace, a hostNetwork node view
// per node), a small HTTP target pod per node (so pod -> pod checks cover every ordered node pair),
// then teardown. Everything lives in memory (RunEnv) and is passed explicitly.
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { clusterFamilies, discoverFacts, domainFromResolvConf, type ClusterFacts, type NodeFacts } from '../cluster/facts.js';
import { applyDnsService, readDnsInputs } from '../cluster/dns-service.js';
import { newRunId, runLabels, runSelector } from '../util/labels.js';
import { deleteLabelledAdminPolicies } from './admin-policy.js';
import { pollUntil } from '../util/poll.js';
import { MANIFESTS_DIR, loadManifestDir, setImage, stamp, type Obj } from './manifests.js';
import { createAll } from './apply.js';
import { createPod, createPods, podAddresses, podName, probePod, probeRef, probeTemplate, type ProbeRef } from './probe-pods.js';
import { isReady, waitPodsReady } from './pods.js';
import type { Target } from '../cluster/resolve.js';
import type { Connection, NodeAccess } from '../cluster/connection.js';
import { execInPod } from '../kube/exec.js';
import { NetcheckError, apiStatus, errorLine } from '../kube/errors.js';
import { PROBE_TOOLS, parseToolCheck, toolCheckProbe } from '../probes/tools.js';
import { PAYLOAD_PATH, PAYLOAD_WRITE } from '../probes/mtu.js';
import { EXEC_CONCURRENCY } from './fanout.js';
import { sessionsOf } from './armed.js';

/**
 * What the caller decides for a run (the CLI reads KNC_EXEC_CONCURRENCY, KNC_POLICY_TIMEOUT_MS and
 * KNC_VERBOSE: cli/settings.ts); the engine and the checks read nothing from the environment.
 */
export interface RunSettings {
  /** Execs open at once in one fan-out. */
  execConcurrency: number;
  /** How long a policy phase waits for its policies to take effect. */
  policyTimeoutMs: number;
  /** A progress line per exec of the phase fan-outs. */
  verbose: boolean;
}

export const DEFAULT_SETTINGS: RunSettings = { execConcurrency: EXEC_CONCURRENCY, policyTimeoutMs: 20_000, verbose: false };

export interface RunEnv {
  target: Target;
  kube: Kube;
  settings: RunSettings;
  /** Commands on the nodes and their host: only on the kind cluster kube-netcheck manages (see unlessManaged). */
  nodeAccess?: NodeAccess;
  runId: string;
  labels: Record<string, string>;
  workloadNs: string;
  otherNs: string;
  facts: ClusterFacts;
  /** Probe pods in the workload namespace, one per node (the control plane included: they tolerate every taint). */
  probes: ProbeRef[];
  /** A probe pod in the other namespace. */
  otherProbe: ProbeRef;
  /** hostNetwork probes, one per node (none where the cluster forbids hostNetwork pods: see nodeViewsRefused). */
  nodeViews: ProbeRef[];
  /** Why there are no node views: the API's refusal of a hostNetwork pod (PodSecurity baseline, an admission policy…). */
  nodeViewsRefused?: string;
  /**
   * HTTP targets, one per probed node (nginx with the workload's /whoami, no Service selects
   * them): with `probes` they make every ordered node pair, same-node included.
   */
  targets: ProbeRef[];
  /** The seed workload's pods when setup finished. */
  nginx: V1Pod[];
  /** The nodes probed: every node, or the --max-nodes sample (reported; facts.nodes lists them all). */
  nodes: NodeFacts[];
  /** Every pod IP in the cluster when setup finished (an "unheld" address must avoid all of them). */
  podIPs: string[];
  /** The cluster DNS server pods (Ready, selected by the DNS Service) when setup finished: asked one by one by the strict DNS checks. */
  dnsPods: Array<{ pod: string; ip: string; node: string }>;
  /** The ClusterIP of Service my-nginx, read once: checks after each change ask this same address. */
  nginxServiceIP: string;
  /** The checks' setup objects as the API stored them (a Service with its ClusterIP and nodePorts). */
  objects: Obj[];
  /** Optional setup objects the API refused, by "Kind/name", with the API's reason (their checks say not applicable). */
  refused: Record<string, string>;
}

/** On a setup object: the image its containers get ("probe" or "nginx"; a Deployment without it gets nginx). */
export const IMAGE_ANNOTATION = 'kube-netcheck/image';
/** On a setup object: "true" when the cluster may refuse it (e.g. NodePort Services forbidden); its checks say why. */
export const OPTIONAL_ANNOTATION = 'kube-netcheck/optional';

export const WORKLOAD = {
  deployment: 'my-nginx',
  service: 'my-nginx',
  headless: 'my-nginx-headless',
  selector: 'run=my-nginx',
  port: 80,
  replicas: 2,
} as const;

/** nginx's `listen [::]:80;` only where pods have IPv6: on a kernel without it nginx would not start. */
export function nginxListenFor(o: Obj, hasIPv6: boolean): Obj {
  if (hasIPv6 || o.kind !== 'ConfigMap' || !o.data) return o;
  for (const k of Object.keys(o.data)) o.data[k] = o.data[k].replace(/^[ \t]*listen \[::\]:80;[ \t]*\n/gm, '');
  return o;
}

const byNode = (a: ProbeRef, b: ProbeRef) => a.node.localeCompare(b.node);

export interface SetupOptions {
  runId?: string;
  /** Probe at most this many nodes: a stratified sample (see sampleNodes). */
  maxNodes?: number;
  /** Called as soon as the namespaces exist (SIGINT handlers delete them from then on). */
  onNamespaces?: (names: string[]) => void;
  /** Objects the selected checks need, created in the workload namespace with the workload. */
  objects?: Obj[];
  /** Write the MTU checks' large payload into the nginx pods (default true; a run without MTU checks skips it). */
  payload?: boolean;
  settings?: RunSettings;
}

export async function setupRun(conn: Connection, opts: SetupOptions = {}): Promise<RunEnv> {
  const { target, kube } = conn;
  const runId = opts.runId ?? newRunId();
  const labels = runLabels(runId);
  const workloadNs = `knc-${runId}-a`;
  const otherNs = `knc-${runId}-b`;
  opts.onNamespaces?.([workloadNs, otherNs]);
  // the cluster's facts and the run's namespaces at once (both settle before either error counts:
  // a namespace created after a failure would outlive the clean-up of the failed setup)
  const dnsInputs = readDnsInputs(kube);
  dnsInputs.catch(() => undefined); // awaited below
  const [factsRead, nsMade] = await Promise.allSettled([
    discoverFacts(kube),
    Promise.all([workloadNs, otherNs].map((name) => kube.core.createNamespace({ body: { metadata: { name, labels } } }))),
  ]);
  if (factsRead.status === 'rejected') throw new Error(`reading the cluster (nodes, kube-system): ${(factsRead.reason as Error).message.split('\n')[0]}`);
  if (nsMade.status === 'rejected') throw nsMade.reason;
  const facts = factsRead.value;

  const hasIPv6 = clusterFamilies(facts).includes('IPv6');
  const isOptional = (o: Obj) => o.metadata?.annotations?.[OPTIONAL_ANNOTATION] === 'true';
  const workload = [...loadManifestDir(path.join(MANIFESTS_DIR, 'workload')), ...(opts.objects ?? []).filter((o) => !isOptional(o))].map((o) =>
    nginxListenFor(stamp(o, workloadNs, labels), hasIPv6),
  );
  const optional = (opts.objects ?? []).filter(isOptional).map((o) => stamp(o, workloadNs, labels));
  for (const o of [...workload, ...optional]) {
    const want = o.metadata?.annotations?.[IMAGE_ANNOTATION] ?? (o.kind === 'Deployment' ? 'nginx' : undefined);
    if (want === 'nginx' || want === 'probe') setImage(o, target.images[want]);
  }
  // optional objects one after the other, in the order asked (a check may rely on it: a proxy that
  // has programmed a later Service has seen the earlier ones), beside the rest; a refusal is
  // remembered, not a failed setup
  const refused: Record<string, string> = {};
  const optionalMade = (async () => {
    const made: Array<Obj | undefined> = [];
    for (const o of optional) {
      made.push(
        await createAll(kube, [o]).then(
          ([c]) => c,
          (err: Error) => {
            refused[`${o.kind}/${o.metadata?.name}`] = err.message.split('\n')[0].slice(0, 300);
            return undefined;
          },
        ),
      );
    }
    return made;
  })();
  const [probeT, viewT, targetT] = ['probe-pod', 'node-view-pod', 'target-pod'].map(probeTemplate);
  const override = { image: '--probe-image / KNC_PROBE_IMAGE' };
  const nginxReady = () =>
    waitPodsReady(kube, workloadNs, WORKLOAD.selector, { count: WORKLOAD.replicas, override: { image: '--nginx-image / KNC_NGINX_IMAGE' } });
  // every object at once (the Deployment's pods reach a kubelet well after the ConfigMap they
  // mount exists: the ReplicaSet controller and the scheduler come in between) — except that with
  // a node budget the sample must hold the nginx pods' nodes: the workload goes first
  const sampling = opts.maxNodes !== undefined && facts.nodes.length > opts.maxNodes;
  const created = sampling ? await createAll(kube, workload) : [];
  const early = sampling ? await nginxReady() : undefined;
  const nodes = sampling
    ? sampleNodes(
        facts.nodes,
        early!.map((p) => p.spec!.nodeName!),
        opts.maxNodes!,
      )
    : facts.nodes;
  // the other namespace's probe sits on a node that also has a probe in the workload namespace
  const otherNode = nodes.find((n) => !n.controlPlane)?.name ?? nodes[0].name;
  // the node views (hostNetwork pods) on their own: a cluster may forbid hostNetwork pods (PodSecurity
  // "baseline", an admission policy); the API's refusal (403/422) is remembered, the run goes on
  // without them, and the checks that need them say why (shapeNotApplicable)
  const viewsMade = Promise.allSettled(
    nodes.map((n, i) => createPod(kube, probePod(viewT, podName('node-view', n.name, i), n.name, workloadNs, target.images.probe, labels))),
  ).then((rs) => {
    const err = rs.map((r) => (r.status === 'rejected' ? (r.reason as unknown) : undefined)).find((e) => e !== undefined);
    if (err === undefined) return undefined;
    const code = apiStatus(err)?.code;
    if (code === 403 || code === 422) return errorLine(err).slice(0, 300);
    throw new Error(`creating the node views (hostNetwork pods) in ${workloadNs}: ${errorLine(err)}`);
  });
  viewsMade.catch(() => undefined); // awaited below
  // the probe pods and HTTP targets through the probe-pod lifecycle: a namespace made a moment ago may
  // refuse pods until its ServiceAccount exists (retried there), beside the workload's objects
  const [workloadMade] = await Promise.all([
    createAll(kube, sampling ? [] : workload),
    createPods(kube, [
      ...nodes.map((n, i) => probePod(probeT, podName('probe', n.name, i), n.name, workloadNs, target.images.probe, labels)),
      probePod(probeT, podName('probe', otherNode, 0), otherNode, otherNs, target.images.probe, labels),
      ...nodes.map((n, i) => probePod(targetT, podName('target', n.name, i), n.name, workloadNs, target.images.nginx, labels)),
    ]),
  ]);
  created.push(...workloadMade);
  const nginxService = created.find((o) => o.kind === 'Service' && o.metadata?.name === WORKLOAD.service);
  const asked = new Set((opts.objects ?? []).map((o) => `${o.kind}/${o.metadata?.name}`));
  const objects = [...created.filter((o) => asked.has(`${o.kind}/${o.metadata?.name}`)), ...(await optionalMade).filter((o): o is Obj => !!o)];

  const sel = (c: string) => `app.kubernetes.io/component=${c}`;
  const probesReady = waitPodsReady(kube, workloadNs, sel('probe'), { count: nodes.length, override });
  // the cluster domain as pods see it (their resolv.conf search path), read while the rest starts
  const resolvConf = probesReady.then((ps) =>
    execInPod({ kc: kube.kc, namespace: workloadNs, pod: ps.map(probeRef).sort(byNode)[0].pod, command: ['cat', '/etc/resolv.conf'], timeoutMs: 15_000 }),
  );
  resolvConf.catch(() => undefined); // awaited below; a setup that fails earlier must not leave it unhandled
  // the probe image's tools, asked of the first probe pod as soon as it runs: a missing one ends the run at once
  const toolsChecked = probesReady.then((ps) => checkProbeTools(kube, ps.map(probeRef).sort(byNode)[0], target.images.probe, override.image));
  // the run's sessions (src/workload/armed.ts) of each probe pod and node view, opened as soon as it is
  // Ready, while the rest starts: two each, for the steady phase's fan-out and its Service hold at once
  const warm = <T extends V1Pod[]>(ps: T): T => {
    for (const p of ps) sessionsOf(kube)?.warm(probeRef(p), 2);
    return ps;
  };
  const [probes, others, views, targets, nginx] = await Promise.all([
    probesReady.then(async (ps) => (await toolsChecked, warm(ps))),
    waitPodsReady(kube, otherNs, sel('probe'), { count: 1, override }).then(warm),
    viewsMade.then((refused) => (refused ? [] : waitPodsReady(kube, workloadNs, sel('node-view'), { count: nodes.length, override }).then(warm))),
    waitPodsReady(kube, workloadNs, sel('target'), { count: nodes.length, override: { image: '--nginx-image / KNC_NGINX_IMAGE' } }),
    (early ? Promise.resolve(early) : nginxReady()).then(async (pods) => {
      if (opts.payload !== false) await Promise.all(pods.map((p) => writePayload(kube, p)));
      return pods;
    }),
  ]);
  const [allPods, rc, dnsIn] = await Promise.all([kube.core.listPodForAllNamespaces(), resolvConf, dnsInputs]);
  // the cluster DNS Service: the one behind the nameserver the probe pods got (whatever its name and namespace)
  const seen = domainFromResolvConf(rc.stdout, workloadNs);
  if (seen?.nameserver) facts.podNameserver = seen.nameserver;
  const noDns = applyDnsService(facts, seen?.nameserver, dnsIn);
  if (noDns) throw new Error(`the cluster DNS Service: ${noDns}`);
  const dnsNs = facts.dnsService!.namespace;
  const env: RunEnv = {
    target,
    kube,
    settings: opts.settings ?? DEFAULT_SETTINGS,
    ...(conn.nodeAccess ? { nodeAccess: conn.nodeAccess } : {}),
    runId,
    labels,
    workloadNs,
    otherNs,
    facts,
    probes: probes.map(probeRef).sort(byNode),
    otherProbe: probeRef(others[0]),
    nodeViews: views.map(probeRef).sort(byNode),
    ...((await viewsMade) ? { nodeViewsRefused: await viewsMade } : {}),
    targets: targets.map(probeRef).sort(byNode),
    nginx,
    nodes,
    podIPs: allPods.items.flatMap(podAddresses),
    dnsPods: allPods.items
      .filter((p) => p.metadata?.namespace === dnsNs && selects(facts.dnsSelector, p.metadata?.labels) && isReady(p) && p.status?.podIP)
      .map((p) => ({ pod: p.metadata!.name!, ip: p.status!.podIP!, node: p.spec?.nodeName ?? '' }))
      .sort((a, b) => a.ip.localeCompare(b.ip)),
    nginxServiceIP:
      nginxService?.spec?.clusterIP ?? (await kube.core.readNamespacedService({ name: WORKLOAD.service, namespace: workloadNs })).spec!.clusterIP!,
    objects,
    refused,
  };
  if (seen?.domain) {
    facts.clusterDomain = seen.domain;
    facts.sources.clusterDomain = "a probe pod's resolv.conf search path";
  }
  return env;
}

/** Whether an equality-only label selector ("k=v,k2=v2", as facts.dnsSelector) selects these labels; an empty one selects nothing. */
export function selects(selector: string, labels: Record<string, string> = {}): boolean {
  const terms = selector.split(',').filter(Boolean);
  return (
    terms.length > 0 &&
    terms.every((t) => {
      const [k, v] = t.split('=');
      return labels[k] === v;
    })
  );
}

/** The MTU checks' large body, written into an nginx pod; a pod that cannot take it ends setup. */
async function writePayload(kube: Kube, p: V1Pod): Promise<void> {
  const where = `pod ${p.metadata!.namespace}/${p.metadata!.name} (image ${p.spec!.containers[0].image})`;
  const res = await execInPod({ kc: kube.kc, namespace: p.metadata!.namespace!, pod: p.metadata!.name!, command: PAYLOAD_WRITE, timeoutMs: 15_000 }).catch(
    (err: Error) => {
      throw new Error(`writing ${PAYLOAD_PATH} into ${where}: ${err.message.split('\n')[0]}`);
    },
  );
  if (res.exitCode !== 0)
    throw new Error(
      `writing ${PAYLOAD_PATH} into ${where}: \`${PAYLOAD_WRITE.join(' ')}\` exited ${res.exitCode}: ${res.stderr.trim().slice(0, 160)}; another image: --nginx-image / KNC_NGINX_IMAGE`,
    );
}

/**
 * A stratified sample of at most `max` nodes (max ≥ 2) that keeps every kind of node pair: the nodes
 * the nginx pods run on (same-node pairs), another node (cross-node pairs) and a control-plane node
 * when there is one; the rest filled in name order.
 */
export function sampleNodes(all: NodeFacts[], nginxNodes: string[], max: number): NodeFacts[] {
  const pick: NodeFacts[] = [];
  const add = (n?: NodeFacts) => n && !pick.includes(n) && pick.length < max && pick.push(n);
  for (const name of nginxNodes) add(all.find((n) => n.name === name));
  add(all.find((n) => n.controlPlane));
  for (const n of all) add(n);
  return pick.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Deletes every namespace of the run (or of every run), and with `adminPolicies` its AdminNetworkPolicy/BaselineAdminNetworkPolicy objects. `until: 'gone'` waits until the API has
 * removed them; `until: 'stopped'` waits until none of their pods is left and each namespace is
 * terminating — nothing of the run runs any more, and the namespace controller finishes the
 * bookkeeping on its own (the end of a run uses this; cleanup and SIGINT wait for gone).
 */
export async function teardownRun(
  kube: Kube,
  runId?: string,
  opts: { until?: 'gone' | 'stopped'; timeoutMs?: number; adminPolicies?: boolean } = {},
): Promise<void> {
  const labelSelector = runSelector(runId);
  // the run's cluster-scoped admin policies (the truth tables' AdminNetworkPolicy cases), when it selected them, go first
  if (opts.adminPolicies) await deleteLabelledAdminPolicies(kube, labelSelector);
  const list = async () => (await kube.core.listNamespace({ labelSelector })).items;
  const names = (await list()).map((ns) => ns.metadata!.name!);
  // Namespace first (no new pods can be created in a terminating namespace), then its pods
  // without grace, so the namespace controller has nothing left to wait for.
  await Promise.all(
    names.map(async (name) => {
      await kube.core.deleteNamespace({ name, gracePeriodSeconds: 0 }).catch(() => undefined);
      await kube.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(() => undefined);
    }),
  );
  const podsLeft = async () =>
    (await Promise.all(names.map((namespace) => kube.core.listNamespacedPod({ namespace })))).reduce((n, l) => n + l.items.length, 0);
  const until = opts.until ?? 'gone';
  await pollUntil({
    what: until === 'gone' ? `namespaces labelled ${labelSelector} deleted` : `no pods left in ${names.join(', ')} and each namespace terminating`,
    timeoutMs: opts.timeoutMs ?? 90_000,
    intervalMs: 100,
    probe: async () => ({ namespaces: await list(), pods: until === 'gone' ? 0 : await podsLeft() }),
    done: ({ namespaces, pods }) => (until === 'gone' ? namespaces.length === 0 : pods === 0 && namespaces.every((n) => n.status?.phase === 'Terminating')),
    describe: ({ namespaces, pods }) => `${namespaces.map((n) => `${n.metadata?.name}:${n.status?.phase}`).join(', ') || 'no namespaces'}; ${pods} pods`,
  });
}

export { type Kube };
// the probe-pod vocabulary lives with its lifecycle (probe-pods.ts); most callers know it from here
export { podAddresses, probePod, probeRef, type ProbeRef };

/**
 * Asks a probe pod (one exec) which of the commands the probes call its image lacks; any missing
 * ends the run at once, exit 2, one line naming them, the image and the flag that overrides it.
 */
export async function checkProbeTools(kube: Kube, p: ProbeRef, image: string, flag: string): Promise<void> {
  const probe = toolCheckProbe();
  const res = await execInPod({ kc: kube.kc, namespace: p.namespace, pod: p.pod, command: probe.argv, timeoutMs: 15_000 });
  const missing = parseToolCheck(res.stdout) ?? ['sh'];
  if (missing.length) {
    throw new NetcheckError(
      'IMAGE_TOOLS_MISSING',
      `probe image ${image} has no ${missing.join(', ')} (the probes call ${PROBE_TOOLS.join(', ')}); choose another with ${flag}`,
    );
  }
}
