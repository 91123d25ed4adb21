// "Works with the public default probe image" shown here without a registry: today's probe scripts
// run against a stand-in with exactly agnhost's tool set (registry.k8s.io/e2e-test-images/agnhost,
// its Dockerfile: Alpine + bind-tools, curl, netcat-openbsd, iproute2, bash): a PATH holding only
// those commands, the same implementations where Debian has them — every busybox applet from
// Debian's busybox package (Alpine's sh, wget, ping, timeout, awk … are busybox), dig and nslookup
// from bind9-dnsutils, ip and ss from iproute2, curl, nc from netcat-openbsd, bash. musl's getent is
// not packaged in Debian: glibc's stands in (the probe asks `ahostsv4` and falls back to `hosts`).
// The target is local: a DNS server of this test on 127.0.0.1.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execa } from 'execa';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fanoutArgv, parseFanout, type Probe } from '../../src/probes/batch.js';
import { aRecords, digProbe, getentProbe, parseDig, parseGetent } from '../../src/probes/dns.js';
import { retrying } from '../../src/probes/http.js';
import { parseSamples, sampled } from '../../src/probes/samples.js';
import { PROBE_TOOLS, parseToolCheck, toolCheckProbe } from '../../src/probes/tools.js';
import { AGNHOST_PACKAGES } from '../support/agnhost.js';

const BUSYBOX = '/usr/bin/busybox';
/** jessie-dnsutils (the old default): a Debian base (coreutils, grep, mawk, libc-bin) plus dnsutils. */
const JESSIE = [
  'sh',
  'cat',
  'mktemp',
  'mkdir',
  'rmdir',
  'rm',
  'sleep',
  'date',
  'wc',
  'sha256sum',
  'cut',
  'timeout',
  'grep',
  'awk',
  'getent',
  'dig',
  'nslookup',
];

function standIn(tools: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'knc-standin-'));
  for (const [name, target] of Object.entries(tools)) symlinkSync(target, path.join(dir, name));
  return dir;
}
const which = (t: string) => ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => path.join(d, t)).find((p) => existsSync(p))!;

let agnhost = '';
let jessie = '';
let dns: dgram.Socket;
let dnsPort = 0;

