// The Service datapath beyond a ClusterIP asked from a probe pod: hairpin (an nginx pod answered
// by itself through its own Service), NodePort on every node's InternalIP from pods and from the
// nodes (externalTrafficPolicy Cluster and Local). Every check asks a hold window
// (src/probes/window.ts): a fixed number of requests per source and target, every one of which
// counts; the only wait is a bounded gate for what the run made itself (a Service created at
// setup whose rules a node may not have yet).
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { samplesProbe, parseSamples, type SampleWindow } from '../probes/window.js';
import { holdRequests } from '../probes/traffic.js';
import type { Probe, ProbeOutput } from '../probes/batch.js';
import { verifyCoverage, verifyWindow, tally, type SampleExpectation, type WindowTally } from '../verdicts/window.js';
import { CheckFailure, NotApplicable, throwAll } from '../verdicts/failure.js';
import { hostCidr, hostPort, inCidr, ipFamily, isIPv6, type IPFamily } from '../util/cidr.js';
import yaml from 'js-yaml';
import { IMAGE_ANNOTATION, OPTIONAL_ANNOTATION, probeRef, type ProbeRef, type RunEnv } from '../workload/setup.js';
import type { Obj } from '../workload/manifests.js';
import { key, label, runFanout } from '../workload/fanout.js';
import type { NodeAccess } from '../cluster/connection.js';
import { mustFail } from './controls.js';
import { settledEvidence, type ServicesSettled } from './services.js';
import { execInPod } from '../kube/exec.js';
import { isReady, listPods, podSummary } from '../workload/pods.js';
import { pollUntil } from '../util/poll.js';
import type { Answer, CheckDef, Observations, ProbeAsk } from './types.js';
import type { DatapathRow } from './matrices.js';
import { must, nodeAccess, podSources, unlessManaged } from './common.js';

const name = (p: V1Pod) => p.metadata!.name!;
/** A grid row for one hold window (the report's datapath grid), from the same output the verdict judged. */
function windowRow(path: string, from: ProbeRef, toNode: string, to: string, out: ProbeOutput, expect: SampleExpectation): DatapathRow {
  const r = verifyWindow('grid', label(from), to, out, expect);
  let t: WindowTally | undefined;
  try {
    t = tally(parseSamples(out.output));
  } catch {
    t = undefined;
  }
  const expected = expect.kind === 'no-answer' ? 'no answer' : `answers from ${expect.single ? 'one of ' : ''}${(expect.allowed ?? expect.want).join(', ')}`;
  return {
    path,
    from: from.hostNetwork ? `node ${from.node}` : `pod ${from.namespace}/${from.pod}`,
    fromKind: from.hostNetwork ? 'node' : 'pod',
    fromNode: from.node,
    to,
    toNode,
    expected,
    requests: expect.requests,
    answered: t?.answered ?? 0,
    servers: t?.servers ?? {},
    ok: !(r instanceof CheckFailure),
  };
}
/** Grid rows, or none when an output is missing (the verdict says why). */
const rowsOr = (f: () => DatapathRow[]) => {
  try {
    return { datapath: f() };
  } catch {
    return {};
  }
};
const nodeOf = (p: V1Pod) => p.spec!.nodeName!;

/**
 * What one datapath ask expects, as data. `window` — a hold window (src/probes/window.ts) to `to`
 * with its expected outcome; `toNode` is the node asked (the grid's column), `row` the grid's text
 * for the target when it differs from `to`; `clientsOf`: the server must see an address of this
 * source's node, read from the same source's `addrs` answer; `serversOn`: the wanted server is the
 * hostPort pod on that node, known once the check's gather has read them. `addrs` — the addresses
 * the source's node holds. `serve` — the node view's own server started on `port`.
 */
export type DpExpect =
  | { kind: 'window'; window: SampleExpectation; toNode?: string; row?: string; clientsOf?: boolean; servers?: ServersFromGather }
  | { kind: 'addrs' }
  | { kind: 'serve'; port: number };
/** Servers known only once the check's gather has read them: the hostPort pod on a node, the UDP echo pods. */
type ServersFromGather = { of: 'hostport'; node: string } | { of: 'udp-echo' };
export type DpAsk = ProbeAsk<DpExpect>;
export type DpAnswer = Answer<DpExpect>;
type WindowAnswer = Answer<Extract<DpExpect, { kind: 'window' }>>;

const winAsk = (
  from: ProbeRef,
  id: string,
  w: SampleWindow,
  to: string,
  toNode: string | undefined,
  window: SampleExpectation,
  more: { row?: string; clientsOf?: boolean; servers?: ServersFromGather } = {},
): WindowAnswer['ask'] => ({ from, probe: samplesProbe(id, w), to, expect: { kind: 'window', window, ...(toNode ? { toNode } : {}), ...more } });
const windowsOf = (answers: DpAnswer[]) => answers.filter((a): a is WindowAnswer => a.ask.expect?.kind === 'window');
/** The window verdict of one (ask, output) pair against its expectation (or `expect`, the same window judged otherwise). */
const judgeWindow = (check: string, a: WindowAnswer, expect: SampleExpectation = a.ask.expect!.window) =>
  verifyWindow(check, label(a.ask.from), a.ask.to!, a.out, expect);
/** The grid's rows from the same (ask, output) pairs the verdict judged. */
const gridRows = (path: string, answers: DpAnswer[]) =>
  windowsOf(answers).map((a) => windowRow(path, a.ask.from, a.ask.expect!.toNode ?? '', a.ask.expect!.row ?? a.ask.to!, a.out, a.ask.expect!.window));
/** A check's window answers judged: at least one (`what` says what was to be asked), each tally or failure; every failure thrown together. */
function judgeWindows(check: string, answers: WindowAnswer[], what: string, expectOf: (a: WindowAnswer) => SampleExpectation = (a) => a.ask.expect!.window) {
  must(answers.length > 0, { check, from: 'the run', to: what, expected: 'windows to ask', seen: 'none' });
  const rs = answers.map((a) => ({ a, r: judgeWindow(check, a, expectOf(a)) }));
  throwAll(rs.map((x) => x.r).filter((r): r is CheckFailure => r instanceof CheckFailure));
  return rs.map(({ a, r }) => ({ a, t: r as WindowTally }));
}
const sameSource = (a: { ask: { from: ProbeRef } }, from: ProbeRef) => key(a.ask.from) === key(from);
/** The sources of some answers, once each, in the order asked. */
const sourcesOf = (answers: Array<{ ask: { from: ProbeRef } }>) => [...new Map(answers.map((a) => [key(a.ask.from), a.ask.from])).values()];
/** The one window a verdict self-test or a control judges. */
function theWindow(check: string, answers: DpAnswer[]): WindowAnswer {
  const [a, ...more] = windowsOf(answers);
  must(!!a && !more.length, { check, from: 'the run', to: 'its window', expected: 'one window asked', seen: `${windowsOf(answers).length} windows` });
  return a;
}
/** A window's evidence line: answered, by whom; or unanswered as expected. */
const windowLine = ({ a, t }: { a: WindowAnswer; t: WindowTally }) =>
  `${label(a.ask.from)} -> ${a.ask.to}: ${t.answered ? `${t.answered}/${t.answered + t.unanswered} answered ${JSON.stringify(t.servers)}` : `${t.unanswered}/${t.unanswered} unanswered, as expected`}`;
/** The servers a window may be answered by, from its expectation (the coverage every one of them must reach). */
const coverOf = (w: SampleExpectation) => (w.kind === 'answer' ? [...(w.allowed ?? w.want)].sort() : []);
/**
 * A window whose servers its gather read (`servers`), made whole: the hostPort pod on the node
 * asked is the one wanted (and named in `to`); the UDP echo pods are the ones allowed.
 */
function withServers(a: WindowAnswer, read: { hostport?: Record<string, string>; udp?: string[] }): WindowAnswer {
  const e = a.ask.expect!;
  if (!e.servers || e.window.kind !== 'answer') return a;
  if (e.servers.of === 'hostport') {
    const pod = read.hostport?.[e.servers.node] ?? `(no Ready ${HOSTPORT_APP} pod on ${e.servers.node})`;
    return { ...a, ask: { ...a.ask, to: `${a.ask.to} (pod ${pod})`, expect: { ...e, window: { ...e.window, want: [pod] } } } };
  }
  return { ...a, ask: { ...a.ask, expect: { ...e, window: { ...e.window, allowed: read.udp ?? [] } } } };
}
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.:-]/g, '_');

// ---------------------------------------------------------------------------------------------
// Hairpin: each nginx pod asks its own Service's ClusterIP and must be answered by itself (the
// packet leaves through its bridge port and comes back through the same one) and by the others.

/** Requests per nginx pod to its own ClusterIP: with 2 endpoints, missing one by chance is 2^-15. */
const HAIRPIN_REQUESTS = 16;
const hairpinWindow = (env: RunEnv): SampleWindow => ({ host: env.nginxServiceIP, port: 80, requests: HAIRPIN_REQUESTS, gateS: 5 });
const hairpinExpect = (env: RunEnv): SampleExpectation => ({ kind: 'answer', requests: HAIRPIN_REQUESTS, want: env.nginx.map(name).sort() });
const hairpinTo = (env: RunEnv, p: V1Pod) => `its own Service my-nginx ${env.nginxServiceIP}:80 (pod ${name(p)} ${p.status!.podIP} on ${nodeOf(p)})`;

/** The bridge port of a pod's eth0 on its node. */
async function bridgePortOf(env: RunEnv, nodes: NodeAccess, pod: V1Pod): Promise<{ node: string; dev: string; hairpin: string }> {
  const node = nodeOf(pod);
  const r = await execInPod({ kc: env.kube.kc, namespace: env.workloadNs, pod: name(pod), command: ['cat', '/sys/class/net/eth0/iflink'], timeoutMs: 15_000 });
  const idx = r.stdout.trim();
  if (r.exitCode !== 0 || !/^\d+$/.test(idx))
    throw new Error(`pod ${name(pod)}: no peer index for eth0 (exit ${r.exitCode}: ${r.stdout.slice(0, 80)}${r.stderr.slice(0, 80)})`);
  const find = `for d in /sys/class/net/*; do [ "$(cat "$d/ifindex")" = ${idx} ] && echo "\${d##*/}"; done; true`;
  const dev = (await nodes.exec(node, ['sh', '-c', find])).stdout.trim();
  if (!dev) throw new Error(`node ${node}: no interface with index ${idx} (the peer of pod ${name(pod)}'s eth0)`);
  const hp = await nodes.exec(node, ['sh', '-c', `cat /sys/class/net/${dev}/brport/hairpin_mode 2>/dev/null || echo none`]);
  if (hp.stdout.trim() === 'none')
    throw new Error(
      `node ${node}: ${dev} (pod ${name(pod)}'s peer) is not a bridge port — this CNI does not attach pods to a bridge, so hairpin mode cannot be switched off here`,
    );
  return { node, dev, hairpin: hp.stdout.trim() };
}

