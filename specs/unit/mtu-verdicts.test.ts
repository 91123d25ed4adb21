// MTU probes and verdicts (src/probes/mtu.ts, src/verdicts/mtu.ts) on fan-outs captured from the live
// kind cluster (specs/unit/fixtures/README-mtu-policy.md): the interface holding the pod IP and its
// MTU, DF pings of exactly the MTU and one byte more, the large body intact / timed out under a
// path-MTU black hole / refused / 404.
import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { parseFanout, type Probe, type ProbeOutput } from '../../src/probes/batch.js';
import { PAYLOAD, dfPingProbe, parseDfPing, parseIfaceMtu, parsePayload, payloadProbe, payloadText } from '../../src/probes/mtu.js';
import { payloadOutcome, verifyDfPing, verifyPayload, verifyPodMtu } from '../../src/verdicts/mtu.js';
import { CheckFailure } from '../../src/verdicts/failure.js';
import { fixtureText } from './fixture-files.js';

function fan(name: string): Map<string, ProbeOutput> {
  return parseFanout(fixtureText(`fanout-${name}.stdout.txt`), JSON.parse(fixtureText(`fanout-${name}.probes.json`)) as Probe[]);
}
const probe = fan('mtu-probe');
const view = fan('mtu-node-view');
const hole = fan('mtu-blackhole');
const meta = JSON.parse(fixtureText('fanout-mtu-probe.json')) as { podIP: string; pod: string };
const FROM = `pod ${meta.pod} on kube-netcheck-worker`;
const TO = 'my-nginx-5676675fdb-75fx6 10.244.2.40:80 on kube-netcheck-worker2/big/payload.txt';

describe('the pod interface and its MTU', () => {
  it('finds the interface that holds the pod IP (eth0 in a pod) and its MTU from ip -o link', () => {
    expect(parseIfaceMtu(probe.get('mtu-addr')!.output, probe.get('mtu-link')!.output, meta.podIP)).toEqual({ dev: 'eth0', mtu: 1500 });
  });
  it('does not assume eth0: on a node the pod gateway address is held by cni0', () => {
    expect(parseIfaceMtu(view.get('mtu-addr')!.output, view.get('mtu-link')!.output, '10.244.1.1')).toEqual({ dev: 'cni0', mtu: 1500 });
    expect(parseIfaceMtu(view.get('mtu-addr')!.output, view.get('mtu-link')!.output, '172.18.0.4')).toEqual({ dev: 'eth0', mtu: 1500 });
  });
  it('an address no interface holds: a failure naming the address list', () => {
    const x = verifyPodMtu('mtu-pod-interface', FROM, '10.244.9.9', probe.get('mtu-addr')!, probe.get('mtu-link')!);
    expect(x).toBeInstanceOf(CheckFailure);
    expect((x as CheckFailure).message.split('\n')[0]).toMatch(
      /^\[mtu-pod-interface\] from pod .* to its interface holding 10\.244\.9\.9: expected an interface holding the pod IP, with an MTU of at least 576, saw no interface holds it \(ip addr exit 0: holds lo 127\.0\.0\.1, .*eth0 10\.244\.1\.47\b.*; ip link exit 0\)$/,
    );
    expect(verifyPodMtu('mtu-pod-interface', FROM, meta.podIP, probe.get('mtu-addr')!, probe.get('mtu-link')!)).toEqual({ dev: 'eth0', mtu: 1500 });
  });
});

