// NetworkPolicy verdicts (src/verdicts/policy.ts) on outputs captured from the live cluster: the
// expected outcome is data (ok / denied), the observed one is read from real wget and dig outputs,
// and the two plain verdicts end the failure line.
import { describe, it, expect } from '@jest/globals';
import {
  ALLOWED_BLOCKED,
  NOT_ENFORCED,
  dnsPolicyOutcome,
  httpPolicyOutcome,
  matches,
  policyRow,
  verifyPolicyProbe,
  type Expectation,
} from '../../src/verdicts/policy.js';
import { parseFanout, type Probe, type ProbeOutput } from '../../src/probes/batch.js';
import { capturedFanout, fixtureText } from './fixture-files.js';

const f = capturedFanout('probe');
const fan = parseFanout(f.stdout, f.probes);
const rec = (id: string): ProbeOutput => fan.get(id)!;
const FROM = 'pod knc-fixtures/probe on kube-netcheck-worker2';
const http = (expect: Expectation['expect']): Expectation => ({
  kind: 'http',
  expect,
  from: FROM,
  to: 'nginx web 10.244.1.23:80',
  because: 'NetworkPolicy knc-default-deny-ingress',
});
const dns = (expect: Expectation['expect']): Expectation => ({
  kind: 'dns',
  expect,
  from: FROM,
  to: 'web.knc-fixtures.svc.cluster.local A',
  because: 'NetworkPolicy knc-egress-only-nginx',
});

describe('observed outcomes of real probes', () => {
  it('wget: the page is ok, a closed port is refused, an address nobody holds times out', () => {
    expect(httpPolicyOutcome(rec('page'))).toBe('ok');
    expect(httpPolicyOutcome(rec('refused'))).toBe('refused');
    expect(httpPolicyOutcome(rec('unheld'))).toBe('timeout');
  });
  it('wget: a 404 page is not "ok" (the nginx welcome page is the only allowed answer)', () => {
    expect(rec('page-404').exitCode).not.toBe(0);
    expect(httpPolicyOutcome(rec('page-404'))).toBe('error');
  });
  it('dig: an answer is ok, NXDOMAIN is nxdomain, no server answering is timeout', () => {
    expect(dnsPolicyOutcome(rec('udp-f0t0n0'))).toBe('ok');
    expect(dnsPolicyOutcome(rec('nx'))).toBe('nxdomain');
    expect(dnsPolicyOutcome(rec('dig-unheld'))).toBe('timeout');
  });
  it('denied means timeout or refused; a DNS NXDOMAIN got through, so it is not a denial', () => {
    expect(matches(http('denied'), 'timeout')).toBe(true);
    expect(matches(http('denied'), 'refused')).toBe(true);
    expect(matches(http('denied'), 'ok')).toBe(false);
    expect(matches(dns('denied'), 'nxdomain')).toBe(false);
    expect(matches(http('ok'), 'ok')).toBe(true);
    expect(matches(http('ok'), 'error')).toBe(false);
  });
});

