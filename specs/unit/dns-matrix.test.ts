// The DNS name-form matrix: its expectations, and the dig/getent/resolv.conf verdicts on the real
// answers of a fan-out run from the probe pod in knc-fixtures (fixtures/fanout-probe.*).
import { describe, it, expect } from '@jest/globals';
import { buildMatrix, nameForms, verifyDig, verifyGetent, verifyResolvConf, type DnsCell, type DnsTarget } from '../../src/verdicts/dns-matrix.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { parseDig, parseGetent, parseResolvConf } from '../../src/probes/dns.js';
import { parseFanout } from '../../src/probes/batch.js';
import { CAPTURE, captured, capturedFanout } from './fixture-files.js';

const { dnsIP, webClusterIP, domain } = CAPTURE;
const web: DnsTarget = { service: 'web', namespace: 'knc-fixtures', clusterIP: webClusterIP };
const kubeDns: DnsTarget = { service: 'kube-dns', namespace: 'kube-system', clusterIP: dnsIP };

function expectFailure(x: CheckFailure | undefined, parts: { check: string; from: string; to: string; expected: string; seen: string }): CheckFailure {
  expect(x).toBeInstanceOf(CheckFailure);
  expect(x!.ctx).toMatchObject({ check: parts.check, from: parts.from, to: parts.to, expected: parts.expected, seen: parts.seen });
  expect(x!.message).toContain(`[${parts.check}] from ${parts.from} to ${parts.to}: expected ${parts.expected}, saw ${parts.seen}`);
  return x!;
}

describe('nameForms', () => {
  it('lists the four forms from bare to fully qualified', () => {
    expect(nameForms(web, domain)).toEqual([
      ['svc', 'web'],
      ['svc.ns', 'web.knc-fixtures'],
      ['svc.ns.svc', 'web.knc-fixtures.svc'],
      ['svc.ns.svc.domain', 'web.knc-fixtures.svc.cluster.local'],
    ]);
  });
});

describe('buildMatrix', () => {
  const matrix = buildMatrix([web, kubeDns], ['knc-fixtures', 'default'], domain);

  it('one cell per asking namespace × target × name form, with unique ids', () => {
    expect(matrix).toHaveLength(2 * 2 * 4);
    expect(new Set(matrix.map((c) => c.id)).size).toBe(matrix.length);
    expect(matrix[0]).toEqual({ id: 'f0t0n0', name: 'web', form: 'svc', fromNamespace: 'knc-fixtures', target: web, expect: { answer: webClusterIP } });
    expect(matrix.at(-1)).toMatchObject({ id: 'f1t1n3', name: 'kube-dns.kube-system.svc.cluster.local', fromNamespace: 'default', target: kubeDns });
  });

  it('the bare name asked from another namespace expects NXDOMAIN; every other cell expects the ClusterIP', () => {
    for (const c of matrix) {
      if (c.form === 'svc' && c.fromNamespace !== c.target.namespace) expect(c.expect).toBe('NXDOMAIN');
      else expect(c.expect).toEqual({ answer: c.target.clusterIP });
    }
    const nx = matrix
      .filter((c) => c.expect === 'NXDOMAIN')
      .map((c) => `${c.fromNamespace}:${c.name}`)
      .sort();
    expect(nx).toEqual(['default:kube-dns', 'default:web', 'knc-fixtures:kube-dns']);
  });

  it("asking from the target's own namespace expects the ClusterIP for all four forms, bare included", () => {
    const own = buildMatrix([kubeDns], ['kube-system'], domain);
    expect(own.map((c) => c.expect)).toEqual(Array(4).fill({ answer: dnsIP }));
  });

  it('is empty without targets or asking namespaces', () => {
    expect(buildMatrix([], ['a'], domain)).toEqual([]);
    expect(buildMatrix([web], [], domain)).toEqual([]);
  });
});

