// Converge, then hold (issue 15): the Service data-plane checks' hold window, run for real with the
// host's sh against a stand-in `wget` that plays a ClusterIP with intermittent faults, judged by the
// checks' own verdicts from the catalogue. Each case is one of the weaknesses measured on the old
// "first clean streak" / "any one of 4 requests" verdicts (issue 15, "Why"), which passed them.
import { describe, it, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { useFakeBin } from './fake-bin.js';
import { fanoutArgv, fanoutScript, parseFanout } from '../../src/probes/batch.js';
import { armedProxySyncLine, holdLine, holdProbe, holdRequests, parseHold, parseProxySync, proxySyncProbe, sessionArgv } from '../../src/probes/traffic.js';
import { clockOffsetS, sinceOn } from '../../src/catalogue/services.js';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyHold, verifyHolds, type HoldAsk } from '../../src/verdicts/hold.js';
import { verifyNamedBackends, type NamedBackends } from '../../src/verdicts/endpoints.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import type { ProbeOutput } from '../../src/probes/batch.js';
import type { ProbeRef, RunEnv } from '../../src/workload/setup.js';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { ownedBy } from '../../src/engine/run-suite.js';
import type { Observations } from '../../src/catalogue/types.js';

/**
 * A wget that answers /whoami as one of $SERVERS, chosen at random like kube-proxy's rules. For a
 * server S, $LOSS_S (percent) of its requests fail as $KIND_S says: "timeout" (busybox's message),
 * "noroute" or "refused". Serves the metrics text in $METRICS for a /metrics URL ($METRICS_RC ≠ 0:
 * connection refused; $METRICS_HOST: only a URL holding it is served, the others refused).
 */
const FAKE_WGET = `#!/bin/sh
out=-
while [ $# -gt 0 ]; do case "$1" in -O) out=$2; shift ;; -T) shift ;; -q) ;; *) url=$1 ;; esac; shift; done
[ -z "$WGET_LOG" ] || echo "$url" >>"$WGET_LOG"
case "$url" in
  */healthz)
    [ -n "$HEALTHZ" ] || { echo "wget: can't connect to remote host (127.0.0.1): Connection refused" >&2; exit 1; }
    printf '%s\n' "$HEALTHZ"; exit 0 ;;
  */metrics)
    [ "\${METRICS_RC:-0}" = 0 ] || { echo "wget: can't connect to remote host (127.0.0.1): Connection refused" >&2; exit 1; }
    case "$url" in *"\${METRICS_HOST:-}"*) ;; *) echo "wget: can't connect to remote host: Connection refused" >&2; exit 1 ;; esac
    if [ "$out" = - ]; then printf '%s\\n' "$METRICS"; else printf '%s\\n' "$METRICS" >"$out"; fi
    exit 0 ;;
esac
[ "$out" = - ] || exec >"$out"
set -- $SERVERS
shift $(( $(od -An -N2 -tu2 /dev/urandom) % $# ))
s=$1
eval "loss=\\\${LOSS_$s:-0}; kind=\\\${KIND_$s:-timeout}"
if [ $(( $(od -An -N2 -tu2 /dev/urandom) % 100 )) -lt "$loss" ]; then
  case "$kind" in
    timeout) echo "wget: download timed out" >&2 ;;
    noroute) echo "wget: can't connect to remote host (10.96.0.9): No route to host" >&2 ;;
    *) echo "wget: can't connect to remote host (10.96.0.9): Connection refused" >&2 ;;
  esac
  exit 1
fi
echo "client=10.244.1.5 server=$s"
`;
const bin = useFakeBin({ wget: FAKE_WGET });

