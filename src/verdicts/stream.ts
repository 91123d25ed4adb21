// The disruption layer's verdicts: a long-lived connection kept carrying data through the CNI's and
// kube-proxy's restarts (no reset, no stall beyond the bound, data after the last restart), and a
// new connection made after each restart carried a line there and back within its bound.
import { CheckFailure } from './failure.js';
import type { StreamLog } from '../probes/stream.js';

/** What one connection did, as the report lists it. */
export interface StreamReport {
  connection: string;
  from: string;
  to: string;
  servers: string[];
  lines: number;
  bytesOut: number;
  bytesIn: number;
  /** The longest time without an echo (open → first echo, echo → echo, last echo → its end), seconds. */
  longestStallS: number;
  /** When that stall began, seconds after the connection opened. */
  stallAtS: number;
  /** Ended before the run asked it to (a reset, EOF, a failed write, a 30 s read timeout). */
  reset: boolean;
  end: string;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** The report of one connection's log; `now` ends the last gap of a connection still open (the pod's clock when the log was read). */
export function streamReport(connection: string, from: string, to: string, log: StreamLog, now: number): StreamReport {
  const points = [log.opened ?? now, ...log.received, log.endedAt ?? now];
  let longest = 0,
    at = 0;
  for (let i = 1; i < points.length; i++) {
    const gap = points[i] - points[i - 1];
    if (gap > longest) [longest, at] = [gap, points[i - 1] - points[0]];
  }
  return {
    connection,
    from,
    to,
    servers: log.servers,
    lines: log.received.length,
    bytesOut: log.bytesOut,
    bytesIn: log.bytesIn,
    longestStallS: r2(longest),
    stallAtS: r2(at),
    reset: log.end !== undefined && log.end !== 'closed',
    end: log.end ?? 'still open',
  };
}

export interface StreamExpectation {
  /** The longest stall allowed, seconds. */
  maxStallS: number;
  /** Echoes must arrive after this time (the last restart's pods Ready), seconds since the epoch. */
  dataAfter: number;
  /** What dataAfter is, in words. */
  after: string;
}

/** The verdict on one connection: its report when it kept carrying data, a CheckFailure naming it when not. */
export function verifyStream(check: string, conn: StreamReport, log: StreamLog, want: StreamExpectation): StreamReport | CheckFailure {
  const fail = (expected: string, seen: string) =>
    new CheckFailure({ check, from: conn.from, to: `connection ${conn.connection} to ${conn.to}`, expected, seen });
  const summary = `${conn.lines} echoes, ${conn.bytesOut} B out / ${conn.bytesIn} B back, longest stall ${conn.longestStallS} s`;
  if (log.opened === undefined) return fail('a connection that opened', log.end === 'connect-failed' ? 'the connect failed' : 'no "open" in its log');
  if (conn.reset)
    return fail(
      'the connection open until the run closed it (no reset)',
      `cut: ${conn.end} ${r2((log.endedAt ?? 0) - log.opened)} s after it opened (reset yes; ${summary})`,
    );
  if (conn.end !== 'closed') return fail('the connection closed by the run (the echo of "bye" back)', `${conn.end} (${summary})`);
  if (conn.longestStallS > want.maxStallS)
    return fail(
      `no stall longer than ${want.maxStallS} s`,
      `a stall of ${conn.longestStallS} s from ${conn.stallAtS} s after it opened (reset no; ${summary})`,
    );
  const after = log.received.filter((t) => t > want.dataAfter).length;
  if (after < 2) return fail(`echoes after ${want.after}`, `${after} echoes after it (${summary})`);
  return conn;
}

/** A new connection asked after a restart: ok within the bound, or a CheckFailure naming it. */
export function verifyNewConn(
  check: string,
  from: string,
  to: string,
  res: { ok: boolean; at?: number; tries?: number; server?: string },
  readyAt: number,
  boundS: number,
  after: string,
): string | CheckFailure {
  if (res.ok && res.at !== undefined && res.at - readyAt <= boundS + 1)
    return `${from} -> ${to}: a new connection carried a line ${r2(res.at - readyAt)} s after ${after} (try ${res.tries}, server ${res.server})`;
  return new CheckFailure({
    check,
    from,
    to: `a new connection to ${to}`,
    expected: `a line there and back within ${boundS} s after ${after}`,
    seen: res.ok ? `only ${r2((res.at ?? 0) - readyAt)} s after it` : `none in ${res.tries ?? 0} tries`,
  });
}
