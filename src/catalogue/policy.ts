// Layer "policy": the cluster enforces NetworkPolicy. Four phases after every other one, each
// setting the exact set of policies it needs in the run's workload namespace (labelled with the
// run's labels, so teardown removes whatever is left):
//   policy-deny    default-deny ingress: pods of the other namespace and of the same namespace are
//                  denied, by pod IP and through the ClusterIP; traffic no policy selects (DNS) passes;
//   policy-allow   + allow by namespaceSelector (the other namespace) and by podSelector (a
//                  "policy-client" pod): exactly those sources get in, the others stay denied;
//   policy-egress  + an egress policy on the policy-client allowing only nginx:80: its DNS fails,
//                  nginx (pod IP and ClusterIP) still answers it, and DNS still works for others;
//   policy-removed every policy deleted: all the traffic passes again.
// Every probe carries its expected outcome as data (ok / denied = timeout or refused). Each phase
// polls until the expectations hold or a deadline passes (engines need a moment) — no fixed sleep;
// a denied connection still succeeding at the deadline is "NetworkPolicy is not enforced".
import { NetworkingV1Api, type V1NetworkPolicy } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { httpProbe } from '../probes/http.js';
import { digProbe } from '../probes/dns.js';
import { addressType } from '../verdicts/dns-matrix.js';
import type { Probe, ProbeOutput } from '../probes/batch.js';
import { ALLOWED_BLOCKED, NOT_ENFORCED, matches, outcomeOf, policyRow, verifyPolicyProbe, type Expectation } from '../verdicts/policy.js';
import { NotApplicable, throwAll } from '../verdicts/failure.js';
import { netpolUnenforced } from './netpol.js';
import { isLive, isReady, listPods, waitPodsReady } from '../workload/pods.js';
import { waitBackends } from '../verdicts/endpoints.js';
import { WORKLOAD, type ProbeRef, type RunEnv } from '../workload/setup.js';
import { probePod, probeTemplate, startPods } from '../workload/probe-pods.js';
import { pollUntil } from '../util/poll.js';
import { retryOnConflict } from '../kube/errors.js';
import { fanOut, key, label } from '../workload/fanout.js';
import { mustFail } from './controls.js';
import type { CheckDef, Observations, PhaseDef, ProbeAsk } from './types.js';
import { defined, must, podSources } from './common.js';

export const POLICY = {
  deny: 'knc-default-deny-ingress',
  allowNs: 'knc-allow-from-other-namespace',
  allowPod: 'knc-allow-from-policy-client',
  egress: 'knc-egress-only-nginx',
} as const;
type PolicyName = (typeof POLICY)[keyof typeof POLICY];

const CLIENT_COMPONENT = 'policy-client';
const COMPONENT = 'app.kubernetes.io/component';

/** How long a phase waits for its policies to take effect (the run's settings); once a run has seen them not enforced, later phases wait less. */
const waitMs = (env: RunEnv) => env.settings.policyTimeoutMs;
const WAIT_AFTER_UNENFORCED_MS = 5_000;

interface PolicyState {
  client?: ProbeRef;
  /** The nginx pods while the policy phases run (the Service phases before them replace and scale them). */
  nginx?: V1Pod[];
  present: Set<PolicyName>;
  /** A phase's deadline passed with a denied connection still succeeding. */
  unenforced?: boolean;
}
const states = new WeakMap<RunEnv, PolicyState>();
const stateOf = (env: RunEnv): PolicyState => {
  let s = states.get(env);
  if (!s) states.set(env, (s = { present: new Set() }));
  return s;
};