function runProbe(p: { id: string; argv: string[] }, env: Record<string, string>): ProbeOutput {
  const t0 = Date.now();
  const output = execFileSync(p.argv[0], p.argv.slice(1), {
    env: { ...process.env, PATH: `${bin.dir()}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { id: p.id, exitCode: 0, output, durationMs: Date.now() - t0, command: p.argv.slice(0, 3).join(' ') };
}

const ref = (pod: string, node: string, hostNetwork = false): ProbeRef => ({
  namespace: 'knc-a',
  pod,
  node,
  ip: hostNetwork ? '172.18.0.3' : '10.244.1.9',
  hostNetwork,
});
const WHAT = 'my-nginx 10.96.0.9:80';
const URL = 'http://10.96.0.9:80/whoami';
const ask = (from: ProbeRef, answeredBy: string[], never: string[] = []): HoldAsk => ({
  from,
  to: { what: WHAT, url: URL },
  expect: { requests: holdRequests(answeredBy.length), answeredBy, never },
});
const hold = (a: HoldAsk, env: Record<string, string>) => runProbe(holdProbe('svc-hold', { url: a.to.url, requests: a.expect.requests }), env);

describe('the hold probe', () => {
  it('sends every request and reports each one, answered or not', () => {
    const out = hold(ask(ref('probe-0', 'w1'), ['weba', 'webb']), { SERVERS: 'weba webb', LOSS_webb: '50' });
    const samples = parseHold(out.output);
    expect(samples).toHaveLength(24);
    expect(samples.map((s) => s.i)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    for (const s of samples) {
      if (s.rc === 0) expect(['weba', 'webb']).toContain(s.server);
      else expect(s.error).toBe('wget: download timed out');
    }
  });
  it('needs at least one request; a cut output is not a hold result', () => {
    expect(() => holdProbe('h', { url: URL, requests: 0 })).toThrow(/at least one request/);
    expect(() => parseHold('KNC hold i=1 rc=0 body=client=1 server=a\n')).toThrow(/no hold result/);
    expect(() => parseHold('KNC hold i=1 rc=0 body=client=1 server=a\nKNC hold done n=2\n')).toThrow(/1 of 2 samples/);
  });
  it('asks enough to reach every endpoint: 16 for one, 24 for two, 40 for three', () => {
    expect([1, 2, 3].map(holdRequests)).toEqual([16, 24, 40]);
  });
});

describe('every sample counts (each passed the old verdicts)', () => {
  const from = ref('node-view-1-kind-worker2', 'kind-worker2', true);
  it('healthy: every request answered, by both pods', () => {
    const a = ask(from, ['weba', 'webb']);
    const r = verifyHold('service.spread', a, hold(a, { SERVERS: 'weba webb' }));
    expect(r.failure).toBeUndefined();
    expect(r.tally!.answered).toBe(24);
    expect(Object.keys(r.tally!.byServer).sort()).toEqual(['weba', 'webb']);
  });
  it('one endpoint of two dropping 50 % of connections from one node fails, with the counts (passed service.spread 8 of 8)', () => {
    const a = ask(from, ['weba', 'webb']);
    const { failure, tally } = verifyHold('service.spread', a, hold(a, { SERVERS: 'weba webb', LOSS_webb: '50' }));
    expect(failure).toBeInstanceOf(CheckFailure);
    const lost = tally!.unanswered['timed out'];
    expect(lost).toBeGreaterThan(0);
    expect(failure!.ctx).toMatchObject({
      check: 'service.spread',
      from: 'node knc-a/node-view-1-kind-worker2 on kind-worker2',
      to: WHAT,
      expected: '24 of 24 requests answered, only by {weba, webb}, each of them at least once',
    });
    expect(failure!.ctx.seen).toContain(`${24 - lost} of 24 answered by a wanted pod`);
    expect(failure!.ctx.seen).toContain(`${lost} unanswered (timed out ${lost})`);
  });
  it('20 % loss on every connection fails (passed 8 of 8)', () => {
    const a = ask(from, ['weba', 'webb']);
    const runs = [1, 2, 3].map(() => verifyHold('service.spread', a, hold(a, { SERVERS: 'weba webb', LOSS_weba: '20', LOSS_webb: '20' })));
    // the stand-in loses at random: a run may lose nothing (0.8^24, about 0.5 %); every run that lost
    // a request must fail, one that lost none must pass, and the 72 requests together lost some
    expect(runs.map((r) => [r.tally!.answered < r.tally!.requests, r.failure !== undefined])).toEqual(
      runs.map((r) => [r.tally!.answered < r.tally!.requests, r.tally!.answered < r.tally!.requests]),
    );
    expect(runs.some((r) => r.failure && r.tally!.answered < 24)).toBe(true);
  });
  it('a node that cannot reach 1 of 2 endpoints fails service.from-nodes (passed 15 of 16)', () => {
    const a = ask(from, ['weba', 'webb']);
    const { failure, tally } = verifyHold('service.from-nodes', a, hold(a, { SERVERS: 'weba webb', LOSS_webb: '100', KIND_webb: 'noroute' }));
    expect(tally!.byServer.webb).toBeUndefined();
    expect(failure!.ctx.seen).toMatch(/unanswered \(no route to host \d+\); never answered by \{webb\}/);
  });
  it('a source whose every answer comes from one of the two pods fails: each wanted pod must answer at least once', () => {
    const a = ask(from, ['weba', 'webb']);
    const { failure } = verifyHold('service.from-pods', a, hold(a, { SERVERS: 'weba' }));
    expect(failure!.ctx.seen).toBe('24 of 24 answered by a wanted pod (weba 24); never answered by {webb}');
  });
  it("a not-Ready pod still in one node's rules answering half the requests fails service.not-ready.traffic (passed 3 of 10)", () => {
    const a = ask(from, ['webb'], ['weba']);
    const { failure, tally } = verifyHold('service.not-ready.traffic', a, hold(a, { SERVERS: 'weba webb' }));
    expect(tally!.byServer.weba).toBeGreaterThan(0);
    expect(failure!.ctx.seen).toMatch(/^\d+ of 16 answered by a wanted pod \(weba \d+, webb \d+\); answered by \{weba\}, which must not answer$/);
  });
  it('a removed pod whose connections go nowhere (a stale rule on one node) fails the change-phase traffic check', () => {
    const a = ask(from, ['webc'], ['weba']);
    const { failure } = verifyHold('service.scaled-1.traffic', a, hold(a, { SERVERS: 'weba webc', LOSS_weba: '100', KIND_weba: 'noroute' }));
    expect(failure!.ctx.seen).toMatch(/^\d+ of 16 answered by a wanted pod \(webc \d+\); \d+ unanswered \(no route to host \d+\)$/);
  });
  it('an exec that failed or an output that is not a hold is never a pass', () => {
    const a = ask(from, ['weba']);
    expect(verifyHold('x', a, new Error('exec timed out')).failure!.ctx.seen).toBe('not run: exec timed out');
    expect(verifyHold('x', a, { id: 'h', exitCode: 127, output: 'sh: wget: not found\n', durationMs: 1, command: 'sh' }).failure!.ctx.seen).toMatch(
      /^not run: exit 127: no hold result/,
    );
    expect(verifyHold('x', ask(from, []), hold(ask(from, ['weba']), { SERVERS: 'weba' })).failure).toBeDefined();
  });
  it('over several sources: the total first, then each failing source by name; no source is a failure', () => {
    const good = ask(ref('probe-0', 'kind-worker'), ['weba', 'webb']);
    const bad1 = ask(ref('probe-1', 'kind-worker2'), ['weba', 'webb']);
    const bad2 = ask(from, ['weba', 'webb']);
    const env = { SERVERS: 'weba webb', LOSS_webb: '100' };
    expect(() => verifyHolds('service.spread', WHAT, [[good, hold(good, env)]])).toThrow(/never answered by \{webb\}/);
    try {
      verifyHolds('service.spread', WHAT, [
        [good, hold(good, { SERVERS: 'weba webb' })],
        [bad1, hold(bad1, env)],
        [bad2, hold(bad2, env)],
      ]);
      throw new Error('it passed');
    } catch (err) {
      const e = err as Error & { failures: CheckFailure[] };
      expect(e.message).toMatch(
        /^\d+ of 72 requests to my-nginx 10\.96\.0\.9:80 answered by a wanted pod from 3 sources; \d+ unanswered; 2 sources failed; 2 failures:/,
      );
      expect(e.failures.map((f) => f.ctx.from)).toEqual(['pod knc-a/probe-1 on kind-worker2', 'node knc-a/node-view-1-kind-worker2 on kind-worker2']);
      // the record the engine writes keeps that total at its head (it used to rebuild the message from the failures alone)
      const rec = ownedBy(err, 'service.scaled-1.traffic') as Error & { failures: CheckFailure[] };
      expect(rec.message.split('\n')[0]).toBe(e.message.split('\n')[0]);
      expect(rec.failures.map((f) => f.ctx.check)).toEqual(['service.scaled-1.traffic', 'service.scaled-1.traffic']);
    }
    // one failing source of several: the total still heads it ("118 of 120 answered; 2 timed out from ...")
    const lossy = ask(ref('probe-2', 'kind-worker2'), ['weba']);
    const fine = [0, 1, 2, 3, 4].map((k) => ask(ref(`probe-ok-${k}`, 'kind-worker'), ['weba']));
    let one: unknown;
    try {
      verifyHolds('service.spread', WHAT, [
        ...fine.map((a): [HoldAsk, ProbeOutput] => [a, hold(a, { SERVERS: 'weba' })]),
        [lossy, hold(lossy, { SERVERS: 'weba', LOSS_weba: '100' })],
      ]);
    } catch (err) {
      one = ownedBy(err, 'service.spread');
    }
    expect((one as Error).message).toMatch(
      /^80 of 96 requests to my-nginx 10\.96\.0\.9:80 answered by a wanted pod from 6 sources; 16 unanswered; 1 source failed; 1 failure:\n\[service\.spread\] from pod knc-a\/probe-2 on kind-worker2 to my-nginx 10\.96\.0\.9:80: .*16 unanswered \(timed out 16\)/,
    );
    expect((one as { failures: CheckFailure[] }).failures.map((f) => f.ctx.seen)).toEqual([
      '0 of 16 answered by a wanted pod (no answer); 16 unanswered (timed out 16); never answered by {weba}',
    ]);
    expect(() => verifyHolds('service.spread', WHAT, [])).toThrow(/expected sources to ask from, saw none/);
    const ev = verifyHolds('service.spread', WHAT, [[good, hold(good, { SERVERS: 'weba webb' })]]);
    expect(ev).toMatchObject({ requests: 24, answered: 24, sources: 1 });
  });
});

describe('the checks judge every sample, and say how many (catalogue verdicts)', () => {
  const defs = new Map(CATALOGUE.map((c) => [c.id, c]));
  const views = [ref('node-view-0-cp', 'cp', true), ref('node-view-1-w1', 'w1', true)];
  const pods = [ref('probe-0-cp', 'cp'), ref('probe-1-w1', 'w1')];
  const other: ProbeRef = { ...ref('probe-0-w1', 'w1'), namespace: 'knc-b' };
  const env = { probes: pods, otherProbe: other, nodeViews: views } as unknown as RunEnv;
  const held = (faulty: string) => ({
    want: ['weba', 'webb'],
    never: [],
    convergedMs: 0,
    pairs: [...pods, other, ...views].map((from) => {
      const a = ask(from, ['weba', 'webb']);
      return [a, hold(a, from.pod === faulty ? { SERVERS: 'weba webb', LOSS_webb: '100', KIND_webb: 'noroute' } : { SERVERS: 'weba webb' })];
    }),
  });
  const verify = (id: string, gathered: unknown) =>
    defs.get(id)!.verify({ env, phase: 'steady', phaseData: {}, gathered } as unknown as Observations) as Record<string, unknown>;
  it('service.from-nodes fails for a node that cannot reach one endpoint; from-pods, judging other sources, passes', () => {
    const h = held('node-view-1-w1');
    expect(() => verify('service.from-nodes', h)).toThrow(
      /\[service\.from-nodes\] from node knc-a\/node-view-1-w1 on w1 to my-nginx 10\.96\.0\.9:80: expected 24 of 24 requests answered/,
    );
    expect(verify('service.from-pods', h)).toMatchObject({ requests: 72, answered: 72, sources: 3, perSource: 24 });
    expect(() => verify('service.spread', h)).toThrow(/never answered by \{webb\}/);
  });
  it('the evidence says how many requests each check sent', () => {
    expect(verify('service.spread', held(''))).toMatchObject({ requests: 120, answered: 120, sources: 5, perSource: 24 });
  });
  it('from-pods and from-nodes put no retried single request into the fan-out any more', () => {
    for (const id of ['service.from-pods', 'service.from-nodes', 'service.spread']) {
      expect(defs.get(id)!.probes).toBeUndefined();
      expect(defs.get(id)!.gather).toBeDefined();
    }
  });
});

describe('change-phase Endpoints name the pods they expect, and the count', () => {
  const b = (over: Partial<NamedBackends>): NamedBackends => ({
    settled: true,
    want: [
      { name: 'web-a', ip: '10.244.1.5', ready: true },
      { name: 'web-b', ip: '10.244.2.6', ready: true },
      { name: 'web-c', ip: '10.244.3.7', ready: true },
    ],
    endpoints: ['10.244.1.5:80', '10.244.2.6:80', '10.244.3.7:80'],
    slices: ['10.244.1.5:80', '10.244.2.6:80', '10.244.3.7:80'],
    names: { '10.244.1.5:80': 'web-a', '10.244.2.6:80': 'web-b', '10.244.3.7:80': 'web-c' },
    waitedMs: 900,
    timeoutMs: 90_000,
    ...over,
  });
  it('"exactly the 3 Ready pods" with 2 Ready pods fails after the settle timeout, naming the pods (the old fallback passed it)', () => {
    const two = ['10.244.1.5:80', '10.244.2.6:80'];
    const f = verifyNamedBackends(
      'service.scaled-3.endpoints',
      'svc/my-nginx',
      b({
        settled: false,
        waitedMs: 90_000,
        want: [...b({}).want.slice(0, 2), { name: 'web-c', ip: '10.244.3.7', ready: false }],
        endpoints: two,
        slices: two,
      }),
      80,
    );
    expect(f.map((x) => x.ctx.expected)).toEqual([
      'pods {web-a, web-b, web-c} Ready',
      'Endpoints = {web-a 10.244.1.5:80, web-b 10.244.2.6:80, web-c 10.244.3.7:80} (3 pods, each Ready)',
      'EndpointSlices (ready) = {web-a 10.244.1.5:80, web-b 10.244.2.6:80, web-c 10.244.3.7:80} (3 pods, each Ready)',
    ]);
    expect(f[1].ctx.seen).toBe('{web-a 10.244.1.5:80, web-b 10.244.2.6:80} (not settled after 90000 ms)');
  });
  it('the change-phase Endpoints check fails on it too (not "Endpoints equal the Ready pods")', () => {
    const def = CATALOGUE.find((c) => c.id === 'service.scaled-3.endpoints')!;
    const two = ['10.244.1.5:80', '10.244.2.6:80'];
    const gathered = b({ settled: false, want: [...b({}).want.slice(0, 2), { name: 'web-c', ip: '10.244.3.7', ready: false }], endpoints: two, slices: two });
    expect(() => def.verify({ gathered } as unknown as Observations)).toThrow(/3 failures/);
    expect(def.verify({ gathered: b({}) } as unknown as Observations)).toMatchObject({ endpoints: b({}).endpoints });
  });
  it('a stray address or a pod without an IP fails; no pod named fails', () => {
    expect(verifyNamedBackends('e', 's', b({ endpoints: [...b({}).endpoints, '10.244.9.9:80'].sort() }), 80).map((x) => x.ctx.seen)).toEqual([
      '{web-a 10.244.1.5:80, web-b 10.244.2.6:80, web-c 10.244.3.7:80, no pod 10.244.9.9:80}',
    ]);
    expect(verifyNamedBackends('e', 's', b({ want: [], endpoints: [], slices: [] }), 80)[0].ctx).toMatchObject({
      expected: 'pods the change names',
      seen: 'none',
    });
    expect(verifyNamedBackends('e', 's', b({ want: [{ name: 'web-a', ready: false }], endpoints: [], slices: [] }), 80)[0].ctx.seen).toBe('not Ready: {web-a}');
  });
});

// as kube-proxy v1.34 prints them: the sync gauges per ip_family, the pending changes without a label
const metrics = (synced: string, queued: string, pending = '0', fam = 'IPv4') =>
  [
    '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced',
    `kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="${fam}"} ${synced}`,
    `kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family="${fam}"} ${queued}`,
    `kubeproxy_sync_proxy_rules_endpoint_changes_pending ${pending}`,
  ].join('\n');

describe("the nodes' proxy rules, waited for by name (kube-proxy's own metrics, read from a node view)", () => {
  const run = (since: number, env: Record<string, string>) => parseProxySync(runProbe(proxySyncProbe('p', since, 1), env).output);
  it('ok once kube-proxy queued a change at or after the EndpointSlice change and synced after it, nothing pending', () => {
    expect(run(1765123456.5, { METRICS: metrics('1.7651234572e+09', '1.765123457e+09') })).toMatchObject({
      state: 'ok',
      synced: 1765123457.2,
      queued: 1765123457,
      pending: 0,
    });
  });
  it('waits (until its deadline, then says what it saw) while the change was not queued, not synced or still pending', () => {
    expect(run(1765123458, { METRICS: metrics('1.7651234572e+09', '1.765123457e+09') })).toMatchObject({ state: 'wait', queued: 1765123457 });
    expect(run(1765123456, { METRICS: metrics('1.765123456e+09', '1.765123457e+09') }).state).toBe('wait');
    expect(run(1765123456, { METRICS: metrics('1.765123458e+09', '1.765123457e+09', '2') })).toMatchObject({ state: 'wait', pending: 2 });
  });
  it("says when kube-proxy's metrics cannot be read, at once", () => {
    expect(run(1, { METRICS: '', METRICS_RC: '1' })).toMatchObject({ state: 'unavailable' });
    expect(run(1, { METRICS: 'nothing here' })).toMatchObject({ state: 'wait', synced: undefined });
  });
  it("judges the proxier of the Service's family: kube-proxy runs an IPv6 one beside, which never queues for an IPv4 Service (seen live)", () => {
    // as read on kube-netcheck-worker (v1.34.4, single-stack IPv4): the IPv6 proxier last queued at start-up
    const live = `${metrics('1.7966480770870576e+09', '1.796648077069942e+09')}\n${metrics('1.7966480627711885e+09', '1.796648062037365e+09', '0', 'IPv6')}`;
    expect(run(1796648070, { METRICS: live })).toMatchObject({ state: 'ok', synced: 1796648077.0870576, queued: 1796648077.069942 });
    const v6 = proxySyncProbe('p', 1796648070, 1, 'IPv6');
    expect(parseProxySync(runProbe(v6, { METRICS: live }).output)).toMatchObject({ state: 'wait', queued: 1796648062.037365 });
  });
  it("reads an IPv6-only node's kube-proxy at [::1]:10249, where it binds its metrics (127.0.0.1 refused; seen live on knc-v6)", () => {
    const v6 = `${metrics('1.7966480627711885e+09', '1.796648062037365e+09', '0', 'IPv6')}`;
    const p = proxySyncProbe('p', 1796648060, 1, 'IPv6');
    expect(parseProxySync(runProbe(p, { METRICS: v6, METRICS_HOST: '[::1]:10249' }).output)).toMatchObject({ state: 'ok', queued: 1796648062.037365 });
    // neither answers: unavailable, naming the first address's error
    expect(parseProxySync(runProbe(p, { METRICS: v6, METRICS_HOST: 'nowhere' }).output)).toMatchObject({ state: 'unavailable' });
  });
});

describe('the session: one exec per source for the run, each command run as its line arrives, nothing before', () => {
  // as kube-proxy v1.34.4 answers /healthz on kube-netcheck-worker (one line)
  const healthz = '{"lastUpdated":"2026-12-07T18:35:03.783522711Z","currentTime":"2026-12-07T18:35:03.661297823Z","nodeEligible":true,"healthy":true}';
  const run = (argv: string[], input: string, env: Record<string, string>) => {
    const log = path.join(mkdtempSync(path.join(tmpdir(), 'knc-armed-')), 'wget.log');
    const output = execFileSync(argv[0], argv.slice(1), {
      input,
      env: { ...process.env, PATH: `${bin.dir()}:${process.env.PATH}`, WGET_LOG: log, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { output, asked: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
  };
  // a command's line with its id, as src/workload/armed.ts ask() sends it
  const line = (command: string, id: string) => command.replace(/^(\S+)/, `$1 ${id}`);
  // one command's output: the lines after the previous command's end line, up to its own
  const outputOf = (out: string, id: string) => {
    const lines = out.split('\n');
    const end = lines.findIndex((l) => l.startsWith(`KNC end ${id} `));
    let from = end - 1;
    while (from >= 0 && !/^KNC end /.test(lines[from])) from--;
    return { text: lines.slice(from + 1, end).join('\n'), end: lines[end] };
  };
  it('a probe pod: each "hold" runs exactly the hold of holdProbe, every request reported, then its end line with the exit code; the next one after it', () => {
    const keep = path.join('/tmp', `knc-hold-test-${process.pid}`);
    const keep2 = `${keep}-2`;
    const input = [line(holdLine({ url: URL, requests: 24 }, keep), 'a1'), line(holdLine({ url: URL, requests: 16 }, keep2), 'b2'), 'stop', ''].join('\n');
    const r = run(sessionArgv(), input, { SERVERS: 'weba webb' });
    const first = outputOf(r.output, 'a1');
    const samples = parseHold(first.text);
    expect(first.end).toBe('KNC end a1 rc=0');
    expect(samples).toHaveLength(24);
    expect(samples.every((x) => x.rc === 0 && ['weba', 'webb'].includes(x.server!))).toBe(true);
    expect(parseHold(outputOf(r.output, 'b2').text)).toHaveLength(16);
    expect(r.output.trim().split('\n').pop()).toBe('KNC released stop');
    expect(r.asked).toEqual(Array(40).fill(URL));
    // each hold's output kept in its file too, for an exec whose stdout was cut short
    expect(parseHold(readFileSync(keep, 'utf8'))).toEqual(samples);
    rmSync(keep);
    rmSync(keep2);
    expect(() => holdLine({ url: URL, requests: 24 }, '/etc/passwd')).toThrow(/under \/tmp/);
    expect(() => holdLine({ url: 'http://x/a b', requests: 24 }, keep)).toThrow(/not a hold a session can run/);
  });
  it('"batch": the fan-out script of its next N lines, run whole (quotes, backslashes, blanks kept), and the session reads on after it', () => {
    const probes = [
      { id: 'q', argv: ['sh', '-c', `printf '%s|\\n' "  a 'b' \\\\ c  "; echo err >&2; exit 3`] },
      { id: 'w', argv: ['wget', '-q', '-O', '-', URL] },
    ];
    const script = fanoutScript(probes).split('\n');
    const input = [`batch f1 ${script.length}`, ...script, line(holdLine({ url: URL, requests: 1 }, `/tmp/knc-batch-${process.pid}`), 'h1'), ''].join('\n');
    const r = run(sessionArgv(), input, { SERVERS: 'weba' });
    const f = outputOf(r.output, 'f1');
    expect(f.end).toBe('KNC end f1 rc=0');
    const out = parseFanout(`${f.text}\n`, probes);
    expect(out.get('q')).toMatchObject({ exitCode: 3, output: `  a 'b' \\ c  |\nerr\n` });
    expect(out.get('w')!.exitCode).toBe(0);
    // exactly what the same fan-out gives in an exec of its own (durations aside)
    const alone = parseFanout(run(fanoutArgv(probes), '', { SERVERS: 'weba' }).output, probes);
    for (const p of probes) expect({ ...out.get(p.id), durationMs: 0 }).toEqual({ ...alone.get(p.id), durationMs: 0 });
    expect(parseHold(outputOf(r.output, 'h1').text)).toHaveLength(1);
    expect(r.output.trim().split('\n').pop()).toBe('KNC released (stdin closed)');
    rmSync(`/tmp/knc-batch-${process.pid}`, { force: true });
  });
  it('"stop", anything else, or stdin closing (the run went away) ends it without a single request', () => {
    for (const [input, said] of [
      ['stop\n', 'KNC released stop'],
      ['go\n', 'KNC released go'],
      ['', 'KNC released (stdin closed)'],
    ]) {
      const r = run(sessionArgv(), input, { SERVERS: 'weba webb' });
      expect(r.output.trim()).toBe(said);
      expect(r.asked).toEqual([]);
      expect(() => parseHold(r.output)).toThrow(/no hold result/);
    }
  });
  it('a node view prints the node\'s clock (kube-proxy\'s /healthz) at once, reads kube-proxy on "sync", and holds only on its line', () => {
    const keep = `/tmp/knc-hold-view-${process.pid}`;
    const sync = armedProxySyncLine(proxySyncProbe('p', 1765123456.5, 1));
    expect(sync).toBe('sync 1765123456.500 1 http://127.0.0.1:10249/metrics IPv4 http://[::1]:10249/metrics');
    const r = run(sessionArgv(true), `${line(sync, 's1')}\n${line(holdLine({ url: URL, requests: 16 }, keep), 'h1')}\n`, {
      SERVERS: 'weba',
      HEALTHZ: healthz,
      METRICS: metrics('1.7651234572e+09', '1.765123457e+09'),
    });
    const lines = r.output.split('\n');
    expect(lines[0]).toBe(`KNC clock ${healthz}`);
    expect(parseProxySync(outputOf(r.output, 's1').text)).toMatchObject({ state: 'ok', queued: 1765123457 });
    expect(parseHold(outputOf(r.output, 'h1').text)).toHaveLength(16);
    expect(r.asked.slice(0, 2)).toEqual(['http://127.0.0.1:10256/healthz', 'http://127.0.0.1:10249/metrics']);
    expect(r.asked.filter((u) => u === URL)).toHaveLength(16);
    expect(lines.filter(Boolean).at(-1)).toBe('KNC released (stdin closed)');
    rmSync(keep, { force: true });
    // no /healthz (no kube-proxy there): an empty clock, the caller falls back to the API's trigger time
    const s = run(sessionArgv(true), 'stop\n', { SERVERS: 'weba' });
    expect(s.output).toBe('KNC clock \nKNC released stop\n');
    expect(s.asked.filter((u) => u === URL)).toEqual([]);
    // only proxy-sync probes, whose arguments carry no blank or quote
    expect(() => armedProxySyncLine(holdProbe('h', { url: URL, requests: 1 }))).toThrow(/not a proxy-sync probe/);
  });
});

describe("when a node's kube-proxy holds the state the API showed last", () => {
  const api = (x: Partial<NamedBackends>): NamedBackends => ({
    settled: true,
    want: [{ name: 'web-a', ip: '10.244.1.5', ready: true }],
    endpoints: ['10.244.1.5:80'],
    slices: ['10.244.1.5:80'],
    names: {},
    waitedMs: 900,
    timeoutMs: 90_000,
    ...x,
  });
  it("the node's clock: /healthz currentTime minus the line's arrival (a lower bound); none without it", () => {
    const line = { text: 'KNC clock {"lastUpdated":"x","currentTime":"2026-12-07T18:35:03.661297823Z"}', atMs: Date.parse('2026-12-07T18:35:03.611Z') };
    expect(clockOffsetS(line)).toBeCloseTo(0.05, 3);
    expect(clockOffsetS({ text: 'KNC clock ', atMs: 1 })).toBeUndefined();
    expect(clockOffsetS(undefined)).toBeUndefined();
  });
  it('an earlier write of the same change does not pass for the last one: the trigger time has whole seconds, the polls bound it finer', () => {
    // pod A Ready at :07.2 and pod B at :07.8 both carry the trigger time :07; the poll at :07.6 still saw B not Ready
    const b = api({ triggerS: 1765123447, writtenAfterS: 1765123447.6 });
    expect(sinceOn(b, 1765123445.1, 0)).toBe(1765123447.6);
    // on the node's clock, 2 s ahead of the run's
    expect(sinceOn(b, 1765123445.1, 2)).toBeCloseTo(1765123449.6, 6);
    // a removed pod gives no trigger time: the run's own change bounds it
    expect(sinceOn(api({}), 1765123445.1, 0)).toBe(1765123445.1);
    // no clock from the node: the API's trigger time only (the cluster's clock), never the run's
    expect(sinceOn(b, 1765123445.1, undefined)).toBe(1765123447);
    expect(sinceOn(api({}), undefined, undefined)).toBeUndefined();
  });
});
