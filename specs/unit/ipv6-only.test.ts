// IPv6-only clusters (#19 item 1): the verdicts and commands that assumed IPv4, on outputs captured
// on the IPv6-only kind cluster knc-v6 (flannel host-gw, 3 nodes, pod range fd00:10:244::/56, service
// range fd00:10:96::/112; specs/unit/fixtures/README.md, session 6). Each verdict passes on the
// healthy IPv6 answer and fails, on its structured fields, on the answer the IPv4 assumption got.
import { execFileSync } from 'node:child_process';
import { describe, it, expect } from '@jest/globals';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { CATALOGUE } from '../../src/catalogue/index.js';
import type { Observations } from '../../src/catalogue/types.js';
import { serveProbe, withoutNatRules } from '../../src/catalogue/datapath.js';
import { addressType, buildMatrix, cellType, verifyDig, verifyGetent } from '../../src/verdicts/dns-matrix.js';
import { digProbe, getentProbe, parseDig, parseGetent, suffixProbe } from '../../src/probes/dns.js';
import { podMtuExpected, verifyPodMtu } from '../../src/verdicts/mtu.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { verifyServedBy } from '../../src/verdicts/http.js';
import type { NodeAccess } from '../../src/cluster/connection.js';
import { asProbeOutput, captured, fixtureText } from './fixture-files.js';

const DNS_IP = 'fd00:10:96::a';
const json = <T>(f: string) => JSON.parse(fixtureText(f)) as T;

