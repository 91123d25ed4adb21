// Layer "policy", the truth tables: every NetworkPolicy rule of the API proven on the datapath.
// Three namespaces of the run (x, y, z) × three pods (a, b, c), each serving TCP and UDP on 80 and
// 81 (src/workload/netpol.ts). Each case is a phase: its `enter` makes the cluster hold exactly the
// case's world (policies, extra labels, extra pods; a `before` world converged first when the case
// is about a change), then probes every cell — one exec per source pod, the cells in parallel in
// it — until the observed table matches the expected one or a deadline passes (reported); the
// engine's fan-out of the phase then probes every cell again, and that round is judged: an engine
// that converged and then flaps fails. Expected tables are data (src/verdicts/truth-table.ts), each
// written from the NetworkPolicy API documentation (quoted in `doc`), not from what a CNI did.
// On a cluster that enforces nothing, the first case that denies says "NetworkPolicy is not
// enforced" and every later case is skipped as not meaningful: the layer says it once.
import {
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1NetworkPolicySpec,
  type V1NetworkPolicyPeer,
  type V1NetworkPolicyPort,
} from '@kubernetes/client-node';
import { SCTP_SOCKET, SELF_CELLS, cellId, matrixProbe, type CellAsk } from '../probes/matrix.js';
import { execInPod } from '../kube/exec.js';
import {
  NOT_ENFORCED,
  TableFailure,
  cellKey,
  diffRound,
  expectedOf,
  expectedSymbol,
  judgeCase,
  matrixCells,
  observedSymbol,
  holdRound,
  roundOf,
  targetsOf,
  tableRows,
  type Cell,
  type Convergence,
  type Expectation,
  type Hold,
  type PortProto,
  type Round,
  type Rule,
} from '../verdicts/truth-table.js';
import { NotApplicable } from '../verdicts/failure.js';
import { mustFail } from './controls.js';
import { EXTRA_KEY, MATRIX_NAMESPACES, MATRIX_PODS, NS_KEY, POD_KEY, addMatrixPod, createMatrix, removeMatrixPod, type Matrix } from '../workload/netpol.js';
import { RUN_KEY } from '../util/labels.js';
import { BANP_NAME, adminPoliciesUnserved, deleteAdmin, foreignBaseline, putAdmin, type AdminKind, type AdminObject } from '../workload/admin-policy.js';
import { coveringCidr, hostCidr } from '../util/cidr.js';
import type { ProbeRef, RunEnv } from '../workload/setup.js';
import { fanOut, key } from '../workload/fanout.js';
import type { CheckDef, Observations, PhaseDef, ProbeAsk } from './types.js';

export const PORTS: PortProto[] = [
  { protocol: 'TCP', port: 80 },
  { protocol: 'TCP', port: 81 },
  { protocol: 'UDP', port: 80 },
  { protocol: 'UDP', port: 81 },
];

/** How long a case waits for its change to take effect: the run's policy timeout (settings.policyTimeoutMs). */
const convergeMs = (env: RunEnv) => env.settings.policyTimeoutMs;
/**
 * A cell's time budget. 2 s: a SYN the engine's queue dropped is sent again by the kernel after 1 s
 * (seen on a loaded 2-core host: allowed cells answered after 1.0-2.6 s); a denied cell costs its
 * round this long.
 */
const CELL_TIMEOUT_MS = 2000;
/**
 * A cell the table expects allowed may take this long to answer: the answer, however late, is the
 * evidence (an engine that drops it times out all the same), while on a 2-core host at load 50 the
 * pods' answers took 2.1-2.7 s (kube-router, no policy at all: netpol.none failed 10 of 288 cells at
 * 2 s). A cell expected denied keeps CELL_TIMEOUT_MS, so a denying round costs no more than before.
 */
const ALLOWED_CELL_TIMEOUT_MS = 5000;
// (the run's first denying case gives its denied cells that budget too: see planOf)

// ---- the world a case needs --------------------------------------------------------------------

interface PolicyDef {
  /** logical namespace */
  ns: string;
  spec: V1NetworkPolicySpec;
}

interface World {
  /** Policy name (without the run's prefix) → where and what. */
  policies: Record<string, PolicyDef>;
  /** Extra labels on pods ("y/c") and namespaces ("z"). */
  podLabels?: Record<string, Record<string, string>>;
  nsLabels?: Record<string, Record<string, string>>;
  /** Pods beyond a, b, c ("x/d"). */
  extraPods?: string[];
  /** AdminNetworkPolicies (cluster-scoped; name without the run's prefix → spec). */
  admin?: Record<string, Record<string, unknown>>;
  /** The BaselineAdminNetworkPolicy "default" (a singleton), when the case has one. */
  baseline?: Record<string, unknown>;
}

/** What the cases know of the matrix when they write their worlds and tables. */
export interface MatrixView {
  runId: string;
  /** The pod's IP, for ipBlock rules. */
  ip(peer: string): string;
  /** The node a peer runs on. */
  nodeOf(peer: string): string;
  /** The smallest CIDR holding every matrix pod (the family of their primary addresses: IPv6 on an IPv6-only cluster). */
  cover: string;
  /** The node views' peers ("node/<name>"). */
  nodePeers: string[];
}

interface Case {
  id: string;
  title: string;
  /** The sentence of the NetworkPolicy API documentation the expected table rests on. */
  doc: string;
  tags: string[];
  world(m: MatrixView): World;
  expect(m: MatrixView): Expectation;
  /** A world converged (and its table matched) before the change the case is about. */
  before?: { world(m: MatrixView): World; expect(m: MatrixView): Expectation; change: string };
  /** Source peers beyond the pods: the node views. */
  fromNodes?: boolean;
  /** An AdminNetworkPolicy / BaselineAdminNetworkPolicy case: not applicable where the API is not served. */
  admin?: boolean;
}

// selectors
const nsSel = (m: MatrixView, ns: string) => ({ matchLabels: { [NS_KEY]: ns, [RUN_KEY]: m.runId } });
const podSel = (pod: string) => ({ matchLabels: { [POD_KEY]: pod } });
const ALL_NS: V1NetworkPolicyPeer = { namespaceSelector: {} };
const onA = podSel('a');
const ingressOnA = (from: V1NetworkPolicyPeer[] | undefined, ports?: V1NetworkPolicyPort[]): V1NetworkPolicySpec => ({
  podSelector: onA,
  policyTypes: ['Ingress'],
  ingress: [{ ...(from ? { _from: from } : {}), ...(ports ? { ports } : {}) }],
});
const denyAllTo = (to: string, because: string): Rule => ({ to, verdict: 'deny', because });
const allowTo = (to: string, from: string | string[], because: string, p: Partial<PortProto> = {}): Rule => ({ to, from, verdict: 'allow', because, ...p });
const none = 'no policy selects the pods of the cell';
const open = (rules: Rule[] = []): Expectation => ({ default: 'allow', defaultBecause: none, rules });

const DENY_INGRESS_X: World = { policies: { 'deny-ingress': { ns: 'x', spec: { podSelector: {}, policyTypes: ['Ingress'] } } } };
const DENY_INGRESS_X_TABLE = open([denyAllTo('x/*', 'knc-deny-ingress: every pod of x isolated for ingress, no rule')]);

