// Output and exit codes of the CLI. Progress goes to stdout as plain lines; a failure is ONE line
// on stderr: the classified cause (src/kube/errors.ts) and what to do about it.
import { classifyError, type ErrorCode } from '../kube/errors.js';

export const EXIT = {
  OK: 0,
  /** A check failed (Jest exit 1 with results). */
  CHECK_FAILED: 1,
  /** Environment or usage problem: nothing was checked, or the run could not finish. */
  ENV: 2,
  INTERRUPTED: 130,
} as const;

/** Where a command's lines go; passed around as plain functions (e.g. `const say = io.out`). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** Wrong command line: main prints it as one usage line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose --help to point at ('' for the top level). */
    readonly command = '',
  ) {
    super(message);
  }
}

/** A failure the CLI has already put into words (one line, exit code). */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  constructor(
    readonly line: string,
    readonly exitCode: number = EXIT.ENV,
  ) {
    super(line);
  }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  KUBECONFIG_MISSING: 'pass --kubeconfig FILE (or set KUBECONFIG), or run without it to use the kind cluster (kube-netcheck cluster up)',
  MALFORMED_YAML: 'fix the kubeconfig file (`kubectl config view --kubeconfig FILE` shows what kubectl makes of it)',
  CONTEXT_UNKNOWN: 'pass --context with one of the known contexts (`kubectl config get-contexts`)',
  API_UNREACHABLE: 'check that the cluster is running and that the kubeconfig server address is right (`kubectl cluster-info`)',
  FORBIDDEN: 'bind the identity to the role in manifests/rbac.yaml (kubectl apply -f manifests/rbac.yaml), or use credentials with at least those rights',
  NO_DOCKER: 'install and start Docker (`make setup` does both, as root), or pass --kubeconfig to check a cluster you already have',
};

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

/**
 * The single stderr line for a failure. Every failure the CLI itself reports exits 2: exit 1 is
 * kept for "a check failed".
 */
export function failureLine(err: unknown): string {
  if (err instanceof CliFailure) return oneLine(err.line);
  const c = classifyError(err);
  const hint = HINTS[c.code];
  return oneLine(hint ? `${c.line} — ${hint}` : c.line);
}