describe('verifyPolicyProbe', () => {
  it('passes when the outcome is the expected one, and the row says so', () => {
    expect(verifyPolicyProbe('policy-deny-same-namespace', http('denied'), rec('unheld'))).toBeUndefined();
    expect(verifyPolicyProbe('policy-allow-namespace-selector', http('ok'), rec('page'))).toBeUndefined();
    expect(policyRow(http('denied'), rec('unheld'))).toBe(
      `${FROM} -> nginx web 10.244.1.23:80: expected denied, saw timeout after ${rec('unheld').durationMs}ms (denied as expected)`,
    );
    expect(policyRow(http('ok'), rec('page'))).toMatch(/expected ok, saw ok after \d+ms \(allowed as expected\)$/);
  });
  it('a denied connection that succeeded: one line ending in the plain "not enforced" verdict', () => {
    const x = verifyPolicyProbe('policy-deny-same-namespace', http('denied'), rec('page'), ', still so 20003ms after the policies were set');
    const line = x!.message.split('\n')[0];
    expect(line).toMatch(
      new RegExp(
        `^\\[policy-deny-same-namespace\\] from ${FROM} to nginx web 10\\.244\\.1\\.23:80: expected denied \\(timeout or refused\\) by NetworkPolicy knc-default-deny-ingress, saw ok after \\d+ms \\(exit 0: ".*Welcome to nginx.*"\\), still so 20003ms after the policies were set: ${NOT_ENFORCED}$`,
      ),
    );
    expect(x!.message.split('\n')[1]).toBe(`  probe: ${rec('page').command}`);
  });
  it('a DNS query that got an answer (even NXDOMAIN) under an egress deny is "not enforced" too', () => {
    expect(verifyPolicyProbe('policy-egress-dns-denied', dns('denied'), rec('nx'))!.message.split('\n')[0]).toMatch(
      new RegExp(`saw nxdomain after \\d+ms .*: ${NOT_ENFORCED}$`),
    );
    expect(verifyPolicyProbe('policy-egress-dns-denied', dns('denied'), rec('udp-f0t0n0'))!.message.split('\n')[0]).toMatch(
      new RegExp(`saw ok after \\d+ms .*: ${NOT_ENFORCED}$`),
    );
  });
  it('an allowed connection that was refused or timed out: "blocks allowed traffic"', () => {
    for (const id of ['refused', 'unheld']) {
      const line = verifyPolicyProbe(
        'policy-allow-pod-selector',
        { ...http('ok'), because: 'NetworkPolicy knc-allow-from-policy-client' },
        rec(id),
      )!.message.split('\n')[0];
      expect(line).toMatch(
        new RegExp(
          `^\\[policy-allow-pod-selector\\] from ${FROM} to .*: expected ok \\(allowed: NetworkPolicy knc-allow-from-policy-client\\), saw (refused|timeout) after \\d+ms \\(exit \\d+: .*\\): ${ALLOWED_BLOCKED}$`,
        ),
      );
    }
  });
  it('an answer that is neither the page nor a denial names the outcome without a policy verdict', () => {
    const line = verifyPolicyProbe('policy-allow-pod-selector', http('ok'), rec('page-404'))!.message.split('\n')[0];
    expect(line).toMatch(/saw error after \d+ms \(exit \d+: .*\)$/);
    expect(line).not.toContain(ALLOWED_BLOCKED);
    expect(line).not.toContain(NOT_ENFORCED);
  });
});

describe('under real policies (kube-network-policies and kube-router, see fixtures/README-mtu-policy.md)', () => {
  const load = (name: string) => parseFanout(fixtureText(`fanout-${name}.stdout.txt`), JSON.parse(fixtureText(`fanout-${name}.probes.json`)) as Probe[]);
  const ingress = load('policy-denied-ingress');
  const egress = load('policy-egress-no-dns');
  it('default-deny ingress: pod IP and ClusterIP time out (the engine drops), DNS (not selected) answers', () => {
    expect(httpPolicyOutcome(ingress.get('pod')!)).toBe('timeout');
    expect(httpPolicyOutcome(ingress.get('svc')!)).toBe('timeout');
    expect(dnsPolicyOutcome(ingress.get('dns')!)).toBe('ok');
    expect(verifyPolicyProbe('policy-deny-other-namespace', http('denied'), ingress.get('pod')!)).toBeUndefined();
    expect(policyRow(http('denied'), ingress.get('svc')!)).toMatch(/expected denied, saw timeout after \d+ms \(denied as expected\)$/);
  });
  it('kube-router rejects instead of dropping: refused is "denied as expected" too', () => {
    const kr = load('policy-kube-router-rejected');
    for (const id of ['pod', 'svc']) {
      expect(httpPolicyOutcome(kr.get(id)!)).toBe('refused');
      expect(verifyPolicyProbe('policy-allow-others-denied', http('denied'), kr.get(id)!)).toBeUndefined();
      expect(policyRow(http('denied'), kr.get(id)!)).toMatch(/expected denied, saw refused after \d+ms \(denied as expected\)$/);
    }
    expect(dnsPolicyOutcome(kr.get('dns')!)).toBe('ok');
  });
  it('egress only to nginx:80: the page still comes (pod IP and ClusterIP), the name lookup times out', () => {
    expect(httpPolicyOutcome(egress.get('pod')!)).toBe('ok');
    expect(httpPolicyOutcome(egress.get('svc')!)).toBe('ok');
    expect(dnsPolicyOutcome(egress.get('dns')!)).toBe('timeout');
    expect(verifyPolicyProbe('policy-egress-dns-denied', dns('denied'), egress.get('dns')!)).toBeUndefined();
    // the same real denial, judged as if it had been allowed
    expect(verifyPolicyProbe('policy-egress-dns-denied', dns('ok'), egress.get('dns')!)!.message.split('\n')[0]).toMatch(
      new RegExp(`saw timeout after \\d+ms \\(exit 9: ".*timed out.*"\\): ${ALLOWED_BLOCKED}$`),
    );
  });
});