const ISOLATED =
  "the only allowed connections into the pod are those from the pod's node and those allowed by the ingress list of some NetworkPolicy that applies to the pod for ingress";

export const CASES: Case[] = [
  {
    id: 'none',
    title: 'no NetworkPolicy: every pod answers every pod on every port',
    doc: 'By default, a pod is non-isolated for egress / ingress; all connections are allowed.',
    tags: ['allowed'],
    world: () => ({ policies: {} }),
    expect: () => open(),
  },
  {
    id: 'deny-ingress',
    title: 'default-deny ingress in x (podSelector {}, policyTypes [Ingress], no rule)',
    doc: `A pod is isolated for ingress if there is any NetworkPolicy that both selects the pod and has "Ingress" in its policyTypes; ${ISOLATED}.`,
    tags: ['deny', 'ingress'],
    world: () => DENY_INGRESS_X,
    expect: () => DENY_INGRESS_X_TABLE,
  },
  {
    id: 'deny-egress',
    title: 'default-deny egress in x (podSelector {}, policyTypes [Egress], no rule)',
    doc: 'When a pod is isolated for egress, the only allowed connections from the pod are those allowed by the egress list of some NetworkPolicy that applies to the pod for egress.',
    tags: ['deny', 'egress'],
    world: () => ({ policies: { 'deny-egress': { ns: 'x', spec: { podSelector: {}, policyTypes: ['Egress'] } } } }),
    expect: () => open([{ from: 'x/*', verdict: 'deny', because: 'knc-deny-egress: every pod of x isolated for egress, no rule' }]),
  },
  {
    id: 'and-peer',
    title: 'one peer with namespaceSelector AND podSelector: only pod b of namespace y reaches x/a',
    doc: 'namespaceSelector and podSelector in the same from element select particular Pods within particular namespaces (both must match).',
    tags: ['ingress', 'selectors'],
    world: (m) => ({ policies: { 'and-peer': { ns: 'x', spec: ingressOnA([{ namespaceSelector: nsSel(m, 'y'), podSelector: podSel('b') }]) } } }),
    expect: () => open([denyAllTo('x/a', 'knc-and-peer isolates x/a'), allowTo('x/a', 'y/b', 'knc-and-peer: {namespaceSelector y, podSelector b}')]),
  },
  {
    id: 'or-peers',
    title: 'two peers (namespaceSelector y) OR (podSelector b): every pod of y and x/b reach x/a',
    doc: "Two elements in the from array are ORed: pods in namespaces matching the namespaceSelector, or pods matching the podSelector in the policy's own namespace.",
    tags: ['ingress', 'selectors'],
    world: (m) => ({ policies: { 'or-peers': { ns: 'x', spec: ingressOnA([{ namespaceSelector: nsSel(m, 'y') }, { podSelector: podSel('b') }]) } } }),
    expect: () =>
      open([denyAllTo('x/a', 'knc-or-peers isolates x/a'), allowTo('x/a', ['y/*', 'x/b'], 'knc-or-peers: [{namespaceSelector y}, {podSelector b}]')]),
  },
  {
    id: 'pod-selector-own-namespace',
    title: "a podSelector alone selects pods of the policy's namespace only: x/b reaches x/a, y/b and z/b do not",
    doc: 'podSelector: this selects particular Pods in the same namespace as the NetworkPolicy which should be allowed as ingress sources.',
    tags: ['ingress', 'selectors'],
    world: () => ({ policies: { 'own-ns': { ns: 'x', spec: ingressOnA([{ podSelector: podSel('b') }]) } } }),
    expect: () => open([denyAllTo('x/a', 'knc-own-ns isolates x/a'), allowTo('x/a', 'x/b', 'knc-own-ns: {podSelector b} in x')]),
  },
  {
    id: 'match-expressions',
    title: 'matchExpressions (NotIn, In, DoesNotExist): pods b, c of namespaces other than y reach x/a',
    doc: "A label selector's matchExpressions are ANDed with each other and with matchLabels; In, NotIn, Exists and DoesNotExist.",
    tags: ['ingress', 'selectors'],
    world: (m) => ({
      policies: {
        'match-expr': {
          ns: 'x',
          spec: ingressOnA([
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: NS_KEY, operator: 'NotIn', values: ['y'] },
                  { key: RUN_KEY, operator: 'In', values: [m.runId] },
                ],
              },
              podSelector: {
                matchExpressions: [
                  { key: POD_KEY, operator: 'In', values: ['b', 'c'] },
                  { key: EXTRA_KEY, operator: 'DoesNotExist' },
                ],
              },
            },
          ]),
        },
      },
    }),
    expect: () =>
      open([
        denyAllTo('x/a', 'knc-match-expr isolates x/a'),
        allowTo('x/a', ['x/b', 'x/c', 'z/b', 'z/c'], 'knc-match-expr: namespace NotIn [y], pod In [b, c]'),
      ]),
  },
  {
    id: 'ports',
    title: 'ports [{port: 80}] (protocol left out: TCP): TCP 80 into x/a allowed from every namespace; TCP 81 and UDP denied',
    doc: 'ports: if this field is present, only traffic matching at least one port in the list is allowed; protocol defaults to TCP.',
    tags: ['ingress', 'ports'],
    world: () => ({ policies: { ports: { ns: 'x', spec: ingressOnA([ALL_NS], [{ port: 80 as never }]) } } }),
    expect: () =>
      open([denyAllTo('x/a', 'knc-ports isolates x/a'), allowTo('x/a', '*', 'knc-ports: port 80, protocol TCP by default', { protocol: 'TCP', port: 80 })]),
  },
  {
    id: 'named-ports',
    title: 'named ports (serve-81-tcp, serve-80-udp) into x/a: TCP 81 and UDP 80 allowed; TCP 80 and UDP 81 denied',
    doc: 'port: the port on the given protocol; this can either be a numerical or named port on a pod.',
    tags: ['ingress', 'ports', 'named-port', 'udp'],
    world: () => ({
      policies: {
        named: {
          ns: 'x',
          spec: ingressOnA(
            [ALL_NS],
            [
              { protocol: 'TCP', port: 'serve-81-tcp' as never },
              { protocol: 'UDP', port: 'serve-80-udp' as never },
            ],
          ),
        },
      },
    }),
    expect: () =>
      open([
        denyAllTo('x/a', 'knc-named isolates x/a'),
        allowTo('x/a', '*', 'knc-named: TCP serve-81-tcp', { protocol: 'TCP', port: 81 }),
        allowTo('x/a', '*', 'knc-named: UDP serve-80-udp', { protocol: 'UDP', port: 80 }),
      ]),
  },
  {
    id: 'end-port',
    title: 'endPort ranges into x/a: TCP 81-90 and UDP 70-80 (inclusive): TCP 81 and UDP 80 allowed; TCP 80 and UDP 81 denied',
    doc: 'endPort indicates that the range of ports from port to endPort, inclusive, should be allowed by the policy.',
    tags: ['ingress', 'ports', 'end-port', 'udp'],
    world: () => ({
      policies: {
        'end-port': {
          ns: 'x',
          spec: ingressOnA(
            [ALL_NS],
            [
              { protocol: 'TCP', port: 81 as never, endPort: 90 },
              { protocol: 'UDP', port: 70 as never, endPort: 80 },
            ],
          ),
        },
      },
    }),
    expect: () =>
      open([
        denyAllTo('x/a', 'knc-end-port isolates x/a'),
        allowTo('x/a', '*', 'knc-end-port: TCP 81-90', { protocol: 'TCP', port: 81 }),
        allowTo('x/a', '*', 'knc-end-port: UDP 70-80', { protocol: 'UDP', port: 80 }),
      ]),
  },
  {
    id: 'udp-any-port',
    title: 'ports [{protocol: UDP}] (every port of one protocol) into x/a: UDP 80 and 81 allowed; TCP denied',
    doc: 'If port is not provided, this matches all port names and numbers (of the given protocol).',
    tags: ['ingress', 'ports', 'udp'],
    world: () => ({ policies: { udp: { ns: 'x', spec: ingressOnA([ALL_NS], [{ protocol: 'UDP' }]) } } }),
    expect: () => open([denyAllTo('x/a', 'knc-udp isolates x/a'), allowTo('x/a', '*', 'knc-udp: every UDP port', { protocol: 'UDP' })]),
  },
  {
    id: 'egress-ports',
    title: 'egress from x/a to UDP 81 and named port serve-80-tcp only: TCP 80 and UDP 81 allowed; TCP 81 and UDP 80 denied',
    doc: "Egress rules: each rule allows traffic which matches both the to and ports sections; a named port is the destination pod's.",
    tags: ['egress', 'ports', 'named-port', 'udp'],
    world: () => ({
      policies: {
        'egress-ports': {
          ns: 'x',
          spec: {
            podSelector: onA,
            policyTypes: ['Egress'],
            egress: [
              {
                to: [ALL_NS],
                ports: [
                  { protocol: 'UDP', port: 81 as never },
                  { protocol: 'TCP', port: 'serve-80-tcp' as never },
                ],
              },
            ],
          },
        },
      },
    }),
    expect: () =>
      open([
        { from: 'x/a', verdict: 'deny', because: 'knc-egress-ports isolates x/a for egress' },
        { from: 'x/a', protocol: 'UDP', port: 81, verdict: 'allow', because: 'knc-egress-ports: UDP 81' },
        { from: 'x/a', protocol: 'TCP', port: 80, verdict: 'allow', because: 'knc-egress-ports: TCP serve-80-tcp' },
      ]),
  },
  {
    id: 'ipblock-except-egress',
    title: 'egress from x/a to an ipBlock holding every pod, except y/b: everything but y/b reachable from x/a',
    doc: 'ipBlock: particular IP CIDR ranges to allow as egress destinations; except: CIDRs that should not be included within the range.',
    tags: ['egress', 'ipblock'],
    world: (m) => ({
      policies: {
        'ipblock-egress': {
          ns: 'x',
          spec: { podSelector: onA, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: m.cover, except: [hostCidr(m.ip('y/b'))] } }] }] },
        },
      },
    }),
    expect: (m) => open([{ from: 'x/a', to: 'y/b', verdict: 'deny', because: `knc-ipblock-egress: ${m.cover} except ${hostCidr(m.ip('y/b'))}` }]),
  },
  {
    id: 'ipblock-except-ingress',
    title: 'ingress into x/a from an ipBlock holding every pod, except z/c: every pod but z/c reaches x/a',
    doc: 'ipBlock: particular IP CIDR ranges to allow as ingress sources; except: CIDRs that should not be included within the range.',
    tags: ['ingress', 'ipblock'],
    world: (m) => ({ policies: { 'ipblock-ingress': { ns: 'x', spec: ingressOnA([{ ipBlock: { cidr: m.cover, except: [hostCidr(m.ip('z/c'))] } }]) } } }),
    expect: (m) => open([{ from: 'z/c', to: 'x/a', verdict: 'deny', because: `knc-ipblock-ingress: ${m.cover} except ${hostCidr(m.ip('z/c'))}` }]),
  },
  {
    id: 'both-ends',
    title: 'egress denied in x while y allows all ingress: x reaches nobody, y is reached by z (both ends must allow)',
    doc: 'For a connection from a source pod to a destination pod to be allowed, both the egress policy on the source pod and the ingress policy on the destination pod need to allow the connection.',
    tags: ['egress', 'ingress', 'deny'],
    world: () => ({
      policies: {
        'deny-egress': { ns: 'x', spec: { podSelector: {}, policyTypes: ['Egress'] } },
        'allow-all-ingress': { ns: 'y', spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] } },
      },
    }),
    expect: () => open([{ from: 'x/*', verdict: 'deny', because: 'knc-deny-egress in x (knc-allow-all-ingress in y cannot override it)' }]),
  },
  {
    id: 'stacked',
    title: 'two policies on x/a (namespace y; pod c): their union reaches x/a',
    doc: 'Network policies are additive: if any policy or policies apply to a given pod for a given direction, the connections allowed are the union of what the applicable policies allow.',
    tags: ['ingress', 'stacked'],
    world: (m) => STACKED(m),
    expect: () => STACKED_TABLE,
  },
  {
    id: 'stacked-delete-one',
    title: 'one of the two stacked policies deleted: only x/c reaches x/a',
    doc: 'The connections allowed are the union of what the applicable policies allow (the deleted one no longer applies).',
    tags: ['ingress', 'stacked', 'update'],
    before: { world: (m) => STACKED(m), expect: () => STACKED_TABLE, change: 'knc-stacked-y deleted' },
    world: (m) => ({ policies: { 'stacked-c': STACKED(m).policies['stacked-c'] } }),
    expect: () => open([denyAllTo('x/a', 'knc-stacked-c isolates x/a'), allowTo('x/a', 'x/c', 'knc-stacked-c: podSelector c')]),
  },
  {
    id: 'policy-update',
    title: 'a policy updated in place (podSelector b → namespaceSelector y): x/b loses x/a, the pods of y gain it',
    doc: 'Policies are evaluated as they are now: an updated rule replaces the old one.',
    tags: ['ingress', 'update'],
    before: {
      world: () => ({ policies: { update: { ns: 'x', spec: ingressOnA([{ podSelector: podSel('b') }]) } } }),
      expect: () => open([denyAllTo('x/a', 'knc-update isolates x/a'), allowTo('x/a', 'x/b', 'knc-update (before): podSelector b')]),
      change: 'knc-update replaced',
    },
    world: (m) => ({ policies: { update: { ns: 'x', spec: ingressOnA([{ namespaceSelector: nsSel(m, 'y') }]) } } }),
    expect: () => open([denyAllTo('x/a', 'knc-update isolates x/a'), allowTo('x/a', 'y/*', 'knc-update (after): namespaceSelector y')]),
  },
  {
    id: 'pod-label-update',
    title: 'a pod label added (y/c gets the label a rule selects): y/c gains x/a',
    doc: 'Selectors select pods by their labels as they are: a pod whose labels change is selected (or not) from then on.',
    tags: ['ingress', 'update', 'labels'],
    before: {
      world: () => POD_LABEL_WORLD,
      expect: () => open([denyAllTo('x/a', 'knc-pod-label isolates x/a; no pod has the label')]),
      change: `y/c labelled ${EXTRA_KEY}=yes`,
    },
    world: () => ({ ...POD_LABEL_WORLD, podLabels: { 'y/c': { [EXTRA_KEY]: 'yes' } } }),
    expect: () =>
      open([denyAllTo('x/a', 'knc-pod-label isolates x/a'), allowTo('x/a', 'y/c', `knc-pod-label: pods labelled ${EXTRA_KEY}=yes in any namespace`)]),
  },
  {
    id: 'namespace-label-update',
    title: 'a namespace label added (z gets the label a rule selects): the pods of z gain x/a',
    doc: 'namespaceSelector selects namespaces by their labels as they are: a namespace whose labels change is selected from then on.',
    tags: ['ingress', 'update', 'labels'],
    before: {
      world: (m) => NS_LABEL_WORLD(m),
      expect: () => open([denyAllTo('x/a', 'knc-ns-label isolates x/a; no namespace has the label')]),
      change: `namespace z labelled ${EXTRA_KEY}=yes`,
    },
    world: (m) => ({ ...NS_LABEL_WORLD(m), nsLabels: { z: { [EXTRA_KEY]: 'yes' } } }),
    expect: () => open([denyAllTo('x/a', 'knc-ns-label isolates x/a'), allowTo('x/a', 'z/*', `knc-ns-label: namespaces labelled ${EXTRA_KEY}=yes`)]),
  },
  {
    id: 'pod-after-policy',
    title: 'a pod created after the policy (x/d under default-deny ingress + allow from y): isolated from its first packet',
    doc: 'A policy selects pods by label, whenever they are created: a new pod matching the podSelector is isolated.',
    tags: ['ingress', 'update', 'new-pod'],
    before: { world: (m) => NEW_POD_WORLD(m), expect: () => NEW_POD_TABLE, change: 'pod x/d created' },
    world: (m) => ({ ...NEW_POD_WORLD(m), extraPods: ['x/d'] }),
    expect: () => NEW_POD_TABLE,
  },
  {
    id: 'from-node',
    title: "default-deny ingress in x, probed from every node too (hostNetwork): a pod's own node reaches it, other nodes do not",
    doc: ISOLATED,
    tags: ['ingress', 'deny', 'node'],
    fromNodes: true,
    world: () => DENY_INGRESS_X,
    expect: (m) =>
      open([
        denyAllTo('x/*', 'knc-deny-ingress: every pod of x isolated for ingress'),
        ...[...MATRIX_NAMESPACES.flatMap((ns) => MATRIX_PODS.map((p) => `${ns}/${p}`))]
          .filter((p) => p.startsWith('x/'))
          .map((p) => allowTo(p, `node/${m.nodeOf(p)}`, "connections from the pod's own node are allowed")),
      ]),
  },
  {
    id: 'deleted',
    title: 'every policy deleted (after default-deny ingress): every cell answers again',
    doc: 'A pod no policy selects is non-isolated again: all connections are allowed.',
    tags: ['allowed', 'update'],
    before: { world: () => DENY_INGRESS_X, expect: () => DENY_INGRESS_X_TABLE, change: 'knc-deny-ingress deleted' },
    world: () => ({ policies: {} }),
    expect: () => open(),
  },
];

