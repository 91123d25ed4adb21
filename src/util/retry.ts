// The one retry wrapper: an operation the API may refuse for a while for a known, passing reason
// (an optimistic-concurrency conflict; a fresh namespace whose ServiceAccount is not there yet) is
// tried again with a doubling, jittered delay, bounded by a number of tries and/or a deadline. Any
// other error, or the last try's, is thrown as it came: the caller names it.

export interface RetryOptions {
  /** Whether this error is one that passes (tried again); any other is thrown at once. */
  retryable: (err: unknown) => boolean;
  /** At most this many tries in all (default: unbounded, then deadlineMs must be given). */
  tries?: number;
  /** No new try starts later than this many ms after the first (the wait before it is cut to fit). */
  deadlineMs?: number;
  /** The wait before the second try; doubles after each try (jittered by up to 10 %). */
  firstDelayMs: number;
  /** The longest wait between two tries (default: no cap). */
  maxDelayMs?: number;
  /** Told of each retried error (its try number, from 1) before the wait. */
  onRetry?: (err: unknown, attempt: number) => void;
}

export async function retry<T>(op: () => Promise<T>, o: RetryOptions): Promise<T> {
  if (o.tries === undefined && o.deadlineMs === undefined) throw new Error('retry: give tries or deadlineMs (an unbounded retry never ends)');
  const end = o.deadlineMs === undefined ? Infinity : Date.now() + o.deadlineMs;
  // a wait cut to the deadline makes the try after it the last (a timer may fire a millisecond
  // early by the wall clock: "time left" must not buy one more try)
  let last = false;
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (err) {
      const left = end - Date.now();
      if (!o.retryable(err) || (o.tries !== undefined && i >= o.tries) || left <= 0 || last) throw err;
      o.onRetry?.(err, i);
      const delay = Math.min(o.firstDelayMs * 2 ** (i - 1) * (1 + Math.random() * 0.1), o.maxDelayMs ?? Infinity, left);
      last = delay >= left;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
