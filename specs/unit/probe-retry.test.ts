// Probes asked again while nothing answers (a ClusterIP whose proxy rules trail its Endpoints),
// run for real with the host's sh; `wget` is a stand-in on PATH that fails its first $FAILS calls.
import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { useFakeBin } from './fake-bin.js';
import { httpProbe, retrying } from '../../src/probes/http.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { svcPayloadAsk, verifySvcPayloads } from '../../src/catalogue/mtu.js';
import type { SteadyConvergence } from '../../src/catalogue/services.js';
import type { ProbeOutput } from '../../src/probes/batch.js';
import type { ProbeRef, RunEnv } from '../../src/workload/setup.js';
import type { Probe } from '../../src/probes/batch.js';

/** Fails ($PARTIAL: after writing a few bytes) its first $FAILS calls, then serves $BODY. */
const FAKE_WGET = `#!/bin/sh
out=-
while [ $# -gt 0 ]; do case "$1" in -O) out=$2; shift ;; esac; shift; done
n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$COUNT"
if [ "$n" -le "$FAILS" ]; then
  [ -n "$PARTIAL" ] && [ "$out" != - ] && printf 'partial' >"$out"
  echo "wget: can't connect to remote host (10.96.0.9): No route to host" >&2; exit 1
fi
if [ "$out" = - ]; then printf '%s\\n' "$BODY"; else printf '%s\\n' "$BODY" >"$out"; fi
`;
/** A dig whose first $FAILS answers hold one A record, later ones two (the cluster DNS catching up). */
const FAKE_DIG = `#!/bin/sh
n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$COUNT"
echo ";; ANSWER SECTION:"
echo "web.ns.svc.cluster.local. 30 IN A 10.244.1.5"
[ "$n" -le "$FAILS" ] || echo "web.ns.svc.cluster.local. 30 IN A 10.244.2.7"
echo ";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)"
`;
const bin = useFakeBin({ wget: FAKE_WGET, dig: FAKE_DIG });

function run(p: Probe, env: Record<string, string>) {
  const r = spawnSync(p.argv[0], p.argv.slice(1), {
    env: {
      ...process.env,
      PATH: `${bin.dir()}:${process.env.PATH}`,
      COUNT: path.join(bin.dir(), `count-${Math.random()}`),
      BODY: '<title>Welcome to nginx!</title>',
      FAILS: '0',
      PARTIAL: '',
      ...env,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { out: `${r.stdout}${r.stderr}`, code: r.status };
}

describe('retrying(httpProbe)', () => {
  it('answers on the first attempt without saying so', () => {
    const r = run(retrying(httpProbe('p', '10.96.0.9', 80)), {});
    expect(r.code).toBe(0);
    expect(r.out).toBe('<title>Welcome to nginx!</title>\n');
  });
  it('asks again after a failure and says which attempt answered', () => {
    const r = run(retrying(httpProbe('p', '10.96.0.9', 80), 4, 0.1), { FAILS: '2' });
    expect(r.code).toBe(0);
    expect(r.out).toBe('<title>Welcome to nginx!</title>\n(attempt 3 of 4)\n');
  });
  it('gives up after its attempts with the last error and exit code', () => {
    const r = run(retrying(httpProbe('p', '10.96.0.9', 80), 3, 0.1), { FAILS: '9' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^wget: can't connect to remote host \(10\.96\.0\.9\): No route to host\n\(attempt 3 of 3\)\n$/);
  });
});

describe('mtu.payload-cluster-ip: converge, then every fetch counts (no retry)', () => {
  // the stand-in fails its first call as a ClusterIP whose rules trail its Endpoints did once
  // ("No route to host" right after setup); d544694 asked again up to 4 times, which passed it
  const env = { nginxServiceIP: '10.96.0.9' } as unknown as RunEnv;
  const from: ProbeRef = { namespace: 'knc-a', pod: 'probe-1-w1', node: 'w1', ip: '10.244.1.9', hostNetwork: false };
  const converged = (over: Partial<SteadyConvergence> = {}): SteadyConvergence => ({
    want: ['web-a', 'web-b'],
    api: { settled: true, want: [], endpoints: [], slices: [], names: {}, waitedMs: 40, timeoutMs: 15_000 },
    proxy: { state: 'ok', waitedMs: 300, nodes: [] },
    convergedMs: 340,
    ...over,
  });
  const fetch = (env2: Record<string, string>): ProbeOutput => {
    const p = svcPayloadAsk(env, from).probe;
    const r = run(p, env2);
    return { id: p.id, exitCode: r.code ?? -1, output: r.out, durationMs: 5, command: p.argv.join(' ') };
  };
  it('a first fetch that found no route fails the check: it is one fetch, asked after the convergence', () => {
    expect(() =>
      verifySvcPayloads(env, { converged: converged(), answers: [{ ask: svcPayloadAsk(env, from), out: fetch({ FAILS: '1', BODY: 'x' }) }], errors: [] }),
    ).toThrow(
      /\[mtu\.payload-cluster-ip\] from pod knc-a\/probe-1-w1 on w1 to my-nginx 10\.96\.0\.9:80\/big\/payload\.txt: .*0 of \d+ bytes arrived, wget exit 1/,
    );
  });
  it('never asks twice, whatever the first fetch saw', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'knc-count-'));
    const count = path.join(dir, 'n');
    run(svcPayloadAsk(env, from).probe, { FAILS: '9', COUNT: count });
    expect(readFileSync(count, 'utf8').trim()).toBe('1');
  });
  it('a convergence that did not come fails, naming what was awaited; nothing is asked then', () => {
    const c = converged({ proxy: { state: 'timeout', waitedMs: 10_000, nodes: [{ node: 'w1', sync: { state: 'wait', pending: 2, line: 'wait' } }] } });
    expect(() => verifySvcPayloads(env, { converged: c, answers: [], errors: [] })).toThrow(
      /expected kube-proxy on every node to sync its rules .* saw after 10000 ms: w1: not synced/,
    );
  });
});

describe('retrying(…, until)', () => {
  const twoA = `[ "$(printf '%s\\n' "$out" | grep -cE '[[:space:]]IN[[:space:]]+A[[:space:]]')" -eq 2 ]`;
  it('asks again until the test on the output holds (a record the cluster DNS did not have yet)', () => {
    const r = run(retrying({ id: 'd', argv: ['dig', 'web.ns.svc.cluster.local'] }, 4, 0.1, twoA), { FAILS: '2' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/IN A 10\.244\.2\.7\n[\s\S]*\(attempt 3 of 4\)\n$/);
  });
  it('keeps the last answer when the test never holds', () => {
    const r = run(retrying({ id: 'd', argv: ['dig', 'web.ns.svc.cluster.local'] }, 2, 0.1, twoA), { FAILS: '9' });
    expect(r.out).not.toMatch(/10\.244\.2\.7/);
    expect(r.out).toMatch(/\(attempt 2 of 2\)\n$/);
  });
});