// ---- AdminNetworkPolicy / BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) ------------
// Cluster-scoped tiers around NetworkPolicy: every AdminNetworkPolicy rule first (lower priority
// value first; Allow and Deny are final, Pass skips the remaining admin rules), then NetworkPolicy,
// then — for traffic no NetworkPolicy decides, i.e. into pods no NetworkPolicy isolates — the
// BaselineAdminNetworkPolicy. The subjects here are namespace x of this run only.
const anpNs = (m: MatrixView, ns: string) => ({ namespaces: nsSel(m, ns) });
const ANY_NS = { namespaces: {} };
const anp = (m: MatrixView, priority: number, ingress: Array<Record<string, unknown>>) => ({ priority, subject: anpNs(m, 'x'), ingress });
const banp = (m: MatrixView, ingress: Array<Record<string, unknown>>) => ({ subject: anpNs(m, 'x'), ingress });
const rule = (name: string, action: 'Allow' | 'Deny' | 'Pass', from: Array<Record<string, unknown>>, ports?: Array<Record<string, unknown>>) => ({
  name,
  action,
  from,
  ...(ports ? { ports } : {}),
});
const ANP_ORDER =
  'AdminNetworkPolicy rules are evaluated before NetworkPolicy, and NetworkPolicy before BaselineAdminNetworkPolicy; an Allow or Deny in an AdminNetworkPolicy is final';