function policyObject(env: RunEnv, name: PolicyName): V1NetworkPolicy {
  const port80 = [{ protocol: 'TCP', port: WORKLOAD.port }];
  const nginx = { matchLabels: { run: 'my-nginx' } };
  const specs: Record<PolicyName, V1NetworkPolicy['spec']> = {
    [POLICY.deny]: { podSelector: {}, policyTypes: ['Ingress'] },
    [POLICY.allowNs]: {
      podSelector: nginx,
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': env.otherNs } } }], ports: port80 }],
    },
    [POLICY.allowPod]: {
      podSelector: nginx,
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ podSelector: { matchLabels: { [COMPONENT]: CLIENT_COMPONENT } } }], ports: port80 }],
    },
    [POLICY.egress]: {
      podSelector: { matchLabels: { [COMPONENT]: CLIENT_COMPONENT } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: nginx }], ports: port80 }],
    },
  };
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: env.workloadNs, labels: env.labels }, spec: specs[name] };
}

/** Makes the workload namespace hold exactly `want` of our policies. */
async function setPolicies(env: RunEnv, want: PolicyName[]): Promise<void> {
  const api = env.kube.kc.makeApiClient(NetworkingV1Api);
  const s = stateOf(env);
  for (const name of [...s.present].filter((n) => !want.includes(n))) {
    await api.deleteNamespacedNetworkPolicy({ name, namespace: env.workloadNs });
    s.present.delete(name);
  }
  for (const name of want.filter((n) => !s.present.has(n))) {
    await api.createNamespacedNetworkPolicy({ namespace: env.workloadNs, body: policyObject(env, name) });
    s.present.add(name);
  }
}

/** A probe pod in the workload namespace that only the podSelector rules name (label component=policy-client). */
async function ensureClient(env: RunEnv): Promise<ProbeRef> {
  const s = stateOf(env);
  if (s.client) return s.client;
  const pod = probePod(probeTemplate('probe-pod'), CLIENT_COMPONENT, env.otherProbe.node, env.workloadNs, env.target.images.probe, env.labels);
  pod.metadata!.labels = { ...pod.metadata!.labels, [COMPONENT]: CLIENT_COMPONENT };
  const [ready] = await startPods(env.kube, [pod], { selector: `${COMPONENT}=${CLIENT_COMPONENT}`, override: { image: '--probe-image / KNC_PROBE_IMAGE' } });
  return (s.client = ready);
}

/**
 * The seed workload as the policy phases need it, whatever the phases before did (pods replaced,
 * scaled, one made not Ready): 2 Ready replicas listed in the Endpoints. Read once, at the first
 * policy phase; every expectation targets these pods.
 */
async function ensureWorkload(env: RunEnv): Promise<V1Pod[]> {
  const s = stateOf(env);
  if (s.nginx) return s.nginx;
  const { deployment, service, selector, port, replicas } = WORKLOAD;
  const live = (await listPods(env.kube, env.workloadNs, selector)).filter(isLive);
  await Promise.all(
    live
      .filter((p) => !isReady(p))
      .map((p) => env.kube.core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: env.workloadNs, gracePeriodSeconds: 0 })),
  );
  await retryOnConflict(async () => {
    const scale = await env.kube.apps.readNamespacedDeploymentScale({ name: deployment, namespace: env.workloadNs });
    if (scale.spec?.replicas !== replicas)
      await env.kube.apps.replaceNamespacedDeploymentScale({ name: deployment, namespace: env.workloadNs, body: { ...scale, spec: { replicas } } });
  });
  const pods = await waitPodsReady(env.kube, env.workloadNs, selector, { count: replicas, timeoutMs: 90_000 });
  await waitBackends(env.kube, env.workloadNs, service, selector, port, replicas);
  return (s.nginx = pods);
}

// ---- the expectations, as data ------------------------------------------------------------------

interface PolicyAsk extends ProbeAsk {
  exp: Expectation;
}

const name = (p: V1Pod) => p.metadata!.name!;
const nginxTarget = (p: V1Pod) => `nginx ${name(p)} ${p.status!.podIP}:80 on ${p.spec!.nodeName}`;
const svcTarget = (env: RunEnv) => `svc/my-nginx ${env.nginxServiceIP}:80`;
const dnsName = (env: RunEnv) => `my-nginx.${env.workloadNs}.svc.${env.facts.clusterDomain}`;
const dnsServer = (env: RunEnv) => env.facts.podNameserver || env.facts.dnsServiceIP;