/** A fault that removes a rule holds only while the rule stays removed: one the proxy put back makes the control inconclusive. */
function stayedRemoved(cameBack: boolean, from: string, to: string): void {
  must(!cameBack, {
    check: 'negative-control',
    from,
    to,
    expected: 'the rule to stay removed during the fault',
    seen: 'it was there again, in each of 3 attempts (kube-proxy synced during each): inconclusive',
  });
}

/** Hairpin off on the pod's bridge port while `body` runs (netlink: the node's /sys is read-only); restored and read back after. */
export async function withHairpinOff<T>(
  env: RunEnv,
  nodes: NodeAccess,
  pod: V1Pod,
  body: () => Promise<T>,
): Promise<{ result: T; port: { node: string; dev: string; hairpin: string } }> {
  const port = await bridgePortOf(env, nodes, pod);
  const set = (on: boolean) => nodes.exec(port.node, ['ip', 'link', 'set', 'dev', port.dev, 'type', 'bridge_slave', 'hairpin', on ? 'on' : 'off']);
  const read = async () => (await nodes.exec(port.node, ['cat', `/sys/class/net/${port.dev}/brport/hairpin_mode`])).stdout.trim();
  await set(false);
  try {
    const now = await read();
    if (now !== '0') throw new Error(`node ${port.node}: hairpin_mode of ${port.dev} reads ${now} after switching it off`);
    return { result: await body(), port };
  } finally {
    await set(port.hairpin === '1');
    const back = await read();
    // eslint-disable-next-line no-unsafe-finally -- a fault left on a node must fail the run, whatever the body's outcome
    if (back !== port.hairpin) throw new Error(`restoring hairpin_mode ${port.hairpin} on node ${port.node} ${port.dev} failed: reads ${back}`);
  }
}

// ---------------------------------------------------------------------------------------------
// NodePort: twins of the seed Service (same selector and port), created at setup, asked on every
// probed node's InternalIP:nodePort.

const NODEPORT = 'knc-nodeport';
const NODEPORT_LOCAL = 'knc-nodeport-local';
/** Requests per (source, node); every endpoint must answer each source (over its windows to every node) and through each node (over every source's windows). */
const NODEPORT_REQUESTS = 8;
/** Requests per (node view, other node) to the externalTrafficPolicy Local twin. */
const LOCAL_REQUESTS = 6;
/**
 * Requests per window when every one of `endpoints` servers must answer at least once over
 * `windows` windows: enough that a healthy Service misses one by chance with probability under
 * 1e-6 (holdRequests over the windows), never fewer than `base`. On three nodes the windows are
 * many and `base` rules; on one node a source has a single window (8 requests to 2 pods missed one
 * 1 time in 128: seen live on a one-node cluster).
 */
export const coverRequests = (base: number, endpoints: number, windows: number) => Math.max(base, Math.ceil(holdRequests(endpoints) / Math.max(1, windows)));
/** Seconds a source asks a node's nodePort until the first answer (the Service was made at setup). */
const GATE_S = 10;
const DEFAULT_NODEPORT_RANGE = '30000-32767';

function nodePortService(svcName: string, policy: 'Cluster' | 'Local'): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: svcName, annotations: { [OPTIONAL_ANNOTATION]: 'true' } },
    spec: {
      type: 'NodePort',
      externalTrafficPolicy: policy,
      selector: { run: 'my-nginx' },
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
    },
  };
}

const svcOf = (env: RunEnv, svcName: string) => env.objects.find((o) => o.kind === 'Service' && o.metadata?.name === svcName) as V1Service | undefined;
const nodePortOf = (env: RunEnv, svcName: string) => svcOf(env, svcName)?.spec?.ports?.[0]?.nodePort;
const refusedWhy = (env: RunEnv, svcName: string) => {
  const why = env.refused[`Service/${svcName}`];
  if (why) return `NodePort Services are refused on this cluster (creating Service ${svcName}: ${why})`;
  return nodePortOf(env, svcName) ? undefined : `Service ${svcName} got no nodePort from the API`;
};

interface NodePortFacts {
  range: string;
  rangeSource: string;
  /** kube-proxy's nodePortAddresses (its ConfigMap's config.conf, or --nodeport-addresses): empty = every address. */
  nodePortAddresses: string[];
  nodePortAddressesSource: string;
  /** Nodes with more than one address: which they have, and that the InternalIP is the one probed. */
  multiAddress: string[];
}

/**
 * kube-proxy's nodePortAddresses: the --nodeport-addresses flag of its DaemonSet wins over the
 * ConfigMap's config.conf (a KubeProxyConfiguration); none set = NodePorts on every local address.
 */
export function kubeProxyNodePortAddresses(configConf: string | undefined, args: string[]): { addresses: string[]; source: string } {
  const flag = args.find((a) => a.startsWith('--nodeport-addresses='));
  if (flag)
    return {
      addresses: flag
        .split('=')[1]
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      source: 'kube-proxy --nodeport-addresses',
    };
  if (configConf !== undefined) {
    const conf = yaml.load(configConf) as { nodePortAddresses?: string[] | null } | undefined;
    const list = conf?.nodePortAddresses ?? [];
    return {
      addresses: list,
      source: list.length ? "kube-proxy's ConfigMap (config.conf nodePortAddresses)" : "kube-proxy's ConfigMap (config.conf: nodePortAddresses not set)",
    };
  }
  return { addresses: [], source: 'not found (no kube-proxy ConfigMap or flag visible): every address assumed' };
}

/** Whether kube-proxy serves NodePorts on `ip` given its nodePortAddresses ("primary" = the node's InternalIP; a CIDR; empty = every address). */
export function servesNodePortOn(addresses: string[], ip: string): boolean {
  if (!addresses.length) return true;
  return addresses.some((a) => a === 'primary' || (a.includes('/') && ipFamilyOk(a, ip) && inCidr(ip, a)));
}
const ipFamilyOk = (cidr: string, ip: string) => cidr.includes(':') === ip.includes(':');

/** kube-proxy's nodePortAddresses in words, for the evidence and the not-applicable reasons. */
const npaText = (f: NodePortFacts) => `kube-proxy serves NodePorts only on ${f.nodePortAddresses.join(', ')} (${f.nodePortAddressesSource})`;

/**
 * The NodePort windows asked of nodes kube-proxy serves NodePorts on (its nodePortAddresses), and
 * the nodes it does not (not judged, reported): the externalTrafficPolicy Local checks ask node by
 * node before the facts are read, so they sort their answers here.
 */
function servedWindows(env: RunEnv, f: NodePortFacts, answers: DpAnswer[]): { served: DpAnswer[]; unserved: string[]; npa: string } {
  const ok = (node: string | undefined) => {
    const n = env.nodes.find((x) => x.name === node);
    return !n || servesNodePortOn(f.nodePortAddresses, n.internalIP);
  };
  const served = answers.filter((a) => a.ask.expect?.kind !== 'window' || ok(a.ask.expect.toNode));
  const unserved = [
    ...new Set(
      windowsOf(answers)
        .filter((a) => !ok(a.ask.expect!.toNode))
        .map((a) => a.ask.expect!.toNode!),
    ),
  ]
    .map((node) => `${node} ${env.nodes.find((x) => x.name === node)!.internalIP}`)
    .sort();
  return { served, unserved, npa: npaText(f) };
}

/** The NodePort range (the kube-apiserver flag when its pod is visible, else the documented default) and the nodes' addresses. */
async function nodePortFacts(env: RunEnv): Promise<NodePortFacts> {
  const [pods, nodes, proxyCm, proxyDs] = await Promise.all([
    env.kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'component=kube-apiserver' }).catch(() => undefined),
    env.kube.core.listNode(),
    env.kube.core.readNamespacedConfigMap({ name: 'kube-proxy', namespace: 'kube-system' }).catch(() => undefined),
    env.kube.apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' }).catch(() => undefined),
  ]);
  const proxyArgs = (proxyDs?.spec?.template.spec?.containers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]);
  const npa = kubeProxyNodePortAddresses(proxyCm?.data?.['config.conf'], proxyArgs);
  const flag = (pods?.items ?? [])
    .flatMap((p) => p.spec?.containers ?? [])
    .flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])])
    .find((a) => a.startsWith('--service-node-port-range='));
  const probed = new Set(env.nodes.map((n) => n.name));
  const multiAddress = nodes.items
    .filter((n: V1Node) => probed.has(n.metadata!.name!))
    .flatMap((n: V1Node) => {
      const addrs = (n.status?.addresses ?? []).filter((a) => a.type !== 'Hostname');
      const internal = addrs.find((a) => a.type === 'InternalIP')?.address;
      return addrs.length > 1
        ? [`node ${n.metadata!.name} has ${addrs.map((a) => `${a.type} ${a.address}`).join(', ')}: its InternalIP ${internal} is the one probed`]
        : [];
    });
  const proxy = { nodePortAddresses: npa.addresses, nodePortAddressesSource: npa.source };
  return flag
    ? { range: flag.split('=')[1], rangeSource: 'kube-apiserver --service-node-port-range', multiAddress, ...proxy }
    : {
        range: DEFAULT_NODEPORT_RANGE,
        rangeSource: `the kube-apiserver default (${pods?.items.length ? 'its pod sets no --service-node-port-range' : 'its pod is not visible'})`,
        multiAddress,
        ...proxy,
      };
}

const inRange = (port: number, range: string) => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
  return !!m && port >= Number(m[1]) && port <= Number(m[2] ?? m[1]);
};