const PASS_DOC =
  'Pass: instructs the selected traffic to skip any remaining ANP rules, and then pass execution to any NetworkPolicies that select the pod; if the traffic is not decided by NetworkPolicy, the BaselineAdminNetworkPolicy decides';
const ALLOW_FROM_Y_NP = (m: MatrixView): PolicyDef => ({
  ns: 'x',
  spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ _from: [{ namespaceSelector: nsSel(m, 'y') }] }] },
});

export const ADMIN_CASES: Case[] = [
  {
    id: 'anp-deny',
    title: 'AdminNetworkPolicy Deny (priority 10, subject namespace x) from namespace y: y reaches no pod of x, every other cell answers',
    doc: 'Deny: denies the selected traffic (an AdminNetworkPolicy rule, no NetworkPolicy needed).',
    tags: ['admin', 'anp', 'deny'],
    admin: true,
    world: (m) => ({ policies: {}, admin: { 'deny-y': anp(m, 10, [rule('deny-from-y', 'Deny', [anpNs(m, 'y')])]) } }),
    expect: () => open([{ from: 'y/*', to: 'x/*', verdict: 'deny', because: 'ANP deny-y (priority 10): Deny from namespace y' }]),
  },
  {
    id: 'anp-allow-over-np',
    title: 'AdminNetworkPolicy Allow from y over a NetworkPolicy default-deny ingress in x: y reaches x, x and z do not',
    doc: `${ANP_ORDER}: an AdminNetworkPolicy Allow is not overridden by NetworkPolicy isolation.`,
    tags: ['admin', 'anp', 'allow', 'order'],
    admin: true,
    world: (m) => ({ policies: { ...DENY_INGRESS_X.policies }, admin: { 'allow-y': anp(m, 10, [rule('allow-from-y', 'Allow', [anpNs(m, 'y')])]) } }),
    expect: () =>
      open([
        denyAllTo('x/*', 'knc-deny-ingress (NetworkPolicy) isolates every pod of x'),
        allowTo('x/*', 'y/*', 'ANP allow-y (priority 10): Allow from namespace y, before NetworkPolicy'),
      ]),
  },
  {
    id: 'anp-priority',
    title: 'two AdminNetworkPolicies: priority 10 Allow from y on TCP 80, priority 20 Deny from every namespace: only y on TCP 80 reaches x',
    doc: 'Priority is a value from 0 to 1000; policies with lower priority values have higher precedence, and are checked before policies with higher priority values.',
    tags: ['admin', 'anp', 'priority', 'ports'],
    admin: true,
    world: (m) => ({
      policies: {},
      admin: {
        'prio-allow': anp(m, 10, [rule('allow-y-tcp-80', 'Allow', [anpNs(m, 'y')], [{ portNumber: { protocol: 'TCP', port: 80 } }])]),
        'prio-deny': anp(m, 20, [rule('deny-all', 'Deny', [ANY_NS])]),
      },
    }),
    expect: () =>
      open([
        denyAllTo('x/*', 'ANP prio-deny (priority 20): Deny from every namespace'),
        allowTo('x/*', 'y/*', 'ANP prio-allow (priority 10, first): Allow from y on TCP 80', { protocol: 'TCP', port: 80 }),
      ]),
  },
  {
    id: 'anp-pass-to-np',
    title: 'AdminNetworkPolicy Pass from y (priority 10) before a Deny from y (priority 20); a NetworkPolicy in x allows y: y reaches x, x and z do not',
    doc: PASS_DOC,
    tags: ['admin', 'anp', 'pass', 'order'],
    admin: true,
    world: (m) => ({
      policies: { 'allow-from-y': ALLOW_FROM_Y_NP(m) },
      admin: {
        'pass-y': anp(m, 10, [rule('pass-from-y', 'Pass', [anpNs(m, 'y')])]),
        'deny-y': anp(m, 20, [rule('deny-from-y', 'Deny', [anpNs(m, 'y')])]),
      },
    }),
    expect: () =>
      open([
        denyAllTo('x/*', 'knc-allow-from-y (NetworkPolicy) isolates every pod of x'),
        allowTo('x/*', 'y/*', 'ANP pass-y (priority 10) passes y to NetworkPolicy (skipping deny-y, priority 20); knc-allow-from-y allows it'),
      ]),
  },
  {
    id: 'anp-pass-to-banp',
    title:
      'AdminNetworkPolicy Pass from y (priority 10) before an Allow from y (priority 20), no NetworkPolicy, BaselineAdminNetworkPolicy Deny from y: y reaches no pod of x',
    doc: PASS_DOC,
    tags: ['admin', 'anp', 'banp', 'pass', 'order'],
    admin: true,
    world: (m) => ({
      policies: {},
      admin: {
        'pass-y': anp(m, 10, [rule('pass-from-y', 'Pass', [anpNs(m, 'y')])]),
        'allow-y': anp(m, 20, [rule('allow-from-y', 'Allow', [anpNs(m, 'y')])]),
      },
      baseline: banp(m, [rule('deny-from-y', 'Deny', [anpNs(m, 'y')])]),
    }),
    expect: () =>
      open([{ from: 'y/*', to: 'x/*', verdict: 'deny', because: 'ANP pass-y passes y (skipping allow-y); no NetworkPolicy; BANP default: Deny from y' }]),
  },
  {
    id: 'banp-under-np',
    title: 'BaselineAdminNetworkPolicy Deny from every namespace into x, a NetworkPolicy on x/a allowing y: y reaches x/a; nothing reaches x/b or x/c',
    doc: `${ANP_ORDER}; the BaselineAdminNetworkPolicy applies to traffic NetworkPolicy does not decide (pods no NetworkPolicy selects).`,
    tags: ['admin', 'banp', 'deny', 'order'],
    admin: true,
    world: (m) => ({
      policies: { 'a-from-y': { ns: 'x', spec: ingressOnA([{ namespaceSelector: nsSel(m, 'y') }]) } },
      baseline: banp(m, [rule('deny-all', 'Deny', [ANY_NS])]),
    }),
    expect: () =>
      open([
        denyAllTo('x/*', 'BANP default: Deny from every namespace (x/b, x/c: no NetworkPolicy selects them)'),
        allowTo('x/a', 'y/*', 'knc-a-from-y (NetworkPolicy) decides for x/a: namespace y allowed, before the BANP'),
      ]),
  },
];

