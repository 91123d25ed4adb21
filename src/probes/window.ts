// A hold window of HTTP requests from one source to one address, in one probe: an optional gate
// first (for a change the run made itself — a Service created at setup whose rules a node may
// not have yet — it asks until the first answer or its own deadline, and says how long it took),
// then exactly `requests` samples, every one of which counts. Each sample prints its exit code
// and the first line of what came back (/whoami: "client=<ip> server=<pod>").
//
// The client is busybox/GNU wget where the pod has one; otherwise bash's /dev/tcp (the nginx
// image: Debian's bash, no wget), so the nginx pods themselves can be the source (hairpin).
import { NOW_MS, SAMPLES_SH, type Probe } from './batch.js';
import { parseWhoAmI } from './http.js';

export interface SampleWindow {
  host: string;
  port: number;
  path?: string;
  /** Samples that count (a fixed number: no "until it looks right"). */
  requests: number;
  /** Ask until the first answer for at most this many seconds before the samples (0: no gate). */
  gateS?: number;
  /** Timeout of each request, seconds (default 3: a loaded 2-core machine stretches some to 2 s). */
  timeoutS?: number;
  /** Samples at once (default 1: one after the other); all of them still count. */
  parallel?: number;
  /**
   * The gate's own test, a shell command (exit 0: ready), instead of "the address answers": for a
   * window that must NOT be answered, e.g. kube-proxy's health check node port reporting the Service.
   */
  gateCommand?: string;
  /** "udp": one datagram per request (netcat-openbsd: nc -u), the first datagram back is the answer. Default "http". */
  proto?: 'http' | 'udp';
}

/**
 * Positional arguments: host port path requests gate timeout parallel gate-command proto. Written for few processes
 * per request: one fork and one client each; answers read with shell built-ins. Outputs:
 *   KNC gate rc=<rc> tries=<n> ms=<ms>        (only with a gate)
 *   KNC sample=<i> rc=<rc> <first line of the answer>
 *   KNC done samples=<n>
 * (A shell parameter expansion is written with a backslash between `$` and `{` here, out of the
 * template literal's way; the backslash is taken out below.)
 */
const SCRIPT = String.raw`
host=$1; port=$2; path=$3; n=$4; gate=$5; t=$6; par=$7; gatecmd=$8; proto=$9
tmp=$(mktemp -d) || exit 97
trap 'rm -rf "$tmp"' EXIT
if [ "$proto" = udp ]; then
  # netcat-openbsd: -W 1 ends at the first datagram back, -w bounds the wait for it; no answer is exit 0 with nothing read
  get() { r=$(printf 'knc %s\n' "$path" | timeout -s KILL $((t + 1)) nc -u -W 1 -w "$t" "$host" "$port" 2>&1); rc=$?; [ -n "$r" ] || { echo "no datagram back"; return 9; }; printf '%s\n' "$r"; return "$rc"; }
elif command -v wget >/dev/null 2>&1; then
  # an IPv6 address goes in brackets in the URL
  case "$host" in *:*) url="http://[$host]:$port$path" ;; *) url="http://$host:$port$path" ;; esac
  get() { timeout -s KILL $((t + 1)) wget -q -T "$t" -O - "$url" 2>&1; }
elif command -v bash >/dev/null 2>&1; then
  # HTTP/1.0 over bash's /dev/tcp: the body of a 200, else the status line and exit 8
  get() {
    timeout -s KILL $((t + 1)) bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 4
      printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3
      head=1; ok=0
      while IFS= read -r l <&3 || [ -n "$l" ]; do
        l=$\{l%$(printf "\r")}
        if [ "$head" = 1 ]; then
          case "$l" in "HTTP/1."?" 200"*) ok=1 ;; esac
          [ "$ok" = 1 ] || { printf "%s\n" "$l"; exit 8; }
          head=2
        elif [ "$head" = 2 ]; then [ -z "$l" ] && head=0
        else printf "%s\n" "$l"
        fi
      done
      [ "$head" = 0 ] || exit 9' "$host" "$port" "$path" 2>&1
  }
else
  echo "KNC no client: neither wget nor bash"; exit 98
fi
${NOW_MS}
ms() { now; }
if [ "$gate" -gt 0 ]; then
  s=$(ms); k=0
  while :; do
    k=$((k + 1))
    if [ -n "$gatecmd" ]; then sh -c "$gatecmd" >/dev/null 2>&1; else get >/dev/null; fi; rc=$?
    [ "$rc" = 0 ] && break
    [ $(( $(ms) - s )) -ge $((gate * 1000)) ] && break
    sleep 0.2 2>/dev/null || sleep 1
  done
  echo "KNC gate rc=$rc tries=$k ms=$(( $(ms) - s ))"
  [ "$rc" = 0 ] || { echo "KNC done samples=0"; exit 0; }
fi
${SAMPLES_SH}
one() { get >"$tmp/$1" 2>&1; echo "$?" >"$tmp/$1.rc"; }
samples "$n" "$par"
i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  sample_line "$tmp" "$i"
  echo "KNC sample=$i rc=$rc $line"
done
echo "KNC done samples=$n"
`.replaceAll('$\\{', '${');

export function samplesProbe(id: string, w: SampleWindow): Probe {
  if (!/^[A-Za-z0-9.:-]+$/.test(w.host)) throw new Error(`host not shell-safe: ${w.host}`);
  return {
    id,
    argv: [
      'sh',
      '-c',
      SCRIPT,
      'samples',
      w.host,
      String(w.port),
      w.path ?? '/whoami',
      String(w.requests),
      String(w.gateS ?? 0),
      String(w.timeoutS ?? 3),
      String(Math.max(1, w.parallel ?? 1)),
      w.gateCommand ?? '',
      w.proto ?? 'http',
    ],
  };
}

export interface Sample {
  i: number;
  rc: number;
  /** First line of what came back (the answer, or the client's error). */
  line: string;
  server?: string;
  client?: string;
}

export interface Samples {
  /** The gate, when there was one: did it see an answer, after how many tries and how long. */
  gate?: { rc: number; tries: number; ms: number };
  samples: Sample[];
  /** Samples the window was asked for (the script's own count at its end). */
  asked: number;
}

/** Parses a samplesProbe output; throws when it is not one (the exec died, another program ran). */
export function parseSamples(output: string): Samples {
  const end = /^KNC done samples=(\d+)$/m.exec(output);
  if (!end) throw new Error(`no sample-window result in ${JSON.stringify(output.slice(-200))}`);
  const g = /^KNC gate rc=(\d+) tries=(\d+) ms=(\d+)$/m.exec(output);
  const samples: Sample[] = [];
  for (const m of output.matchAll(/^KNC sample=(\d+) rc=(\?|\d+) ?(.*)$/gm)) {
    const w = parseWhoAmI(m[3]);
    samples.push({ i: Number(m[1]), rc: m[2] === '?' ? -1 : Number(m[2]), line: m[3].trim(), server: w?.server, client: w?.client });
  }
  return { gate: g ? { rc: Number(g[1]), tries: Number(g[2]), ms: Number(g[3]) } : undefined, samples, asked: Number(end[1]) };
}