const npId = (svcName: string, node: string) => `${svcName === NODEPORT ? 'np' : 'npl'}-${safe(node)}`;
const nodeTarget = (env: RunEnv, svcName: string, node: { name: string; internalIP: string }) =>
  `${node.name} InternalIP ${node.internalIP}:${nodePortOf(env, svcName)} (Service ${svcName})`;
const nodePortWindow = (host: string, port: number, requests: number): SampleWindow => ({ host, port, requests, gateS: GATE_S });

/** Every pod source (or every node view) asks every probed node's nodePort: answered by any Ready pod (every one over the windows). */
function nodePortAsks(env: RunEnv, sources: ProbeRef[]): DpAsk[] {
  const port = nodePortOf(env, NODEPORT)!;
  // each source covers every pod over its windows (one per node), each node over every source's
  const requests = coverRequests(NODEPORT_REQUESTS, env.nginx.length, Math.min(env.nodes.length, sources.length));
  const window: SampleExpectation = { kind: 'answer', requests, want: [], allowed: env.nginx.map(name).sort() };
  return sources.flatMap((from) =>
    env.nodes.map((n) => winAsk(from, npId(NODEPORT, n.name), nodePortWindow(n.internalIP, port, requests), nodeTarget(env, NODEPORT, n), n.name, window)),
  );
}

function verifyNodePort(o: Observations, check: string): unknown {
  const f = o.gathered as NodePortFacts;
  const port = nodePortOf(o.env, NODEPORT)!;
  must(inRange(port, f.range), {
    check,
    from: 'the API',
    to: `Service ${NODEPORT}`,
    expected: `a nodePort inside ${f.range} (${f.rangeSource})`,
    seen: String(port),
  });
  const answers = windowsOf(o.answers<DpExpect>());
  must(answers.length > 0, { check, from: 'the run', to: 'nodes', expected: 'sources and nodes to probe', seen: 'none' });
  // kube-proxy's nodePortAddresses honoured: a node whose InternalIP it does not serve NodePorts on is not judged (reported)
  const asked = o.env.nodes.filter((n) => answers.some((a) => a.ask.expect!.toNode === n.name));
  const served = asked.filter((n) => servesNodePortOn(f.nodePortAddresses, n.internalIP));
  const unserved = asked.filter((n) => !served.includes(n)).map((n) => `${n.name} ${n.internalIP}`);
  const npa = npaText(f);
  if (!served.length) throw new NotApplicable(`${npa}: no probed node's InternalIP is among them (${unserved.join(', ')})`);
  const results = judgeWindows(
    check,
    answers.filter((a) => served.some((n) => n.name === a.ask.expect!.toNode)),
    'nodes',
  );
  const want = coverOf(results[0].a.ask.expect!.window);
  const tallies = (xs: typeof results) => xs.map((x) => x.t);
  throwAll(
    [
      ...sourcesOf(answers).map((from) =>
        verifyCoverage(check, label(from), `nodePort ${port} on every node`, tallies(results.filter((x) => sameSource(x.a, from))), want),
      ),
      ...served.map((n) =>
        verifyCoverage(check, 'every source', nodeTarget(o.env, NODEPORT, n), tallies(results.filter((x) => x.a.ask.expect!.toNode === n.name)), want),
      ),
    ].filter((f): f is CheckFailure => !!f),
  );
  return {
    nodePort: `${port} (range ${f.range}, from ${f.rangeSource})`,
    nodePortAddresses: f.nodePortAddresses.length
      ? `${npa}${unserved.length ? `; not asked: ${unserved.join(', ')}` : ''}`
      : `every address (${f.nodePortAddressesSource})`,
    ...(f.multiAddress.length ? { addresses: f.multiAddress } : {}),
    windows: results.map(({ a, t }) => {
      const n = served.find((x) => x.name === a.ask.expect!.toNode)!;
      return `${label(a.ask.from)} -> ${n.name} ${n.internalIP}:${port} (${a.ask.from.node === n.name ? 'local' : 'remote'} node): ${t.answered}/${t.answered + t.unanswered} answered ${JSON.stringify(t.servers)}`;
    }),
  };
}

/** The addresses a node view's node holds (`ip -o addr show`, the probe the virtual-IP check asks too). */
const addrsProbe: Probe = { id: 'addrs', argv: ['ip', '-o', 'addr', 'show'] };
const addrsAsk = (from: ProbeRef): DpAsk => ({ from, probe: addrsProbe, to: `the addresses of node ${from.node}`, expect: { kind: 'addrs' } });

/**
 * A window whose server must see the client node's address (`clientsOf`): judged with the addresses
 * the same source's `addrs` answer lists (none listed: a failure, never a pass); `expect` judges it
 * against another expectation (a verdict self-test).
 */
function judgeWithClients(check: string, a: WindowAnswer, answers: DpAnswer[], expect: SampleExpectation = a.ask.expect!.window): WindowTally | CheckFailure {
  if (!a.ask.expect!.clientsOf) return judgeWindow(check, a, expect);
  const addrs = answers.find((x) => x.ask.expect?.kind === 'addrs' && sameSource(x, a.ask.from));
  const held = addrs ? heldAddresses(addrs.out.output) : [];
  if (!held.length)
    return new CheckFailure({
      check,
      from: label(a.ask.from),
      to: a.ask.to!,
      expected: "the client node's addresses (ip -o addr show)",
      seen: addrs ? addrs.out.output.slice(0, 120) : 'no addrs ask for this source',
    });
  return judgeWindow(
    check,
    a,
    expect.kind === 'answer' ? { ...expect, clients: { ips: held, what: `an address of the client node ${a.ask.from.node}` } } : expect,
  );
}
export const heldAddresses = (ipAddr: string) => [...ipAddr.matchAll(/\binet6?\s+([0-9a-fA-F.:]+)\//g)].map((m) => m[1]);

/** The eTP=Local pairs: a node view asks every OTHER probed node (traffic a node sends to its own nodePort, or a pod to any, goes to every endpoint by design). */
const localPairs = (env: RunEnv) =>
  env.nodeViews.flatMap((from) =>
    env.nodes
      .filter((n) => n.name !== from.node)
      .map((n) => ({
        from,
        n,
        local: env.nginx
          .filter((p) => nodeOf(p) === n.name)
          .map(name)
          .sort(),
      })),
  );

/**
 * The no-local-endpoint window's gate: the Cluster twin, created right after the Local one (setup
 * creates optional objects in order), answers on that node — so the node's proxy has seen the
 * Local twin too (a watch delivers Services in the order they were written) and its "no answer"
 * is the policy, not rules not written yet. (A NodePort Service gets no healthCheckNodePort: only
 * a LoadBalancer one does.)
 */
const twinAnswers = (host: string, port: number) => `wget -q -T 1 -O /dev/null http://${hostPort(host, port)}/whoami`;

/** Both twins, the Local one first (see twinAnswers). */
const NODEPORT_TWINS = (): Obj[] => [nodePortService(NODEPORT_LOCAL, 'Local'), nodePortService(NODEPORT, 'Cluster')];

function localWindow(env: RunEnv, pair: ReturnType<typeof localPairs>[number]): { window: SampleWindow; expect: SampleExpectation } {
  const svc = svcOf(env, NODEPORT_LOCAL)!;
  const port = svc.spec!.ports![0].nodePort!;
  if (pair.local.length)
    return { window: nodePortWindow(pair.n.internalIP, port, LOCAL_REQUESTS), expect: { kind: 'answer', requests: LOCAL_REQUESTS, want: pair.local } };
  return {
    window: {
      host: pair.n.internalIP,
      port,
      requests: 3,
      parallel: 3,
      timeoutS: 1,
      gateS: GATE_S,
      gateCommand: twinAnswers(pair.n.internalIP, nodePortOf(env, NODEPORT)!),
    },
    expect: { kind: 'no-answer', requests: 3 },
  };
}

// ---------------------------------------------------------------------------------------------
// The negative controls' faults.

/**
 * Removes the nat-table rules `pick` selects on `node` while `body` runs and puts back what it
 * removed (each appended to its chain again, if not there); `cameBack`: some were there again at
 * the end (a kube-proxy sync rewrote the chain during the fault: the control is then inconclusive).
 * `family`: the address family of the traffic the fault is for (IPv6: ip6tables, kube-proxy's IPv6 proxier's table).
 */
export async function withoutNatRules<T>(
  nodes: NodeAccess,
  node: string,
  what: string,
  pick: (line: string, all: string[]) => boolean,
  body: () => Promise<T>,
  family: IPFamily = 'IPv4',
): Promise<{ result: T; removed: string[]; cameBack: boolean; attempts: number }> {
  // kube-proxy rewrites its chains on every sync (a periodic full sync, any Service's change): a
  // rule it put back during the fault leaves the body's answer meaningless, so the fault is made
  // again, at most 3 times; still back the third time, the control says it is inconclusive
  for (let attempt = 1; ; attempt++) {
    const r = await withoutNatRulesOnce(nodes, node, what, pick, body, family);
    if (!r.cameBack || attempt >= 3) return { ...r, attempts: attempt };
  }
}

async function withoutNatRulesOnce<T>(
  nodes: NodeAccess,
  node: string,
  what: string,
  pick: (line: string, all: string[]) => boolean,
  body: () => Promise<T>,
  family: IPFamily,
): Promise<{ result: T; removed: string[]; cameBack: boolean }> {
  const tool = family === 'IPv6' ? 'ip6tables' : 'iptables';
  const sh = (cmd: string, stdin?: string) => nodes.exec(node, ['sh', '-c', stdin === undefined ? cmd : `printf '%s\\n' ${shq(stdin)} | ${cmd}`]);
  const save = async () => (await sh(`${tool}-save -t nat`)).stdout.split('\n');
  const all = await save();
  const rules = all.filter((l) => l.startsWith('-A ') && pick(l, all));
  if (!rules.length) throw new Error(`node ${node}: no ${what} in the ${family === 'IPv6' ? 'IPv6 (ip6tables) ' : ''}nat table, so the fault cannot be made`);
  const chainOf = (l: string) => l.split(' ')[1];
  // by position (a rule's place in its chain, as iptables-save lists it): deleting by spec fails for some matches (recent)
  const position = (now: string[], l: string) => now.filter((x) => x.startsWith(`-A ${chainOf(l)} `)).indexOf(l) + 1;
  const places = new Map(rules.map((l) => [l, position(all, l)]));
  for (const l of [...rules].reverse()) {
    const at = position(await save(), l);
    if (at > 0) await sh(`${tool} -t nat -D ${chainOf(l)} ${at}`);
  }
  try {
    const result = await body();
    const now = await save();
    return { result, removed: rules, cameBack: rules.some((l) => now.includes(l)) };
  } finally {
    // put back where it was, in the form kube-proxy itself writes (iptables-restore), without flushing anything else
    const now = await save();
    const missing = rules.filter((l) => !now.includes(l));
    if (missing.length)
      await sh(
        `${tool}-restore --noflush`,
        ['*nat', ...missing.map((l) => l.replace(/^-A (\S+) /, (_, c: string) => `-I ${c} ${places.get(l)} `)), 'COMMIT'].join('\n'),
      );
  }
}
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Removes the node's KUBE-NODEPORTS rules for `port` (kube-proxy in iptables mode) while `body` runs; puts back what it removed. */
export const withoutNodePortRule = <T>(nodes: NodeAccess, node: string, port: number, body: () => Promise<T>, family: IPFamily = 'IPv4') =>
  withoutNatRules(
    nodes,
    node,
    `KUBE-NODEPORTS rule for port ${port} (kube-proxy is not in iptables mode here, or has not programmed it)`,
    (l) => l.startsWith('-A KUBE-NODEPORTS ') && new RegExp(`--dport ${port}( |$)`).test(l) && !/ -d 127\.0\.0\.0\/8 /.test(l),
    body,
    family,
  );

/** The KUBE-SERVICES rule(s) of a ClusterIP (one protocol), and the KUBE-SVC chain it jumps to. */
const svcRule = (ip: string, proto: string) => (l: string) =>
  l.startsWith('-A KUBE-SERVICES ') && l.includes(` -d ${hostCidr(ip)} `) && l.includes(` -p ${proto} `);
const svcChainOf = (all: string[], ip: string, proto: string) => /-j (KUBE-SVC-\S+)/.exec(all.find(svcRule(ip, proto)) ?? '')?.[1];

// ---------------------------------------------------------------------------------------------
// hostPort (the CNI's portmap chaining): a DaemonSet of nginx pods with hostPort HOSTPORT, asked
// on each node's InternalIP from pods on the other nodes, answered by that node's pod.

const HOSTPORT_APP = 'knc-hostport';
const HOSTPORT = 18080;
const HOSTPORT_REQUESTS = 6;

const hostPortDaemonSet: Obj = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: HOSTPORT_APP, annotations: { [IMAGE_ANNOTATION]: 'nginx' } },
  spec: {
    selector: { matchLabels: { app: HOSTPORT_APP } },
    template: {
      metadata: { labels: { app: HOSTPORT_APP } },
      spec: {
        tolerations: [{ operator: 'Exists' }],
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'nginx',
            image: 'nginx',
            ports: [{ name: 'http', containerPort: 80, hostPort: HOSTPORT, protocol: 'TCP' }],
            readinessProbe: { httpGet: { path: '/whoami', port: 80 }, periodSeconds: 1 },
            volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx/conf.d' }],
          },
        ],
        volumes: [{ name: 'conf', configMap: { name: 'my-nginx-conf' } }],
      },
    },
  },
};

