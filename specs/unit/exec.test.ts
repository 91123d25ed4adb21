import { describe, it, expect, afterEach } from '@jest/globals';
import { execInPod, exitCodeFromStatus } from '../../src/kube/exec.js';
import { frame, startFakeApiServer, type ExecHandler, type FakeApiServer } from './fake-apiserver.js';

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const nonZero = (code: number) => ({
  status: 'Failure',
  reason: 'NonZeroExitCode',
  message: `command terminated with non-zero exit code: exit status ${code}`,
  details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
});

describe('exitCodeFromStatus', () => {
  it('maps Success to 0 and NonZeroExitCode to its ExitCode cause', () => {
    expect(exitCodeFromStatus({ status: 'Success' })).toBe(0);
    expect(exitCodeFromStatus(nonZero(7))).toBe(7);
  });

  it('throws for failures that are not an exit code', () => {
    expect(() => exitCodeFromStatus({ status: 'Failure', message: 'OCI runtime exec failed: exec: "nc": executable file not found in $PATH' })).toThrow(
      /exec failed: OCI runtime exec failed/,
    );
    expect(() => exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode' })).toThrow(/NonZeroExitCode/);
  });
});

describe('execInPod against a fake API server', () => {
  let srv: FakeApiServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });
  const start = async (onExec: ExecHandler) => {
    srv = await startFakeApiServer((_q, res) => res.end(), onExec);
    return srv;
  };
  const base = { namespace: 'ns1', pod: 'client', command: ['sh', '-c', 'echo hi'], timeoutMs: 2000 };

  it('collects stdout/stderr and exit 0 on Success; sends command and container in the query', async () => {
    let seen: URL | undefined;
    const { kc } = await start((ws, url) => {
      seen = url;
      frame(ws, STDOUT, 'hi\n');
      frame(ws, STDERR, 'warn\n');
      frame(ws, STATUS, { status: 'Success' });
    });
    const r = await execInPod({ ...base, kc, container: 'c1' });
    expect(r).toMatchObject({ stdout: 'hi\n', stderr: 'warn\n', exitCode: 0 });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen?.pathname).toBe('/api/v1/namespaces/ns1/pods/client/exec');
    expect(seen?.searchParams.getAll('command')).toEqual(['sh', '-c', 'echo hi']);
    expect(seen?.searchParams.get('container')).toBe('c1');
  });

  it('returns the non-zero exit code from the status', async () => {
    const { kc } = await start((ws) => {
      frame(ws, STDERR, 'nc: timeout\n');
      frame(ws, STATUS, nonZero(1));
    });
    await expect(execInPod({ ...base, kc })).resolves.toMatchObject({ exitCode: 1, stderr: 'nc: timeout\n' });
  });

  it('settles (rejects) when the socket closes before any status', async () => {
    const { kc } = await start((ws) => {
      frame(ws, STDOUT, 'partial');
      setTimeout(() => ws.close(1011, 'container died'), 20);
    });
    await expect(execInPod({ ...base, kc })).rejects.toThrow(
      /pod ns1\/client: websocket closed \(code 1011 container died\) before an exit status arrived; stdout so far: "partial"/,
    );
  });

  it('times out naming pod, command, timeout and partial output, and closes the socket', async () => {
    let serverClosed!: () => void;
    const closed = new Promise<void>((resolve) => (serverClosed = resolve));
    const { kc } = await start((ws) => {
      ws.on('close', () => serverClosed());
      frame(ws, STDOUT, 'PING 10.244.2.3');
    });
    const t0 = Date.now();
    const p = execInPod({ ...base, kc, pod: 'pinger', command: ['ping', '10.244.2.3'], timeoutMs: 300 });
    await expect(p).rejects.toThrow(
      /exec \["ping","10\.244\.2\.3"\] in pod ns1\/pinger: timed out after 300ms; stdout so far: "PING 10\.244\.2\.3"; stderr so far: ""/,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    await closed; // the client hung up; otherwise this test hits jest's timeout
  });

  it('streams stdin and closes it (v5 protocol) so the command can finish', async () => {
    const { kc } = await start((ws) => {
      expect(ws.protocol).toBe('v5.channel.k8s.io');
      const got: Buffer[] = [];
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0) got.push(data.subarray(1));
        if (data[0] === 255 && data[1] === 0) {
          frame(ws, STDOUT, Buffer.concat(got).toString().toUpperCase());
          frame(ws, STATUS, { status: 'Success' });
        }
      });
    });
    await expect(execInPod({ ...base, kc, command: ['tr', 'a-z', 'A-Z'], stdin: 'hello' })).resolves.toMatchObject({ stdout: 'HELLO', exitCode: 0 });
  });

  it('rejects clearly when the API server is unreachable', async () => {
    const { kc } = await start(() => {});
    await srv!.close();
    srv = undefined;
    await expect(execInPod({ ...base, kc })).rejects.toThrow(/could not open exec websocket: .*ECONNREFUSED/);
  });
});
