import { Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';

export interface ExecOptions {
  kc: KubeConfig;
  namespace: string;
  pod: string;
  /** Omit for single-container pods (the API server picks it). */
  container?: string;
  command: string[];
  timeoutMs: number;
  /** What the command reads: a whole input, or a stream written while it runs (never ended by the exec: the command exits by itself). */
  stdin?: string | Buffer | Readable;
  /** Called with each piece of stdout as it arrives (the whole stdout is in the result too). */
  onStdout?: (text: string) => void;
  /**
   * For an exec kept open between commands (a session): a websocket ping this often, so that a proxy
   * or load balancer between here and the API server does not close it as idle.
   */
  keepAliveMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

/** Exit code from the V1Status sent on the exec error channel; throws for non-exit failures. */
export function exitCodeFromStatus(status: V1Status): number {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number.parseInt(cause?.message ?? '', 10);
    if (Number.isInteger(code)) return code;
  }
  throw new Error(`exec failed: ${status.message ?? status.reason ?? JSON.stringify(status)}`);
}

function collector(onText?: (text: string) => void): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      try {
        onText?.(Buffer.from(chunk).toString('utf8'));
      } catch {
        /* the listener's error is its own business, not the exec's */
      }
      cb();
    },
  });
  stream.on('error', () => {}); // a late frame after end() must not crash the process
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const clip = (s: string, n = 500) => (s.length > n ? `${s.slice(0, n)}…(+${s.length - n} chars)` : s);

/**
 * Runs `command` in a pod over the exec websocket. Settles on whichever comes
 * first: the exit status frame or the socket closing. Rejects (and closes the
 * socket) once `timeoutMs` passes, naming pod, command and partial output.
 */
export function execInPod(opts: ExecOptions): Promise<ExecResult> {
  const { kc, namespace, pod, command, timeoutMs } = opts;
  const where = `pod ${namespace}/${pod}${opts.container ? ` container ${opts.container}` : ''}`;
  const cmd = JSON.stringify(command);
  const out = collector(opts.onStdout);
  const err = collector();
  const stdin = opts.stdin === undefined ? null : opts.stdin instanceof Readable ? opts.stdin : Readable.from([Buffer.from(opts.stdin)]);
  const start = Date.now();

  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let socket: { close(): void } | undefined;
    let pinger: NodeJS.Timeout | undefined;
    const partial = () => `stdout so far: ${JSON.stringify(clip(out.text()))}; stderr so far: ${JSON.stringify(clip(err.text()))}`;

    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(pinger);
      try {
        socket?.close();
      } catch {
        /* already closed */
      }
      fn();
    };
    const fail = (why: string, cause?: unknown) => finish(() => reject(new Error(`exec ${cmd} in ${where}: ${why}; ${partial()}`, { cause })));

    const timer = setTimeout(() => fail(`timed out after ${timeoutMs}ms`), timeoutMs);

    const onStatus = (status: V1Status) => {
      let exitCode: number;
      try {
        exitCode = exitCodeFromStatus(status);
      } catch (e) {
        return fail((e as Error).message, e);
      }
      finish(() => resolve({ stdout: out.text(), stderr: err.text(), exitCode, durationMs: Date.now() - start }));
    };

    new Exec(kc)
      .exec(namespace, pod, opts.container ?? '', command, out.stream, err.stream, stdin, false, onStatus)
      .then((ws) => {
        if (settled) return ws.close(); // timed out while connecting
        socket = ws;
        const ping = (ws as { ping?: () => void }).ping;
        if (opts.keepAliveMs && typeof ping === 'function')
          pinger = setInterval(() => {
            try {
              ping.call(ws);
            } catch {
              /* a socket closing: its close event ends the exec */
            }
          }, opts.keepAliveMs);
        ws.on('close', (code: number, reason: Buffer) =>
          fail(`websocket closed (code ${code}${reason.length ? ` ${reason.toString()}` : ''}) before an exit status arrived`),
        );
        ws.on('error', (e: Error) => fail(`websocket error: ${e.message}`, e));
      })
      .catch((e: unknown) => {
        const msg = (e as { message?: string; error?: Error }).error?.message ?? (e as Error).message ?? String(e);
        fail(`could not open exec websocket: ${msg}`, e);
      });
  });
}
