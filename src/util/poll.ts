export interface PollOptions<T> {
  /** Human description of the awaited condition, e.g. "pod web-1 Ready". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  probe: () => Promise<T>;
  done: (value: T) => boolean;
  /** Renders a probed value for the timeout message (default: JSON). */
  describe?: (value: T) => string;
}

const STILL_RUNNING = Symbol('probe still running');

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function defaultDescribe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Resolves to `p`'s value, or to STILL_RUNNING after `ms`; never leaves a timer behind. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof STILL_RUNNING> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof STILL_RUNNING>((resolve) => {
    timer = setTimeout(() => resolve(STILL_RUNNING), Math.max(0, ms));
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes until `done(value)` holds or the deadline passes, then returns that
 * value. Waits only `intervalMs` between attempts (clamped to the time left);
 * a probe still running at the deadline does not extend it. A probe that
 * throws counts as "not yet"; its error is kept for the timeout message.
 */
export async function pollUntil<T>(opts: PollOptions<T>): Promise<T> {
  const { what, timeoutMs, intervalMs, probe, done } = opts;
  const describe = opts.describe ?? defaultDescribe;
  const start = Date.now();
  const deadline = start + timeoutMs;
  let lastSeen = 'nothing (no probe completed)';
  let attempts = 0;

  for (;;) {
    attempts++;
    try {
      const value = await within(Promise.resolve().then(probe), deadline - Date.now());
      if (value === STILL_RUNNING) {
        lastSeen += ` (attempt ${attempts} still running at the deadline)`;
        break;
      }
      if (done(value)) return value;
      lastSeen = describe(value);
    } catch (err) {
      lastSeen = `probe error: ${errorText(err)}`;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }

  throw new Error(`timed out waiting for ${what} after ${Date.now() - start}ms ` + `(timeout ${timeoutMs}ms, ${attempts} attempts); last seen: ${lastSeen}`);
}
