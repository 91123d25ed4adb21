// Long-lived TCP connections for the disruption layer: a client in a probe pod (bash and its
// /dev/tcp, sleep, timeout: agnhost's Alpine and the offline Debian probe image both have them)
// writes a numbered, timestamped line every 200 ms to a line echo server and logs every echo it
// gets back with its own receive time. The connection ends only when the run asks (a stop file:
// the client sends "bye", the server echoes it, the client logs "closed"); any other end — a
// reset, the server gone, a read that waited 30 s — is logged as "cut". Timestamps are the node's
// clock (bash's EPOCHREALTIME): on kind every node shares the host's clock.
import type { Probe } from './batch.js';

/** The port the stream echo server listens on (kube-netcheck's own DaemonSet, src/catalogue/disruption.ts). */
export const STREAM_PORT = 7070;
/** Seconds between two lines a client writes. */
export const STREAM_INTERVAL_S = 0.2;

/**
 * The client, run by bash: args HOST PORT STOPFILE MAXSECONDS. Prints "KNC open T", then
 * "R T <server> <seq> <sent-at>" per echo, then "KNC closed T" (the run asked it to stop) or
 * "KNC cut rc=N T" / "KNC write-failed SEQ T" / "KNC connect-failed T".
 */
const CLIENT = [
  'h=$1; p=$2; stop=$3; max=$4',
  'exec 3<>"/dev/tcp/$h/$p" || { echo "KNC connect-failed $EPOCHREALTIME"; exit 0; }',
  'echo "KNC open $EPOCHREALTIME"',
  // the writer: a write to a reset socket fails (EPIPE) instead of killing the writer silently
  `{ trap '' PIPE; i=0; end=$((SECONDS + max)); while [ ! -e "$stop" ] && [ $SECONDS -lt $end ]; do i=$((i + 1)); echo "$i $EPOCHREALTIME" >&3 || { echo "KNC write-failed $i $EPOCHREALTIME"; exit 0; }; sleep ${STREAM_INTERVAL_S}; done; echo "bye $EPOCHREALTIME" >&3; } &`,
  // read's status: 1 at EOF or on a reset, over 128 when 30 s passed without a line
  'while :; do IFS= read -r -t 30 l <&3; rc=$?; [ $rc -eq 0 ] || break; echo "R $EPOCHREALTIME $l"; case "$l" in *" bye "*) echo "KNC closed $EPOCHREALTIME"; exit 0;; esac; done',
  'echo "KNC cut rc=$rc $EPOCHREALTIME"',
].join('\n');

const logOf = (id: string) => `/tmp/knc-stream-${id}.log`;
const stopOf = (id: string) => `/tmp/knc-stream-${id}.stop`;

export interface StreamConn {
  /** Unique within the run, [A-Za-z0-9_.-]. */
  id: string;
  host: string;
  port: number;
}

/** One exec: starts each connection's client in the background (it outlives the exec), prints "KNC started ID" per client. */
export function startStreamsArgv(conns: StreamConn[], maxS: number): string[] {
  const lines = conns.map(
    (c) =>
      `rm -f ${stopOf(c.id)}; nohup bash -c "$0" client ${c.host} ${c.port} ${stopOf(c.id)} ${maxS} </dev/null >${logOf(c.id)} 2>&1 & echo "KNC started ${c.id}"`,
  );
  return ['bash', '-c', lines.join('\n'), CLIENT];
}

/** One exec: prints each connection's log, framed ("KNC log ID" … "KNC eof ID"), and the pod's clock now. */
export function readStreamsArgv(ids: string[]): string[] {
  return ['bash', '-c', `${ids.map((id) => `echo "KNC log ${id}"; cat ${logOf(id)} 2>&1; echo "KNC eof ${id}"`).join('; ')}; echo "KNC now $EPOCHREALTIME"`];
}

/** One exec: asks each client to say bye (its connection closes once the echo of "bye" is back). */
export function stopStreamsArgv(ids: string[]): string[] {
  return ['sh', '-c', ids.map((id) => `touch ${stopOf(id)}`).join('; ')];
}

