// "Works with the public default probe image" for the HTTP, hold-window, traffic and payload probes,
// shown without a registry (#15 item 3): today's probe scripts run in a container whose PATH holds
// exactly agnhost's tool set (registry.k8s.io/e2e-test-images/agnhost: Alpine's busybox plus
// bind-tools, curl, netcat-openbsd, iproute2, bash; its Dockerfile), the same implementations where
// Debian has them: every applet of the probe image's busybox 1.37 (Debian trixie; its wget -T works,
// as Alpine's does — bookworm's 1.35 segfaults, which is why specs/unit/agnhost-tools.test.ts cannot run
// these on the host), dig/nslookup/host, curl, nc (openbsd), ip, ss, bash, and glibc's getent for
// musl's. The target is the workload's own nginx (its ConfigMap's server block: /whoami, /big/) in
// a container without a network (`--network none`); the probe container joins that namespace, so
// every request goes over its loopback: no packet leaves the two containers.
// Not exact: Alpine builds busybox with its own applet list; Debian's is used here (the tool check,
// src/probes/tools.ts, names every command the probes call, and each is in both).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fanoutArgv, parseFanout, type Probe, type ProbeOutput } from '../../src/probes/batch.js';
import { httpProbe, parseWhoAmI } from '../../src/probes/http.js';
import { PAYLOAD, PAYLOAD_WRITE, payloadProbe } from '../../src/probes/mtu.js';
import { holdProbe, parseHold, parseTrafficLoop, trafficLoopProbe } from '../../src/probes/traffic.js';
import { parseSamples, samplesProbe } from '../../src/probes/window.js';
import { PROBE_TOOLS, parseToolCheck, toolCheckProbe } from '../../src/probes/tools.js';
import { verifyPayload } from '../../src/verdicts/mtu.js';
import { verifyWindow } from '../../src/verdicts/window.js';
import { MANIFESTS_DIR, loadYamlDocs } from '../../src/workload/manifests.js';
import { jestTarget } from '../support/netcheck.js';
import { AGNHOST_PACKAGES } from '../support/agnhost.js';

const tag = `knc-standin-${process.pid}-${Date.now().toString(36)}`;
const NGINX = `${tag}-nginx`;
const PROBE = `${tag}-probe`;
let confDir = '';
const docker = (args: string[]) => execa('docker', args, { timeout: 120_000 });

beforeAll(async () => {
  const { images } = jestTarget();
  // the workload's own nginx server block, as setup gives it to the nginx pods (IPv4 only: no network here)
  const cm = loadYamlDocs(path.join(MANIFESTS_DIR, 'workload/nginx-deployment.yaml')).find((o) => o.kind === 'ConfigMap')!;
  confDir = mkdtempSync(path.join(tmpdir(), 'knc-standin-'));
  writeFileSync(path.join(confDir, 'default.conf'), cm.data!['default.conf'].replace(/^\s*listen \[::\]:80;\n/m, ''));
  await docker(['run', '-d', '--rm', '--name', NGINX, '--hostname', NGINX, '--network', 'none', '-v', `${confDir}:/etc/nginx/conf.d:ro`, images.nginx]);
  await docker(['exec', NGINX, 'sh', '-c', `mkdir -p /usr/share/nginx/big && ${PAYLOAD_WRITE[2]}`]);
  await docker(['run', '-d', '--rm', '--name', PROBE, '--network', `container:${NGINX}`, images.probe, 'sleep', 'infinity']);
  // the stand-in: a directory holding only agnhost's commands
  const links = [
    'mkdir /tmp/standin',
    'for a in $(busybox --list); do ln -s /usr/bin/busybox "/tmp/standin/$a"; done',
    'ln -s /usr/bin/busybox /tmp/standin/busybox',
    ...Object.entries(AGNHOST_PACKAGES).map(([n, t]) => `ln -sf ${t} /tmp/standin/${n}`),
  ].join(' && ');
  await docker(['exec', PROBE, 'sh', '-c', links]);
});

afterAll(async () => {
  // only the two containers this spec started
  await execa('docker', ['rm', '-f', PROBE, NGINX], { reject: false });
  if (confDir) rmSync(confDir, { recursive: true, force: true });
});

