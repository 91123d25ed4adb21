// Probes asked again while nothing answers (a ClusterIP whose proxy rules trail its Endpoints),
// run for real with the host's sh; `wget` is a stand-in on PATH that fails its first $FAILS calls.
import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { useFakeBin } from './fake-bin.js';
import { httpProbe, retrying } from '../../src/probes/http.js';
import { parsePayload, payloadProbe } from '../../src/probes/mtu.js';
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

describe('payloadProbe attempts', () => {
  it('tries again while nothing arrived, then reports the payload and the attempt', () => {
    const r = run(payloadProbe('b', '10.96.0.9', 80, '/big/payload.txt', 1, 4), { FAILS: '1', BODY: 'x' });
    const p = parsePayload(r.out);
    expect(p).toMatchObject({ wgetExit: 0, bytes: 2 });
    expect(r.out).toMatch(/^KNC attempts=2$/m);
  });
  it('never tries again once anything arrived (a transfer cut short is the failure to see)', () => {
    const r = run(payloadProbe('b', '10.96.0.9', 80, '/big/payload.txt', 1, 4), { FAILS: '9', PARTIAL: '1' });
    const p = parsePayload(r.out);
    expect(p).toMatchObject({ wgetExit: 1, bytes: 7 });
    expect(r.out).not.toMatch(/KNC attempts=/);
  });
  it('is one attempt by default', () => {
    const r = run(payloadProbe('b', '10.96.0.9', 80, '/big/payload.txt', 1), { FAILS: '9' });
    expect(parsePayload(r.out)).toMatchObject({ wgetExit: 1, bytes: 0 });
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