describe('DF pings of exactly the MTU, and one byte more', () => {
  it('the probe reads the MTU itself, pings 1472+28 bytes with DF, and 1473+28 is refused locally', () => {
    const p = parseDfPing(probe.get('df-peer')!.output);
    expect(p).toMatchObject({ dev: 'eth0', mtu: 1500, fit: { exit: 0, received: true }, over: { exit: 1, received: false, tooLong: true } });
    expect(verifyDfPing('mtu-df-cross-node', FROM, 'pod peer', probe.get('df-peer')!, 1500)).toBeUndefined();
  });
  it('the command is a DF ping of mtu-28 and mtu-27 bytes from the interface holding the source IP', () => {
    const script = dfPingProbe('x', '10.0.0.1', '10.0.0.2').argv[2];
    // -M do where the image's ping has it (iputils), else the kernel's path-MTU discovery (busybox)
    expect(script).toContain('df="-M do"; ping -M do -c 1 -W 1 -s 0 127.0.0.1 >/dev/null 2>&1 || df=""');
    expect(script).toContain('ping -n -c 1 -W 2 $df -s $((mtu-28)) 10.0.0.2');
    expect(script).toContain('ping -n -c 1 -W 2 $df -s $((mtu-27)) 10.0.0.2');
    expect(script).toContain('/proc/net/snmp');
    expect(script).toContain('if (p[1]==a)');
  });
  it('no reply to the full-size packet (an address nobody holds): fails naming the size', () => {
    const line = verifyDfPing('mtu-df-cross-node', FROM, 'pod nobody 10.244.1.254', probe.get('df-unheld')!, 1500)!.message.split('\n')[0];
    expect(line).toMatch(
      /^\[mtu-df-cross-node\] from .* to pod nobody 10\.244\.1\.254: expected a reply to a 1500-byte packet with DF set \(ping -M do -s 1472\), saw no reply \(exit 1\): ".*1 packets transmitted, 0 received.*"$/,
    );
  });
  it('an MTU that differs from the interface list, or an oversize packet that was answered, fails', () => {
    expect(verifyDfPing('mtu-df-cross-node', FROM, 'x', probe.get('df-peer')!, 1450)!.message).toContain(
      "expected the probe to read the same MTU as the pod's interface list (1450), saw eth0 mtu 1500",
    );
    // the over-size ping's real output replaced by the full-size one's (a reply): DF not honoured
    const out = probe.get('df-peer')!;
    const answered = {
      ...out,
      output: out.output.replace(/PING [^\n]*1473\(1501\)[\s\S]*?KNC over-exit=1/, (s) =>
        s
          .replace('ping: sendmsg: Message too long', '1480 bytes from 10.244.2.41: icmp_seq=1 ttl=62 time=0.2 ms')
          .replace('0 received, +1 errors', '1 received')
          .replace('over-exit=1', 'over-exit=0'),
      ),
    };
    expect(verifyDfPing('mtu-df-cross-node', FROM, 'x', answered, 1500)!.message).toContain(
      'expected a 1501-byte packet with DF set (ping -M do -s 1473) to be refused locally (message too long), saw it was sent and answered',
    );
  });
});

describe('the large body', () => {
  it('is `seq 1 200000`: 1288895 bytes, sha256 5af7b952… (what `seq 1 200000 | sha256sum` prints)', () => {
    expect(PAYLOAD).toEqual({ path: '/big/payload.txt', bytes: 1288895, sha256: '5af7b95208fdcff454bab3f5eddf567a688a3796c703d4fef91072e38645c062' });
    expect(createHash('sha256').update(payloadText(3)).digest('hex')).toBe(createHash('sha256').update('1\n2\n3\n').digest('hex'));
  });
  it('arrived intact pod → pod and through the ClusterIP', () => {
    for (const id of ['big-pod', 'big-svc']) {
      expect(parsePayload(probe.get(id)!.output)).toEqual({ wgetExit: 0, bytes: PAYLOAD.bytes, sha256: PAYLOAD.sha256, said: '' });
      expect(payloadOutcome(probe.get(id)!, PAYLOAD)).toBe('intact');
      expect(verifyPayload('mtu-payload-cross-node', FROM, TO, probe.get(id)!, PAYLOAD)).toBeUndefined();
    }
  });
  it('under the path-MTU black hole: timeout, 0 bytes, while the small page still came', () => {
    const line = verifyPayload('mtu-payload-cross-node', FROM, TO, hole.get('big-pod')!, PAYLOAD)!.message.split('\n')[0];
    expect(line).toBe(
      `[mtu-payload-cross-node] from ${FROM} to ${TO}: expected 1288895 bytes with sha256 5af7b95208fdcff4…, saw timeout after ${hole.get('big-pod')!.durationMs}ms: 0 of 1288895 bytes arrived, wget exit 1 "wget: download timed out"`,
    );
    expect(hole.get('page')!.exitCode).toBe(0);
    expect(hole.get('page')!.output).toContain('<title>Welcome to nginx!</title>');
  });
  it('refused and 404 are named as such; a body of the wrong size or checksum is truncated / corrupted', () => {
    expect(payloadOutcome(probe.get('big-closed')!, PAYLOAD)).toBe('refused');
    expect(payloadOutcome(probe.get('big-404')!, PAYLOAD)).toBe('failed');
    expect(verifyPayload('c', FROM, TO, probe.get('big-404')!, PAYLOAD)!.message).toContain(
      'saw failed after 51ms: 0 of 1288895 bytes arrived, wget exit 1 "wget: server returned error: HTTP/1.1 404 Not Found"',
    );
    const intact = probe.get('big-pod')!;
    expect(payloadOutcome({ ...intact, output: intact.output.replace('bytes=1288895', 'bytes=1000000') }, PAYLOAD)).toBe('truncated');
    expect(payloadOutcome(intact, { ...PAYLOAD, sha256: '0'.repeat(64) })).toBe('corrupted');
  });
  it('the probe writes to a temporary file and reports exit, size and sha256', () => {
    const s = payloadProbe('x', '10.0.0.2', 80).argv[2];
    expect(s).toContain('wget -q -T 10 -O "$f" http://10.0.0.2:80/big/payload.txt; rc=$?');
    expect(s).toContain('echo "KNC wget-exit=$rc"');
    expect(s).toContain('sha256sum < "$f"');
  });
});