function STACKED(m: MatrixView): World {
  return {
    policies: {
      'stacked-y': { ns: 'x', spec: ingressOnA([{ namespaceSelector: nsSel(m, 'y') }]) },
      'stacked-c': { ns: 'x', spec: ingressOnA([{ podSelector: podSel('c') }]) },
    },
  };
}
const STACKED_TABLE = open([
  denyAllTo('x/a', 'knc-stacked-y and knc-stacked-c isolate x/a'),
  allowTo('x/a', ['y/*', 'x/c'], 'knc-stacked-y (namespace y) ∪ knc-stacked-c (pod c)'),
]);
const POD_LABEL_WORLD: World = {
  policies: { 'pod-label': { ns: 'x', spec: ingressOnA([{ namespaceSelector: {}, podSelector: { matchLabels: { [EXTRA_KEY]: 'yes' } } }]) } },
};
const NS_LABEL_WORLD = (m: MatrixView): World => ({
  policies: { 'ns-label': { ns: 'x', spec: ingressOnA([{ namespaceSelector: { matchLabels: { [EXTRA_KEY]: 'yes', [RUN_KEY]: m.runId } } }]) } },
});
const NEW_POD_WORLD = (m: MatrixView): World => ({
  policies: {
    'deny-ingress': DENY_INGRESS_X.policies['deny-ingress'],
    'allow-from-y': { ns: 'x', spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ _from: [{ namespaceSelector: nsSel(m, 'y') }] }] } },
  },
});
const NEW_POD_TABLE = open([
  denyAllTo('x/*', 'knc-deny-ingress isolates every pod of x, the new one too'),
  allowTo('x/*', 'y/*', 'knc-allow-from-y: namespaceSelector y'),
]);

// ---- state of a run ------------------------------------------------------------------------------

interface NetpolState {
  matrix?: Matrix;
  /** Our policies as they are now: full name → namespace and spec (JSON, to see updates). */
  policies: Map<string, { ns: string; json: string }>;
  podLabels: Record<string, Record<string, string>>;
  nsLabels: Record<string, Record<string, string>>;
  /** The JSON of the world whose table last matched (a case whose `before` is that world need not converge it again). */
  converged?: string;
  /** The check that found NetworkPolicy not enforced at all. */
  unenforced?: string;
  /** A case that denies something was judged already (only the first one may say "not enforced" for the layer). */
  judgedDeny?: boolean;
  /** SCTP socket check result in a matrix pod. */
  sctp?: string;
  /** The case tables, for results.json and report.html. */
  tables: Record<string, unknown>;
  /** Our admin policies as they are now: "AdminNetworkPolicy/<full name>" or "BaselineAdminNetworkPolicy/default" → spec JSON. */
  admin: Map<string, string>;
  /** Why the admin cases cannot run here (the API not served, a foreign baseline policy), once asked. */
  adminUnusable?: string | false;
  /** Each case's judged round (its gather), by check id: the verdict self-test re-judges netpol.none's. */
  holds: Record<string, Hold>;
}
const states = new WeakMap<RunEnv, NetpolState>();
const stateOf = (env: RunEnv): NetpolState => {
  let s = states.get(env);
  if (!s) states.set(env, (s = { policies: new Map(), podLabels: {}, nsLabels: {}, tables: {}, admin: new Map(), holds: {} }));
  return s;
};

const policyName = (n: string) => `knc-${n}`;

/** The truth-table case that found NetworkPolicy not enforced at all in this run, if one did (the older policy checks are then not meaningful either). */
export const netpolUnenforced = (env: RunEnv): string | undefined => states.get(env)?.unenforced;
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function ensureMatrix(env: RunEnv): Promise<Matrix> {
  const s = stateOf(env);
  if (!s.matrix) s.matrix = await createMatrix(env);
  return s.matrix;
}

