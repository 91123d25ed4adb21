// Docker must answer before anything touches the kind cluster.
import { execa } from 'execa';
import { classifyError, NetcheckError } from '../kube/errors.js';

/** Throws NetcheckError NO_DOCKER when `docker` is not on PATH or `docker info` fails. */
export async function requireDocker(timeoutMs = 30_000): Promise<void> {
  try {
    await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: timeoutMs });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw new NetcheckError('NO_DOCKER', 'docker executable not found on PATH', { cause: err });
    if (classifyError(err).code === 'NO_DOCKER') throw err;
    const e = err as { timedOut?: boolean; stderr?: string; shortMessage?: string; message?: string };
    const why = e.timedOut
      ? `docker info did not answer within ${timeoutMs / 1000}s`
      : `docker info failed: ${(e.stderr || e.shortMessage || e.message || String(err)).split('\n').find((l) => l.trim()) ?? ''}`;
    throw new NetcheckError('NO_DOCKER', why, { cause: err });
  }
}
