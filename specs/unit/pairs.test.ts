// Every ordered node pair, DNS from every node, strict headless/SRV (#15 items 2): the catalogue's
// real checks plan their asks on a 5-node run, the real probe scripts run with the host's sh against
// stand-in `wget`, `dig` and `getent` that play a cluster with a fault in one place, and the
// checks' own verdicts judge the (ask, output) pairs. Each fault here passed before: pod → pod was
// asked only for pairs touching the two nginx pods' nodes (worker3 → worker4 never), DNS from one
// node only, and the headless records were asked again through the Service until the count looked
// right (one of two DNS server pods without records passed 37 of 40).
import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { useFakeBin } from './fake-bin.js';
import { CATALOGUE } from '../../src/catalogue/index.js';
import type { Answer, CheckDef, Observations, ProbeAsk } from '../../src/catalogue/types.js';
import type { ProbeOutput } from '../../src/probes/batch.js';
import type { ProbeRef, RunEnv } from '../../src/workload/setup.js';
import { key } from '../../src/workload/fanout.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { failuresOf } from '../../src/catalogue/controls.js';
import { matrixCells } from '../../src/catalogue/dns.js';

/** wget: answers /whoami as "client=$SRC server=<pod>" (or the NAT address), / with nginx's page; BROKEN "src>dst" pairs get no route. */
const FAKE_WGET = `#!/bin/sh
for a; do url=$a; done
hp=\${url#http://}; host=\${hp%%:*}; path=/\${hp#*/}
case " $BROKEN " in *" $SRC>$host "*) echo "wget: can't connect to remote host ($host): No route to host" >&2; exit 1 ;; esac
name=$(printf '%s\\n' $PODS | grep "^$host=" | cut -d= -f2)
[ -n "$name" ] || { echo "wget: download timed out" >&2; exit 1; }
client=$SRC; case " $NAT " in *" $SRC>$host "*) client=172.18.0.9 ;; esac
if [ "$path" = /whoami ]; then echo "client=$client server=$name"; else echo '<title>Welcome to nginx!</title>'; fi
`;
/**
 * dig: the answer for "<asking namespace>|<name>" from $TABLE ("-" = NXDOMAIN); no server at all from
 * $DEAD_NODE; the headless names per server from $HEADLESS ("server|name|records;…|from-ask").
 */
const FAKE_DIG = `#!/bin/sh
server=; type=A; tcp=UDP; name=
for a; do case "$a" in @*) server=\${a#@} ;; +tcp) tcp=TCP ;; +*) ;; A|SRV|PTR) type=$a ;; *) name=$a ;; esac; done
[ -n "$server" ] || server=10.96.0.10
if [ "$SRC_NODE" = "$DEAD_NODE" ]; then echo ';; connection timed out; no servers could be reached'; exit 9; fi
n=$(cat "$COUNT.$server" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$COUNT.$server"
line=$(grep "^$server|$name|" "$HEADLESS" 2>/dev/null | head -1)
if [ -n "$line" ]; then
  recs=$(echo "$line" | cut -d'|' -f3); from=$(echo "$line" | cut -d'|' -f4)
  [ "$n" -ge "\${from:-1}" ] || recs=
  echo ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1'; echo ';; ANSWER SECTION:'
  echo "$recs" | tr ';' '\\n' | while read -r r; do [ -n "$r" ] && echo "$name. 5 IN $type $r"; done
  echo; echo ";; SERVER: $server#53($server) ($tcp)"; exit 0
fi
ans=$(grep "^$SRC_NS|$name=" "$TABLE" | head -1 | cut -d= -f2)
if [ -z "$ans" ] || [ "$ans" = - ]; then echo ';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 1'
else echo ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1'; echo ';; ANSWER SECTION:'; echo "$name. 5 IN A $ans"; fi
echo; echo ";; SERVER: $server#53($server) ($tcp)"
`;
const FAKE_GETENT = `#!/bin/sh
name=$2
# no server answers: glibc retries until the probe's timeout kills it
[ "$SRC_NODE" = "$DEAD_NODE" ] && exit 137
ans=$(grep "^$SRC_NS|$name=" "$TABLE" | head -1 | cut -d= -f2)
if [ -z "$ans" ] || [ "$ans" = - ]; then exit 2; fi
echo "$ans      STREAM $name"; echo "$ans      DGRAM"
`;
const bin = useFakeBin({ wget: FAKE_WGET, dig: FAKE_DIG, getent: FAKE_GETENT });

