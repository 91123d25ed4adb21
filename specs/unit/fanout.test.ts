// The fan-out: script generation, and parsing the framed stdout of two real fan-outs run with
// `kubectl exec <pod> -- sh -c "$script"` in the kind cluster (46 probes in a probe pod, 2 in a
// hostNetwork pod).
import { describe, it, expect } from '@jest/globals';
import { fanoutArgv, fanoutScript, parseFanout, shq, type Probe } from '../../src/probes/batch.js';
import { digProbe, getentProbe, nslookupProbe } from '../../src/probes/dns.js';
import { httpProbe } from '../../src/probes/http.js';
import { buildMatrix } from '../../src/verdicts/dns-matrix.js';
import { CAPTURE, capturedFanout, captured } from './fixture-files.js';

const { dnsIP, webClusterIP, webPodIP, whoamiPodIP, unheldIP } = CAPTURE;
const fqdn = (svc: string) => `${svc}.knc-fixtures.svc.cluster.local`;

/** The probe list of the captured probe-pod fan-out, rebuilt with today's builders. */
function probePodProbes(): Probe[] {
  const matrix = buildMatrix(
    [
      { service: 'web', namespace: 'knc-fixtures', clusterIP: webClusterIP },
      { service: 'kube-dns', namespace: 'kube-system', clusterIP: dnsIP },
    ],
    ['knc-fixtures'],
    'cluster.local',
  );
  return [
    { id: 'resolv', argv: ['cat', '/etc/resolv.conf'] },
    ...matrix.flatMap((c) => [
      digProbe(`udp-${c.id}`, c.name, { search: true, transport: 'udp' }),
      digProbe(`tcp-${c.id}`, c.name, { search: true, transport: 'tcp' }),
      getentProbe(`libc-${c.id}`, c.name),
      nslookupProbe(`bb-${c.id}`, c.name),
    ]),
    digProbe('ptr-web', webClusterIP, { type: 'PTR', server: dnsIP }),
    digProbe('ptr-dns', dnsIP, { type: 'PTR', server: dnsIP }),
    digProbe('headless', fqdn('web-headless'), { server: dnsIP }),
    digProbe('srv', `_http._tcp.${fqdn('web-headless')}`, { type: 'SRV', server: dnsIP }),
    digProbe('srv-clusterip', `_http._tcp.${fqdn('web')}`, { type: 'SRV', server: dnsIP }),
    digProbe('nx', 'no-such-svc.knc-fixtures', { search: true }),
    getentProbe('nx-libc', 'no-such-svc.knc-fixtures'),
    digProbe('dig-unheld', fqdn('web'), { server: unheldIP, timeoutS: 1 }),
    httpProbe('page', webClusterIP, 80),
    httpProbe('page-404', webClusterIP, 80, '/nope'),
    httpProbe('whoami', whoamiPodIP, 80, '/whoami'),
    httpProbe('refused', webPodIP, 81),
    httpProbe('unheld', unheldIP, 80, '/', 1),
  ];
}

describe('shq', () => {
  it('single-quotes for POSIX sh, including embedded single quotes', () => {
    expect(shq('web')).toBe("'web'");
    expect(shq('')).toBe("''");
    expect(shq("it's")).toBe(`'it'\\''s'`);
    expect(shq('$(id) `x` "y"')).toBe(`'$(id) \`x\` "y"'`);
  });
});

describe('fanoutScript / fanoutArgv', () => {
  it("today's builders still generate the probes that produced the fixtures", () => {
    // captured before the libc probe gained its `getent hosts` fallback (musl) and the clock moved
    // to /proc/uptime (busybox date has no %N): the framing and every probe's output are unchanged
    // (glibc getent ahostsv4 answers first); specs/unit/agnhost-tools.test.ts runs today's script
    const probe = capturedFanout('probe');
    const legacy = (p: Probe): Probe =>
      p.argv.includes('getent') && p.argv[4] === 'sh' ? { id: p.id, argv: [...p.argv.slice(0, 4), 'getent', 'ahostsv4', p.argv.at(-1)!] } : p;
    expect(probePodProbes().map(legacy)).toEqual(probe.probes);
    const legacyScript = (ps: Probe[]) =>
      fanoutScript(ps.map(legacy)).replace('now() { read -r u _ </proc/uptime; echo "${u%.*}${u#*.}0"; }', 'now() { date +%s%3N; }');
    expect(legacyScript(probePodProbes())).toBe(probe.script);
    const nodeView = capturedFanout('node-view');
    expect(legacyScript(nodeView.probes)).toBe(nodeView.script);
  });

  it('runs every probe in the background, waits, then prints framed records in probe order', () => {
    const s = fanoutScript([
      { id: 'a', argv: ['echo', "it's"] },
      { id: 'b', argv: ['true'] },
    ]);
    const lines = s.split('\n');
    expect(lines[0]).toBe('d=$(mktemp -d) || exit 97');
    expect(lines[2]).toBe(`( s=$(now); 'echo' 'it'\\''s' >"$d/0" 2>&1; r=$?; e=$(now); echo "$r $((e-s))" >"$d/0.rc" ) &`);
    expect(lines[4]).toBe('wait');
    expect(lines[5]).toContain("KNC-PROBE BEGIN %s %s\\n' 'a'");
    expect(lines[6]).toContain("KNC-PROBE END %s\\n' 'b'");
    expect(lines.at(-1)).toBe('rm -rf "$d"');
    expect(fanoutArgv([{ id: 'a', argv: ['true'] }])).toEqual(['sh', '-c', fanoutScript([{ id: 'a', argv: ['true'] }])]);
  });

  it('rejects ids that are not shell-safe and duplicate ids', () => {
    expect(() => fanoutScript([{ id: 'a b', argv: ['true'] }])).toThrow(/probe id not shell-safe: a b/);
    expect(() => fanoutScript([{ id: "x'y", argv: ['true'] }])).toThrow(/not shell-safe/);
    expect(() =>
      fanoutScript([
        { id: 'a', argv: ['true'] },
        { id: 'a', argv: ['false'] },
      ]),
    ).toThrow(/duplicate probe id: a/);
  });
});