const nginxOf = (env: RunEnv): V1Pod[] => {
  const n = stateOf(env).nginx;
  if (!n) throw new Error('the nginx pods of the policy phases were not read (the first policy phase did not run)');
  return n;
};
const toPods = (env: RunEnv, from: ProbeRef, expect: Expectation['expect'], because: string): PolicyAsk[] =>
  nginxOf(env).map((p) => ({
    from,
    probe: httpProbe(`pol-pod-${name(p)}`, p.status!.podIP!, WORKLOAD.port, '/'),
    exp: { kind: 'http', expect, from: label(from), to: nginxTarget(p), because },
  }));
const toSvc = (env: RunEnv, from: ProbeRef, expect: Expectation['expect'], because: string): PolicyAsk => ({
  from,
  probe: httpProbe('pol-svc', env.nginxServiceIP, WORKLOAD.port, '/'),
  exp: { kind: 'http', expect, from: label(from), to: svcTarget(env), because },
});
/** my-nginx's name asked in its ClusterIP's family (AAAA on an IPv6-only cluster: an A question there has no answer). */
const toDns = (env: RunEnv, from: ProbeRef, expect: Expectation['expect'], because: string): PolicyAsk => ({
  from,
  probe: digProbe('pol-dns', dnsName(env), { server: dnsServer(env), timeoutS: 2, type: addressType(env.nginxServiceIP) }),
  exp: { kind: 'dns', expect, from: label(from), to: `${dnsName(env)} ${addressType(env.nginxServiceIP)} @${dnsServer(env)}`, because },
});

const clientOf = (env: RunEnv): ProbeRef => {
  const c = stateOf(env).client;
  if (!c) throw new Error('the policy-client pod was not created (its phase did not run)');
  return c;
};

const np = (n: string) => `NetworkPolicy ${n}`;
const DENY_BY = np(POLICY.deny);

/** Per phase, per check: what each probe must show. */
const EXPECT: Record<string, Record<string, (env: RunEnv) => PolicyAsk[]>> = {
  'policy-deny': {
    'other-namespace': (env) => toPods(env, env.otherProbe, 'denied', DENY_BY),
    'same-namespace': (env) => [...env.probes, clientOf(env)].flatMap((f) => toPods(env, f, 'denied', DENY_BY)),
    'cluster-ip': (env) => [...podSources(env), clientOf(env)].map((f) => toSvc(env, f, 'denied', `${DENY_BY} (after the ClusterIP is translated to a pod)`)),
    'unselected-allowed': (env) =>
      [...podSources(env), clientOf(env)].map((f) => toDns(env, f, 'ok', 'no policy selects egress or kube-system: DNS is not isolated')),
  },
  'policy-allow': {
    'namespace-selector': (env) => [...toPods(env, env.otherProbe, 'ok', np(POLICY.allowNs)), toSvc(env, env.otherProbe, 'ok', np(POLICY.allowNs))],
    'pod-selector': (env) => [...toPods(env, clientOf(env), 'ok', np(POLICY.allowPod)), toSvc(env, clientOf(env), 'ok', np(POLICY.allowPod))],
    'others-denied': (env) =>
      env.probes.flatMap((f) => [
        ...toPods(env, f, 'denied', `${DENY_BY}: neither allow rule selects it`),
        toSvc(env, f, 'denied', `${DENY_BY}: neither allow rule selects it`),
      ]),
  },
  'policy-egress': {
    'dns-denied': (env) => [
      toDns(env, clientOf(env), 'denied', `${np(POLICY.egress)} (egress only to nginx:80)`),
      ...env.probes.map((f) => toDns(env, f, 'ok', 'no egress policy selects it')),
    ],
    'allowed-destination': (env) => [
      ...toPods(env, clientOf(env), 'ok', `${np(POLICY.egress)} + ${np(POLICY.allowPod)}`),
      toSvc(env, clientOf(env), 'ok', `${np(POLICY.egress)} + ${np(POLICY.allowPod)}`),
    ],
  },
  'policy-removed': {
    restored: (env) => [
      ...[...podSources(env), clientOf(env)].flatMap((f) => [...toPods(env, f, 'ok', 'no policy left'), toSvc(env, f, 'ok', 'no policy left')]),
      toDns(env, clientOf(env), 'ok', 'no policy left'),
    ],
  },
};

