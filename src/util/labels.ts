import { randomBytes } from 'node:crypto';

export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-netcheck';
export const RUN_KEY = 'kube-netcheck/run';

const RUN_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A short run id, safe as a DNS label, label value and name suffix:
 * "r" + 7 base36 chars (starts with a letter, so it is also a valid
 * DNS-1035 name such as a Service name).
 */
export function newRunId(): string {
  const bytes = randomBytes(7);
  let id = 'r';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export function isValidRunId(runId: string): boolean {
  return RUN_ID.test(runId);
}

/** Labels every resource created by a run carries. */
export function runLabels(runId: string): Record<string, string> {
  if (!isValidRunId(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: must be a DNS label`);
  return { [MANAGED_BY_KEY]: MANAGED_BY_VALUE, [RUN_KEY]: runId };
}

/** Label selector for one run's resources, or for every run's when runId is omitted. */
export function runSelector(runId?: string): string {
  const managed = `${MANAGED_BY_KEY}=${MANAGED_BY_VALUE}`;
  return runId === undefined ? managed : `${managed},${RUN_KEY}=${runLabels(runId)[RUN_KEY]}`;
}
