// The disruption layer (opt-in: `--only disruption`): long-lived TCP connections pod -> pod on
// another node and pod -> ClusterIP keep carrying data while the CNI's DaemonSet pods are deleted
// and come back, then kube-proxy's; new connections work again within a bound after each. Only on
// the kind cluster kube-netcheck manages (it created those DaemonSets; on a user's cluster we
// delete nothing we did not create). Its negative control cuts one connection for real (a REJECT
// with a TCP reset of that flow on the client's node) and the same verdict must fail naming it.
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import {
  STREAM_PORT,
  newConnProbe,
  parseNewConn,
  parseStreamLog,
  readStreamsArgv,
  startStreamsArgv,
  stopStreamsArgv,
  splitStreamLogs,
  type StreamConn,
} from '../probes/stream.js';
import { streamReport, verifyNewConn, verifyStream } from '../verdicts/stream.js';
import { CheckFailure, throwAll } from '../verdicts/failure.js';
import { IMAGE_ANNOTATION, type ProbeRef, type RunEnv } from '../workload/setup.js';
import { hostPort, isIPv6 } from '../util/cidr.js';
import type { Obj } from '../workload/manifests.js';
import { label, runFanout } from '../workload/fanout.js';
import { execInPod } from '../kube/exec.js';
import { isReady, listPods, podSummary } from '../workload/pods.js';
import { pollUntil } from '../util/poll.js';
import { mustFail } from './controls.js';
import { nodeAccess, unlessManaged } from './common.js';
import type { CheckDef, PhaseDef } from './types.js';

/** The longest a connection may go without an echo, seconds (a line is written every 0.2 s). */
export const MAX_STALL_S = 5;
/** A new connection must carry a line there and back within this many seconds of the restarted pods being Ready. */
export const NEW_CONN_S = 15;
/** How long the restarted pods may take to be Ready again, seconds. */
const RESTART_READY_S = 90;
/** The built-in CNIs' DaemonSets carry app.kubernetes.io/part-of with this value (manifests/cni/*.yaml). */
const CNI_PART_OF = 'kube-netcheck-cni';

const STREAM = 'knc-stream';
/**
 * A line echo server in Perl (the nginx image, Debian: perl-base): each line comes back as "<pod> <line>"; a child per
 * connection. One socket for both families (IO::Socket::IP on "::", V6Only 0: IPv4 clients arrive as IPv4-mapped), so
 * the pods of an IPv6-only or dual-stack cluster reach it too; IPv4 only where the pod cannot open an IPv6 socket.
 */
export const ECHO = `$SIG{CHLD} = "IGNORE"; my %o = (LocalPort => ${STREAM_PORT}, Listen => 64, ReuseAddr => 1); $l = IO::Socket::IP->new(%o, LocalHost => "::", V6Only => 0) || IO::Socket::IP->new(%o, LocalHost => "0.0.0.0") or die "listen: $!"; while (1) { $c = $l->accept or next; if (!fork) { close $l; $c->autoflush(1); while (defined($x = <$c>)) { print $c "$ENV{HOSTNAME} $x" } exit 0 } close $c }`;
/** Its listening socket in /proc/net/tcp or /proc/net/tcp6 (the wildcard address of either family, state 0A: LISTEN). */
export const LISTEN_ERE = `:${STREAM_PORT.toString(16).toUpperCase().padStart(4, '0')} 0+:0000 0A`;