const phaseAsks = (env: RunEnv, phase: string): PolicyAsk[] => Object.values(EXPECT[phase]).flatMap((f) => f(env));

/** Polls the phase's probes until every expectation holds, or the deadline passes; returns what it saw. */
async function settle(env: RunEnv, phase: string): Promise<Record<string, unknown>> {
  const s = stateOf(env);
  const asks = phaseAsks(env, phase);
  const timeoutMs = s.unenforced ? WAIT_AFTER_UNENFORCED_MS : waitMs(env);
  const t0 = Date.now();
  let attempts = 0;
  const wrong = async () => {
    attempts++;
    const f = await fanOut(env.kube, asks, { concurrency: env.settings.execConcurrency });
    return asks
      .filter((a) => {
        const o = f.outputs.get(key(a.from))?.get(a.probe.id);
        return !o || !matches(a.exp, outcomeOf(a.exp, o));
      })
      .map((a) => {
        const o = f.outputs.get(key(a.from))?.get(a.probe.id);
        return { exp: a.exp, outcome: o ? outcomeOf(a.exp, o) : `not run: ${f.errors.get(key(a.from)) ?? 'no output'}` };
      });
  };
  let last: Awaited<ReturnType<typeof wrong>> = [];
  try {
    await pollUntil({
      what: `the policies of phase ${phase} to take effect`,
      timeoutMs,
      intervalMs: 300,
      probe: async () => (last = await wrong()),
      done: (w) => w.length === 0,
    });
    return { policies: [...s.present], settledMs: Date.now() - t0, attempts, settled: true };
  } catch {
    if (last.some((w) => w.exp.expect === 'denied' && (w.outcome === 'ok' || w.outcome === 'nxdomain'))) s.unenforced = true;
    return {
      policies: [...s.present],
      settledMs: Date.now() - t0,
      attempts,
      settled: false,
      unsettled: last.map((w) => `${w.exp.from} -> ${w.exp.to}: expected ${w.exp.expect}, saw ${w.outcome}`),
    };
  }
}

export const POLICY_PHASES: PhaseDef[] = [
  {
    name: 'policy-deny',
    title: `NetworkPolicy ${POLICY.deny} (every pod of the workload namespace isolated for ingress)`,
    enter: async (env) => {
      if (netpolUnenforced(env)) return { skipped: netpolUnenforced(env) };
      await ensureWorkload(env);
      await ensureClient(env);
      await setPolicies(env, [POLICY.deny]);
      return settle(env, 'policy-deny');
    },
  },
  {
    name: 'policy-allow',
    title: `+ ${POLICY.allowNs} (namespaceSelector) and ${POLICY.allowPod} (podSelector) on nginx:80`,
    enter: async (env) => {
      if (netpolUnenforced(env)) return { skipped: netpolUnenforced(env) };
      await ensureWorkload(env);
      await ensureClient(env);
      await setPolicies(env, [POLICY.deny, POLICY.allowNs, POLICY.allowPod]);
      return settle(env, 'policy-allow');
    },
  },
  {
    name: 'policy-egress',
    title: `+ ${POLICY.egress} (the policy-client may only reach nginx:80: no DNS)`,
    enter: async (env) => {
      if (netpolUnenforced(env)) return { skipped: netpolUnenforced(env) };
      await ensureWorkload(env);
      await ensureClient(env);
      await setPolicies(env, [POLICY.deny, POLICY.allowNs, POLICY.allowPod, POLICY.egress]);
      return settle(env, 'policy-egress');
    },
  },
  {
    name: 'policy-removed',
    title: 'every NetworkPolicy of the run deleted',
    enter: async (env) => {
      if (netpolUnenforced(env)) return { skipped: netpolUnenforced(env) };
      await ensureWorkload(env);
      await ensureClient(env);
      await setPolicies(env, []);
      return settle(env, 'policy-removed');
    },
  },
];