/** Peers → their probe pods, IPs, nodes; the cover CIDR. */
function viewOf(env: RunEnv, m: Matrix): MatrixView {
  const ips = [...m.pods.values()].map((p) => p.ref.ip);
  return {
    runId: env.runId,
    ip: (peer) => {
      const p = m.pods.get(peer);
      if (!p) throw new Error(`no matrix pod ${peer}`);
      return p.ref.ip;
    },
    nodeOf: (peer) => m.pods.get(peer)?.ref.node ?? '?',
    cover: coveringCidr(ips),
    nodePeers: env.nodeViews.map((v) => `node/${v.node}`),
  };
}

/** Makes the cluster hold exactly `w`: policies created, replaced or deleted, labels set or removed, extra pods created or deleted. */
async function reconcile(env: RunEnv, m: Matrix, w: World): Promise<string[]> {
  const s = stateOf(env);
  const api = env.kube.kc.makeApiClient(NetworkingV1Api);
  const did: string[] = [];
  const want = new Map(Object.entries(w.policies).map(([n, p]) => [policyName(n), p]));
  // labels and pods first, deletions of policies last: no moment allows more than both worlds do
  for (const peer of [...m.pods.keys()].filter((p) => !MATRIX_PODS.includes(p.split('/')[1] as never) && !(w.extraPods ?? []).includes(p))) {
    await removeMatrixPod(env, m, peer);
    did.push(`pod ${peer} deleted`);
  }
  const body = (ns: string, name: string, spec: V1NetworkPolicySpec) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: m.namespaces[ns], labels: env.labels },
    spec,
  });
  for (const [name, p] of want) {
    const json = JSON.stringify(p);
    const had = s.policies.get(name);
    if (had && had.json === json) continue;
    if (had && had.ns === p.ns) {
      await api.replaceNamespacedNetworkPolicy({ name, namespace: m.namespaces[p.ns], body: body(p.ns, name, p.spec) });
      did.push(`${name} replaced`);
    } else {
      if (had) await api.deleteNamespacedNetworkPolicy({ name, namespace: m.namespaces[had.ns] });
      await api.createNamespacedNetworkPolicy({ namespace: m.namespaces[p.ns], body: body(p.ns, name, p.spec) });
      did.push(`${name} created in ${p.ns}`);
    }
    s.policies.set(name, { ns: p.ns, json });
  }
  const wantAdmin = new Map<string, AdminObject>([
    ...Object.entries(w.admin ?? {}).map(([n, spec]): [string, AdminObject] => {
      const o: AdminObject = { kind: 'AdminNetworkPolicy', name: `knc-${env.runId}-${n}`, spec };
      return [`${o.kind}/${o.name}`, o];
    }),
    ...(w.baseline
      ? [[`BaselineAdminNetworkPolicy/${BANP_NAME}`, { kind: 'BaselineAdminNetworkPolicy', name: BANP_NAME, spec: w.baseline }] as [string, AdminObject]]
      : []),
  ]);
  for (const [k, o] of wantAdmin) {
    const json = JSON.stringify(o.spec);
    if (s.admin.get(k) === json) continue;
    did.push(`${k} ${await putAdmin(env.kube, o, env.labels)}`);
    s.admin.set(k, json);
  }
  const labelPatch = (had: Record<string, string> = {}, now: Record<string, string> = {}) => {
    const patch: Record<string, string | null> = {};
    for (const k of Object.keys(had)) if (!(k in now)) patch[k] = null;
    for (const [k, v] of Object.entries(now)) if (had[k] !== v) patch[k] = v;
    return Object.keys(patch).length ? patch : undefined;
  };
  for (const peer of new Set([...Object.keys(s.podLabels), ...Object.keys(w.podLabels ?? {})])) {
    const patch = labelPatch(s.podLabels[peer], w.podLabels?.[peer]);
    const p = m.pods.get(peer);
    if (!patch || !p) continue;
    await env.kube.core.patchNamespacedPod({ name: p.ref.pod, namespace: p.ref.namespace, body: { metadata: { labels: patch } } }, mergePatch());
    did.push(`pod ${peer} labels ${JSON.stringify(patch)}`);
    s.podLabels[peer] = { ...(w.podLabels?.[peer] ?? {}) };
  }
  for (const ns of new Set([...Object.keys(s.nsLabels), ...Object.keys(w.nsLabels ?? {})])) {
    const patch = labelPatch(s.nsLabels[ns], w.nsLabels?.[ns]);
    if (!patch) continue;
    await env.kube.core.patchNamespace({ name: m.namespaces[ns], body: { metadata: { labels: patch } } }, mergePatch());
    did.push(`namespace ${ns} labels ${JSON.stringify(patch)}`);
    s.nsLabels[ns] = { ...(w.nsLabels?.[ns] ?? {}) };
  }
  for (const peer of (w.extraPods ?? []).filter((p) => !m.pods.has(p))) {
    const [ns, pod] = peer.split('/');
    await addMatrixPod(env, m, ns, pod);
    did.push(`pod ${peer} created`);
  }
  for (const k of [...s.admin.keys()].filter((k) => !wantAdmin.has(k))) {
    const [kind, name] = k.split('/') as [AdminKind, string];
    await deleteAdmin(env.kube, kind, name);
    s.admin.delete(k);
    did.push(`${k} deleted`);
  }
  for (const [name, had] of [...s.policies].filter(([n]) => !want.has(n))) {
    await api.deleteNamespacedNetworkPolicy({ name, namespace: m.namespaces[had.ns] });
    s.policies.delete(name);
    did.push(`${name} deleted`);
  }
  return did;
}

// ---- probing the matrix ---------------------------------------------------------------------------

export interface Plan {
  cells: Cell[];
  /** Per source peer: its probe pod and the probe carrying its row. */
  asks: Array<ProbeAsk & { peer: string }>;
  identity(peer: string): string;
  /**
   * Only in the run's first denying case: the same plan for some of its cells. While that case
   * waits for an engine, a round asks only the cells that still differ (on a cluster without an
   * engine: the denied ones, a third of the table, for the whole bound), and a full round confirms.
   */
  narrow?(keep: Set<string>): Plan;
}

/**
 * A cell's own budget, or undefined for the probe's (CELL_TIMEOUT_MS): a cell the table expects allowed
 * gets ALLOWED_CELL_TIMEOUT_MS, and so does every cell of the run's first denying case (`sentinel`), which
 * tells an engine from none — there a slow answer under load must not pass for a denial.
 */
/**
 * A policy spec as the API stores it (and as a reader of results.json expects it): the client
 * library's model names a rule's peers `_from` (`from` is a reserved word there) and writes `from`
 * on the wire; the report shows `from` too.
 */
export const apiSpec = (spec: V1NetworkPolicySpec): unknown => JSON.parse(JSON.stringify(spec).replace(/"_from":/g, '"from":'));

export function cellLimitMs(e: Expectation | undefined, cell: Cell, sentinel: boolean): number | undefined {
  if (!e) return undefined;
  return sentinel || expectedOf(e, cell).verdict === 'allow' ? ALLOWED_CELL_TIMEOUT_MS : undefined;
}