const streamObjects: Obj[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: STREAM, annotations: { [IMAGE_ANNOTATION]: 'nginx' } },
    spec: {
      selector: { matchLabels: { app: STREAM } },
      template: {
        metadata: { labels: { app: STREAM } },
        spec: {
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'echo',
              image: 'nginx',
              command: ['perl', '-MIO::Socket::IP', '-e', ECHO],
              ports: [{ name: 'stream', containerPort: STREAM_PORT, protocol: 'TCP' }],
              readinessProbe: { exec: { command: ['sh', '-c', `grep -qsE '${LISTEN_ERE}' /proc/net/tcp /proc/net/tcp6`] }, periodSeconds: 1 },
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
    metadata: { name: STREAM },
    spec: { selector: { app: STREAM }, ports: [{ name: 'stream', port: STREAM_PORT, targetPort: 'stream' }] },
  },
];

const name = (p: V1Pod) => p.metadata!.name!;
const nodeOf = (p: V1Pod) => p.spec!.nodeName!;
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
const now = () => Date.now() / 1000;

/** The stream pods by node, once one is Ready on every probed node (bounded: setup created them). */
async function streamPods(env: RunEnv): Promise<Record<string, V1Pod>> {
  const want = env.nodes.map((n) => n.name);
  const pods = await pollUntil({
    what: `a Ready ${STREAM} pod on each of ${want.join(', ')}`,
    timeoutMs: 60_000,
    intervalMs: 250,
    probe: () => listPods(env.kube, env.workloadNs, `app=${STREAM}`),
    done: (ps) => want.every((n) => ps.some((p) => nodeOf(p) === n && isReady(p))),
    describe: (ps) => ps.map(podSummary).join('; ') || 'no pods',
  });
  return Object.fromEntries(pods.filter(isReady).map((p) => [nodeOf(p), p]));
}

const clusterIP = (env: RunEnv) => {
  const svc = env.objects.find((o) => o.kind === 'Service' && o.metadata?.name === STREAM) as { spec?: { clusterIP?: string } } | undefined;
  if (!svc?.spec?.clusterIP) throw new Error(`Service ${STREAM} has no ClusterIP in the run's objects`);
  return svc.spec.clusterIP;
};

interface Planned extends StreamConn {
  from: ProbeRef;
  to: string;
}

/** Each probe pod: one connection to the stream pod on the next node (pod -> pod, cross-node), one to the ClusterIP. */
function plan(env: RunEnv, pods: Record<string, V1Pod>): Planned[] {
  const ip = clusterIP(env);
  return env.probes.flatMap((from, i) => {
    const other = env.nodes.length > 1 ? env.nodes[(env.nodes.findIndex((n) => n.name === from.node) + 1) % env.nodes.length] : undefined;
    const peer = other ? pods[other.name] : undefined;
    return [
      ...(peer && nodeOf(peer) !== from.node
        ? [
            {
              id: `pod-${i}-${safe(from.node)}`,
              host: peer.status!.podIP!,
              port: STREAM_PORT,
              from,
              to: `pod ${name(peer)} ${hostPort(peer.status!.podIP!, STREAM_PORT)} on ${nodeOf(peer)}`,
            },
          ]
        : []),
      { id: `svc-${i}-${safe(from.node)}`, host: ip, port: STREAM_PORT, from, to: `Service ${STREAM} ${hostPort(ip, STREAM_PORT)}` },
    ];
  });
}

const byPod = (conns: Planned[]) => {
  const m = new Map<string, Planned[]>();
  for (const c of conns) m.set(c.from.pod, [...(m.get(c.from.pod) ?? []), c]);
  return [...m.values()];
};

async function execIn(env: RunEnv, from: ProbeRef, command: string[], timeoutMs = 20_000) {
  env.kube.tally.execs++;
  const r = await execInPod({ kc: env.kube.kc, namespace: from.namespace, pod: from.pod, command, timeoutMs });
  if (r.exitCode !== 0) throw new Error(`${label(from)}: \`${command.slice(0, 2).join(' ')} …\` exited ${r.exitCode}: ${(r.stderr || r.stdout).slice(0, 200)}`);
  return r.stdout;
}

/** Reads every connection's log (one exec per probe pod): the parsed logs, and the pod clock when read. */
async function readLogs(env: RunEnv, conns: Planned[]) {
  const logs: Record<string, ReturnType<typeof parseStreamLog>> = {};
  const texts: Record<string, string> = {};
  let clock = now();
  await Promise.all(
    byPod(conns).map(async (cs) => {
      const out = splitStreamLogs(await execIn(env, cs[0].from, readStreamsArgv(cs.map((c) => c.id))));
      for (const c of cs) {
        texts[c.id] = out.logs[c.id] ?? '';
        logs[c.id] = parseStreamLog(texts[c.id]);
      }
      if (out.now) clock = Math.max(clock, out.now);
    }),
  );
  return { logs, clock, texts };
}

/** Starts the clients and waits (bounded) until every connection has carried 3 lines there and back. */
async function openStreams(env: RunEnv, conns: Planned[], maxS: number) {
  await Promise.all(byPod(conns).map((cs) => execIn(env, cs[0].from, startStreamsArgv(cs, maxS))));
  return pollUntil({
    what: `every connection (${conns.map((c) => c.id).join(', ')}) carrying 3 lines there and back`,
    timeoutMs: 20_000,
    intervalMs: 300,
    probe: () => readLogs(env, conns),
    done: ({ logs }) => conns.every((c) => (logs[c.id]?.received.length ?? 0) >= 3 || logs[c.id]?.end !== undefined),
    describe: ({ logs }) => conns.map((c) => `${c.id}: ${logs[c.id]?.received.length ?? 0} echoes${logs[c.id]?.end ? `, ${logs[c.id].end}` : ''}`).join('; '),
  });
}

/** Asks every client to close, waits (bounded) until each has closed or was cut, returns the logs. */
async function closeStreams(env: RunEnv, conns: Planned[]) {
  await Promise.all(byPod(conns).map((cs) => execIn(env, cs[0].from, stopStreamsArgv(cs.map((c) => c.id)))));
  return pollUntil({
    what: 'every connection closed (the echo of its "bye" back) or cut',
    timeoutMs: 15_000,
    intervalMs: 300,
    probe: () => readLogs(env, conns),
    done: ({ logs }) => conns.every((c) => logs[c.id]?.end !== undefined),
    describe: ({ logs }) => conns.map((c) => `${c.id}: ${logs[c.id]?.end ?? 'still open'}`).join('; '),
  }).catch(() => readLogs(env, conns)); // one still open is the verdict's to judge
}

interface Restart {
  what: string;
  namespace: string;
  daemonSet: string;
  pods: string[];
  deletedAt: number;
  readyAt: number;
  newPods: string[];
  newConns: Array<{ from: string; to: string; res: ReturnType<typeof parseNewConn> }>;
}

/**
 * The DaemonSets to restart: the CNI's — in kube-system, hostNetwork, not kube-proxy (the managed
 * cluster's CNI, which kube-netcheck installed: manifests/cni/*.yaml or the node image's default;
 * the built-in ones are also labelled app.kubernetes.io/part-of=kube-netcheck-cni) — then kube-proxy.
 */
async function restartTargets(env: RunEnv): Promise<Array<{ what: string; ds: V1DaemonSet }>> {
  const all = (await env.kube.apps.listNamespacedDaemonSet({ namespace: 'kube-system' })).items;
  const cni = all.filter(
    (ds) => ds.metadata!.name !== 'kube-proxy' && (ds.spec?.template.spec?.hostNetwork || ds.metadata?.labels?.['app.kubernetes.io/part-of'] === CNI_PART_OF),
  );
  const proxy = all.filter((ds) => ds.metadata!.name === 'kube-proxy');
  return [...cni.map((ds) => ({ what: `the CNI's DaemonSet ${ds.metadata!.name}`, ds })), ...proxy.map((ds) => ({ what: 'kube-proxy', ds }))];
}

const selectorOf = (ds: V1DaemonSet) =>
  Object.entries(ds.spec!.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Deletes a DaemonSet's pods and waits (bounded) until as many new ones are Ready, none of the old ones left. */
async function restart(env: RunEnv, what: string, ds: V1DaemonSet, conns: Planned[]): Promise<Restart> {
  const ns = ds.metadata!.namespace!;
  const sel = selectorOf(ds);
  const old = await listPods(env.kube, ns, sel);
  if (!old.length) throw new Error(`${what}: no pods to restart (selector ${sel} in ${ns})`);
  const oldNames = new Set(old.map(name));
  const deletedAt = now();
  await Promise.all(old.map((p) => env.kube.core.deleteNamespacedPod({ name: name(p), namespace: ns })));
  const back = await pollUntil({
    what: `${what}: ${old.length} new pods Ready (the deleted ${[...oldNames].join(', ')} gone)`,
    timeoutMs: RESTART_READY_S * 1000,
    intervalMs: 500,
    probe: () => listPods(env.kube, ns, sel),
    done: (ps) => ps.every((p) => !oldNames.has(name(p))) && ps.filter(isReady).length >= old.length,
    describe: (ps) => ps.map(podSummary).join('; ') || 'no pods',
  });
  const readyAt = now();
  // a new connection from every probe pod to each of its targets, right away (each bounded)
  const newConns = (
    await Promise.all(
      byPod(conns).map(async (cs) => {
        const probes = cs.map((c) => newConnProbe(`new-${c.id}`, c.host, c.port, NEW_CONN_S));
        const outs = await runFanout(env.kube, cs[0].from, probes, (NEW_CONN_S + 15) * 1000);
        return cs.map((c) => ({ from: label(c.from), to: c.to, res: parseNewConn(outs.get(`new-${c.id}`)?.output ?? '') }));
      }),
    )
  ).flat();
  return { what, namespace: ns, daemonSet: ds.metadata!.name!, pods: [...oldNames], deletedAt, readyAt, newPods: back.filter(isReady).map(name), newConns };
}

interface Gathered {
  conns: Planned[];
  logs: Record<string, ReturnType<typeof parseStreamLog>>;
  /** Each client's log as it printed it (the report keeps them: the evidence behind every figure). */
  texts: Record<string, string>;
  clock: number;
  restarts: Restart[];
  error?: string;
}

const CHECK = 'disruption.restarts';

function judge(g: Gathered, check = CHECK) {
  const last = g.restarts[g.restarts.length - 1];
  const reports = g.conns.map((c) => streamReport(c.id, label(c.from), c.to, g.logs[c.id] ?? parseStreamLog(''), g.clock));
  const verdicts = g.conns.map((c, i) =>
    verifyStream(check, reports[i], g.logs[c.id] ?? parseStreamLog(''), {
      maxStallS: MAX_STALL_S,
      dataAfter: last?.readyAt ?? 0,
      after: last ? `${last.what}'s pods were Ready again` : 'it opened',
    }),
  );
  const fresh = g.restarts.flatMap((r) =>
    r.newConns.map((n) => verifyNewConn(check, n.from, n.to, n.res, r.readyAt, NEW_CONN_S, `${r.what}'s pods were Ready`)),
  );
  return { reports, verdicts, fresh };
}

export const DISRUPTION_CHECKS: CheckDef[] = [
  {
    id: CHECK,
    title: `connections survive restarts: long-lived TCP connections pod -> pod (cross-node) and pod -> ClusterIP keep carrying data (no reset, no stall over ${MAX_STALL_S} s) while the CNI's and kube-proxy's DaemonSet pods are deleted and come back; new connections work within ${NEW_CONN_S} s of each`,
    layer: 'service',
    tags: ['service', 'disruption'],
    optIn: true,
    phase: 'disruption',
    from: 'every probe pod',
    to: `a ${STREAM} pod on another node and Service ${STREAM}`,
    setupObjects: streamObjects,
    fault: "the CNI's and kube-proxy's DaemonSet pods deleted (they come back)",
    notApplicable: unlessManaged("deleting the CNI's and kube-proxy's pods"),
    gather: async ({ env }): Promise<Gathered> => {
      const targets = await restartTargets(env);
      if (!targets.length) throw new Error('no DaemonSet to restart in kube-system: no hostNetwork CNI DaemonSet and no kube-proxy');
      const conns = plan(env, await streamPods(env));
      await openStreams(env, conns, 240);
      const restarts: Restart[] = [];
      for (const t of targets) restarts.push(await restart(env, t.what, t.ds, conns));
      // every connection must go on carrying data after the last restart: wait (bounded) for 2 more echoes each
      const after = restarts[restarts.length - 1].readyAt;
      await pollUntil({
        what: `2 echoes on every connection after ${restarts[restarts.length - 1].what}'s pods were Ready`,
        timeoutMs: (MAX_STALL_S + 2) * 1000,
        intervalMs: 300,
        probe: () => readLogs(env, conns),
        done: ({ logs }) => conns.every((c) => logs[c.id].received.filter((t) => t > after).length >= 2 || logs[c.id].end !== undefined),
      }).catch(() => undefined); // the verdict says which did not
      const { logs, clock, texts } = await closeStreams(env, conns);
      return { conns, logs, clock, texts, restarts };
    },
    verify: (o) => {
      const g = o.gathered as Gathered;
      const { reports, verdicts, fresh } = judge(g);
      throwAll([...verdicts, ...fresh].filter((v): v is CheckFailure => v instanceof CheckFailure));
      return {
        bounds: { maxStallS: MAX_STALL_S, newConnectionS: NEW_CONN_S },
        restarts: g.restarts.map(
          (r) =>
            `${r.what} (${r.namespace}/${r.daemonSet}): ${r.pods.length} pods deleted, ${r.newPods.length} new ones Ready after ${Math.round((r.readyAt - r.deletedAt) * 10) / 10} s`,
        ),
        connections: reports.map(
          (r) =>
            `${r.from} -> ${r.to} [${r.connection}]: ${r.bytesOut} B out, ${r.bytesIn} B back (${r.lines} echoes from ${r.servers.join(', ')}), longest stall ${r.longestStallS} s, reset no`,
        ),
        newConnections: fresh,
      };
    },
    facts: (o) => {
      const g = o.gathered as Gathered | undefined;
      if (!g?.conns) return undefined;
      return {
        disruption: {
          bounds: { maxStallS: MAX_STALL_S, newConnectionS: NEW_CONN_S },
          restarts: g.restarts.map((r) => ({
            what: r.what,
            daemonSet: `${r.namespace}/${r.daemonSet}`,
            pods: r.pods.length,
            readyAfterS: Math.round((r.readyAt - r.deletedAt) * 10) / 10,
          })),
          connections: judge(g).reports,
          logs: g.texts,
        },
      };
    },
  },
  {
    id: 'disruption.cut.negative',
    title: "negative control: a connection really cut (its flow rejected with a TCP reset on the client's node) fails the connection verdict, naming it",
    layer: 'service',
    tags: ['service', 'disruption', 'negative-control'],
    optIn: true,
    controls: CHECK,
    controlKind: 'live',
    phase: 'disruption',
    from: 'the other namespace probe pod',
    to: `a ${STREAM} pod on another node`,
    setupObjects: streamObjects,
    fault: "one connection's flow rejected with a TCP reset on its client's node",
    notApplicable: (env) => unlessManaged('a REJECT rule on a node')(env) ?? (env.nodes.length > 1 ? undefined : 'a single node: no other node to connect to'),
    gather: async ({ env }) => {
      const pods = await streamPods(env);
      const from = env.otherProbe;
      const peer = Object.values(pods).find((p) => nodeOf(p) !== from.node)!;
      const conn: Planned = {
        id: 'cut',
        host: peer.status!.podIP!,
        port: STREAM_PORT,
        from,
        to: `pod ${name(peer)} ${hostPort(peer.status!.podIP!, STREAM_PORT)} on ${nodeOf(peer)}`,
      };
      await openStreams(env, [conn], 60);
      const rule = `FORWARD -s ${from.ip} -d ${conn.host} -p tcp --dport ${STREAM_PORT} -j REJECT --reject-with tcp-reset`;
      const sh = (cmd: string) => nodeAccess(env).exec(from.node, ['sh', '-c', cmd]);
      const ipt = isIPv6(conn.host) ? 'ip6tables' : 'iptables';
      await sh(`${ipt} -I ${rule.replace('FORWARD', 'FORWARD 1')}`);
      const cutAt = now();
      try {
        await pollUntil({
          what: `connection ${conn.id} cut by the REJECT on ${from.node}`,
          timeoutMs: 10_000,
          intervalMs: 300,
          probe: () => readLogs(env, [conn]),
          done: ({ logs }) => logs[conn.id].end !== undefined,
        }).catch(() => undefined); // a connection that survived is the control's failure to judge
      } finally {
        await sh(`while ${ipt} -C ${rule} 2>/dev/null; do ${ipt} -D ${rule}; done`);
      }
      const { logs, clock, texts } = await closeStreams(env, [conn]);
      return { conns: [conn], logs, clock, texts, restarts: [], cutAt } satisfies Gathered & { cutAt: number };
    },
    verify: (o) => {
      const g = o.gathered as Gathered;
      const c = g.conns[0];
      const { verdicts } = judge(g);
      const failures = mustFail({ from: label(c.from), to: c.to }, () => verdicts[0], {
        check: CHECK,
        from: label(c.from),
        to: `connection cut to ${c.to}`,
        seen: /^cut: |^a stall of /,
      });
      return { failures, log: g.texts[c.id] };
    },
  },
];

export const DISRUPTION_PHASES: PhaseDef[] = [{ name: 'disruption', title: "the CNI's and kube-proxy's pods deleted and back, connections open" }];