beforeAll(async () => {
  const applets = (await execa(BUSYBOX, ['--list'])).stdout.split('\n').filter(Boolean);
  agnhost = standIn({ ...Object.fromEntries(applets.map((a) => [a, BUSYBOX])), busybox: BUSYBOX, ...AGNHOST_PACKAGES });
  jessie = standIn(Object.fromEntries(JESSIE.map((t) => [t, which(t === 'sh' ? 'dash' : t === 'awk' ? 'mawk' : t)])));
  // a DNS server of the cluster's kind: my-nginx.ns.svc.cluster.local A 10.96.0.99, every other name NXDOMAIN
  dns = dgram.createSocket('udp4');
  dns.on('message', (q, rinfo) => {
    const labels: string[] = [];
    for (let i = 12; q[i]; i += q[i] + 1) labels.push(q.subarray(i + 1, i + 1 + q[i]).toString());
    const qEnd = 12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4;
    const hit = labels.join('.') === 'my-nginx.ns.svc.cluster.local' && q.readUInt16BE(qEnd - 4) === 1;
    const head = Buffer.from(q.subarray(0, 12));
    head.writeUInt16BE(0x8400 | (q.readUInt16BE(2) & 0x0100) | (hit ? 0 : 3), 2); // QR AA RD, NOERROR / NXDOMAIN
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(hit ? 1 : 0, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    const answer = hit ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 99]) : Buffer.alloc(0);
    dns.send(Buffer.concat([head, q.subarray(12, qEnd), answer]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  dnsPort = dns.address().port;
});
afterAll(async () => {
  for (const d of [agnhost, jessie]) if (d) rmSync(d, { recursive: true, force: true });
  dns?.close();
});

/** Runs a fan-out as the exec would (`sh -c <script>`), with PATH holding only the stand-in's commands. */
async function fanout(dir: string, probes: Probe[]) {
  const [, ...args] = fanoutArgv(probes);
  const res = await execa(path.join(dir, 'sh'), args, { env: { PATH: dir }, extendEnv: false, reject: false, timeout: 60_000, stripFinalNewline: false });
  return parseFanout(`\n${res.stdout}`, probes);
}

describe('the tool check (one exec asks the probe image for every command the probes call)', () => {
  it("agnhost's tool set has every one", async () => {
    const [, ...args] = toolCheckProbe().argv;
    const res = await execa(path.join(agnhost, 'sh'), args, { env: { PATH: agnhost }, extendEnv: false });
    expect(parseToolCheck(res.stdout)).toEqual([]);
  });
  it('jessie-dnsutils (the old default) lacks busybox, wget, ip and ping, and the check names them', async () => {
    const [, ...args] = toolCheckProbe().argv;
    const res = await execa(path.join(jessie, 'sh'), args, { env: { PATH: jessie }, extendEnv: false });
    expect(parseToolCheck(res.stdout)).toEqual(['busybox', 'wget', 'ip', 'ping']);
    expect(PROBE_TOOLS).toContain('wget');
  });
  it('output that is not a tool check (the exec failed) is not read as "nothing missing"', () => {
    expect(parseToolCheck('sh: not found')).toBeUndefined();
  });
});

describe("today's probes with exactly agnhost's tools (busybox sh/timeout, bind dig, getent)", () => {
  // Not here: the HTTP probes (wget -T). Debian bookworm's busybox 1.35 wget segfaults whenever -T
  // is given (exit 139, also outside any probe); Alpine's and Debian trixie's busybox do not.
  it('the fan-out frames every probe and times it (busybox date has no %N: /proc/uptime); dig and libc answer', async () => {
    const withPort = (p: Probe): Probe => ({ ...p, argv: [...p.argv, '-p', String(dnsPort)] });
    const out = await fanout(agnhost, [
      withPort(digProbe('dig', 'my-nginx.ns.svc.cluster.local', { server: '127.0.0.1' })),
      withPort(digProbe('dig-tcp-refused', 'my-nginx.ns.svc.cluster.local', { server: '127.0.0.1', transport: 'tcp', timeoutS: 1 })),
      withPort(digProbe('nx', 'my-nginx.other.svc.cluster.local', { server: '127.0.0.1' })),
      getentProbe('libc', 'localhost'),
      retrying({ id: 'retried', argv: ['sh', '-c', 'exit 3'] }, 3, 0.2),
    ]);
    const d = parseDig(out.get('dig')!.output);
    expect([d.status, aRecords(d), d.server]).toEqual(['NOERROR', ['10.96.0.99'], '127.0.0.1']);
    expect(parseDig(out.get('dig-tcp-refused')!.output).status).toBe('REFUSED-CONNECTION');
    expect(parseDig(out.get('nx')!.output).status).toBe('NXDOMAIN');
    expect(parseGetent(out.get('libc')!.output, out.get('libc')!.exitCode)).toMatchObject({ found: true, addresses: ['127.0.0.1'] });
    expect(out.get('retried')).toMatchObject({ exitCode: 3, output: '\n(attempt 3 of 3)\n' });
    // 2 gaps of 0.2 s: the clock counts in 10 ms steps
    expect(out.get('retried')!.durationMs).toBeGreaterThanOrEqual(390);
    expect(out.get('retried')!.durationMs).toBeLessThan(5_000);
  });
  it("the grader's hold window (every sample framed and timed) runs with busybox date, which has no %N", async () => {
    // before: `date +%s%3N` printed "…%3N" here and the sample's $((e - s)) was a syntax error
    const out = await fanout(agnhost, [sampled({ id: 'held', argv: ['sh', '-c', 'echo ok'] }, { samples: 3, gapS: 0.1 })]);
    const samples = parseSamples(out.get('held')!);
    expect(samples.map((s) => [s.exitCode, s.output])).toEqual([
      [0, 'ok'],
      [0, 'ok'],
      [0, 'ok'],
    ]);
    for (const s of samples) expect(Number.isInteger(s.durationMs) && s.durationMs >= 0).toBe(true);
  });
});