/**
 * A new connection, retried until it carries a line there and back or `boundS` pass: prints
 * "KNC new ok T <echo>" with the time of the first that did, or "KNC new failed T <tries>".
 */
export function newConnProbe(id: string, host: string, port: number, boundS: number): Probe {
  const one = `exec 3<>"/dev/tcp/$0/$1" && echo "new $EPOCHREALTIME" >&3 && IFS= read -r -t 2 l <&3 && echo "$l"`;
  const script = [
    `end=$((SECONDS + ${boundS})); n=0`,
    `while [ $SECONDS -lt $end ]; do n=$((n + 1)); if r=$(timeout 3 bash -c '${one}' ${host} ${port} 2>/dev/null) && [ -n "$r" ]; then echo "KNC new ok $EPOCHREALTIME $n $r"; exit 0; fi; sleep 0.2; done`,
    'echo "KNC new failed $EPOCHREALTIME $n"',
  ].join('\n');
  return { id, argv: ['bash', '-c', script] };
}

/** What one connection's log says. */
export interface StreamLog {
  opened?: number;
  /** Receive times of the echoes, in order. */
  received: number[];
  /** Servers that echoed (pod names). */
  servers: string[];
  /** Bytes the client wrote that came back echoed, and bytes it read. */
  bytesOut: number;
  bytesIn: number;
  /** Highest sequence number echoed. */
  lastSeq: number;
  /** How it ended: "closed" (asked to), "cut …" (reset, EOF, a 30 s read timeout, a failed write), "connect-failed", or undefined (still open). */
  end?: string;
  endedAt?: number;
}

/** Parses one client's log (the lines between "KNC log ID" and "KNC eof ID"). */
export function parseStreamLog(text: string): StreamLog {
  const log: StreamLog = { received: [], servers: [], bytesOut: 0, bytesIn: 0, lastSeq: 0 };
  for (const line of text.split('\n')) {
    let m = /^KNC open (\d+\.\d+)$/.exec(line);
    if (m) {
      log.opened = Number(m[1]);
      continue;
    }
    m = /^R (\d+\.\d+) ((\S+) (\S+) (\d+\.\d+))$/.exec(line);
    if (m) {
      log.received.push(Number(m[1]));
      if (!log.servers.includes(m[3])) log.servers.push(m[3]);
      log.bytesIn += m[2].length + 1;
      log.bytesOut += `${m[4]} ${m[5]}`.length + 1;
      if (/^\d+$/.test(m[4])) log.lastSeq = Math.max(log.lastSeq, Number(m[4]));
      continue;
    }
    m = /^KNC (closed|connect-failed) (\d+\.\d+)$/.exec(line) ?? /^KNC (cut rc=\d+|write-failed \d+) (\d+\.\d+)$/.exec(line);
    if (m && !log.end) {
      log.end = m[1];
      log.endedAt = Number(m[2]);
    }
  }
  return log;
}

/** Splits a readStreamsArgv output into each connection's log text, and the pod's clock when it was read. */
export function splitStreamLogs(out: string): { logs: Record<string, string>; now?: number } {
  const logs: Record<string, string> = {};
  for (const m of out.matchAll(/^KNC log (\S+)\n([\s\S]*?)^KNC eof \1$/gm)) logs[m[1]] = m[2];
  const now = /^KNC now (\d+\.\d+)$/m.exec(out);
  return { logs, now: now ? Number(now[1]) : undefined };
}

/** Parses a newConnProbe output: the time of the first new connection that carried a line, or undefined. */
export function parseNewConn(out: string): { ok: boolean; at?: number; tries?: number; server?: string } {
  const ok = /^KNC new ok (\d+\.\d+) (\d+) (\S+) new /m.exec(out);
  if (ok) return { ok: true, at: Number(ok[1]), tries: Number(ok[2]), server: ok[3] };
  const failed = /^KNC new failed (\d+\.\d+) (\d+)/m.exec(out);
  return { ok: false, at: failed ? Number(failed[1]) : undefined, tries: failed ? Number(failed[2]) : undefined };
}
