// HTTP verdicts (src/verdicts/http.ts) on real wget outcomes: the fan-out records (stderr merged
// into the output, as in production) and single captured commands (exit codes 0, 1, 124, 137).
import { describe, it, expect } from '@jest/globals';
import { httpOutcome, verifyNoNat, verifyPage } from '../../src/verdicts/http.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { parseFanout, type ProbeOutput } from '../../src/probes/batch.js';
import { CAPTURE, asProbeOutput, capturedFanout } from './fixture-files.js';

const f = capturedFanout('probe');
const fan = parseFanout(f.stdout, f.probes);
const rec = (id: string): ProbeOutput => fan.get(id)!;
const FROM = 'pod knc-fixtures/probe on kube-netcheck-worker2';

/** A CheckFailure whose message names the check, from, to, expected and seen. */
function expectFailure(x: CheckFailure | undefined, parts: { check: string; from: string; to: string; expected: string; seen: string | RegExp }): CheckFailure {
  expect(x).toBeInstanceOf(CheckFailure);
  const m = x!.message;
  expect(m).toContain(`[${parts.check}]`);
  expect(m).toContain(`from ${parts.from}`);
  expect(m).toContain(`to ${parts.to}`);
  expect(m).toContain(`expected ${parts.expected}`);
  if (typeof parts.seen === 'string') expect(m).toContain(`saw ${parts.seen}`);
  else expect(m).toMatch(parts.seen);
  return x!;
}

describe('httpOutcome', () => {
  it('ok: the welcome page through the ClusterIP (exit 0)', () => {
    expect(rec('page').exitCode).toBe(0);
    expect(httpOutcome(rec('page'))).toBe('ok');
    expect(httpOutcome(rec('whoami'))).toBe('ok');
    expect(httpOutcome(asProbeOutput('wget-web-clusterip'))).toBe('ok');
  });

  it('fail: connection refused (exit 1) and HTTP 404 (exit 1)', () => {
    expect(rec('refused')).toMatchObject({ exitCode: 1, output: `wget: can't connect to remote host (${CAPTURE.webPodIP}): Connection refused\n` });
    expect(httpOutcome(rec('refused'))).toBe('fail');
    expect(rec('page-404')).toMatchObject({ exitCode: 1, output: 'wget: server returned error: HTTP/1.1 404 Not Found\n' });
    expect(httpOutcome(rec('page-404'))).toBe('fail');
  });

  it('timeout: busybox wget -T gives up with exit 1 and "download timed out" (stderr merged in the fan-out)', () => {
    expect(rec('unheld')).toMatchObject({ exitCode: 1, output: 'wget: download timed out\n' });
    expect(rec('unheld').durationMs).toBeGreaterThanOrEqual(900);
    expect(httpOutcome(rec('unheld'))).toBe('timeout');
  });

  it('timeout: killed by the outer `timeout -s KILL` (exit 137) or by a TERM timeout (exit 124), empty output', () => {
    const killed = asProbeOutput('wget-killed-unused-pod-ip');
    expect(killed).toMatchObject({ exitCode: 137, output: '' });
    expect(httpOutcome(killed)).toBe('timeout');
    const term = asProbeOutput('wget-term-timeout-unused-pod-ip');
    expect(term).toMatchObject({ exitCode: 124, output: '' });
    expect(httpOutcome(term)).toBe('timeout');
  });

  it('relies on stderr being merged: the same wget timeout with stdout alone (exit 1, empty) reads as fail', () => {
    const stdoutOnly = asProbeOutput('wget-timeout-unused-pod-ip');
    expect(stdoutOnly).toMatchObject({ exitCode: 1, output: '' });
    expect(httpOutcome(stdoutOnly)).toBe('fail');
  });
});

describe('verifyPage', () => {
  it('passes on the real welcome page', () => {
    expect(verifyPage('service-from-pods', FROM, `web ${CAPTURE.webClusterIP}:80`, rec('page'))).toBeUndefined();
  });

  it('fails with check/from/to/expected/seen and the probe command when the connection is refused', () => {
    const to = `web-pod ${CAPTURE.webPodIP}:81`;
    const x = expectFailure(verifyPage('pod-ip', FROM, to, rec('refused')), {
      check: 'pod-ip',
      from: FROM,
      to,
      expected: 'the nginx welcome page',
      seen: /saw fail \(exit 1 after \d+ms: "wget: can't connect to remote host \(10\.244\.1\.23\): Connection refused"\)/,
    });
    expect(x.message).toContain(`probe: ${rec('refused').command}`);
    expect(x.ctx.command).toBe(`timeout -s KILL 3 wget -q -T 2 -O - http://${CAPTURE.webPodIP}:81/`);
  });

  it('fails when the request succeeds but the body is not the welcome page', () => {
    expectFailure(verifyPage('pod-ip', FROM, 'whoami', rec('whoami')), {
      check: 'pod-ip',
      from: FROM,
      to: 'whoami',
      expected: 'the nginx welcome page',
      seen: /saw ok \(exit 0 after \d+ms: "client=10\.244\.1\.22 server=whoami"\)/,
    });
  });

  it('expecting a timeout: passes on the real timeout, fails on ok and on a refusal', () => {
    expect(verifyPage('pod-ip-unheld', FROM, `${CAPTURE.unheldIP}:80`, rec('unheld'), 'timeout')).toBeUndefined();
    expectFailure(verifyPage('pod-ip-unheld', FROM, 'web', rec('page'), 'timeout'), {
      check: 'pod-ip-unheld',
      from: FROM,
      to: 'web',
      expected: 'outcome timeout',
      seen: /saw ok \(exit 0/,
    });
    expectFailure(verifyPage('pod-ip-unheld', FROM, 'web', rec('refused'), 'timeout'), {
      check: 'pod-ip-unheld',
      from: FROM,
      to: 'web',
      expected: 'outcome timeout',
      seen: /saw fail \(exit 1/,
    });
  });

  it('expecting fail: passes on the refusal and the 404', () => {
    expect(verifyPage('closed-port', FROM, 'x', rec('refused'), 'fail')).toBeUndefined();
    expect(verifyPage('closed-port', FROM, 'x', rec('page-404'), 'fail')).toBeUndefined();
  });
});

describe('verifyNoNat', () => {
  it('passes when nginx saw the probe pod address', () => {
    expect(verifyNoNat('no-nat', FROM, `whoami ${CAPTURE.whoamiPodIP}`, CAPTURE.probePodIP, rec('whoami'))).toBeUndefined();
  });

  it('fails naming what the server saw when it saw another address', () => {
    const x = expectFailure(verifyNoNat('no-nat', FROM, 'whoami', '10.244.1.99', rec('whoami')), {
      check: 'no-nat',
      from: FROM,
      to: 'whoami',
      expected: 'the server to see client address 10.244.1.99',
      seen: 'client=10.244.1.22 server=whoami',
    });
    expect(x.ctx.command).toBe(rec('whoami').command);
  });

  it('fails with the outcome when there is no whoami answer', () => {
    expectFailure(verifyNoNat('no-nat', FROM, 'x', CAPTURE.probePodIP, rec('unheld')), {
      check: 'no-nat',
      from: FROM,
      to: 'x',
      expected: `the server to see client address ${CAPTURE.probePodIP}`,
      seen: /saw timeout \(exit 1 after \d+ms: "wget: download timed out"\)/,
    });
  });
});