const hostPortPairs = (env: RunEnv) => env.probes.flatMap((from) => env.nodes.filter((n) => n.name !== from.node).map((n) => ({ from, n })));
const hpId = (node: string) => `hp-${safe(node)}`;

/** The hostPort pods by node, once one is Ready on every probed node (bounded: they were created at setup). */
async function hostPortPods(env: RunEnv): Promise<Record<string, string>> {
  const want = env.nodes.map((n) => n.name);
  const pods = await pollUntil({
    what: `a Ready ${HOSTPORT_APP} pod on each of ${want.join(', ')}`,
    timeoutMs: 60_000,
    intervalMs: 200,
    probe: () => listPods(env.kube, env.workloadNs, `app=${HOSTPORT_APP}`),
    done: (ps) => want.every((n) => ps.some((p) => nodeOf(p) === n && isReady(p))),
    describe: (ps) => ps.map(podSummary).join('; ') || 'no pods',
  });
  return Object.fromEntries(pods.filter(isReady).map((p) => [nodeOf(p), name(p)]));
}

// ---------------------------------------------------------------------------------------------
// Pod -> node: each node view (hostNetwork) serves a small page on SERVE_PORT (busybox httpd, CGI
// echoing the client address), started by its own probe in the phase's fan-out; every pod asks
// every node's InternalIP and is answered by that node's view.

/** A port for this run's node servers, from the run id (two runs at once on one cluster get different ones, mostly). */
export const servePort = (runId: string) => 20000 + ([...runId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 10000);
const SERVE_REQUESTS = 6;
const servePath = '/cgi-bin/whoami';

/**
 * Starts busybox httpd in the background in the node view: a CGI that answers "client=<REMOTE_ADDR> server=<pod>",
 * listening in the family of the node's address `nodeIP` (the one the pods ask): 0.0.0.0 or [::].
 */
export function serveProbe(id: string, port: number, pod: string, nodeIP = '0.0.0.0'): Probe {
  if (!/^[a-z0-9.-]+$/.test(pod)) throw new Error(`pod name not shell-safe: ${pod}`);
  const bind = isIPv6(nodeIP) ? `[::]:${port}` : `0.0.0.0:${port}`;
  const script = [
    'd=$(mktemp -d) && mkdir "$d/cgi-bin" || exit 1',
    `cat >"$d/cgi-bin/whoami" <<'EOF'`,
    '#!/bin/sh',
    `printf 'Content-Type: text/plain\\r\\n\\r\\nclient=%s server=${pod}\\n' "$REMOTE_ADDR"`,
    'EOF',
    'chmod 755 "$d/cgi-bin/whoami"',
    // daemonizes; its own stdio away from the fan-out's files and exec stream
    `busybox httpd -p '${bind}' -h "$d" </dev/null >/dev/null 2>&1 || { echo "busybox httpd could not start on ${bind}"; exit 1; }`,
    `echo "serving ${servePath} on ${bind} from $d"`,
  ].join('\n');
  return { id, argv: ['sh', '-c', script] };
}
const svId = (node: string) => `sv-${safe(node)}`;

// ---------------------------------------------------------------------------------------------
// Service options: internalTrafficPolicy Local, sessionAffinity ClientIP, a UDP Service, a
// multi-port Service with a named targetPort. All twins of the seed Service (selector run=my-nginx)
// created at setup, except the UDP one, which selects its own small UDP echo pods.

const twin = (svcName: string, spec: Record<string, unknown>, ports: unknown[] = [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }]): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: svcName },
  spec: { selector: { run: 'my-nginx' }, ports, ...spec },
});
const ITP = 'knc-itp-local';
const AFFINITY = 'knc-affinity';
const MULTIPORT = 'knc-multiport';
const BADPORT = 'knc-badport';
const UDP = 'knc-udp';
const UDP_PORT = 9999;
const ITP_REQUESTS = 6;
const AFFINITY_REQUESTS = 8;
/** Per port and source; coverage over a source's two ports and over a port's sources. */
const MULTI_REQUESTS = 12;
/** Per source; coverage of the echo pods over every source's datagrams. */
const UDP_REQUESTS = 12;
const clusterIPOf = (env: RunEnv, svcName: string) => svcOf(env, svcName)?.spec?.clusterIP;
const missingWhy = (env: RunEnv, svcName: string) => (clusterIPOf(env, svcName) ? undefined : `Service ${svcName} was not created at setup`);

/** The local nginx pods of a source's node (internalTrafficPolicy Local: only those may answer). */
const localNginx = (env: RunEnv, node: string) =>
  env.nginx
    .filter((p) => nodeOf(p) === node)
    .map(name)
    .sort();
/** A probe pod with an nginx pod on its node and another on another node (where the Local and Cluster policies differ). */
const besideAndApart = (env: RunEnv) => (p: ProbeRef) => localNginx(env, p.node).length > 0 && env.nginx.some((n) => nodeOf(n) !== p.node);
function itpWindow(env: RunEnv, from: ProbeRef): { window: SampleWindow; expect: SampleExpectation } {
  const host = clusterIPOf(env, ITP)!;
  const local = localNginx(env, from.node);
  // every local pod must answer at least once: ITP_REQUESTS per local pod (two local pods in 6 requests missed one 3 % of the time)
  const requests = ITP_REQUESTS * local.length;
  if (local.length) return { window: { host, port: 80, requests, gateS: GATE_S }, expect: { kind: 'answer', requests, want: local } };
  // no local endpoint: nothing may answer (no gate: there is no answer to wait for)
  return { window: { host, port: 80, requests: 3, parallel: 3, timeoutS: 1 }, expect: { kind: 'no-answer', requests: 3 } };
}

/** A UDP echo in Perl (perl-base is in every Debian-based image; it runs in the nginx image): each datagram answered with "client=<ip> server=<pod>". */
const UDP_ECHO = [
  // both families on one socket where the pod has IPv6 (an IPv4 client shows as ::ffff:a.b.c.d: printed as a.b.c.d), else IPv4
  `$s = IO::Socket::IP->new(LocalHost => "::", LocalPort => ${UDP_PORT}, Proto => "udp", V6Only => 0)`,
  `|| IO::Socket::INET->new(LocalPort => ${UDP_PORT}, Proto => "udp") or die "bind: $!";`,
  `while ($s->recv($m, 1500)) { ($h = $s->peerhost) =~ s/^::ffff://i; $s->send("client=$h server=$ENV{HOSTNAME}\\n") }`,
].join(' ');
const udpObjects: Obj[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    // the nginx image (Debian: perl-base); the public probe image (agnhost, Alpine) has no perl
    metadata: { name: UDP, annotations: { [IMAGE_ANNOTATION]: 'nginx' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: UDP } },
      template: {
        metadata: { labels: { app: UDP } },
        spec: {
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'udp-echo',
              image: 'probe',
              command: ['perl', '-MIO::Socket::IP', '-MIO::Socket::INET', '-e', UDP_ECHO],
              ports: [{ name: 'echo', containerPort: UDP_PORT, protocol: 'UDP' }],
              // Ready once the socket is bound
              readinessProbe: {
                exec: { command: ['sh', '-c', `grep -q ':${UDP_PORT.toString(16).toUpperCase().padStart(4, '0')} ' /proc/net/udp6 /proc/net/udp`] },
                periodSeconds: 1,
              },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: UDP },
    spec: { selector: { app: UDP }, ports: [{ name: 'echo', port: UDP_PORT, targetPort: 'echo', protocol: 'UDP' }] },
  },
];