describe('coredns.service on an IPv6-only cluster (kube-dns SingleStack IPv6, captured)', () => {
  const def = CATALOGUE.find((c) => c.id === 'coredns.service')!;
  const svc = json<V1Service>('svc-kube-dns-v6only.json');
  const eps = json<V1Endpoints>('endpoints-kube-dns-v6only.json');
  const pods = json<{ items: V1Pod[] }>('pods-coredns-v6only.json').items;
  const env = { facts: { dnsSelector: 'k8s-app=kube-dns', dnsService: { namespace: 'kube-system', name: 'kube-dns', how: 'test' } } };
  const verify = (s: V1Service) => def.verify({ gathered: { svc: s, eps, pods }, env } as unknown as Observations);
  it('an IPv6 ClusterIP is a ClusterIP (it failed "expected a ClusterIP, saw fd00:10:96::a")', () => {
    expect(verify(svc)).toMatchObject({ clusterIP: DNS_IP, endpoints: ['fd00:10:244:2::2:53', 'fd00:10:244:2::3:53'] });
  });
  it('no ClusterIP (headless) still fails, naming what was seen', () => {
    let err: unknown;
    try {
      verify({ ...svc, spec: { ...svc.spec, clusterIP: 'None' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckFailure);
    expect((err as CheckFailure).ctx).toMatchObject({ check: 'coredns.service', expected: 'a ClusterIP', seen: 'None' });
  });
});

describe('the DNS name-form matrix asks a Service in its family: AAAA and getent ahostsv6 for an IPv6 ClusterIP', () => {
  const [cell] = buildMatrix([{ service: 'kube-dns', namespace: 'kube-system', clusterIP: DNS_IP }], ['kube-system'], 'cluster.local').filter(
    (c) => c.form === 'svc.ns',
  );
  it('the record type follows the ClusterIP (A for IPv4, AAAA for IPv6)', () => {
    expect([addressType('10.96.0.10'), addressType(DNS_IP), addressType('::ffff:10.96.0.10'), cellType(cell)]).toEqual(['A', 'AAAA', 'A', 'AAAA']);
  });
  it('builds exactly the captured commands', () => {
    expect(digProbe('x', cell.name, { search: true, transport: 'udp', type: cellType(cell) }).argv).toEqual(captured('dig-v6only-aaaa-kube-dns-search').argv);
    expect(getentProbe('x', `${cell.name}.svc.cluster.local`, 6, 'IPv6').argv).toEqual(captured('getent-v6only-ahostsv6-kube-dns').argv);
    expect(getentProbe('x', 'n', 6).argv.join(' ')).toMatch(/getent ahostsv4 /);
    expect(suffixProbe('s', 'kube-dns', ['x.svc.cluster.local'], 'udp', 'AAAA').argv.join(' ')).toMatch(/'\$n' 'AAAA'|"\$n" 'AAAA'/);
  });
  it('dig: the AAAA answer passes; the A question (NOERROR, no record) fails with expected AAAA and the server seen', () => {
    const aaaa = asProbeOutput('dig-v6only-aaaa-kube-dns-search');
    expect(verifyDig(cell, parseDig(aaaa.output), [DNS_IP], 'dig udp', aaaa.command)).toBeUndefined();
    const a = asProbeOutput('dig-v6only-a-kube-dns-search');
    expect(verifyDig(cell, parseDig(a.output), [DNS_IP], 'dig udp', a.command)?.ctx).toMatchObject({
      expected: `AAAA ${DNS_IP}`,
      seen: `NOERROR [] from server ${DNS_IP}`,
    });
  });
  it('libc: getent ahostsv6 finds the ClusterIP; ahostsv4 (what was asked) finds nothing and fails', () => {
    const fq = { ...cell, name: `${cell.name}.svc.cluster.local` };
    const v6 = captured('getent-v6only-ahostsv6-kube-dns');
    expect(parseGetent(v6.stdout, v6.exitCode)).toMatchObject({ found: true, addresses: [DNS_IP], canonicalName: fq.name });
    expect(verifyGetent(fq, parseGetent(v6.stdout, v6.exitCode), 'getent')).toBeUndefined();
    const v4 = captured('getent-v6only-ahostsv4-kube-dns');
    expect(verifyGetent(fq, parseGetent(v4.stdout, v4.exitCode), 'getent')?.ctx).toMatchObject({ expected: `AAAA ${DNS_IP}`, seen: 'not found' });
    const nx = captured('getent-v6only-ahostsv6-nx');
    expect(parseGetent(nx.stdout, nx.exitCode)).toMatchObject({ found: false, notFound: true });
  });
});

describe("mtu.pod-interface on an IPv6-only pod (captured ip -o addr / link: no inet line but lo's)", () => {
  const addr = asProbeOutput('ip-addr-v6only-pod');
  const link = asProbeOutput('ip-link-v6only-pod');
  it('finds eth0 holding the IPv6 pod IP, MTU 1500', () => {
    expect(verifyPodMtu('mtu.pod-interface', 'p', 'fd00:10:244:1::1b', addr, link)).toMatchObject({ dev: 'eth0', mtu: 1500 });
  });
  it("another pod's IPv6 address fails with the IPv6 expectation (the control expected IPv4's 576 and so failed)", () => {
    const f = verifyPodMtu('mtu.pod-interface', 'p', 'fd00:10:244:2::7', addr, link) as CheckFailure;
    expect(f.ctx.expected).toBe(podMtuExpected('fd00:10:244:2::7'));
    expect(f.ctx.expected).toBe('an interface holding the pod IP, with an MTU of at least 1280 (the IPv6 minimum)');
    expect(f.ctx.seen).toMatch(/^no interface holds it \(ip addr exit 0: holds .*\bfd00:10:244:1::1b\b.*; ip link exit 0\)$/);
    expect(podMtuExpected('10.244.1.5')).toBe('an interface holding the pod IP, with an MTU of at least 576');
  });
});

describe('node faults in the IPv6 nat table (ip6tables-save of knc-v6-worker, captured)', () => {
  const saved = fixtureText('ip6tables-save-nat-v6only-worker.txt');
  /** The node: answers ip6tables-save with the capture (an iptables-save with nothing), records every command. */
  const node = () => {
    const ran: string[] = [];
    const nodes: NodeAccess = {
      exec: (_n, argv) => {
        const cmd = argv.join(' ');
        ran.push(cmd);
        const out = cmd.includes('ip6tables-save') ? saved : cmd.includes('iptables-save') ? '*nat\nCOMMIT\n' : '';
        return Promise.resolve({ stdout: out, stderr: '', exitCode: 0 } as never);
      },
      hostRoute: () => Promise.resolve(''),
    };
    return { nodes, ran };
  };
  const dnsUdp = (l: string) => l.startsWith('-A KUBE-SERVICES ') && l.includes(' -d fd00:10:96::a/128 ') && l.includes(' -p udp ');
  it('IPv6: finds the /128 rule in ip6tables-save and removes it with ip6tables (by position)', async () => {
    const { nodes, ran } = node();
    const r = await withoutNatRules(nodes, 'knc-v6-worker', 'kube-dns udp rule', dnsUdp, () => Promise.resolve('body'), 'IPv6');
    expect(r.removed).toHaveLength(1);
    expect(r.removed[0]).toMatch(/^-A KUBE-SERVICES -d fd00:10:96::a\/128 -p udp /);
    // this fake node never drops a rule: read back, it is always "there again", so the fault is made 3 times, then inconclusive
    expect(r).toMatchObject({ cameBack: true, attempts: 3 });
    expect(ran.filter((c) => / -D KUBE-SERVICES \d+$/.test(c))).toEqual(Array(3).fill(expect.stringMatching(/^sh -c ip6tables -t nat -D KUBE-SERVICES \d+$/)));
    expect(ran.some((c) => /(^|\s)iptables/.test(c))).toBe(false);
  });
  it('a rule kube-proxy put back during the fault (a sync): the fault is made again, and the body asked again under it', async () => {
    // a node that keeps its nat table: -D by position removes, restore --noflush puts back
    let table = saved.split('\n');
    const nodes: NodeAccess = {
      exec: (_n, argv) => {
        const cmd = argv.join(' ');
        const del = / -D (\S+) (\d+)$/.exec(cmd);
        if (del) {
          const inChain = table.filter((l) => l.startsWith(`-A ${del[1]} `));
          const gone = inChain[Number(del[2]) - 1];
          table = table.filter((l) => l !== gone);
        }
        if (cmd.includes('restore --noflush')) table = saved.split('\n');
        return Promise.resolve({ stdout: cmd.includes('ip6tables-save') ? table.join('\n') : '', stderr: '', exitCode: 0 } as never);
      },
      hostRoute: () => Promise.resolve(''),
    };
    let asked = 0;
    const r = await withoutNatRules(
      nodes,
      'knc-v6-worker',
      'kube-dns udp rule',
      dnsUdp,
      () => {
        asked++;
        // during the first fault only, a kube-proxy sync writes the chain again
        if (asked === 1) table = saved.split('\n');
        return Promise.resolve(asked);
      },
      'IPv6',
    );
    expect(r).toMatchObject({ result: 2, cameBack: false, attempts: 2 });
    expect(table.filter(dnsUdp)).toHaveLength(1); // put back after
  });
  it('IPv4 (the default) looks in iptables-save, where an IPv6-only node has no such rule: the fault cannot be made, said so', async () => {
    const { nodes } = node();
    await expect(withoutNatRules(nodes, 'knc-v6-worker', 'kube-dns udp rule', dnsUdp, () => Promise.resolve(1))).rejects.toThrow(
      'node knc-v6-worker: no kube-dns udp rule in the nat table, so the fault cannot be made',
    );
  });
});

describe("the node view's server listens in the family of the node's address", () => {
  it('busybox httpd on [::] for an IPv6 node, 0.0.0.0 for an IPv4 one', () => {
    expect(serveProbe('s', 20001, 'node-view-0', 'fc00:f853:ccd:e793::7').argv[2]).toMatch(/busybox httpd -p '\[::\]:20001' /);
    expect(serveProbe('s', 20001, 'node-view-0', '172.18.0.3').argv[2]).toMatch(/busybox httpd -p '0\.0\.0\.0:20001' /);
  });
});

describe('kube-router rendered for an IPv6-only cluster (scripts/cni/render.sh): the flags v2.1.0 needs to start there', () => {
  const render = (family: string) =>
    execFileSync('bash', ['scripts/cni/render.sh', 'kube-router'], { encoding: 'utf8', env: { ...process.env, KNC_IP_FAMILY: family } })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^- --(enable-ipv[46]|router-id|service-cluster-ip-range)=/.test(l));
  it('ipv6: IPv4 off, a generated router id (no IPv4 node address to take it from), the IPv6 service range', () => {
    expect(render('ipv6')).toEqual([
      '- --enable-ipv6=true',
      '- --enable-ipv4=false',
      '- --router-id=generate',
      '- --service-cluster-ip-range=fd00:10:96::/112',
    ]);
  });
  it('ipv4 and dual render as before', () => {
    expect(render('ipv4')).toEqual([]);
    expect(render('dual')).toEqual(['- --enable-ipv6=true']);
  });
});

describe('an answer from the right pod whose wget then failed says how it ended (seen once on knc-v6kr: "saw server=target-2-…")', () => {
  const out = (exitCode: number) => ({
    id: 'n',
    exitCode,
    output: 'client=fc00:f853:ccd:e793::5 server=target-2-knc-v6kr-worker2\n',
    durationMs: 3001,
    command: 'timeout -s KILL 3 wget -q -T 2 -O - http://[fd00:10:244:2::c]:80/whoami',
  });
  it('killed after the body: the failure names the right server and the exit, not the server alone', () => {
    const f = verifyServedBy('pod-ip.from-node', 'node', 'target-2', 'target-2-knc-v6kr-worker2', out(137))!;
    expect(f.ctx.expected).toBe('an answer from pod target-2-knc-v6kr-worker2');
    expect(f.ctx.seen).toMatch(/^server=target-2-knc-v6kr-worker2, but timeout \(exit 137 after 3001ms: /);
    expect(verifyServedBy('pod-ip.from-node', 'node', 'target-2', 'target-2-knc-v6kr-worker2', out(0))).toBeUndefined();
    expect(verifyServedBy('pod-ip.from-node', 'node', 'target-2', 'other', out(0))!.ctx.seen).toBe('server=target-2-knc-v6kr-worker2');
  });
});

describe('no URL is built with a bare address (an IPv6 host needs brackets: hostPort)', () => {
  it('every `http://${…}` in src/ goes through hostPort (the armed Service hold once did not: every hold failed on knc-v6)', () => {
    const files = execFileSync('git', ['ls-files', 'src'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts'));
    const bare = files.flatMap((f) =>
      fixtureText(`../../../${f}`)
        .split('\n')
        .map((l, i) => [`${f}:${i + 1}`, l] as const)
        .filter(([, l]) => /http:\/\/\$\{(?!hostPort\()/.test(l)),
    );
    expect(bare).toEqual([]);
  });
});