const NODES = ['cp', 'w1', 'w2', 'w3', 'w4'];
const WNS = 'knc-a';
const ONS = 'knc-b';
const ref = (pod: string, node: string, ip: string, ns = WNS, hostNetwork = false): ProbeRef => ({ namespace: ns, pod, node, ip, hostNetwork });
const nginxPod = (name: string, node: string, ip: string): V1Pod => ({
  metadata: { name, namespace: WNS },
  spec: { nodeName: node, containers: [] },
  status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

/** A run on `nodes` (nginx on the 2nd and 3rd node), with `drop` leaving pods out. */
function makeEnv(nodes = NODES, drop: { targetOn?: string } = {}): RunEnv {
  const i = (n: string) => nodes.indexOf(n);
  const nginxNodes = nodes.length > 2 ? [nodes[1], nodes[2]] : [nodes[0], nodes.at(-1)!];
  return {
    target: { kubeconfig: 'x', managed: undefined, images: {} },
    runId: 'r',
    labels: {},
    workloadNs: WNS,
    otherNs: ONS,
    facts: {
      podSubnets: ['10.244.0.0/16'],
      serviceSubnets: ['10.96.0.0/16'],
      clusterDomain: 'cluster.local',
      sources: { podSubnets: '', serviceSubnets: '', clusterDomain: 'x' },
      dnsServiceIP: '10.96.0.10',
      dnsSelector: 'k8s-app=kube-dns',
      podNameserver: '10.96.0.10',
      kubeProxy: true,
      daemonSets: [],
      version: 'v1.34.4',
      nodes: nodes.map((name, k) => ({ name, internalIP: `172.18.0.${k + 2}`, podCIDRs: [`10.244.${k}.0/24`], controlPlane: k === 0, tainted: k === 0 })),
    },
    probes: nodes.map((n) => ref(`probe-${n}`, n, `10.244.${i(n)}.10`)),
    otherProbe: ref(`probe-${nodes.at(-1)}`, nodes.at(-1)!, '10.244.99.10', ONS),
    nodeViews: nodes.map((n) => ref(`node-view-${n}`, n, `172.18.0.${i(n) + 2}`, WNS, true)),
    targets: nodes.filter((n) => n !== drop.targetOn).map((n) => ref(`target-${n}`, n, `10.244.${i(n)}.20`)),
    nginx: nginxNodes.map((n, k) => nginxPod(`my-nginx-${k}`, n, `10.244.${i(n)}.${30 + k}`)),
    nodes: [] as RunEnv['nodes'],
    podIPs: [],
    dnsPods: [
      { pod: 'coredns-a', ip: '10.244.0.2', node: nodes[0] },
      { pod: 'coredns-b', ip: '10.244.0.3', node: nodes[0] },
    ],
    nginxServiceIP: '10.96.0.50',
  } as unknown as RunEnv;
}
const withNodes = (e: RunEnv) => Object.assign(e, { nodes: e.facts.nodes });

const check = (id: string): CheckDef => CATALOGUE.find((c) => c.id === id)!;

/** Runs the check's planned probes with the stand-ins (each as if inside its source pod), then its verdict. */
function runCheck(id: string, env: RunEnv, fake: Record<string, string> = {}): { asks: ProbeAsk[]; verdict: () => unknown } {
  const c = check(id);
  const asks = c.probes!(env);
  const dir = bin.dir();
  const table = path.join(dir, `table-${Math.random()}`);
  writeFileSync(
    table,
    matrixCells(env)
      .map((cell) => `${cell.fromNamespace}|${cell.name}=${cell.expect === 'NXDOMAIN' ? '-' : cell.expect.answer}`)
      .join('\n') + '\n',
  );
  const count = path.join(dir, `count-${Math.random()}`);
  const pods = [...env.targets, ...env.nginx.map((p) => ({ pod: p.metadata!.name!, ip: p.status!.podIP! }))].map((p) => `${p.ip}=${p.pod}`).join(' ');
  const outs = new Map<string, ProbeOutput>();
  for (const a of asks) {
    const r = spawnSync(a.probe.argv[0], a.probe.argv.slice(1), {
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        SRC: a.from.ip,
        SRC_NODE: a.from.node,
        SRC_NS: a.from.namespace,
        PODS: pods,
        TABLE: table,
        COUNT: count,
        BROKEN: '',
        NAT: '',
        DEAD_NODE: '',
        HEADLESS: '',
        ...fake,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    outs.set(`${key(a.from)}/${a.probe.id}`, {
      id: a.probe.id,
      exitCode: r.status ?? 137,
      output: `${r.stdout}${r.stderr}`,
      durationMs: 1,
      command: a.probe.argv.join(' '),
    });
  }
  const out = (from: ProbeRef, pid: string) => {
    const o = outs.get(`${key(from)}/${pid}`);
    if (!o) throw new CheckFailure({ check: 'not-run', from: from.pod, to: pid, expected: 'the probe to run', seen: 'not run' });
    return o;
  };
  const o: Observations = {
    env,
    phase: c.phase ?? 'steady',
    phaseData: {},
    out,
    answers: <E>() => asks.map((ask) => ({ ask, out: out(ask.from, ask.probe.id) }) as Answer<E>),
    gathered: undefined,
  };
  return { asks, verdict: () => c.verify(o) };
}
const fails = (run: () => unknown) => failuresOf(run).map((f) => f.ctx);

describe('pod → pod: every ordered node pair, same-node included', () => {
  const env = withNodes(makeEnv());
  it('pod-ip.cross-node asks all 20 ordered pairs of 5 nodes (worker3 → worker4 too) and passes on a healthy cluster', () => {
    const r = runCheck('pod-ip.cross-node', env);
    const pairs = new Set(r.asks.map((a) => `${a.from.node}>${(a as ProbeAsk<{ target: { node: string } }>).expect!.target.node}`));
    expect(pairs.size).toBe(20);
    expect(pairs.has('w3>w4') && pairs.has('w4>w3') && pairs.has('cp>w4')).toBe(true);
    expect(r.verdict()).toMatchObject({ nodePairs: expect.arrayContaining(['w3 -> w4', 'w4 -> w3']) });
  });
  it('a route fault between worker3 and worker4 fails pod-ip.cross-node naming that pair, and only it', () => {
    const f = fails(runCheck('pod-ip.cross-node', env, { BROKEN: '10.244.3.10>10.244.4.20' }).verdict);
    expect(f).toEqual([
      expect.objectContaining({
        check: 'pod-ip.cross-node',
        from: 'pod knc-a/probe-w3 on w3',
        to: 'target-w4 10.244.4.20:80 on w4',
        expected: 'an answer from pod target-w4',
        seen: expect.stringMatching(/^fail \(exit 1 .*No route to host/),
      }),
    ]);
  });
  it('pod-ip.same-node asks a second pod on EVERY node (the control plane and nodes without nginx too)', () => {
    const r = runCheck('pod-ip.same-node', env);
    expect(new Set(r.asks.map((a) => a.from.node))).toEqual(new Set(NODES));
    expect(r.asks.every((a) => a.to!.endsWith(`on ${a.from.node}`))).toBe(true);
    const f = fails(runCheck('pod-ip.same-node', env, { BROKEN: '10.244.0.10>10.244.0.20' }).verdict);
    expect(f).toEqual([expect.objectContaining({ from: 'pod knc-a/probe-cp on cp', to: 'target-cp 10.244.0.20:80 on cp' })]);
  });
  it('no NAT across every ordered pair: a node masquerading towards worker3 fails pod-ip.no-nat-cross-node with the address the server saw', () => {
    const f = fails(runCheck('pod-ip.no-nat-cross-node', env, { NAT: '10.244.4.10>10.244.3.20' }).verdict);
    expect(f).toEqual([
      expect.objectContaining({
        from: 'pod knc-a/probe-w4 on w4',
        to: 'target-w3 10.244.3.20:80 on w3',
        expected: 'the server to see client address 10.244.4.10',
        seen: 'client=172.18.0.9 server=target-w3',
      }),
    ]);
  });
  it('node views ask every target: node w4 → the target on w3 failing fails pod-ip.from-node', () => {
    const r = runCheck('pod-ip.from-node', env, { BROKEN: '172.18.0.6>10.244.3.20' });
    expect(r.asks.filter((a) => a.from.hostNetwork).length).toBe(5 * (5 + 2 * 2)); // every node × (5 targets + 2 nginx × page, whoami)
    expect(fails(r.verdict)).toEqual([expect.objectContaining({ from: 'node knc-a/node-view-w4 on w4', to: 'target-w3 10.244.3.20:80 on w3' })]);
  });
  it('a node without its target pod is a gap that fails, never a pass', () => {
    const f = fails(runCheck('pod-ip.cross-node', withNodes(makeEnv(NODES, { targetOn: 'w4' }))).verdict);
    expect(f[0]).toMatchObject({
      check: 'pod-ip.cross-node',
      to: 'node pairs',
      seen: expect.stringMatching(/^16; never asked: cp -> w4, w1 -> w4, w2 -> w4, w3 -> w4$/),
    });
  });
  it('one node: same-node pairs are asked; cross-node has no pair (the engine reports it not applicable)', () => {
    const one = withNodes(makeEnv(['solo']));
    expect(runCheck('pod-ip.same-node', one).verdict()).toMatchObject({ nodePairs: ['solo -> solo'] });
    expect(fails(runCheck('pod-ip.cross-node', one).verdict)[0]).toMatchObject({ seen: 'none: the cluster has a single node' });
  });
});

describe('DNS from a pod on every node', () => {
  const env = withNodes(makeEnv());
  it('the matrix over UDP, TCP and libc is asked from every node; healthy passes', () => {
    for (const id of ['dns.matrix-udp', 'dns.matrix-tcp', 'dns.matrix-libc']) {
      const r = runCheck(id, env);
      expect(new Set(r.asks.filter((a) => a.from.namespace === WNS).map((a) => a.from.node))).toEqual(new Set(NODES));
      // the requests the verdict judged: one lookup per ask
      expect(r.verdict()).toMatchObject({ nodes: NODES, requests: r.asks.length });
    }
  });
  it('a node whose DNS never reaches a server fails each transport, every failure naming that node', () => {
    const want: Record<string, RegExp> = {
      'dns.matrix-udp': /^pod knc-a\/probe-w3 on w3 \(dig udp\)$/,
      'dns.matrix-tcp': /^pod knc-a\/probe-w3 on w3 \(dig tcp\)$/,
      'dns.matrix-libc': /^pod knc-a\/probe-w3 on w3 \(getent\/libc\)$/,
    };
    for (const [id, from] of Object.entries(want)) {
      const f = fails(runCheck(id, env, { DEAD_NODE: 'w3' }).verdict);
      expect(f.length).toBe(8); // the workload namespace's 8 cells, from w3 only
      for (const x of f) expect(x).toMatchObject({ check: id, from: expect.stringMatching(from) });
    }
  });
});

describe('headless A and SRV: wait per DNS server pod, then every answer of the hold counts', () => {
  const env = withNodes(makeEnv());
  const name = `my-nginx-headless.${WNS}.svc.cluster.local`;
  const ips = '10.244.1.30;10.244.2.31';
  const table = (lines: string[]) => {
    const f = path.join(bin.dir(), `headless-${Math.random()}`);
    writeFileSync(f, lines.join('\n') + '\n');
    return f;
  };
  it('every server serving both records passes, with the asks each server took', () => {
    const h = table([`10.244.0.2|${name}|${ips}|1`, `10.244.0.3|${name}|${ips}|3`, `10.96.0.10|${name}|${ips}|1`]);
    const ev = runCheck('dns.headless', env, { HEADLESS: h }).verdict() as Array<{ waited: Array<{ server: string; asks: number }>; hold: string }>;
    expect(ev[0].waited).toEqual([expect.objectContaining({ server: '10.244.0.2', asks: 1 }), expect.objectContaining({ server: '10.244.0.3', asks: 3 })]);
    expect(ev[0].hold).toBe('9 of 9 answers right');
  });
  it('one of two DNS server pods with no records fails, naming it (it passed 37 of 40 when the Service was asked again until the count looked right)', () => {
    const h = table([`10.244.0.2|${name}|${ips}|1`, `10.244.0.3|${name}||1`, `10.96.0.10|${name}|${ips}|1`]);
    const f = fails(runCheck('dns.headless', env, { HEADLESS: h }).verdict);
    expect(f[0]).toMatchObject({ check: 'dns.headless', to: `${name} @10.244.0.3`, seen: expect.stringMatching(/^NOERROR with 0 A \[\] after \d+ asks/) });
  }, 20_000);
  it('a wrong answer in the hold, after every server converged, fails with the count', () => {
    // the Service answers one record on its first ask (the hold's first round), both later
    const h = table([`10.244.0.2|${name}|${ips}|1`, `10.244.0.3|${name}|${ips}|1`, `10.96.0.10|${name}|10.244.1.30|1`]);
    const f = fails(runCheck('dns.headless', env, { HEADLESS: h }).verdict);
    expect(f).toEqual([
      expect.objectContaining({
        expected: expect.stringMatching(/^every one of the 9 answers of the hold/),
        seen: expect.stringMatching(/^6 of 9 right; wrong: @10\.96\.0\.10 round 1: NOERROR with 1 A/),
      }),
    ]);
  });
  it('SRV: the same strictness', () => {
    const srv = `_http._tcp.${name}`;
    const recs = `0 50 80 a.my-nginx-headless.${WNS}.svc.cluster.local.;0 50 80 b.my-nginx-headless.${WNS}.svc.cluster.local.`;
    const svc = `_http._tcp.my-nginx.${WNS}.svc.cluster.local`;
    const ok = table([
      `10.244.0.2|${srv}|${recs}|1`,
      `10.244.0.3|${srv}|${recs}|1`,
      `10.96.0.10|${srv}|${recs}|1`,
      `10.96.0.10|${svc}|0 100 80 my-nginx.${WNS}.svc.cluster.local.|1`,
    ]);
    expect(runCheck('dns.srv', env, { HEADLESS: ok }).verdict()).toMatchObject({ headless: { hold: '9 of 9 answers right' } });
    const bad = table([
      `10.244.0.2|${srv}|${recs}|1`,
      `10.244.0.3|${srv}||1`,
      `10.96.0.10|${srv}|${recs}|1`,
      `10.96.0.10|${svc}|0 100 80 my-nginx.${WNS}.svc.cluster.local.|1`,
    ]);
    expect(fails(runCheck('dns.srv', env, { HEADLESS: bad }).verdict)[0]).toMatchObject({ check: 'dns.srv', to: `${srv} @10.244.0.3` });
  }, 20_000);
});
