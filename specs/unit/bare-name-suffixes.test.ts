// The bare name of a Service in another namespace must be NXDOMAIN (#15 item 4), judged without
// depending on an upstream forwarder. Captured live (specs/cluster/dns-shapes.spec.ts) from a probe
// pod whose nameserver was a CoreDNS of the cluster's own image serving cluster.local (NXDOMAIN for
// every name there) and forwarding every other name to 127.0.0.1:5399, where nothing listens — what
// an air-gapped cluster with the stock Corefile does:
// - dig-bare-search-unreachable-forwarder.txt: the old probe, `dig +search my-nginx` (SERVFAIL: dig's
//   search ends with the bare name itself, which CoreDNS forwards);
// - suffixes-bare-unreachable-forwarder-{udp,tcp,libc}.txt: suffixProbe, the name under each search
//   suffix as an absolute name.
import { describe, it, expect } from '@jest/globals';
import { parseDig, suffixProbe, type Transport } from '../../src/probes/dns.js';
import { judgeDns, type DnsExpect } from '../../src/catalogue/dns.js';
import { buildMatrix, verifyDig, type DnsCell } from '../../src/verdicts/dns-matrix.js';
import type { Answer } from '../../src/catalogue/types.js';
import type { ProbeRef } from '../../src/workload/setup.js';
import { fixtureText } from './fixture-files.js';

const meta = JSON.parse(fixtureText('bare-name-forwarder.json')) as { namespace: string; dnsIP: string };
const from: ProbeRef = { namespace: meta.namespace, pod: 'asker', node: 'kube-netcheck-worker', ip: '10.244.2.9', hostNetwork: false };
const [cell] = buildMatrix([{ service: 'my-nginx', namespace: 'elsewhere', clusterIP: '10.96.7.7' }], [meta.namespace], 'cluster.local').filter(
  (c) => c.form === 'svc',
);
const answer = (via: Transport | 'libc', output: string, c: DnsCell = cell): Answer<DnsExpect> => ({
  ask: { from, to: c.name, probe: suffixProbe('x', c.name, c.suffixes ?? [], via), expect: { via, cell: c } },
  out: { id: 'x', exitCode: 0, output, durationMs: 0, command: suffixProbe('x', c.name, c.suffixes ?? [], via).argv.join(' ') },
});

describe('the bare cross-namespace name with an unreachable upstream forwarder (captured live)', () => {
  it('the matrix cell carries the asking pod search suffixes', () => {
    expect(cell).toMatchObject({
      name: 'my-nginx',
      expect: 'NXDOMAIN',
      suffixes: [`${meta.namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'],
    });
  });

  it('the old probe, dig +search, fails there: SERVFAIL, not NXDOMAIN (the weakness)', () => {
    const r = parseDig(fixtureText('dig-bare-search-unreachable-forwarder.txt'));
    expect(r.status).toBe('SERVFAIL');
    expect(verifyDig({ ...cell, suffixes: undefined }, r, [meta.dnsIP], 'dig udp', 'dig +search my-nginx')?.ctx).toMatchObject({
      expected: 'NXDOMAIN',
      seen: `SERVFAIL [] from server ${meta.dnsIP}`,
    });
  });

  for (const via of ['udp', 'tcp', 'libc'] as const) {
    it(`the suffix probe over ${via} passes there: NXDOMAIN under every suffix`, () => {
      expect(judgeDns('dns.matrix', answer(via, fixtureText(`suffixes-bare-unreachable-forwarder-${via}.txt`)), [meta.dnsIP])).toBeUndefined();
    });
  }

  it('and still fails when a suffix resolves (the name exists under one of them), naming that name', () => {
    const out = fixtureText('suffixes-bare-unreachable-forwarder-udp.txt');
    // the first block's answer rewritten as a NOERROR with an A record: a Service of that name in the asking namespace
    const bad = out.replace('status: NXDOMAIN', 'status: NOERROR');
    const f = judgeDns('dns.matrix', answer('udp', bad), [meta.dnsIP]);
    expect(f?.ctx).toMatchObject({ expected: 'NXDOMAIN', to: `my-nginx.${meta.namespace}.svc.cluster.local.` });
  });

  it('fails when a suffix was not asked or the probe did not run', () => {
    const out = fixtureText('suffixes-bare-unreachable-forwarder-udp.txt');
    const two = out.slice(0, out.lastIndexOf('KNC-NAME '));
    expect(judgeDns('dns.matrix', answer('udp', two), [meta.dnsIP])?.ctx.seen).toMatch(/^asked my-nginx\..*, my-nginx\.svc\.cluster\.local\.$/);
    expect(judgeDns('dns.matrix', answer('udp', ''), [meta.dnsIP])?.ctx.seen).toMatch(/^no answer/);
  });

  it('the answer must come from the cluster DNS', () => {
    const f = judgeDns('dns.matrix', answer('udp', fixtureText('suffixes-bare-unreachable-forwarder-udp.txt')), ['10.96.0.10']);
    expect(f?.ctx.expected).toBe('an answer from the cluster DNS 10.96.0.10');
  });
});