/** Runs a fan-out as the exec would (`sh -c <script>`), with PATH holding only the stand-in's commands. */
async function fanout(probes: Probe[]): Promise<Map<string, ProbeOutput>> {
  const [, ...args] = fanoutArgv(probes);
  const res = await execa('docker', ['exec', '-e', 'PATH=/tmp/standin', PROBE, '/tmp/standin/sh', ...args], {
    reject: false,
    timeout: 120_000,
    stripFinalNewline: false,
  });
  return parseFanout(`\n${res.stdout}`, probes);
}

describe("the HTTP probes with exactly agnhost's tools, against the workload's nginx (loopback only)", () => {
  it('the stand-in is what the tool check asks for: nothing missing, and wget is busybox', async () => {
    const [, ...args] = toolCheckProbe().argv;
    const res = await execa('docker', ['exec', '-e', 'PATH=/tmp/standin', PROBE, '/tmp/standin/sh', ...args]);
    expect(parseToolCheck(res.stdout)).toEqual([]);
    const wget = await execa('docker', ['exec', PROBE, 'readlink', '/tmp/standin/wget']);
    expect(wget.stdout).toBe('/usr/bin/busybox');
    expect(PROBE_TOOLS).toEqual(expect.arrayContaining(['wget', 'timeout', 'busybox']));
  });

  it('one fan-out: /whoami (wget -T), a refused port, a hold window with a gate, a hold, the traffic loop and the 1.3 MB payload', async () => {
    const whoami = 'http://127.0.0.1:80/whoami';
    const out = await fanout([
      httpProbe('who', '127.0.0.1', 80, '/whoami'),
      httpProbe('refused', '127.0.0.1', 81, '/whoami', 1),
      samplesProbe('window', { host: '127.0.0.1', port: 80, requests: 6, gateS: 5 }),
      holdProbe('hold', { url: whoami, requests: 8, parallel: 4 }),
      trafficLoopProbe('loop', { url: whoami, requests: 3, want: [NGINX], deadlineS: 10 }),
      payloadProbe('big', '127.0.0.1', 80),
    ]);
    // wget -T answered: the server is the nginx container, the client its loopback
    expect(out.get('who')!.exitCode).toBe(0);
    expect(parseWhoAmI(out.get('who')!.output)).toEqual({ client: '127.0.0.1', server: NGINX });
    // nothing listens on 81: refused, not a pass
    expect(out.get('refused')!.exitCode).not.toBe(0);
    expect(out.get('refused')!.output).toMatch(/refused/i);
    // the window: every one of 6 requests answered by nginx, judged by the verdict the checks use
    const w = verifyWindow('standin', 'probe', whoami, out.get('window')!, { kind: 'answer', requests: 6, want: [NGINX] });
    expect(w).toMatchObject({ answered: 6, unanswered: 0, servers: { [NGINX]: 6 } });
    expect(parseSamples(out.get('window')!.output).gate).toMatchObject({ rc: 0 });
    // the hold: 8 of 8 answered, each framed
    const hold = parseHold(out.get('hold')!.output);
    expect(hold.map((s) => [s.rc, s.server])).toEqual(Array(8).fill([0, NGINX]));
    // the traffic loop settles on consecutive good rounds answered by the one wanted server
    const loop = parseTrafficLoop(out.get('loop')!.output);
    expect(loop.settled).toBe(true);
    expect(loop.answers.every((a) => a.rc === 0 && a.server === NGINX)).toBe(true);
    // the payload: size and sha256 as written (busybox wget into a file, busybox sha256sum)
    expect(verifyPayload('standin', 'probe', 'nginx /big/payload.txt', out.get('big')!, PAYLOAD)).toBeUndefined();
  });

  it('the verdicts fail on what the stand-in sees when the server is gone (not a pass on a dead target)', async () => {
    const out = await fanout([
      samplesProbe('window-gone', { host: '127.0.0.1', port: 81, requests: 3, parallel: 3, timeoutS: 1 }),
      payloadProbe('big-gone', '127.0.0.1', 81, PAYLOAD.path, 2),
    ]);
    const w = verifyWindow('standin', 'probe', '127.0.0.1:81', out.get('window-gone')!, { kind: 'answer', requests: 3, want: [NGINX] });
    expect(w).toMatchObject({ ctx: { check: 'standin', seen: expect.stringMatching(/^\{\}: 3 of 3 unanswered/) } });
    expect(verifyPayload('standin', 'probe', '127.0.0.1:81', out.get('big-gone')!, PAYLOAD)).toMatchObject({ ctx: { check: 'standin' } });
  });
});
