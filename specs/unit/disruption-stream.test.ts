// The disruption layer's parsers and verdicts (src/probes/stream.ts, src/verdicts/stream.ts) on
// client logs captured live: `run --keep --only disruption` on the default cluster (flannel
// host-gw), 15:40 — a pod -> ClusterIP connection open while kube-flannel-ds's and kube-proxy's
// pods were deleted and came back (stream-log-restarts-svc.txt), and the negative control's
// connection cut by a REJECT --reject-with tcp-reset of its flow (stream-log-cut.txt).
import { describe, expect, it } from '@jest/globals';
import { parseNewConn, parseStreamLog, splitStreamLogs } from '../../src/probes/stream.js';
import { streamReport, verifyNewConn, verifyStream } from '../../src/verdicts/stream.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { fixtureText } from './fixture-files.js';
import { DISRUPTION_CHECKS, ECHO, LISTEN_ERE } from '../../src/catalogue/disruption.js';

const healthy = fixtureText('stream-log-restarts-svc.txt');
const cut = fixtureText('stream-log-cut.txt');
const from = 'pod knc-a/probe-1 on kube-netcheck-worker';
const to = 'Service knc-stream 10.96.247.26:7070';
const judge = (text: string, maxStallS: number, dataAfter: number) => {
  const log = parseStreamLog(text);
  const report = streamReport('svc-1', from, to, log, log.endedAt ?? 0);
  return { log, report, v: verifyStream('disruption.restarts', report, log, { maxStallS, dataAfter, after: "kube-proxy's pods were Ready" }) };
};
const ctx = (v: unknown) => (v as CheckFailure).ctx;