/** The verdict over a check's expectations: every probe as expected; evidence says "denied as expected". */
function judge(check: string, asks: PolicyAsk[], o: Observations): string[] {
  must(asks.length > 0, { check, from: 'the run', to: 'policy probes', expected: 'at least one probe', seen: 'none' });
  const waited = o.phaseData.settled === false ? `, still so ${String(o.phaseData.settledMs)}ms after the policies were set` : '';
  throwAll(asks.map((a) => verifyPolicyProbe(check, a.exp, o.out(a.from, a.probe.id), waited)).filter(defined));
  return asks.map((a) => policyRow(a.exp, o.out(a.from, a.probe.id)));
}

function policyCheck(phase: string, group: string, title: string, tags: string[], from: string, to: string): CheckDef {
  const id = `policy.${phase.replace(/^policy-/, '')}.${group}`;
  const asks = (env: RunEnv) => EXPECT[phase][group](env);
  return {
    id,
    title,
    layer: 'policy',
    tags: ['policy', phase, ...tags],
    phase,
    from,
    to,
    probes: asks,
    verify: (o) => {
      if (o.phaseData.skipped) throw new NotApplicable(`not meaningful: NetworkPolicy is not enforced on this cluster (${o.phaseData.skipped})`);
      return judge(id.replace(/\./g, '-'), asks(o.env), o);
    },
  };
}

/** Steady-phase probes for the negative controls: a connection no policy denies, and one that really fails (nothing listens on :81). */
const controlAsks = (env: RunEnv): Array<{ from: ProbeRef; probe: Probe; to: string }> => {
  const p = env.nginx[0];
  return [
    { from: env.otherProbe, probe: httpProbe('pol-ctl-open', p.status!.podIP!, WORKLOAD.port, '/'), to: nginxTarget(p) },
    { from: env.otherProbe, probe: httpProbe('pol-ctl-closed', p.status!.podIP!, 81, '/'), to: `nginx ${name(p)} ${p.status!.podIP}:81 (nothing listens)` },
  ];
};