/** The UDP echo pods, once both are Ready (bounded: they were created at setup). */
const udpPods = (env: RunEnv) =>
  pollUntil({
    what: `2 Ready ${UDP} pods`,
    timeoutMs: 60_000,
    intervalMs: 200,
    probe: () => listPods(env.kube, env.workloadNs, `app=${UDP}`),
    done: (ps) => ps.filter(isReady).length === 2,
    describe: (ps) => ps.map(podSummary).join('; ') || 'no pods',
  }).then((ps) => ps.filter(isReady).map(name).sort());

type Slice = {
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
  endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
};
const slicesOf = async (env: RunEnv, svcName: string) =>
  (await env.kube.discovery.listNamespacedEndpointSlice({ namespace: env.workloadNs, labelSelector: `kubernetes.io/service-name=${svcName}` }))
    .items as Slice[];

const hairpinPod = (env: RunEnv) => env.nginx[0];
/** The node whose nodePort rule the control removes: one with an nginx pod, and another node's view to ask it from. */
const nodePortFaultPair = (env: RunEnv) => {
  const n = env.nodes.find((x) => env.nginx.some((p) => nodeOf(p) === x.name));
  const from = n && env.nodeViews.find((v) => v.node !== n.name);
  return n && from ? { n, from } : undefined;
};

/**
 * A window check's evidence with the requests its verdict judged: every sample of the check's own
 * windows (its asks whose output is a sample window; a gate's tries before them do not count).
 * Array evidence becomes `windows`. Negative controls and checks without asks are left as they are.
 */
export function withRequests(c: CheckDef): CheckDef {
  if (!c.probes || c.tags.includes('negative-control')) return c;
  return {
    ...c,
    verify: async (o) => {
      const evidence = await c.verify(o);
      let requests = 0;
      for (const a of o.answers()) {
        try {
          requests += parseSamples(a.out.output).samples.length;
        } catch {
          /* not a window (an address list, a rule read): no request */
        }
      }
      if (!requests) return evidence;
      // what the steady phase waited for before its windows (its Services' EndpointSlices, then kube-proxy)
      const settled = (o.phaseData as Observations['phaseData'] | undefined)?.servicesSettled as ServicesSettled | undefined;
      const before = settled ? { before: settledEvidence(settled) } : {};
      return Array.isArray(evidence) ? { requests, ...before, windows: evidence } : { requests, ...before, ...(evidence as Record<string, unknown>) };
    },
  };
}