describe('parseFanout on the real probe-pod fan-out (46 probes, one exec)', () => {
  const f = capturedFanout('probe');
  const out = parseFanout(f.stdout, f.probes);

  it('the exec exited 0 and every probe came back once, with its command', () => {
    expect(f.exitCode).toBe(0);
    expect(out.size).toBe(46);
    expect([...out.keys()]).toEqual(f.probes.map((p) => p.id));
    for (const p of f.probes) {
      const o = out.get(p.id)!;
      expect(o.id).toBe(p.id);
      expect(o.command).toBe(p.argv.join(' '));
      expect(Number.isInteger(o.durationMs)).toBe(true);
      expect(o.durationMs).toBeGreaterThanOrEqual(0);
      expect(o.durationMs).toBeLessThan(5000);
    }
  });

  it('exit codes per probe are the real ones', () => {
    const codes = Object.fromEntries([...out].map(([id, o]) => [id, o.exitCode]));
    expect(codes).toMatchObject({
      resolv: 0,
      'udp-f0t0n0': 0,
      'tcp-f0t0n0': 0,
      'libc-f0t0n0': 0,
      // busybox nslookup exits 1 when any of its search-path queries was NXDOMAIN, even with an answer
      'bb-f0t0n0': 1,
      'bb-f0t0n3': 0,
      'udp-f0t1n0': 0,
      'libc-f0t1n0': 2,
      nx: 0,
      'nx-libc': 2,
      'dig-unheld': 9,
      page: 0,
      'page-404': 1,
      whoami: 0,
      refused: 1,
      unheld: 1,
    });
  });

  it("a record's output is the probe's output byte for byte (stdout+stderr), e.g. resolv.conf and wget errors", () => {
    expect(out.get('resolv')!.output).toBe(captured('resolv-conf-probe').stdout);
    expect(out.get('refused')!.output).toBe(`wget: can't connect to remote host (${webPodIP}): Connection refused\n`);
    expect(out.get('whoami')!.output).toBe(`client=${CAPTURE.probePodIP} server=whoami\n`);
  });

  it('an empty output (getent not found) is the empty string', () => {
    expect(out.get('nx-libc')).toMatchObject({ exitCode: 2, output: '' });
  });

  it('the timed-out probes took about their timeout, the others far less', () => {
    expect(out.get('dig-unheld')!.durationMs).toBeGreaterThanOrEqual(900);
    expect(out.get('unheld')!.durationMs).toBeGreaterThanOrEqual(900);
    expect(out.get('page')!.durationMs).toBeLessThan(900);
  });

  it('throws listing every missing probe, with the raw output', () => {
    const extra: Probe[] = [...f.probes, { id: 'never-ran', argv: ['true'] }, { id: 'also-missing', argv: ['true'] }];
    expect(() => parseFanout(f.stdout, extra)).toThrow(/fan-out output lacks probes \[never-ran, also-missing\]; raw output: \nKNC-PROBE BEGIN resolv 0 /);
  });

  it('ignores records of probes it was not asked about', () => {
    const only = parseFanout(
      f.stdout,
      f.probes.filter((p) => p.id === 'page'),
    );
    expect([...only.keys()]).toEqual(['page']);
  });

  it('a truncated stream (exec cut mid-record) loses the cut record', () => {
    const cut = f.stdout.slice(0, f.stdout.indexOf('\nKNC-PROBE END unheld'));
    expect(() => parseFanout(cut, f.probes)).toThrow(/lacks probes \[unheld\]/);
  });
});

describe('parseFanout on the real hostNetwork fan-out', () => {
  it('returns resolv.conf and ip -o addr show exactly as run standalone', () => {
    const f = capturedFanout('node-view');
    const out = parseFanout(f.stdout, f.probes);
    expect(out.get('resolv')).toMatchObject({ exitCode: 0, output: captured('resolv-conf-node-view').stdout, command: 'cat /etc/resolv.conf' });
    expect(out.get('addrs')).toMatchObject({ exitCode: 0, output: captured('ip-addr-node-view').stdout, command: 'ip -o addr show' });
  });
});

describe('parseFanout framing edge cases', () => {
  const probes: Probe[] = [
    { id: 'a', argv: ['x'] },
    { id: 'a.b', argv: ['y'] },
  ];
  it('keeps output without a trailing newline, negative durations and ids that prefix each other apart', () => {
    const stdout = '\nKNC-PROBE BEGIN a 0 -3\nno newline\nKNC-PROBE END a\n\nKNC-PROBE BEGIN a.b 137 2001\nline\n\nKNC-PROBE END a.b\n';
    const out = parseFanout(stdout, probes);
    expect(out.get('a')).toEqual({ id: 'a', exitCode: 0, durationMs: -3, output: 'no newline', command: 'x' });
    expect(out.get('a.b')).toEqual({ id: 'a.b', exitCode: 137, durationMs: 2001, output: 'line\n', command: 'y' });
  });
});