describe('verdicts on the real fan-out from knc-fixtures', () => {
  const f = capturedFanout('probe');
  const out = parseFanout(f.stdout, f.probes);
  // the matrix the fan-out was built from: asked from knc-fixtures only
  const matrix = buildMatrix([web, kubeDns], ['knc-fixtures'], domain);
  const o = (id: string) => out.get(id)!;

  it('dig over UDP and TCP: every cell is as expected, answered by kube-dns', () => {
    for (const c of matrix) {
      for (const t of ['udp', 'tcp'] as const) {
        const p = o(`${t}-${c.id}`);
        const r = parseDig(p.output);
        expect(r.transport).toBe(t.toUpperCase());
        expect(verifyDig(c, r, dnsIP, `dig ${t}`, p.command)).toBeUndefined();
      }
    }
    const bareKubeDns = matrix.find((c) => c.name === 'kube-dns')!;
    expect(bareKubeDns.expect).toBe('NXDOMAIN');
    expect(parseDig(o(`udp-${bareKubeDns.id}`).output).status).toBe('NXDOMAIN');
  });

  it('getent (libc): every cell is as expected', () => {
    for (const c of matrix) {
      const p = o(`libc-${c.id}`);
      expect(verifyGetent(c, parseGetent(p.output, p.exitCode), p.command)).toBeUndefined();
    }
  });

  it('resolv.conf of the ClusterFirst probe pod passes', () => {
    expect(verifyResolvConf('pod knc-fixtures/probe', 'knc-fixtures', domain, dnsIP, parseResolvConf(o('resolv').output))).toBeUndefined();
  });

  it('dig: expecting another address fails with check/from/to/expected/seen', () => {
    const cell: DnsCell = { ...matrix[0], expect: { answer: '10.96.0.99' } };
    const p = o(`udp-${cell.id}`);
    const x = expectFailure(verifyDig(cell, parseDig(p.output), dnsIP, 'dig udp', p.command), {
      check: 'dns-name-form',
      from: 'a pod in knc-fixtures (dig udp)',
      to: 'web',
      expected: 'A 10.96.0.99',
      seen: `NOERROR [${webClusterIP}] from server ${dnsIP}`,
    });
    expect(x.message).toContain(`probe: ${p.command}`);
  });

  it('dig: a real NXDOMAIN where an address was expected fails', () => {
    const nxCell: DnsCell = {
      id: 'nx',
      name: 'no-such-svc.knc-fixtures',
      form: 'svc.ns',
      fromNamespace: 'knc-fixtures',
      target: web,
      expect: { answer: webClusterIP },
    };
    expectFailure(verifyDig(nxCell, parseDig(o('nx').output), dnsIP, 'dig udp', o('nx').command), {
      check: 'dns-name-form',
      from: 'a pod in knc-fixtures (dig udp)',
      to: 'no-such-svc.knc-fixtures',
      expected: `A ${webClusterIP}`,
      seen: `NXDOMAIN [] from server ${dnsIP}`,
    });
  });

  it('dig: an answer where NXDOMAIN was expected fails', () => {
    const cell: DnsCell = { ...matrix[0], expect: 'NXDOMAIN' };
    expectFailure(verifyDig(cell, parseDig(o(`tcp-${cell.id}`).output), dnsIP, 'dig tcp', o(`tcp-${cell.id}`).command), {
      check: 'dns-name-form',
      from: 'a pod in knc-fixtures (dig tcp)',
      to: 'web',
      expected: 'NXDOMAIN',
      seen: `NOERROR [${webClusterIP}] from server ${dnsIP}`,
    });
  });

  it('dig: an answer from another server than the cluster DNS fails, whatever it says', () => {
    expectFailure(verifyDig(matrix[0], parseDig(o('udp-f0t0n0').output), '10.96.0.11', 'dig udp', 'cmd'), {
      check: 'dns-name-form',
      from: 'a pod in knc-fixtures (dig udp)',
      to: 'web',
      expected: 'an answer from the cluster DNS 10.96.0.11',
      seen: `NOERROR [${webClusterIP}] from server ${dnsIP}`,
    });
  });

  it('dig: a real timeout (no server reached) fails, for address and NXDOMAIN cells alike', () => {
    const r = parseDig(o('dig-unheld').output);
    for (const c of [matrix[0], matrix.find((m) => m.expect === 'NXDOMAIN')!]) {
      expectFailure(verifyDig(c, r, dnsIP, 'dig udp', o('dig-unheld').command), {
        check: 'dns-name-form',
        from: 'a pod in knc-fixtures (dig udp)',
        to: c.name,
        expected: `an answer from the cluster DNS ${dnsIP}`,
        seen: 'TIMEOUT [] from server -',
      });
    }
    // the TCP failure output (parsed as UNPARSED, see parsers-dns.test.ts) is rejected as well
    const tcp = parseDig(captured('dig-timeout-tcp-unused-pod-ip').stdout);
    expect(verifyDig(matrix[0], tcp, dnsIP, 'dig tcp', 'cmd')?.message).toMatch(
      /expected an answer from the cluster DNS 10\.96\.0\.10, saw \S+ \[\] from server -/,
    );
  });

  it('dig: two A records where one ClusterIP was expected fails', () => {
    const headlessCell: DnsCell = {
      id: 'h',
      name: 'nginx-all.knc-fixtures.svc.cluster.local',
      form: 'svc.ns.svc.domain',
      fromNamespace: 'knc-fixtures',
      target: web,
      expect: { answer: CAPTURE.whoamiPodIP },
    };
    expectFailure(verifyDig(headlessCell, parseDig(captured('dig-headless-two-pods').stdout), dnsIP, 'dig udp', 'cmd'), {
      check: 'dns-name-form',
      from: 'a pod in knc-fixtures (dig udp)',
      to: headlessCell.name,
      expected: `A ${CAPTURE.whoamiPodIP}`,
      seen: `NOERROR [${CAPTURE.whoamiPodIP}, ${CAPTURE.webPodIP}] from server ${dnsIP}`,
    });
  });

  it('getent: not found where the ClusterIP was expected fails', () => {
    const cell: DnsCell = {
      id: 'nx',
      name: 'no-such-svc.knc-fixtures',
      form: 'svc.ns',
      fromNamespace: 'knc-fixtures',
      target: web,
      expect: { answer: webClusterIP },
    };
    const p = o('nx-libc');
    const x = expectFailure(verifyGetent(cell, parseGetent(p.output, p.exitCode), p.command), {
      check: 'dns-name-form-libc',
      from: 'a pod in knc-fixtures (getent/libc)',
      to: 'no-such-svc.knc-fixtures',
      expected: `A ${webClusterIP}`,
      seen: 'not found',
    });
    expect(x.ctx.command).toBe('timeout -s KILL 6 getent ahostsv4 no-such-svc.knc-fixtures');
  });

  it('getent: found where NXDOMAIN was expected fails, naming the addresses and canonical name', () => {
    const cell: DnsCell = { ...matrix[0], expect: 'NXDOMAIN' };
    const p = o(`libc-${cell.id}`);
    expectFailure(verifyGetent(cell, parseGetent(p.output, p.exitCode), p.command), {
      check: 'dns-name-form-libc',
      from: 'a pod in knc-fixtures (getent/libc)',
      to: 'web',
      expected: 'not found',
      seen: `found [${webClusterIP}] as web.knc-fixtures.svc.cluster.local`,
    });
  });

  it('getent: a headless name with two addresses fails an exact-ClusterIP cell', () => {
    const cell: DnsCell = { ...matrix[0], name: 'nginx-all', expect: { answer: CAPTURE.webPodIP } };
    const c = captured('getent-headless-two-pods');
    expect(verifyGetent(cell, parseGetent(c.stdout, c.exitCode), 'cmd')?.message).toMatch(
      /expected A 10\.244\.1\.23, saw found \[10\.244\.1\.23, 10\.244\.2\.21\] as nginx-all\.knc-fixtures\.svc\.cluster\.local/,
    );
  });

  it('resolv.conf of the hostNetwork pod fails: node resolver, no search path, ndots:0', () => {
    const c = captured('resolv-conf-node-view');
    const from = 'node knc-fixtures/node-view on kube-netcheck-worker';
    const x = expectFailure(verifyResolvConf(from, 'knc-fixtures', domain, dnsIP, parseResolvConf(c.stdout)), {
      check: 'resolv-conf',
      from,
      to: '/etc/resolv.conf',
      expected: `nameserver ${dnsIP}, search knc-fixtures.svc.cluster.local svc.cluster.local cluster.local, options ndots:5`,
      seen: `nameserver ${CAPTURE.nodeGatewayIP}, search -, ndots:0`,
    });
    expect(x.ctx.command).toBe('cat /etc/resolv.conf');
  });

  it('resolv.conf of the probe pod fails when checked against another namespace', () => {
    const x = verifyResolvConf('pod', 'default', domain, dnsIP, parseResolvConf(o('resolv').output));
    expect(x?.message).toContain(
      'expected nameserver 10.96.0.10, search default.svc.cluster.local svc.cluster.local cluster.local, options ndots:5, saw nameserver 10.96.0.10, search knc-fixtures.svc.cluster.local svc.cluster.local cluster.local, ndots:5',
    );
  });
});