const DATAPATH_DEFS: CheckDef[] = [
  {
    id: 'service.hairpin',
    title: 'hairpin: each nginx pod asking its own Service ClusterIP is answered by itself and by the other Ready pods, on every nginx node',
    layer: 'service',
    tags: ['service', 'hairpin', 'datapath'],
    from: 'every nginx pod',
    to: 'its own Service ClusterIP',
    probes: (env) => env.nginx.map((p) => winAsk(probeRef(p), 'hairpin', hairpinWindow(env), hairpinTo(env, p), nodeOf(p), hairpinExpect(env))),
    verify: (o) =>
      judgeWindows('service.hairpin', windowsOf(o.answers()), 'nginx pods').map(
        ({ a, t }) => `${label(a.ask.from)}: ${t.answered}/${HAIRPIN_REQUESTS} answered, by itself ${t.servers[a.ask.from.pod]}, ${JSON.stringify(t.servers)}`,
      ),
    matrix: (o) => rowsOr(() => gridRows('hairpin: nginx pod -> its own ClusterIP', o.answers())),
  },
  {
    id: 'service.hairpin.negative',
    title:
      "negative control: with hairpin mode off on an nginx pod's bridge port, the hairpin check fails naming that pod (its own answers lost, the others' still there)",
    layer: 'service',
    tags: ['service', 'hairpin', 'datapath', 'negative-control'],
    controls: 'service.hairpin',
    controlKind: 'live',
    from: 'live cluster',
    to: "an nginx pod's bridge port with hairpin_mode 0",
    notApplicable: (env) => unlessManaged("changing a node's bridge port")(env) ?? (env.nginx.length >= 2 ? undefined : 'fewer than 2 nginx pods'),
    // lane nginx: its fault touches the nginx pods' paths or their Services' rules; every control that asks nginx is in this lane
    faultLane: 'nginx',
    fault: "hairpin_mode 0 on one nginx pod's bridge port (restored after)",
    gather: async ({ env }) => {
      const pod = hairpinPod(env);
      // 24 requests at once, 1 s each: with 2 endpoints, none reaching the pod itself is 2^-24
      const window = { host: env.nginxServiceIP, port: 80, requests: 24, parallel: 24, timeoutS: 1 };
      const ask = winAsk(probeRef(pod), 'hairpin-off', window, hairpinTo(env, pod), nodeOf(pod), {
        kind: 'answer',
        requests: 24,
        want: env.nginx.map(name).sort(),
      });
      const { result, port } = await withHairpinOff(env, nodeAccess(env), pod, () => runFanout(env.kube, ask.from, [ask.probe]));
      return { answer: { ask, out: result.get('hairpin-off')! }, port };
    },
    verify: (o) => {
      const { answer, port } = o.gathered as { answer: WindowAnswer; port: { node: string; dev: string; hairpin: string } };
      const { from } = answer.ask;
      const pod = from.pod;
      const others = coverOf(answer.ask.expect!.window).filter((w) => w !== pod);
      const r = judgeWindow('service.hairpin', answer);
      const t = tally(parseSamples(answer.out.output));
      const where = { from: label(from), to: `${port.dev} on ${port.node} (hairpin_mode ${port.hairpin} -> 0)` };
      const fs = mustFail(where, () => r, { check: 'service.hairpin', from: label(from), seen: new RegExp(`never answered by \\{${pod}\\}`) });
      // the fault is the pod's own answers, not the Service: the others still answered it
      must(t.unanswered > 0 && !t.servers[pod] && others.every((x) => t.servers[x] > 0), {
        check: 'negative-control',
        ...where,
        expected: `requests lost and answers from ${others.join(', ')} only`,
        seen: JSON.stringify(t),
      });
      return { failures: fs, bridgePort: `${port.dev} on ${port.node}, hairpin_mode ${port.hairpin} -> 0 -> ${port.hairpin}` };
    },
  },
  ...(['pods', 'nodes'] as const).map((kind): CheckDef => ({
    id: `service.nodeport.from-${kind}`,
    title:
      kind === 'pods'
        ? "NodePort: every node's InternalIP:nodePort is answered, from pods on every node and another namespace, by every Ready pod (local and remote node)"
        : "NodePort: every node's InternalIP:nodePort is answered, from every node (its own and the others), by every Ready pod",
    layer: 'service',
    tags: [...(kind === 'nodes' ? ['node-view'] : []), 'service', 'nodeport', 'datapath', kind === 'pods' ? 'pod' : 'node'],
    from: kind === 'pods' ? 'probe pods' : 'every node',
    to: `Service ${NODEPORT} (type NodePort) on every node`,
    setupObjects: NODEPORT_TWINS(),
    notApplicable: (env) => refusedWhy(env, NODEPORT),
    probes: (env) => nodePortAsks(env, kind === 'pods' ? podSources(env) : env.nodeViews),
    gather: ({ env }) => nodePortFacts(env),
    verify: (o) => verifyNodePort(o, `service.nodeport.from-${kind}`),
    matrix: (o) => rowsOr(() => gridRows(`NodePort (externalTrafficPolicy Cluster) from ${kind}`, o.answers())),
    facts: (o) => {
      const f = o.gathered as NodePortFacts | undefined;
      return f
        ? {
            nodePortRange: { range: f.range, source: f.rangeSource },
            nodePortAddresses: { addresses: f.nodePortAddresses, source: f.nodePortAddressesSource },
            ...(f.multiAddress.length ? { nodeAddresses: f.multiAddress } : {}),
          }
        : undefined;
    },
  })),
  {
    id: 'service.nodeport.local',
    title:
      "NodePort with externalTrafficPolicy Local, asked from another node: answered only by that node's own Ready pods, which see the client node's address; a node without one does not answer",
    layer: 'service',
    tags: ['node-view', 'service', 'nodeport', 'datapath', 'external-traffic-policy'],
    from: 'every node',
    to: `Service ${NODEPORT_LOCAL} (NodePort, externalTrafficPolicy Local) on every other node`,
    setupObjects: NODEPORT_TWINS(),
    notApplicable: (env) =>
      refusedWhy(env, NODEPORT_LOCAL) ?? refusedWhy(env, NODEPORT) ?? (env.nodes.length >= 2 ? undefined : 'a single node: no other node to ask from'),
    probes: (env) => [
      ...env.nodeViews.map(addrsAsk),
      ...localPairs(env).map((pair) => {
        const { window, expect } = localWindow(env, pair);
        const to = nodeTarget(env, NODEPORT_LOCAL, pair.n) + (pair.local.length ? ` (local pods ${pair.local.join(', ')})` : ' (no local endpoint)');
        return winAsk(pair.from, npId(NODEPORT_LOCAL, pair.n.name), window, to, pair.n.name, expect, {
          row: nodeTarget(env, NODEPORT_LOCAL, pair.n),
          clientsOf: true,
        });
      }),
    ],
    // kube-proxy's nodePortAddresses, honoured as by the Cluster-policy checks: a node it serves no NodePort on is not judged
    gather: ({ env }) => nodePortFacts(env),
    verify: (o) => {
      const check = 'service.nodeport.local';
      must(windowsOf(o.answers<DpExpect>()).length > 0, { check, from: 'the run', to: 'node pairs', expected: 'a node view and another node', seen: 'none' });
      const { served: answers, unserved, npa } = servedWindows(o.env, o.gathered as NodePortFacts, o.answers<DpExpect>());
      const wins = windowsOf(answers);
      if (!wins.length) throw new NotApplicable(`${npa}: no probed node's InternalIP is among them (${unserved.join(', ')})`);
      if (unserved.length && !wins.some((a) => a.ask.expect!.window.kind === 'answer'))
        throw new NotApplicable(`${npa}: none of the nodes it serves has a local nginx pod (not asked: ${unserved.join(', ')})`);
      must(
        wins.some((a) => a.ask.expect!.window.kind === 'answer'),
        { check, from: 'the run', to: 'nodes', expected: 'a probed node with a local nginx pod', seen: 'none' },
      );
      const rs = wins.map((a) => ({ a, r: judgeWithClients(check, a, answers) }));
      throwAll(rs.map((x) => x.r).filter((r): r is CheckFailure => r instanceof CheckFailure));
      return {
        nodePort: nodePortOf(o.env, NODEPORT_LOCAL),
        ...(unserved.length ? { nodePortAddresses: `${npa}; not asked: ${unserved.join(', ')}` } : {}),
        note: 'a node asking its own nodePort, and pods asking any, are sent to every endpoint by design (kube-proxy: traffic from the node or a local pod takes the cluster-wide path), so only node -> other node is asked',
        windows: rs.map(({ a, r }) => {
          const t = r as WindowTally;
          return `${label(a.ask.from)} -> ${a.ask.to}: ${a.ask.expect!.window.kind === 'answer' ? `${t.answered}/${LOCAL_REQUESTS} answered ${JSON.stringify(t.servers)}, client seen ${Object.keys(t.clients).join(',')}` : `3/3 requests unanswered (the Cluster twin answered there after ${t.gate?.ms} ms)`}`;
        }),
      };
    },
    matrix: (o) =>
      rowsOr(() =>
        gridRows(
          'NodePort externalTrafficPolicy Local, node -> other node',
          o.gathered ? servedWindows(o.env, o.gathered as NodePortFacts, o.answers<DpExpect>()).served : o.answers(),
        ),
      ),
  },
  {
    id: 'service.nodeport.negative',
    title: "negative control: with the nodePort's KUBE-NODEPORTS rule removed on one node, the NodePort check fails for that node",
    layer: 'service',
    tags: ['node-view', 'service', 'nodeport', 'datapath', 'negative-control'],
    controls: 'service.nodeport.from-nodes',
    controlKind: 'live',
    from: 'live cluster',
    to: 'a node without its NodePort rule',
    setupObjects: NODEPORT_TWINS(),
    notApplicable: (env) =>
      unlessManaged("changing a node's iptables")(env) ??
      refusedWhy(env, NODEPORT) ??
      (env.facts.kubeProxy ? undefined : 'no kube-proxy DaemonSet (the fault removes a kube-proxy rule)') ??
      (nodePortFaultPair(env) ? undefined : 'no two nodes'),
    // lane nginx: its fault touches the nginx pods' paths or their Services' rules; every control that asks nginx is in this lane
    faultLane: 'nginx',
    fault: "the nodePort's KUBE-NODEPORTS rule removed on one node (put back after)",
    gather: async ({ env }) => {
      const { n, from } = nodePortFaultPair(env)!;
      const port = nodePortOf(env, NODEPORT)!;
      const ask = winAsk(from, 'np-off', { host: n.internalIP, port, requests: 4, parallel: 4, timeoutS: 1 }, nodeTarget(env, NODEPORT, n), n.name, {
        kind: 'answer',
        requests: 4,
        want: env.nginx.map(name).sort(),
      });
      const { result, removed, cameBack } = await withoutNodePortRule(
        nodeAccess(env),
        n.name,
        port,
        () => runFanout(env.kube, from, [ask.probe]),
        ipFamily(n.internalIP),
      );
      return { answer: { ask, out: result.get('np-off')! }, removed, cameBack };
    },
    verify: (o) => {
      const { answer, removed, cameBack } = o.gathered as { answer: WindowAnswer; removed: string[]; cameBack: boolean };
      const { from, to = '' } = answer.ask;
      const r = judgeWindow('service.nodeport.from-nodes', answer);
      must(!cameBack, {
        check: 'negative-control',
        from: label(from),
        to,
        expected: 'the rule to stay removed during the fault',
        seen: 'kube-proxy put it back meanwhile (a sync): the control is inconclusive',
      });
      const fs = mustFail({ from: label(from), to }, () => r, {
        check: 'service.nodeport.from-nodes',
        from: label(from),
        to,
        seen: /^\{\}: 4 of 4 unanswered/,
      });
      return { failures: fs, removed };
    },
  },
  {
    id: 'service.hostport',
    title: `hostPort: a pod with hostPort ${HOSTPORT} answers on its node's InternalIP from pods on every other node (the CNI's portmap chaining)`,
    layer: 'service',
    tags: ['service', 'hostport', 'datapath', 'cross-node'],
    from: 'probe pods',
    to: `DaemonSet ${HOSTPORT_APP} on every other node's InternalIP:${HOSTPORT}`,
    setupObjects: [hostPortDaemonSet],
    notApplicable: (env) => (env.nodes.length >= 2 ? undefined : 'a single node: no pod on another node to ask from'),
    probes: (env) =>
      hostPortPairs(env).map(({ from, n }) =>
        winAsk(
          from,
          hpId(n.name),
          nodePortWindow(n.internalIP, HOSTPORT, HOSTPORT_REQUESTS),
          `${n.name} InternalIP ${n.internalIP}:${HOSTPORT}`,
          n.name,
          { kind: 'answer', requests: HOSTPORT_REQUESTS, want: [] },
          { row: `${n.name} ${n.internalIP}:${HOSTPORT}`, servers: { of: 'hostport', node: n.name } },
        ),
      ),
    gather: ({ env }) => hostPortPods(env),
    verify: (o) => {
      const pods = o.gathered as Record<string, string>;
      const answers = windowsOf(o.answers<DpExpect>()).map((a) => withServers(a, { hostport: pods }));
      return judgeWindows('service.hostport', answers, 'a probe pod and another node').map(
        ({ a, t }) => `${label(a.ask.from)} -> ${a.ask.to}: ${t.answered}/${HOSTPORT_REQUESTS} answered, client seen ${Object.keys(t.clients).join(',')}`,
      );
    },
    matrix: (o) =>
      rowsOr(() =>
        gridRows(
          `hostPort ${HOSTPORT}, pod -> other node`,
          windowsOf(o.answers<DpExpect>()).map((a) => withServers(a, { hostport: o.gathered as Record<string, string> })),
        ),
      ),
  },
  {
    id: 'pod-ip.to-node',
    title: "pod -> node: a server on each node's own network (hostNetwork) answers on the node's InternalIP from pods on every node and another namespace",
    layer: 'pod-ip',
    tags: ['node-view', 'pod-ip', 'node', 'datapath', 'host'],
    from: 'probe pods',
    to: "a hostNetwork server on every node's InternalIP",
    probes: (env) => {
      const port = servePort(env.runId);
      return [
        ...env.nodeViews.map((v): DpAsk => ({
          from: v,
          probe: serveProbe('serve', port, v.pod, v.ip),
          to: `${isIPv6(v.ip) ? '[::]' : '0.0.0.0'}:${port}`,
          expect: { kind: 'serve', port },
        })),
        ...podSources(env).flatMap((from) =>
          env.nodeViews.map((v) =>
            winAsk(
              from,
              svId(v.node),
              { host: nodeIP(env, v.node), port, path: servePath, requests: SERVE_REQUESTS, gateS: GATE_S },
              `${v.node} InternalIP ${nodeIP(env, v.node)}:${port} (hostNetwork pod ${v.pod})`,
              v.node,
              { kind: 'answer', requests: SERVE_REQUESTS, want: [v.pod] },
              { row: `${v.node} ${nodeIP(env, v.node)}:${port}` },
            ),
          ),
        ),
      ];
    },
    verify: (o) => {
      const answers = o.answers<DpExpect>();
      throwAll(
        answers
          .filter((a) => a.ask.expect?.kind === 'serve' && a.out.exitCode !== 0)
          .map(
            (a) =>
              new CheckFailure({
                check: 'pod-ip.to-node',
                from: label(a.ask.from),
                to: a.ask.to!,
                expected: 'a server started in the node view',
                seen: `exit ${a.out.exitCode}: ${a.out.output.trim().slice(0, 160)}`,
                command: a.out.command,
              }),
          ),
      );
      const rs = judgeWindows('pod-ip.to-node', windowsOf(answers), 'pods and node views');
      return {
        nodeToPod: 'node -> pod is pod-ip.from-node (every node view asks every nginx pod by its pod IP)',
        windows: rs.map(
          ({ a, t }) =>
            `${label(a.ask.from)} -> ${a.ask.to} (${a.ask.from.node === a.ask.expect!.toNode ? 'own' : 'other'} node): ${t.answered}/${SERVE_REQUESTS} answered, client seen ${Object.keys(t.clients).join(',')}`,
        ),
      };
    },
    matrix: (o) => rowsOr(() => gridRows('pod -> hostNetwork server on the node', o.answers())),
  },
  {
    id: 'service.internal-traffic-local',
    title:
      'internalTrafficPolicy Local: a pod asking the ClusterIP is answered only by the Ready pods on its own node; a pod on a node without one gets no answer',
    layer: 'service',
    tags: ['service', 'datapath', 'internal-traffic-policy'],
    from: 'probe pods',
    to: `Service ${ITP} (internalTrafficPolicy Local)`,
    setupObjects: [twin(ITP, { internalTrafficPolicy: 'Local' })],
    notApplicable: (env) => missingWhy(env, ITP),
    probes: (env) =>
      podSources(env).map((from) => {
        const { window, expect } = itpWindow(env, from);
        return winAsk(from, 'itp', window, `${ITP} ${clusterIPOf(env, ITP)}:80`, undefined, expect);
      }),
    verify: (o) => {
      const answers = windowsOf(o.answers<DpExpect>());
      must(
        answers.some((a) => a.ask.expect!.window.kind === 'answer'),
        { check: 'service.internal-traffic-local', from: 'the run', to: ITP, expected: 'a probe pod on a node with an nginx pod', seen: 'none' },
      );
      return judgeWindows('service.internal-traffic-local', answers, 'probe pods').map(
        (x) => `${windowLine(x)} (local pods: ${coverOf(x.a.ask.expect!.window).join(', ') || 'none'})`,
      );
    },
  },
  {
    id: 'service.session-affinity',
    title: `sessionAffinity ClientIP: each pod's ${AFFINITY_REQUESTS} requests to the ClusterIP are all answered by one and the same Ready pod`,
    layer: 'service',
    tags: ['service', 'datapath', 'session-affinity'],
    from: 'probe pods',
    to: `Service ${AFFINITY} (sessionAffinity ClientIP)`,
    setupObjects: [twin(AFFINITY, { sessionAffinity: 'ClientIP' })],
    notApplicable: (env) => missingWhy(env, AFFINITY),
    probes: (env) =>
      podSources(env).map((from) =>
        winAsk(
          from,
          'affinity',
          { host: clusterIPOf(env, AFFINITY)!, port: 80, requests: AFFINITY_REQUESTS, gateS: GATE_S },
          `${AFFINITY} ${clusterIPOf(env, AFFINITY)}:80`,
          undefined,
          { kind: 'answer', requests: AFFINITY_REQUESTS, want: [], allowed: env.nginx.map(name), single: true },
        ),
      ),
    verify: (o) => {
      const rs = judgeWindows('service.session-affinity', windowsOf(o.answers<DpExpect>()), 'probe pods');
      const chosen = new Set(rs.flatMap(({ t }) => Object.keys(t.servers)));
      return {
        windows: rs.map(windowLine),
        backendsChosen: `${chosen.size} distinct backend(s) over ${rs.length} clients (clients on other nodes may differ)`,
      };
    },
  },
  {
    id: 'service.session-affinity.negative',
    title: "verdict self-test: the session-affinity verdict fails on the seed Service's answers (no affinity: both pods answer one client)",
    layer: 'service',
    tags: ['service', 'datapath', 'session-affinity', 'negative-control', 'verdict-self-test'],
    controls: 'service.session-affinity',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'the seed Service (sessionAffinity None)',
    notApplicable: (env) => (env.nginx.length >= 2 ? undefined : 'fewer than 2 nginx pods'),
    probes: (env) => [
      winAsk(
        env.probes[0],
        'no-affinity',
        { host: env.nginxServiceIP, port: 80, requests: 20, gateS: GATE_S },
        `my-nginx ${env.nginxServiceIP}:80 (no affinity)`,
        undefined,
        {
          kind: 'answer',
          requests: 20,
          want: [],
          allowed: env.nginx.map(name),
          single: true,
        },
      ),
    ],
    verify: (o) => {
      const a = theWindow('service.session-affinity.negative', o.answers());
      const { from, to = '' } = a.ask;
      const r = judgeWindow('service.session-affinity', a);
      return mustFail({ from: label(from), to }, () => r, {
        check: 'service.session-affinity',
        from: label(from),
        to,
        seen: /^\{[^}]*\}: answered by 2 different servers$/,
      });
    },
  },
  {
    id: 'service.multi-port',
    title: 'a multi-port Service with a named targetPort: both ports answered by every Ready pod, and the EndpointSlice lists both ports resolved to 80',
    layer: 'service',
    tags: ['service', 'datapath', 'multi-port', 'named-port'],
    from: 'probe pods',
    to: `Service ${MULTIPORT} (80 -> targetPort "http", 8080 -> 80)`,
    setupObjects: [
      twin(MULTIPORT, {}, [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'alt', port: 8080, targetPort: 80, protocol: 'TCP' },
      ]),
    ],
    notApplicable: (env) => missingWhy(env, MULTIPORT),
    probes: (env) => {
      // each source covers every pod over its 2 windows, each port over every source's
      const requests = coverRequests(MULTI_REQUESTS, env.nginx.length, Math.min(2, podSources(env).length));
      return podSources(env).flatMap((from) =>
        [80, 8080].map((port) =>
          winAsk(
            from,
            `mp-${port}`,
            { host: clusterIPOf(env, MULTIPORT)!, port, requests, gateS: GATE_S },
            `${MULTIPORT} ${clusterIPOf(env, MULTIPORT)}:${port}`,
            undefined,
            { kind: 'answer', requests, want: [], allowed: env.nginx.map(name).sort() },
          ),
        ),
      );
    },
    gather: ({ env }) => slicesOf(env, MULTIPORT),
    verify: (o) => {
      const ports = (o.gathered as Slice[])
        .flatMap((sl) => sl.ports ?? [])
        .map((p) => `${p.name}=${p.port}/${p.protocol}`)
        .sort();
      must(ports.join() === 'alt=80/TCP,http=80/TCP', {
        check: 'service.multi-port',
        from: 'the API',
        to: `EndpointSlices of ${MULTIPORT}`,
        expected: 'ports alt=80/TCP, http=80/TCP (the named targetPort "http" resolved to the containers\' port 80)',
        seen: ports.join(', ') || 'no ports',
      });
      const answers = windowsOf(o.answers<DpExpect>());
      const rs = judgeWindows('service.multi-port', answers, 'probe pods');
      const want = coverOf(answers[0].ask.expect!.window);
      const targets = [...new Set(answers.map((a) => a.ask.to!))];
      throwAll(
        [
          ...sourcesOf(answers).map((from) =>
            verifyCoverage(
              'service.multi-port',
              label(from),
              `${MULTIPORT} ports 80 and 8080`,
              rs.filter((x) => sameSource(x.a, from)).map((x) => x.t),
              want,
            ),
          ),
          ...targets.map((to) =>
            verifyCoverage(
              'service.multi-port',
              'every probe pod',
              to,
              rs.filter((x) => x.a.ask.to === to).map((x) => x.t),
              want,
            ),
          ),
        ].filter((f): f is CheckFailure => !!f),
      );
      return { endpointSlicePorts: ports, windows: rs.map(windowLine) };
    },
  },
  {
    id: 'service.multi-port.negative',
    title: 'verdict self-test: the multi-port verdict fails for a Service whose named targetPort no container has (nothing answers)',
    layer: 'service',
    tags: ['service', 'datapath', 'multi-port', 'negative-control', 'verdict-self-test'],
    controls: 'service.multi-port',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: `Service ${BADPORT} (targetPort "no-such-port")`,
    setupObjects: [twin(BADPORT, {}, [{ name: 'http', port: 80, targetPort: 'no-such-port', protocol: 'TCP' }])],
    notApplicable: (env) => missingWhy(env, BADPORT),
    probes: (env) => [
      winAsk(
        env.probes[0],
        'badport',
        { host: clusterIPOf(env, BADPORT)!, port: 80, requests: 3, parallel: 3, timeoutS: 1 },
        `${BADPORT} ${clusterIPOf(env, BADPORT)}:80`,
        undefined,
        { kind: 'answer', requests: 3, want: env.nginx.map(name).sort() },
      ),
    ],
    verify: (o) => {
      const a = theWindow('service.multi-port.negative', o.answers());
      const { from, to = '' } = a.ask;
      const r = judgeWindow('service.multi-port', a);
      return mustFail({ from: label(from), to }, () => r, { check: 'service.multi-port', from: label(from), to, seen: /^\{\}: 3 of 3 unanswered/ });
    },
  },
  {
    id: 'service.udp',
    title: `a UDP Service: datagrams to ClusterIP:${UDP_PORT}/UDP from pods on every node are each answered, by every Ready echo pod and only by them`,
    layer: 'service',
    tags: ['service', 'datapath', 'udp'],
    from: 'probe pods',
    to: `Service ${UDP} (UDP ${UDP_PORT}, 2 echo pods)`,
    setupObjects: udpObjects,
    notApplicable: (env) => missingWhy(env, UDP),
    probes: (env) => {
      // the 2 echo pods must each answer over every source's window
      const requests = coverRequests(UDP_REQUESTS, 2, podSources(env).length);
      return podSources(env).map((from) =>
        winAsk(
          from,
          'udp',
          { host: clusterIPOf(env, UDP)!, port: UDP_PORT, path: 'hello', requests, parallel: 3, gateS: GATE_S, proto: 'udp' },
          `${UDP} ${clusterIPOf(env, UDP)}:${UDP_PORT}/UDP`,
          undefined,
          { kind: 'answer', requests, want: [] },
          { servers: { of: 'udp-echo' } },
        ),
      );
    },
    gather: ({ env }) => udpPods(env),
    verify: (o) => {
      const pods = o.gathered as string[];
      const rs = judgeWindows(
        'service.udp',
        windowsOf(o.answers<DpExpect>()).map((a) => withServers(a, { udp: pods })),
        'probe pods',
      );
      const f = verifyCoverage(
        'service.udp',
        'every probe pod',
        rs[0].a.ask.to!,
        rs.map((x) => x.t),
        pods,
      );
      if (f) throw f;
      return rs.map(windowLine);
    },
  },
  {
    id: 'service.hostport.negative',
    title: `negative control: with the portmap DNAT rule for hostPort ${HOSTPORT} removed on one node, the hostPort check fails for that node`,
    layer: 'service',
    tags: ['service', 'hostport', 'datapath', 'negative-control'],
    controls: 'service.hostport',
    controlKind: 'live',
    from: 'a probe pod',
    to: `the ${HOSTPORT_APP} pod on another node, its DNAT rule removed`,
    setupObjects: [hostPortDaemonSet],
    notApplicable: (env) =>
      unlessManaged("changing a node's iptables")(env) ?? (hostPortPairs(env).length ? undefined : 'a single node: no pod on another node to ask from'),
    // lane hostport: its fault is the portmap rule of hostPort 18080 only, which no other control asks
    faultLane: 'hostport',
    fault: `the portmap DNAT rule for hostPort ${HOSTPORT} removed on one node (put back after)`,
    gather: async ({ env }) => {
      const { from, n } = hostPortPairs(env)[0];
      const pods = await hostPortPods(env);
      const ask = winAsk(
        from,
        'hp-off',
        { host: n.internalIP, port: HOSTPORT, requests: 4, parallel: 4, timeoutS: 1 },
        `${n.name} InternalIP ${n.internalIP}:${HOSTPORT} (pod ${pods[n.name]})`,
        n.name,
        { kind: 'answer', requests: 4, want: [pods[n.name]] },
      );
      const { result, removed, cameBack } = await withoutNatRules(
        nodeAccess(env),
        n.name,
        `portmap DNAT rule for hostPort ${HOSTPORT} (a CNI-DN-* chain: the CNI chains no portmap plugin)`,
        (l) => /^-A CNI-DN-\S+ /.test(l) && new RegExp(`--dport ${HOSTPORT}( |$)`).test(l) && / -j DNAT /.test(l),
        () => runFanout(env.kube, from, [ask.probe]),
        ipFamily(n.internalIP),
      );
      return { answer: { ask, out: result.get('hp-off')! }, removed, cameBack };
    },
    verify: (o) => {
      const { answer, removed, cameBack } = o.gathered as { answer: WindowAnswer; removed: string[]; cameBack: boolean };
      const { from, to = '' } = answer.ask;
      stayedRemoved(cameBack, label(from), to);
      const r = judgeWindow('service.hostport', answer);
      return {
        failures: mustFail({ from: label(from), to }, () => r, { check: 'service.hostport', from: label(from), to, seen: /: 4 of 4 unanswered/ }),
        removed,
      };
    },
  },
  {
    id: 'service.udp.negative',
    title: "negative control: with the UDP Service's KUBE-SERVICES rule removed on a client's node, the UDP Service check fails for that client",
    layer: 'service',
    tags: ['service', 'datapath', 'udp', 'negative-control'],
    controls: 'service.udp',
    controlKind: 'live',
    from: 'a probe pod',
    to: `Service ${UDP}, its rule removed on the client's node`,
    setupObjects: udpObjects,
    notApplicable: (env) =>
      unlessManaged("changing a node's iptables")(env) ??
      missingWhy(env, UDP) ??
      (env.facts.kubeProxy ? undefined : 'no kube-proxy DaemonSet (the fault removes a kube-proxy rule)'),
    // lane udp: its fault is the UDP Service's rule only (UDP; every other control asks over TCP or ICMP)
    faultLane: 'udp',
    fault: "the UDP Service's KUBE-SERVICES rule removed on one node (put back after)",
    gather: async ({ env }) => {
      const from = env.probes[0];
      const ip = clusterIPOf(env, UDP)!;
      const pods = await udpPods(env);
      const ask = winAsk(
        from,
        'udp-off',
        { host: ip, port: UDP_PORT, path: 'hello', requests: 4, parallel: 4, timeoutS: 1, proto: 'udp' },
        `${UDP} ${ip}:${UDP_PORT}/UDP`,
        undefined,
        { kind: 'answer', requests: 4, want: [], allowed: pods },
      );
      const { result, removed, cameBack } = await withoutNatRules(
        nodeAccess(env),
        from.node,
        `KUBE-SERVICES rule for ${ip} udp (kube-proxy not in iptables mode?)`,
        svcRule(ip, 'udp'),
        () => runFanout(env.kube, from, [ask.probe]),
        ipFamily(ip),
      );
      return { answer: { ask, out: result.get('udp-off')! }, removed, cameBack };
    },
    verify: (o) => {
      const { answer, removed, cameBack } = o.gathered as { answer: WindowAnswer; removed: string[]; cameBack: boolean };
      const { from, to = '' } = answer.ask;
      stayedRemoved(cameBack, label(from), to);
      const r = judgeWindow('service.udp', answer);
      return { failures: mustFail({ from: label(from), to }, () => r, { check: 'service.udp', from: label(from), to, seen: /: 4 of 4 unanswered/ }), removed };
    },
  },
  {
    id: 'service.session-affinity.live.negative',
    title:
      "negative control: with kube-proxy's recent-match (affinity) rules of the ClientIP Service removed on a client's node, the affinity check fails for that client",
    layer: 'service',
    tags: ['service', 'datapath', 'session-affinity', 'negative-control'],
    controls: 'service.session-affinity',
    controlKind: 'live',
    from: 'a probe pod',
    to: `Service ${AFFINITY}, its --rcheck rules removed on the client's node`,
    setupObjects: [twin(AFFINITY, { sessionAffinity: 'ClientIP' })],
    notApplicable: (env) =>
      unlessManaged("changing a node's iptables")(env) ??
      missingWhy(env, AFFINITY) ??
      (env.facts.kubeProxy ? undefined : 'no kube-proxy DaemonSet (the fault removes a kube-proxy rule)') ??
      (env.nginx.length >= 2 ? undefined : 'fewer than 2 Ready nginx pods: one backend cannot show a lost affinity'),
    // lane nginx: its fault touches the nginx pods' paths or their Services' rules; every control that asks nginx is in this lane
    faultLane: 'nginx',
    fault: "the affinity Service's recent-match rules removed on one node (put back after)",
    gather: async ({ env }) => {
      const from = env.probes[0];
      const ip = clusterIPOf(env, AFFINITY)!;
      // 16 requests over 2 backends: all to one by chance 2 in 2^16
      const ask = winAsk(from, 'affinity-off', { host: ip, port: 80, requests: 16, parallel: 4, timeoutS: 2 }, `${AFFINITY} ${ip}:80`, undefined, {
        kind: 'answer',
        requests: 16,
        want: [],
        allowed: env.nginx.map(name),
        single: true,
      });
      const { result, removed, cameBack } = await withoutNatRules(
        nodeAccess(env),
        from.node,
        `recent-match (--rcheck) rule in the KUBE-SVC chain of ${ip} (kube-proxy not in iptables mode?)`,
        (l, all) => {
          const chain = svcChainOf(all, ip, 'tcp');
          return !!chain && l.startsWith(`-A ${chain} `) && l.includes('--rcheck');
        },
        () => runFanout(env.kube, from, [ask.probe]),
        ipFamily(ip),
      );
      return { answer: { ask, out: result.get('affinity-off')! }, removed, cameBack };
    },
    verify: (o) => {
      const { answer, removed, cameBack } = o.gathered as { answer: WindowAnswer; removed: string[]; cameBack: boolean };
      const { from, to = '' } = answer.ask;
      must(!cameBack, {
        check: 'negative-control',
        from: label(from),
        to,
        expected: 'the rules to stay removed during the fault',
        seen: 'they were there again: inconclusive',
      });
      const r = judgeWindow('service.session-affinity', answer);
      return {
        failures: mustFail({ from: label(from), to }, () => r, {
          check: 'service.session-affinity',
          from: label(from),
          to,
          seen: /answered by [2-9] different servers/,
        }),
        removed,
      };
    },
  },
  {
    id: 'service.nodeport.local.negative',
    title: "verdict self-test: the externalTrafficPolicy Local verdict fails on the Cluster-policy twin's answers (the client address is rewritten)",
    layer: 'service',
    tags: ['node-view', 'service', 'nodeport', 'datapath', 'external-traffic-policy', 'negative-control', 'verdict-self-test'],
    controls: 'service.nodeport.local',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: `Service ${NODEPORT} (externalTrafficPolicy Cluster) judged as Local`,
    setupObjects: NODEPORT_TWINS(),
    notApplicable: (env) =>
      refusedWhy(env, NODEPORT) ?? (localPairs(env).some((p) => p.local.length) ? undefined : 'no node view and another node with a local nginx pod'),
    // the NodePort check's own windows (same probe ids: asked once) and the node views' addresses
    probes: (env) => [...nodePortAsks(env, env.nodeViews).map((a) => ({ ...a, expect: { ...a.expect!, clientsOf: true } })), ...env.nodeViews.map(addrsAsk)],
    gather: ({ env }) => nodePortFacts(env),
    verify: (o) => {
      const f = o.gathered as NodePortFacts;
      const pair = localPairs(o.env).find((p) => p.local.length && servesNodePortOn(f.nodePortAddresses, p.n.internalIP));
      if (!pair) throw new NotApplicable(`${npaText(f)}: none of those nodes has a local nginx pod`);
      const answers = o.answers<DpExpect>();
      const a = windowsOf(answers).find((x) => sameSource(x, pair.from) && x.ask.expect!.toNode === pair.n.name);
      must(!!a, { check: 'service.nodeport.local.negative', from: label(pair.from), to: pair.n.name, expected: 'its window asked', seen: 'none' });
      const to = a!.ask.to!;
      // the Cluster twin's answers judged as the Local policy's: only the node's own pods, which see the client node's address
      const r = judgeWithClients('service.nodeport.local', a!, answers, { kind: 'answer', requests: NODEPORT_REQUESTS, want: pair.local });
      // the Cluster policy always rewrites the client address (kube-proxy masquerades nodePort traffic it may send to another node)
      return mustFail({ from: label(pair.from), to }, () => r, {
        check: 'service.nodeport.local',
        from: label(pair.from),
        to,
        seen: /the server saw client \{/,
      });
    },
  },
  {
    id: 'service.internal-traffic-local.negative',
    title: "verdict self-test: the internalTrafficPolicy Local verdict fails on the seed Service's answers (policy Cluster: a pod on another node answers)",
    layer: 'service',
    tags: ['service', 'datapath', 'internal-traffic-policy', 'negative-control', 'verdict-self-test'],
    controls: 'service.internal-traffic-local',
    controlKind: 'verdict-self-test',
    from: 'live cluster',
    to: 'the seed Service (internalTrafficPolicy Cluster) judged as Local',
    notApplicable: (env) =>
      env.probes.some(besideAndApart(env))
        ? undefined
        : 'no probe pod beside an nginx pod while another nginx pod runs on another node (on one node, the Cluster and Local policies answer alike)',
    probes: (env) => {
      const from = env.probes.find(besideAndApart(env))!;
      return [
        winAsk(
          from,
          'itp-seed',
          { host: env.nginxServiceIP, port: 80, requests: 20, gateS: GATE_S },
          `my-nginx ${env.nginxServiceIP}:80 (internalTrafficPolicy Cluster)`,
          undefined,
          { kind: 'answer', requests: 20, want: localNginx(env, from.node) },
        ),
      ];
    },
    verify: (o) => {
      const a = theWindow('service.internal-traffic-local.negative', o.answers());
      const { from, to = '' } = a.ask;
      const r = judgeWindow('service.internal-traffic-local', a);
      const remote = o.env.nginx.map(name).filter((x) => !coverOf(a.ask.expect!.window).includes(x));
      return mustFail({ from: label(from), to }, () => r, {
        check: 'service.internal-traffic-local',
        from: label(from),
        to,
        seen: new RegExp(`answered by \\{${remote.join(', ')}\\}, not allowed$`),
      });
    },
  },
];
export const DATAPATH_CHECKS: CheckDef[] = DATAPATH_DEFS.map(withRequests);

const nodeIP = (env: RunEnv, node: string) => env.nodes.find((n) => n.name === node)?.internalIP ?? env.facts.nodes.find((n) => n.name === node)!.internalIP;