describe('disruption: connection logs', () => {
  it('a connection kept through both restarts: every echo counted, closed by the run, the longest stall measured', () => {
    const { log, report, v } = judge(healthy, 5, 1796658010);
    expect(log.received.length).toBe(114); // 113 lines and the echo of "bye"
    expect(log.lastSeq).toBe(113);
    expect(log.servers).toEqual(['knc-stream-8qjl7']);
    expect([report.end, report.reset, report.longestStallS, report.stallAtS]).toEqual(['closed', false, 1.65, 26.83]);
    expect(report.bytesIn).toBeGreaterThan(report.bytesOut);
    expect(v).toBe(report);
  });
  it('the same connection fails a tighter stall bound, and with no echo after the last restart', () => {
    const stalled = judge(healthy, 1, 0).v;
    expect(stalled).toBeInstanceOf(CheckFailure);
    expect(ctx(stalled)).toMatchObject({ check: 'disruption.restarts', from, to: `connection svc-1 to ${to}`, expected: 'no stall longer than 1 s' });
    expect(ctx(stalled).seen).toMatch(/^a stall of 1\.65 s from 26\.83 s after it opened \(reset no;/);
    const late = judge(healthy, 5, 1796658014.3).v;
    expect(ctx(late)).toMatchObject({ expected: "echoes after kube-proxy's pods were Ready", seen: expect.stringMatching(/^0 echoes after it/) });
  });
  it('a connection cut by a TCP reset fails, naming it, reset yes', () => {
    const { log, report, v } = judge(cut, 5, 0);
    expect([log.end, report.reset, log.received.length]).toEqual(['cut rc=1', true, 17]);
    expect(ctx(v)).toMatchObject({
      to: `connection svc-1 to ${to}`,
      expected: 'the connection open until the run closed it (no reset)',
      seen: expect.stringMatching(/^cut: cut rc=1 4\.03 s after it opened \(reset yes; 17 echoes/),
    });
  });
  it('a log cut short (no end: the client still running, or its log lost) is no pass; nor is a connect that failed', () => {
    const open = healthy.split('\n').slice(0, 20).join('\n');
    expect(ctx(judge(open, 5, 0).v).seen).toMatch(/^still open/);
    expect(ctx(judge('KNC connect-failed 1796658016.4\n', 5, 0).v)).toMatchObject({ expected: 'a connection that opened', seen: 'the connect failed' });
    expect(ctx(judge('', 5, 0).v).seen).toBe('no "open" in its log');
  });
  it('splits one exec of several logs; reads a new connection', () => {
    const out = `KNC log a\n${cut}KNC eof a\nKNC log b\nKNC open 1.5\nKNC eof b\nKNC now 1796658021.000001\n`;
    const { logs, now } = splitStreamLogs(out);
    expect(Object.keys(logs)).toEqual(['a', 'b']);
    expect(parseStreamLog(logs.a).end).toBe('cut rc=1');
    expect(now).toBe(1796658021.000001);
    const ok = parseNewConn('KNC new ok 1796658030.5 2 knc-stream-7scbz new 1796658030.49\n');
    expect(ok).toEqual({ ok: true, at: 1796658030.5, tries: 2, server: 'knc-stream-7scbz' });
    expect(verifyNewConn('disruption.restarts', from, to, ok, 1796658029, 15, 'x')).toMatch(/1\.5 s after x \(try 2/);
    const none = parseNewConn('KNC new failed 1796658045.1 40\n');
    expect(ctx(verifyNewConn('disruption.restarts', from, to, none, 1796658029, 15, 'x'))).toMatchObject({
      to: `a new connection to ${to}`,
      seen: 'none in 40 tries',
    });
  });
});

// The echo server's sockets as the kernel lists them (stream-echo-listen.txt, captured from the nginx image): the server
// IO::Socket::INET listened in /proc/net/tcp only, so on an IPv6-only cluster every connection to it failed
// ("connect failed", seen live in the IPv6 family matrix, 21:29); the fix listens on "::" for both families.
describe('disruption: the echo server listens in every family', () => {
  const capture = fixtureText('stream-echo-listen.txt');
  const [fixed, before] = capture.split('# the same image, the server before the fix');
  const table = (part: string, file: 'tcp' | 'tcp6') => part.split(`== /proc/net/${file}\n`)[1].split('\n==')[0];
  const ready = (text: string) => text.split('\n').some((l) => new RegExp(LISTEN_ERE).test(l));
  const pod = (
    DISRUPTION_CHECKS[0].setupObjects![0] as {
      spec: { template: { spec: { containers: Array<{ command: string[]; readinessProbe: { exec: { command: string[] } } }> } } };
    }
  ).spec.template.spec.containers[0];
  it('the fixed server holds one socket on the IPv6 wildcard, none in IPv4; the server before it only an IPv4 one', () => {
    expect(table(fixed, 'tcp6')).toMatch(/ 0{32}:1B9E 0{32}:0000 0A /);
    expect(ready(table(fixed, 'tcp'))).toBe(false);
    expect(table(before, 'tcp')).toMatch(/ 00000000:1B9E 00000000:0000 0A /);
    expect(ready(table(before, 'tcp6'))).toBe(false);
  });
  it('the readiness probe finds the listening socket in either table, and nothing in the headers', () => {
    expect(ready(table(fixed, 'tcp6'))).toBe(true);
    expect(ready(table(before, 'tcp'))).toBe(true);
    expect(
      ready(
        capture
          .split('\n')
          .filter((l) => / sl /.test(l))
          .join('\n'),
      ),
    ).toBe(false);
    // an established connection on the port is not a listener
    expect(ready(table(fixed, 'tcp6').replace(':0000 0A ', ':D431 01 '))).toBe(false);
    expect(pod.readinessProbe.exec.command[2]).toBe(`grep -qsE '${LISTEN_ERE}' /proc/net/tcp /proc/net/tcp6`);
  });
  it('the server is started with IO::Socket::IP on "::" (V6Only 0), IPv4 only as the fallback', () => {
    expect(pod.command.slice(0, 3)).toEqual(['perl', '-MIO::Socket::IP', '-e']);
    expect(ECHO).toMatch(/IO::Socket::IP->new\(%o, LocalHost => "::", V6Only => 0\) \|\| IO::Socket::IP->new\(%o, LocalHost => "0\.0\.0\.0"\)/);
  });
});