export const POLICY_CHECKS: CheckDef[] = [
  policyCheck(
    'policy-deny',
    'other-namespace',
    'default-deny ingress: pods of another namespace cannot reach the workload pods by pod IP',
    ['deny', 'cross-namespace'],
    'other namespace',
    'nginx pod IPs',
  ),
  policyCheck(
    'policy-deny',
    'same-namespace',
    'default-deny ingress: pods of the same namespace cannot reach the workload pods by pod IP',
    ['deny', 'same-namespace'],
    'probe pods (same namespace)',
    'nginx pod IPs',
  ),
  policyCheck('policy-deny', 'cluster-ip', 'default-deny ingress applies to ClusterIP traffic too', ['deny', 'service'], 'probe pods', 'svc/my-nginx'),
  policyCheck(
    'policy-deny',
    'unselected-allowed',
    'under default-deny ingress, traffic no policy selects still passes (name lookups at the cluster resolver)',
    ['allowed'],
    'probe pods',
    'the cluster resolver',
  ),
  policyCheck(
    'policy-allow',
    'namespace-selector',
    'an ingress rule by namespaceSelector lets the other namespace in (pod IP and ClusterIP)',
    ['allowed', 'cross-namespace'],
    'other namespace',
    'nginx:80',
  ),
  policyCheck(
    'policy-allow',
    'pod-selector',
    'an ingress rule by podSelector lets exactly the selected pod in (pod IP and ClusterIP)',
    ['allowed', 'same-namespace'],
    'the policy-client pod',
    'nginx:80',
  ),
  policyCheck(
    'policy-allow',
    'others-denied',
    'with the allow rules in place, pods neither rule selects stay denied (pod IP and ClusterIP)',
    ['deny', 'same-namespace'],
    'probe pods (same namespace)',
    'nginx:80',
  ),
  policyCheck(
    'policy-egress',
    'dns-denied',
    'an egress policy that allows only nginx:80 makes name resolution fail for the pod it selects (and only for it)',
    ['deny', 'egress'],
    'the policy-client pod',
    'the cluster resolver',
  ),
  policyCheck(
    'policy-egress',
    'allowed-destination',
    'the pod whose name lookups are denied still reaches the nginx pods it is allowed to (pod IP and ClusterIP)',
    ['allowed', 'egress'],
    'the policy-client pod',
    'nginx:80',
  ),
  policyCheck(
    'policy-removed',
    'restored',
    'once the policies are deleted every source reaches nginx again (pod IP and ClusterIP) and the policy-client resolves names again',
    ['allowed'],
    'every probe pod',
    'nginx:80',
  ),
  {
    id: 'policy.not-enforced.negative',
    title: 'verdict self-test: the policy verdict says "NetworkPolicy is not enforced" for a connection that was not denied',
    layer: 'policy',
    tags: ['policy', 'negative-control', 'verdict-self-test'],
    controls: 'policy.deny.same-namespace',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a connection no policy denies',
    probes: (env) => controlAsks(env).map(({ from, probe }) => ({ from, probe })),
    verify: (o) => {
      const { from, probe, to } = controlAsks(o.env)[0];
      const out: ProbeOutput = o.out(from, probe.id);
      // a connection no policy denies, judged as if the deny policy were in place
      return mustFail(
        { from: label(from), to },
        () =>
          verifyPolicyProbe(
            'policy.deny.same-namespace',
            { kind: 'http', expect: 'denied', from: label(from), to, because: `${DENY_BY} (judged as if it were in place: this phase has no policy)` },
            out,
          ),
        {
          check: 'policy.deny.same-namespace',
          from: label(from),
          to,
          expected: /^denied \(timeout or refused\) by /,
          seen: new RegExp(`^ok after ${out.durationMs}ms \\(exit 0: .*\\): ${NOT_ENFORCED}$`),
        },
      );
    },
  },
  {
    id: 'policy.allowed-blocked.negative',
    title: 'verdict self-test: the policy verdict says "NetworkPolicy blocks allowed traffic" for an allowed connection that fails',
    layer: 'policy',
    tags: ['policy', 'negative-control', 'verdict-self-test'],
    controls: 'policy.allow.namespace-selector',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'a connection that fails (refused)',
    probes: (env) => controlAsks(env).map(({ from, probe }) => ({ from, probe })),
    verify: (o) => {
      const { from, probe, to } = controlAsks(o.env)[1];
      const out = o.out(from, probe.id);
      // a connection that really fails (nothing listens on :81), judged as if it were allowed
      return mustFail(
        { from: label(from), to },
        () => verifyPolicyProbe('policy.allow.namespace-selector', { kind: 'http', expect: 'ok', from: label(from), to, because: np(POLICY.allowNs) }, out),
        {
          check: 'policy.allow.namespace-selector',
          from: label(from),
          to,
          expected: `ok (allowed: ${np(POLICY.allowNs)})`,
          seen: new RegExp(`^(refused|timeout) after \\d+ms \\(exit \\d+: .*\\): ${ALLOWED_BLOCKED}$`),
        },
      );
    },
  },
];
