import { retry } from '../util/retry.js';
/** Environment problems the CLI reports in one line and exits 2 for. */
export type EnvErrorCode = 'KUBECONFIG_MISSING' | 'API_UNREACHABLE' | 'CONTEXT_UNKNOWN' | 'FORBIDDEN' | 'MALFORMED_YAML' | 'NO_DOCKER' | 'IMAGE_TOOLS_MISSING';
export type ErrorCode = EnvErrorCode | 'UNEXPECTED';

export const ENV_EXIT_CODE = 2;
export const UNEXPECTED_EXIT_CODE = 1;

export interface Classified {
  code: ErrorCode;
  exitCode: number;
  /** One line, no stack, safe to print as the CLI's only output. */
  line: string;
}

const HEADLINES: Record<EnvErrorCode, string> = {
  KUBECONFIG_MISSING: 'no kubeconfig found',
  API_UNREACHABLE: 'Kubernetes API server unreachable',
  CONTEXT_UNKNOWN: 'kubeconfig context unknown',
  FORBIDDEN: 'Kubernetes API refused the request',
  MALFORMED_YAML: 'malformed YAML',
  NO_DOCKER: 'docker is not available',
  IMAGE_TOOLS_MISSING: 'the probe image lacks commands the probes call',
};

/** Thrown by our own code when it already knows the class of the problem. */
export class NetcheckError extends Error {
  override readonly name = 'NetcheckError';
  constructor(
    readonly code: EnvErrorCode,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${HEADLINES[code]}: ${detail}`, options);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);
const DOCKER_TEXT =
  /Cannot connect to the Docker daemon|docker daemon is not running|permission denied while trying to connect to the docker|spawn docker ENOENT|docker: (command )?not found/i;

type Loose = Record<string, unknown>;
const asObj = (e: unknown): Loose | undefined => (typeof e === 'object' && e !== null ? (e as Loose) : undefined);

/** The error and what it wraps (`cause`, ws ErrorEvent `error`), outermost first. */
function chain(err: unknown): Loose[] {
  const out: Loose[] = [];
  for (let e = asObj(err); e && out.length < 8; e = asObj(e.cause) ?? asObj(e.error)) {
    if (out.includes(e)) break;
    out.push(e);
  }
  return out;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((s) => s.trim())
      .find(Boolean) ?? ''
  );
}

function messageOf(err: unknown): string {
  const o = asObj(err);
  return typeof o?.message === 'string' ? o.message : String(err);
}

/** Reason/message from a client-node ApiException body (a V1Status). */
function apiDetail(e: Loose): string {
  const body = asObj(e.body) ?? asObj(tryJson(e.body));
  const msg = typeof body?.message === 'string' ? body.message : firstLine(messageOf(e));
  return `HTTP ${String(e.code)}: ${msg}`;
}

function tryJson(v: unknown): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

function env(code: EnvErrorCode, detail: string): Classified {
  return { code, exitCode: ENV_EXIT_CODE, line: `${code}: ${HEADLINES[code]}: ${detail}` };
}

function classifyOne(e: Loose, outer: unknown): Classified | undefined {
  const msg = messageOf(e);
  if (e instanceof NetcheckError) return { code: e.code, exitCode: ENV_EXIT_CODE, line: `${e.code}: ${firstLine(e.message)}` };
  if (e.name === 'YAMLException') return env('MALFORMED_YAML', firstLine(msg));
  if (e.code === 403 || e.code === 401 || e.statusCode === 403 || e.statusCode === 401) return env('FORBIDDEN', apiDetail(e));
  if (/Unexpected server response: 40[13]/.test(msg)) return env('FORBIDDEN', firstLine(msg));
  const all = [msg, e.stderr, e.shortMessage].filter((s): s is string => typeof s === 'string').join('\n');
  if (DOCKER_TEXT.test(all)) return env('NO_DOCKER', firstLine(all.match(DOCKER_TEXT)?.[0] ?? msg));
  if (e.code === 'ENOENT' && /\bdocker\b/.test([e.path, e.command, msg].find((s) => typeof s === 'string') ?? ''))
    return env('NO_DOCKER', 'docker executable not found on PATH');
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return env('API_UNREACHABLE', firstLine(messageOf(outer)));
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.type === 'request-timeout')
    return env('API_UNREACHABLE', `request timed out: ${firstLine(msg)}`);
  if (/No active cluster|context .* (not found|does not exist)/i.test(msg)) return env('CONTEXT_UNKNOWN', firstLine(msg));
  return undefined;
}

/** Maps any thrown value to a stable code, exit code and one printable line. */
export function classifyError(err: unknown): Classified {
  for (const e of chain(err)) {
    const hit = classifyOne(e, err);
    if (hit) return hit;
  }
  const text = firstLine(messageOf(err)) || 'unknown error';
  return { code: 'UNEXPECTED', exitCode: UNEXPECTED_EXIT_CODE, line: `UNEXPECTED: ${text}` };
}

/** The API's own status (a V1Status body) of a client-node ApiException, when `err` is one. */
export function apiStatus(err: unknown): { code: number; reason?: string; message?: string } | undefined {
  const e = asObj(err);
  if (!e || typeof e.code !== 'number' || !('body' in e)) return undefined;
  const body = asObj(e.body) ?? asObj(tryJson(e.body));
  const s = (k: string) => (typeof body?.[k] === 'string' && body[k] ? (body[k] as string) : undefined);
  return { code: e.code, reason: s('reason'), message: s('message') };
}

/**
 * One line for any error, with an API error named by the API's own words: "API 409 Conflict:
 * Operation cannot be fulfilled on …" — not client-node's "HTTP-Code: 409 Message: Unknown API
 * Status Code!" (it says that for every status its generated code does not list).
 */
export function errorLine(err: unknown): string {
  const st = apiStatus(err);
  if (st)
    return `API ${st.code}${st.reason ? ` ${st.reason}` : ''}: ${st.message ?? (firstLine(messageOf(err)).replace(/^HTTP-Code: \d+\s*/, '') || 'no message')}`;
  return firstLine(messageOf(err)) || String(err);
}

/** An optimistic-concurrency conflict (HTTP 409, reason Conflict): the object changed since it was read. */
export const isConflict = (err: unknown): boolean => {
  const st = apiStatus(err);
  return st?.code === 409 && (st.reason === undefined || st.reason === 'Conflict');
};

/**
 * Runs a read-modify-write again while the API answers 409 Conflict, as client-go's RetryOnConflict
 * does (its DefaultRetry: 5 tries, 10 ms apart, jittered), more patiently: 8 tries, 10 ms doubling
 * (1.3 s of waits at most) — under make test's load, 5 tries of the scale step all met a writer
 * rewriting the Deployment as fast as the API took it (specs/selftest/transient.spec.ts). `write`
 * must read the object afresh each time. Any other error, or a conflict on the last try, is thrown.
 */
export function retryOnConflict<T>(write: () => Promise<T>, tries = 8, firstDelayMs = 10): Promise<T> {
  return retry(write, { retryable: isConflict, tries, firstDelayMs });
}

/**
 * A fresh namespace's pod refused because its ServiceAccount does not exist yet (the admission
 * plugin answers 403 "error looking up service account <ns>/<name>: serviceaccount … not found"
 * until the ServiceAccount controller has made it): it passes on its own, so the create is retried.
 */
export const isServiceAccountPending = (err: unknown): boolean => {
  const st = apiStatus(err);
  return st?.code === 403 && /service ?account/i.test(st.message ?? '') && /not found/i.test(st.message ?? '');
};
