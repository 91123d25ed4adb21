// The in-pod "who answers" loop, run for real with the host's sh, timeout, sed and mktemp; only
// `wget` is a stand-in on PATH that plays a Service whose proxy rules change while the loop runs.
import { describe, it, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { useFakeBin } from './fake-bin.js';
import { parseTrafficLoop, trafficLoopProbe } from '../../src/probes/traffic.js';

/**
 * A wget that answers as one of $SERVERS (chosen at random) — or, before $SWITCH_AT (epoch ms),
 * as one of $OLD, where "hang" means it hangs until killed (a rule pointing at a removed pod).
 */
const FAKE_WGET = `#!/bin/sh
out=-; t=2
while [ $# -gt 0 ]; do case "$1" in -O) out=$2; shift ;; -T) t=$2; shift ;; esac; shift; done
[ "$out" = - ] || exec >"$out"
now=$(date +%s%3N)
if [ "$now" -lt "\${SWITCH_AT:-0}" ]; then set -- $OLD; else set -- $SERVERS; fi
shift $(( $(od -An -N2 -tu2 /dev/urandom) % $# ))
# a hang lasts as long as wget's -T allows (busybox wget bounds the connect with it too)
[ "$1" = hang ] && { sleep "$t"; exit 1; }
[ "$1" = refuse ] && exit 1
echo "client=10.244.1.5 server=$1"
`;
const bin = useFakeBin({ wget: FAKE_WGET });

function run(probeArgs: Parameters<typeof trafficLoopProbe>[1], env: Record<string, string>): { out: string; ms: number } {
  const p = trafficLoopProbe('t', probeArgs);
  const t0 = Date.now();
  const out = execFileSync(p.argv[0], p.argv.slice(1), {
    env: { ...process.env, PATH: `${bin.dir()}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { out, ms: Date.now() - t0 };
}

describe('traffic loop', () => {
  it('settles once consecutive good rounds were answered by every wanted server', () => {
    const { out } = run({ url: 'http://10.96.0.10/whoami', requests: 6, want: ['web-a', 'web-b'], deadlineS: 5 }, { SERVERS: 'web-a web-b' });
    const r = parseTrafficLoop(out);
    expect(r.settled).toBe(true);
    expect(r.answers.length % 6).toBe(0);
    expect(r.answers.every((a) => a.rc === 0 && ['web-a', 'web-b'].includes(a.server!) && a.client === '10.244.1.5')).toBe(true);
    expect(new Set(r.answers.map((a) => a.server))).toEqual(new Set(['web-a', 'web-b']));
  });

  it('does not settle on good rounds that leave a wanted server out (a new pod not yet behind the address)', () => {
    const { out } = run({ url: 'http://x/whoami', requests: 4, want: ['web-a', 'web-new'], deadlineS: 1, intervalS: 0.2 }, { SERVERS: 'web-a' });
    const r = parseTrafficLoop(out);
    expect(r.settled).toBe(false);
    expect(r.answers.map((a) => a.server)).toEqual(['web-a', 'web-a', 'web-a', 'web-a']);
  });

  it('a stray answer starts the count again: the settled streak holds no round before it', () => {
    // until the switch, web-old (a removed pod) answers too; afterwards web-a and web-b
    const { out } = run(
      { url: 'http://x/whoami', requests: 6, want: ['web-a', 'web-b'], deadlineS: 6 },
      { OLD: 'web-a web-old', SERVERS: 'web-a web-b', SWITCH_AT: String(Date.now() + 700) },
    );
    const r = parseTrafficLoop(out);
    expect(r.settled).toBe(true);
    expect(r.answers.some((a) => a.server === 'web-old')).toBe(false);
    expect(r.rounds).toBeGreaterThan(1);
  });

  it('does not wait for a round hanging on a removed pod: a later round settles it', () => {
    // for the first 0.6 s half the requests hang (until wget's -T 2 s); then the rules are synced
    const { out, ms } = run(
      { url: 'http://x/whoami', requests: 4, want: ['web-c'], deadlineS: 8 },
      { OLD: 'hang web-c', SERVERS: 'web-c', SWITCH_AT: String(Date.now() + 600) },
    );
    const r = parseTrafficLoop(out);
    expect(r.settled).toBe(true);
    expect(r.round).toBeGreaterThan(1);
    expect(r.answers.map((a) => a.server)).toEqual(['web-c', 'web-c', 'web-c', 'web-c']);
    expect(ms).toBeLessThan(2_000); // before the hanging round's 2 s timeout
  });

  it('ends unsettled at its deadline with the latest finished round as evidence (a stray server keeps answering)', () => {
    const { out } = run({ url: 'http://x/whoami', requests: 8, want: ['web-a'], deadlineS: 1, intervalS: 0.2 }, { SERVERS: 'web-a web-old' });
    const r = parseTrafficLoop(out);
    expect(r.settled).toBe(false);
    expect(r.round).toBeGreaterThan(0);
    expect(r.rounds).toBeGreaterThanOrEqual(r.round);
    expect(r.answers).toHaveLength(8);
    expect(r.answers.some((a) => a.server === 'web-old')).toBe(true);
  });

  it('counts a refused request as unanswered, never as a wanted server', () => {
    const { out } = run({ url: 'http://x/whoami', requests: 3, want: ['web-a'], deadlineS: 1, intervalS: 0.2 }, { SERVERS: 'refuse' });
    const r = parseTrafficLoop(out);
    expect(r.settled).toBe(false);
    expect(r.answers.every((a) => a.rc !== 0 && a.server === undefined)).toBe(true);
  });

  it('refuses a server name that is not shell-safe, and output that is not a loop result', () => {
    expect(() => trafficLoopProbe('t', { url: 'http://x/', requests: 1, want: ['a b'], deadlineS: 1 })).toThrow(/not shell-safe/);
    expect(() => parseTrafficLoop('sh: wget: not found\n')).toThrow(/no traffic-loop result/);
  });
});