// Real outputs of today's dfPingProbe script run by Debian's busybox ping (no -M: DF from the
// kernel's path-MTU discovery, as busybox ping on Alpine images such as agnhost) between two
// network namespaces joined by a veth pair of MTU 1400 on this machine: healthy; a route of MTU
// 1300 towards the peer (the full-size packet is fragmented by the sender); full-size packets
// dropped on the way (iptables length match at the peer).
describe('DF pings with busybox ping (captured, kernel path-MTU discovery)', () => {
  const out = (name: string) => ({ id: 'df', exitCode: 0, durationMs: 20, command: 'sh -c <dfPingProbe>', output: fixtureText(`df-ping-busybox-${name}.txt`) });
  it('healthy: the 1400-byte packet leaves whole and is answered, 1401 bytes are fragmented by the sender', () => {
    const p = parseDfPing(out('healthy').output);
    expect(p).toMatchObject({
      dev: 'knc-va',
      mtu: 1400,
      df: 'kernel',
      fit: { exit: 0, received: true, frags: 0 },
      over: { exit: 0, received: true, frags: 2, tooLong: false },
    });
    expect(verifyDfPing('mtu-df-cross-node', 'pod a', 'pod b', out('healthy'), 1400)).toBeUndefined();
  });
  it('a route MTU below the interface MTU: the full-size packet was fragmented, not sent whole with DF', () => {
    const f = verifyDfPing('mtu-df-cross-node', 'pod a', 'pod b', out('route-mtu-1300'), 1400)!;
    expect(f.ctx).toMatchObject({
      expected: 'a 1400-byte packet with DF set (ping -s 1372, DF by path-MTU discovery) to leave unfragmented',
      seen: "the sender created 2 fragments: the route's MTU is below the interface MTU",
    });
  });
  it('full-size packets lost on the way: no reply, naming the size', () => {
    const f = verifyDfPing('mtu-df-cross-node', 'pod a', 'pod b', out('full-size-dropped'), 1400)!;
    expect(f.ctx.expected).toBe('a reply to a 1400-byte packet with DF set (ping -s 1372, DF by path-MTU discovery)');
    expect(f.ctx.seen).toMatch(/^no reply \(exit 1\): ".*1 packets transmitted, 0 packets received/);
  });
  it('an oversize packet that left whole (no fragment) means the MTU is not what the pod says', () => {
    const o = out('healthy');
    const f = verifyDfPing('mtu-df-cross-node', 'pod a', 'pod b', { ...o, output: o.output.replace('over-frags=2', 'over-frags=0') }, 1400)!;
    expect(f.ctx.seen).toBe('it left whole (no fragment created) and was answered: the interface MTU is not what the pod says');
  });
});