/** The probes of a case's matrix; with its expected table, each cell's budget from cellLimitMs. */
function planOf(env: RunEnv, m: Matrix, c: Pick<Case, 'id' | 'fromNodes'>, e?: Expectation, keep?: Set<string>): Plan {
  const pods = [...m.pods.keys()].sort();
  const sources = [...pods, ...(c.fromNodes ? env.nodeViews.map((v) => `node/${v.node}`) : [])];
  const refOf = (peer: string): ProbeRef => (peer.startsWith('node/') ? env.nodeViews.find((v) => `node/${v.node}` === peer)! : m.pods.get(peer)!.ref);
  const cells = matrixCells(sources, pods, PORTS).filter((x) => !keep || keep.has(cellKey(x)));
  const targets = targetsOf(cells);
  // the run's first case that denies anything tells an engine from none ("not enforced": every denied cell
  // answered): there every cell gets the long budget, so a slow answer under load is not taken for a denial
  const sentinel = !!e && !stateOf(env).judgedDeny && cells.some((x) => expectedOf(e, x).verdict === 'deny');
  const asks = sources
    .filter((peer) => cells.some((cell) => cell.from === peer))
    .map((peer) => {
      const row = cells.filter((cell) => cell.from === peer);
      const ask: CellAsk[] = row.map((cell) => {
        const limitMs = cellLimitMs(e, cell, sentinel);
        return {
          id: cellId(targets.indexOf(cell.to), cell.protocol, cell.port),
          protocol: cell.protocol as CellAsk['protocol'],
          host: m.pods.get(cell.to)!.ref.ip,
          port: cell.port,
          ...(limitMs ? { limitMs } : {}),
        };
      });
      // a pod source also asks its own server over loopback: the round's starvation control
      const control = peer.startsWith('node/') ? [] : SELF_CELLS;
      return { peer, from: refOf(peer), probe: matrixProbe(`netpol-${c.id}`, [...ask, ...control], CELL_TIMEOUT_MS) };
    });
  const identity = (peer: string) => {
    const r = m.pods.get(peer)?.ref;
    return r ? `${r.namespace}/${r.pod}` : '?';
  };
  return { cells, asks, identity, ...(sentinel && !keep ? { narrow: (k: Set<string>) => planOf(env, m, c, e, k) } : {}) };
}

async function probeRound(env: RunEnv, plan: Plan): Promise<Round> {
  const f = await fanOut(env.kube, plan.asks, { concurrency: env.settings.execConcurrency });
  return roundOf(plan.cells, (peer) => {
    const a = plan.asks.find((x) => x.peer === peer)!;
    const o = f.outputs.get(key(a.from))?.get(a.probe.id);
    return o ? { output: o.output } : { error: f.errors.get(key(a.from)) ?? 'no output' };
  });
}

/** Probes rounds until one matches `e` or the deadline passes. */
const converge = (env: RunEnv, plan: Plan, e: Expectation) => convergeRounds((p) => probeRound(env, p), plan, e, convergeMs(env));

/**
 * The convergence loop, its probing handed in: rounds at least `gapMs` apart until a FULL round
 * shows the table `e` (converged) or `deadlineMs` passed (not converged; `last` is the last round,
 * a narrowed one read over the last full one). With `plan.narrow`, a round after a differing one
 * asks only the cells that differed; once those match, the whole table is asked again.
 */
export async function convergeRounds(
  probe: (p: Plan) => Promise<Round>,
  plan: Plan,
  e: Expectation,
  deadlineMs: number,
  gapMs = 500,
): Promise<Convergence & { last?: Round; asked: number[] }> {
  const t0 = Date.now();
  let rounds = 0;
  let last: Round | undefined;
  // this round's plan: the whole table, or (plan.narrow) only the cells the last round saw differ
  let asked = plan;
  let full: Round | undefined;
  const sizes: number[] = [];
  while (true) {
    const start = Date.now();
    const round = await probe(asked);
    rounds++;
    sizes.push(asked.cells.length);
    // a narrowed round read over the last full one: the cells it did not ask keep what that one saw
    last = asked === plan || !full ? round : { ...round, results: new Map([...full.results, ...round.results]) };
    if (asked === plan) full = round;
    const ms = Date.now() - t0;
    const diff = diffRound(e, plan.cells, last, plan.identity);
    // converged only on a full round: a narrowed one that matches is confirmed by the whole table next
    if (diff.length === 0 && asked === plan) return { converged: true, ms, rounds, deadlineMs, asked: sizes };
    if (ms >= deadlineMs) return { converged: false, ms, rounds, deadlineMs, last, asked: sizes };
    asked = plan.narrow && diff.length ? plan.narrow(new Set(diff.map((d) => cellKey(d.cell)))) : plan;
    // a round where everything answers at once takes ~0.2 s: do not start them closer than gapMs apart
    const gap = gapMs - (Date.now() - start);
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
  }
}

/** How many rounds the judged round may take when the host was starved (its loopback control failed). */
const HOLD_ROUNDS = 3;

/** The judged round, after the case converged: every cell probed once more (see holdRound). */
const judgedRound = (env: RunEnv, plan: Plan, e: Expectation): Promise<Hold> =>
  holdRound(() => probeRound(env, plan), e, plan.cells, plan.identity, HOLD_ROUNDS);

const worldKey = (w: World) => JSON.stringify(w);

async function enterCase(env: RunEnv, c: Case): Promise<Record<string, unknown>> {
  const s = stateOf(env);
  if (s.unenforced) return { skipped: s.unenforced };
  if (c.admin) {
    if (s.adminUnusable === undefined) s.adminUnusable = (await adminPoliciesUnserved(env.kube)) ?? (await foreignBaseline(env.kube, env.runId)) ?? false;
    if (s.adminUnusable) return { notApplicable: s.adminUnusable };
  }
  const m = await ensureMatrix(env);
  const view = viewOf(env, m);
  const data: Record<string, unknown> = {};
  if (c.before) {
    const bw = c.before.world(view);
    if (s.converged !== worldKey(bw)) {
      data.beforeChanges = await reconcile(env, m, bw);
      const be = c.before.expect(view);
      const cv = await converge(env, planOf(env, m, c, be), be);
      data.before = { converged: cv.converged, ms: cv.ms, rounds: cv.rounds };
      if (!cv.converged)
        throw new Error(`the world before the change (${c.before.change}) never matched its table within ${cv.deadlineMs}ms (${cv.rounds} rounds)`);
      s.converged = worldKey(bw);
    }
  }
  const w = c.world(view);
  const t0 = Date.now();
  data.changes = await reconcile(env, m, w);
  data.changeMs = Date.now() - t0;
  const view2 = viewOf(env, m);
  const e = c.expect(view2);
  const cv = await converge(env, planOf(env, m, c, e), e);
  if (cv.converged) s.converged = worldKey(w);
  else s.converged = undefined;
  data.convergence = { converged: cv.converged, ms: cv.ms, rounds: cv.rounds, deadlineMs: cv.deadlineMs };
  return data;
}

function netpolCheck(c: Case, phase: string): CheckDef {
  const id = `netpol.${c.id}`;
  const planFor = (env: RunEnv, e?: Expectation) => {
    const m = stateOf(env).matrix;
    if (!m) throw new Error("the matrix was not set up (the case's phase did not run)");
    return planOf(env, m, c, e);
  };
  return {
    id,
    title: `NetworkPolicy truth table: ${c.title}`,
    layer: 'policy',
    tags: ['policy', 'netpol', ...c.tags, ...(c.fromNodes ? ['node-view'] : [])],
    phase,
    from: 'every matrix pod (x, y, z × a, b, c)' + (c.fromNodes ? ' and every node' : ''),
    to: 'every other matrix pod, TCP and UDP 80 and 81',
    gather: async (o) => {
      const st = stateOf(o.env);
      if (o.phaseData.skipped || o.phaseData.notApplicable || st.unenforced || (c.admin && st.adminUnusable)) return undefined;
      const e = c.expect(viewOf(o.env, st.matrix!));
      const hold = await judgedRound(o.env, planFor(o.env, e), e);
      st.holds[id] = hold;
      return hold;
    },
    verify: (o: Observations) => {
      const s = stateOf(o.env);
      if (o.phaseData.skipped) throw new NotApplicable(`not meaningful: NetworkPolicy is not enforced on this cluster (${o.phaseData.skipped})`);
      if (o.phaseData.notApplicable) throw new NotApplicable(`not applicable: ${o.phaseData.notApplicable as string}`);
      const m = s.matrix!;
      const view = viewOf(o.env, m);
      const plan = planFor(o.env);
      const e = c.expect(view);
      const held = o.gathered as Hold | undefined;
      if (!held) throw new Error('not run: the judged round of the case was not probed');
      const hold = held.round;
      const cv = o.phaseData.convergence as Convergence;
      s.tables[id] = {
        title: c.title,
        doc: c.doc,
        legend:
          'rows: sources, columns: targets in the order of `targets`; . allowed, X denied, - not probed (a pod to itself), W another pod answered, E error, ? not run',
        namespaces: m.namespaces,
        targets: targetsOf(plan.cells),
        policies: Object.fromEntries(Object.entries(c.world(view).policies).map(([n, p]) => [policyName(n), { namespace: p.ns, spec: apiSpec(p.spec) }])),
        ...(c.admin
          ? {
              adminPolicies: Object.fromEntries(Object.entries(c.world(view).admin ?? {}).map(([n, spec]) => [`knc-${o.env.runId}-${n}`, spec])),
              baselineAdminPolicy: c.world(view).baseline,
            }
          : {}),
        convergence: cv,
        ...(held.starved.length ? { starvedRounds: held.starved } : {}),
        changes: o.phaseData.changes,
        expected: tableRows(plan.cells, expectedSymbol(e)),
        observed: tableRows(plan.cells, observedSymbol(hold, plan.identity)),
      };
      const denies = plan.cells.some((x) => expectedOf(e, x).verdict === 'deny');
      const firstDenying = denies && !s.judgedDeny;
      if (denies) s.judgedDeny = true;
      try {
        const evidence = judgeCase({ check: id, title: c.title, expectation: e, cells: plan.cells, hold, convergence: cv, identity: plan.identity });
        (s.tables[id] as Record<string, unknown>).verdict = 'passed';
        return held.starved.length ? { ...evidence, starvedRounds: held.starved } : evidence;
      } catch (err) {
        (s.tables[id] as Record<string, unknown>).verdict = err instanceof TableFailure ? err.kind : 'failed';
        // the first case that denies anything, with every denied cell allowed: the layer says it once
        if (err instanceof TableFailure && err.kind === 'not-enforced' && firstDenying) s.unenforced = `${id}: every cell its policies deny was allowed`;
        throw err;
      }
    },
    facts: (o) => ({ netpol: stateOf(o.env).tables }),
  };
}

/** Can a matrix pod open an SCTP socket? The kernel answers (no module: "Protocol not supported"). */
async function detectSctp(env: RunEnv): Promise<Record<string, unknown>> {
  const m = await ensureMatrix(env);
  const p = m.pods.get('x/a')!.ref;
  const r = await execInPod({ kc: env.kube.kc, namespace: p.namespace, pod: p.pod, command: SCTP_SOCKET, timeoutMs: 15_000 });
  return {
    sctp: r.exitCode === 0 && r.stdout.trim() === 'ok',
    said: (r.stdout + r.stderr).trim().slice(0, 200),
    from: `pod ${p.namespace}/${p.pod} on ${p.node}`,
  };
}

export const NETPOL_PHASES: PhaseDef[] = [
  ...[...CASES, ...ADMIN_CASES].map((c) => ({
    name: `netpol-${c.id}`,
    title: `NetworkPolicy truth table: ${c.title}`,
    enter: (env: RunEnv) => enterCase(env, c),
  })),
  { name: 'netpol-sctp', title: 'NetworkPolicy over SCTP: does the kernel have SCTP?', enter: detectSctp },
];

export const NETPOL_CHECKS: CheckDef[] = [
  ...[...CASES, ...ADMIN_CASES].map((c) => netpolCheck(c, `netpol-${c.id}`)),
  {
    // the fault "no engine" cannot be made on a cluster that has one: the policy-free round of
    // netpol.none is judged as if default-deny ingress in x were in place — every cell it would deny answered
    id: 'netpol.not-enforced.negative',
    title: 'verdict self-test: the truth-table verdict says "NetworkPolicy is not enforced" when every cell a policy denies answers',
    layer: 'policy',
    tags: ['policy', 'netpol', 'negative-control', 'verdict-self-test'],
    controls: 'netpol.deny-ingress',
    controlKind: 'verdict-self-test',
    phase: 'netpol-none',
    from: 'every matrix pod',
    to: 'every other matrix pod, with no policy in place',
    verify: (o: Observations) => {
      const s = stateOf(o.env);
      if (o.phaseData.skipped || !s.matrix) throw new Error('not run: the matrix of netpol.none was not probed');
      const none = CASES.find((c) => c.id === 'none')!;
      const plan = planOf(o.env, s.matrix, none);
      const held = s.holds['netpol.none'];
      if (!held) throw new Error('not run: the judged round of netpol.none was not probed');
      const hold = held.round;
      const deny = CASES.find((c) => c.id === 'deny-ingress')!;
      const denied = plan.cells.filter((x) => expectedOf(DENY_INGRESS_X_TABLE, x).verdict === 'deny').length;
      return mustFail(
        { from: 'every matrix pod', to: 'the pods of x (no policy in place)' },
        () =>
          judgeCase({
            check: 'netpol.deny-ingress',
            title: deny.title,
            expectation: DENY_INGRESS_X_TABLE,
            cells: plan.cells,
            hold,
            identity: plan.identity,
            convergence: o.phaseData.convergence as Convergence,
          }),
        {
          check: 'netpol.deny-ingress',
          from: 'the matrix',
          to: deny.title,
          seen: new RegExp(`^every one of the ${denied} cells the policies deny was allowed( \\(still so .*\\))?: ${NOT_ENFORCED}$`),
        },
      );
    },
  },
  {
    id: 'netpol.sctp',
    title: 'NetworkPolicy truth table over SCTP (protocol: SCTP rules and cells)',
    layer: 'policy',
    tags: ['policy', 'netpol', 'sctp'],
    phase: 'netpol-sctp',
    from: 'a matrix pod',
    to: 'the kernel (an SCTP socket)',
    verify: (o) => {
      const d = o.phaseData as { sctp?: boolean; said?: string; from?: string };
      if (d.sctp === false) throw new NotApplicable(`not applicable: no SCTP in this kernel (${d.from}: ${d.said})`);
      if (d.sctp === true) throw new NotApplicable(`not applicable: the kernel has SCTP (${d.from}), but this suite has no SCTP cells yet`);
      throw new Error(`not run: the SCTP socket test did not run (${JSON.stringify(d).slice(0, 160)})`);
    },
  },
];
