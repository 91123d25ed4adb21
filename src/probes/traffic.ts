// "Who answers this address?" asked from inside one probe pod until the answer settles, in one
// exec: every `intervalS` (0.3 s) a new round of `requests` parallel GETs of /whoami starts (rounds
// overlap, so a request hanging on a proxy rule that still points at a removed pod does not hold
// up the rounds behind it). A round is good when every request was answered by a wanted server;
// the loop ends when consecutive good rounds (a bad one starts the count again) were answered by
// every wanted server between them. At the deadline the latest finished round is the evidence.
import { SAMPLES_SH, type Probe } from './batch.js';
import { parseWhoAmI } from './http.js';

export interface TrafficLoop {
  url: string;
  /** Parallel requests per round. */
  requests: number;
  /** Server names (pod hostnames) that may answer; the loop ends on a round answered only by them. */
  want: string[];
  /** Stop starting rounds after this many seconds. */
  deadlineS: number;
  /** wget's timeout per request (busybox wget -T bounds the connect too). */
  requestTimeoutS?: number;
  /** Seconds between round starts (a multiple of the 0.1 s tick). */
  intervalS?: number;
}

/**
 * Positional arguments: url, requests, wanted names (space separated), deadline (s), request
 * timeout (s), ticks between rounds. Written for few processes per request (the pods' CPUs are
 * the nodes' CPUs): one fork and one wget each; the answers are read with shell built-ins.
 * (A shell parameter expansion is written with a backslash between `$` and `{` here, out of the
 * template literal's way; the backslash is taken out below.)
 */
const SCRIPT = String.raw`
url=$1; n=$2; want=" $3 "; secs=$4; t=$5; every=$6
tmp=$(mktemp -d) || exit 97
trap 'rm -rf "$tmp"' EXIT
round() {
  d="$tmp/$1"; mkdir "$d" || return
  i=0
  while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    { wget -q -T "$t" -O "$d/$i" "$url" 2>/dev/null; echo "$?" >"$d/$i.rc"; } &
  done
  wait
  : >"$d/done"
}
# good ROUND: every request answered (exit 0) by a wanted server; sets srv to the servers
good() {
  srv=""; i=0
  while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    rc=""; read -r rc <"$tmp/$1/$i.rc"
    [ "$rc" = 0 ] || return 1
    line=""; read -r line <"$tmp/$1/$i" || [ -n "$line" ] || return 1
    case "$line" in *server=*) ;; *) return 1 ;; esac
    s=$\{line##*server=}; s=$\{s%% *}
    case "$want" in *" $s "*) srv="$srv $s" ;; *) return 1 ;; esac
  done
}
covered() {
  for w in $want; do case "$seen" in *" $w "*) ;; *) return 1 ;; esac; done
}
show() {
  i=0
  while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    rc="?"; read -r rc <"$tmp/$1/$i.rc"
    line=""; read -r line <"$tmp/$1/$i"
    echo "KNC round=$1 rc=$rc $line"
  done
}
start=$(date +%s); now=$start; r=0; latest=0; tick=0; streak=""; seen=" "
while :; do
  # a round writes only into its directory: nothing of it holds this script's output open
  if [ $((tick % every)) = 0 ]; then
    now=$(date +%s)
    if [ $((now - start)) -lt "$secs" ]; then r=$((r + 1)); ( round "$r" ) >/dev/null 2>&1 & fi
  fi
  tick=$((tick + 1))
  # finished rounds are looked at every 0.1 s (where sleep takes only whole seconds: every second)
  sleep 0.1 2>/dev/null || { sleep 1; tick=$((tick + every - 1)); }
  pending=0; k=0
  while [ "$k" -lt "$r" ]; do
    k=$((k + 1))
    [ -e "$tmp/$k/judged" ] && continue
    if [ ! -e "$tmp/$k/done" ]; then pending=1; continue; fi
    : >"$tmp/$k/judged"
    [ "$k" -gt "$latest" ] && latest=$k
    if good "$k"; then
      streak="$streak $k"
      for s in $srv; do case "$seen" in *" $s "*) ;; *) seen="$seen$s " ;; esac; done
      if covered; then
        for j in $streak; do show "$j"; done
        echo "KNC settled rounds=$r"; exit 0
      fi
    else
      streak=""; seen=" "
    fi
  done
  # past the deadline: done once every round finished (or their requests' timeout passed too)
  if [ $((now - start)) -ge "$secs" ]; then
    [ $((now - start)) -ge $((secs + t + 2)) ] && pending=0
    if [ "$pending" = 0 ]; then
      [ "$latest" -gt 0 ] && show "$latest"
      echo "KNC unsettled rounds=$r"; exit 0
    fi
  fi
done
`.replaceAll('$\\{', '${');

export function trafficLoopProbe(id: string, loop: TrafficLoop): Probe {
  for (const w of loop.want) if (!/^[A-Za-z0-9.-]+$/.test(w)) throw new Error(`server name not shell-safe: ${w}`);
  return {
    id,
    argv: [
      'sh',
      '-c',
      SCRIPT,
      'traffic',
      loop.url,
      String(loop.requests),
      loop.want.join(' '),
      String(loop.deadlineS),
      String(loop.requestTimeoutS ?? 2),
      String(Math.max(1, Math.round((loop.intervalS ?? 0.3) / 0.1))),
    ],
  };
}

export interface TrafficRound {
  /** The latest round the evidence comes from (0: no round finished). */
  round: number;
  /** Rounds started. */
  rounds: number;
  /** Did consecutive good rounds cover every wanted server? */
  settled: boolean;
  /** Answers of the evidence rounds (settled: the good streak; else the latest round): the server that answered, or why there was none. */
  answers: Array<{ server?: string; client?: string; rc: number; body: string }>;
}

/** Parses a trafficLoopProbe output; throws when it is not one (the exec died, another program). */
export function parseTrafficLoop(output: string): TrafficRound {
  const end = /^KNC (settled|unsettled) rounds=(\d+)$/m.exec(output);
  if (!end) throw new Error(`no traffic-loop result in ${JSON.stringify(output.slice(-200))}`);
  const answers: TrafficRound['answers'] = [];
  let round = 0;
  for (const m of output.matchAll(/^KNC round=(\d+) rc=(\d+) ?(.*)$/gm)) {
    round = Math.max(round, Number(m[1]));
    const w = parseWhoAmI(m[3]);
    answers.push({ server: w?.server, client: w?.client, rc: Number(m[2]), body: m[3].trim() });
  }
  return { round, rounds: Number(end[2]), settled: end[1] === 'settled', answers };
}

// ---------------------------------------------------------------------------------------------
// The hold window: a fixed number of requests from one source, every one of them counted. The
// requests go out in batches of `parallel` (all of a batch at once: the window costs requests,
// not seconds; the sampling loop every hold window shares, SAMPLES_SH), each bounded by wget's own
// -T; every request's exit code, first body line and first error line are printed, in order,
// whatever happened.

export interface Hold {
  url: string;
  /** Requests from this source, all of which must be answered. */
  requests: number;
  /** Requests in flight at once (a batch); default 16. */
  parallel?: number;
  /**
   * wget's timeout per request (busybox wget -T bounds the connect too); default HOLD_TIMEOUT_S. A
   * lost SYN is sent again after 1 s, so 2 s and 3 s both allow one retransmission and both end a
   * dropped connection; 3 s (as the datapath windows) because at load 20-30, with the NetworkPolicy
   * lane beside, one request of 96 from 16 wgets at once took over 2 s on a healthy cluster.
   */
  requestTimeoutS?: number;
}
const HOLD_TIMEOUT_S = 3;

const HOLD_SCRIPT = String.raw`
url=$1; n=$2; p=$3; t=$4
tmp=$(mktemp -d) || exit 97
trap 'rm -rf "$tmp"' EXIT
${SAMPLES_SH}
one() { wget -q -T "$t" -O "$tmp/$1" "$url" 2>"$tmp/$1.err"; echo "$?" >"$tmp/$1.rc"; }
samples "$n" "$p"
i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  sample_line "$tmp" "$i"
  echo "KNC hold i=$i rc=$rc body=$line"
  if [ "$rc" != 0 ]; then err=""; read -r err <"$tmp/$i.err"; echo "KNC hold-err i=$i $err"; fi
done
echo "KNC hold done n=$n"
`;

export function holdProbe(id: string, h: Hold): Probe {
  if (!Number.isInteger(h.requests) || h.requests < 1) throw new Error(`a hold needs at least one request, got ${h.requests}`);
  return { id, argv: ['sh', '-c', HOLD_SCRIPT, 'hold', h.url, String(h.requests), String(h.parallel ?? 16), String(h.requestTimeoutS ?? HOLD_TIMEOUT_S)] };
}

/** kube-proxy's health page on a node (its default healthz address): its `currentTime` is the node's clock. */
export const KUBE_PROXY_HEALTHZ = 'http://127.0.0.1:10256/healthz';

/**
 * A session (src/workload/armed.ts): one exec per source for the run, reading one command per line
 * on stdin — "<command> <id> <arguments…>" — and running each as it arrives (nothing goes out
 * before its line), its output ended by the line "KNC end <id> rc=<its exit code>":
 *   hold ID URL N P T KEEP   holdProbe's hold (its output also kept in the file KEEP, under /tmp)
 *   sync ID ARGS…            a node view's reading of the node's kube-proxy (proxySyncProbe's poll)
 *   batch ID N               the N lines after it are a fan-out script (src/probes/batch.ts), run with its stderr in its stdout
 *   anything else (or stdin closing) ends it, printing "KNC released <command>".
 * A node view (`hostNetwork`) first prints kube-proxy's /healthz ("KNC clock {…"currentTime":…}":
 * the node's clock, to which the caller maps its own times; empty where there is none).
 */
export function sessionArgv(hostNetwork = false): string[] {
  const script = [
    'hurl=$1',
    '[ -z "$hurl" ] || echo "KNC clock $(wget -q -T 1 -O - "$hurl" 2>/dev/null | head -n 1 | cut -c 1-400)"',
    'while :; do',
    '  read -r cmd id a1 a2 a3 a4 a5 a6 || { echo "KNC released (stdin closed)"; exit 0; }',
    '  case "$cmd" in',
    // kept in a file too: an exec whose stdin stayed open was seen to end (exit 0) with the tail of
    // its stdout missing (load 50-60); the caller then reads the file in a second exec
    // (stdin is the session's own: no command reads it)
    `    hold) ( set -- "$a1" "$a2" "$a3" "$a4"\n${HOLD_SCRIPT}\n) </dev/null >"$a5" 2>&1; rc=$?; cat "$a5" ;;`,
    `    sync) ( set -- "$a1" "$a2" "$a3" "$a4" "$a5"\n${PROXY_SCRIPT}\n) </dev/null; rc=$? ;;`,
    '    batch)',
    // the script's lines are read whole (a failed mktemp still reads them: they are no commands)
    '      f=$(mktemp) || f=""',
    '      n=0; while [ "$n" -lt "$a1" ] && IFS= read -r l; do [ -z "$f" ] || printf \'%s\\n\' "$l" >>"$f"; n=$((n + 1)); done',
    '      if [ -n "$f" ]; then sh "$f" </dev/null 2>&1; rc=$?; rm -f "$f"; else rc=97; fi ;;',
    '    *) echo "KNC released $cmd"; exit 0 ;;',
    '  esac',
    '  echo "KNC end $id rc=$rc"',
    'done',
  ].join('\n');
  return ['sh', '-c', script, 'session', hostNetwork ? KUBE_PROXY_HEALTHZ : ''];
}

/** An argument a session line may carry: no blank, no quote, nothing the shell would expand. */
const sessionWord = (a: string) => /^[A-Za-z0-9.:/[\]_%-]+$/.test(a);

/** The session command of a hold (sessionArgv, without its id), its output kept in `keep` as well. */
export function holdLine(h: Hold, keep: string): string {
  if (!Number.isInteger(h.requests) || h.requests < 1) throw new Error(`a hold needs at least one request, got ${h.requests}`);
  if (!/^\/tmp\/[A-Za-z0-9._-]+$/.test(keep)) throw new Error(`not a file name under /tmp: ${keep}`);
  const args = [h.url, String(h.requests), String(h.parallel ?? 16), String(h.requestTimeoutS ?? HOLD_TIMEOUT_S), keep];
  if (!args.every(sessionWord)) throw new Error(`not a hold a session can run: ${JSON.stringify(args)}`);
  return `hold ${args.join(' ')}`;
}

/** How long a session's hold may take at most: every batch's requests time out, and some slack. */
export const holdBoundMs = (h: Hold) => Math.ceil(h.requests / (h.parallel ?? 16)) * ((h.requestTimeoutS ?? HOLD_TIMEOUT_S) + 2) * 1000 + 15_000;

export interface HoldSample {
  /** 1-based request number. */
  i: number;
  /** wget's exit code (NaN when it never wrote one). */
  rc: number;
  server?: string;
  client?: string;
  /** The first body line (for an answer that was not /whoami). */
  body: string;
  /** wget's first error line for a request that failed. */
  error?: string;
}

/** Parses a holdProbe output into one sample per request; throws when it is not a (whole) hold output. */
export function parseHold(output: string): HoldSample[] {
  const end = /^KNC hold done n=(\d+)$/m.exec(output);
  if (!end) throw new Error(`no hold result in ${JSON.stringify(output.slice(-200))}`);
  const errors = new Map<number, string>();
  for (const m of output.matchAll(/^KNC hold-err i=(\d+) ?(.*)$/gm)) errors.set(Number(m[1]), m[2].trim());
  const samples: HoldSample[] = [];
  for (const m of output.matchAll(/^KNC hold i=(\d+) rc=(\S*) body=(.*)$/gm)) {
    const i = Number(m[1]);
    const w = parseWhoAmI(m[3]);
    samples.push({ i, rc: /^\d+$/.test(m[2]) ? Number(m[2]) : NaN, server: w?.server, client: w?.client, body: m[3].trim(), error: errors.get(i) });
  }
  if (samples.length !== Number(end[1])) throw new Error(`hold output has ${samples.length} of ${end[1]} samples`);
  return samples;
}

/**
 * Requests per source so that a source asking `endpoints` equally likely endpoints misses one of
 * them with probability below 1e-6 (16 at least, a multiple of 8): 16 for 1, 24 for 2, 40 for 3.
 */
export function holdRequests(endpoints: number): number {
  if (endpoints <= 1) return 16;
  const n = Math.ceil(Math.log(1e-6 / endpoints) / Math.log(1 - 1 / endpoints));
  return Math.max(16, Math.ceil(n / 8) * 8);
}

// ---------------------------------------------------------------------------------------------
// The node's proxy rules caught up: read from kube-proxy's own metrics on the node (a node view
// shares the node's network namespace; 127.0.0.1:10249 is kube-proxy's default metrics address),
// polled in one exec until kube-proxy received a change at or after `since` (its last queued
// sync), finished a sync after that, and has no endpoint change pending — or the deadline.

const PROXY_SCRIPT = String.raw`
since=$1; secs=$2; url=$3; family=$4; url6=$5
start=$(date +%s)
while :; do
  m=$(wget -q -T 1 -O - "$url" 2>&1); rc=$?
  # an IPv6-primary node's kube-proxy binds its metrics to [::1]:10249, not 127.0.0.1
  if [ "$rc" != 0 ] && [ -n "$url6" ]; then m6=$(wget -q -T 1 -O - "$url6" 2>&1) && { url=$url6; m=$m6; rc=0; }; fi
  if [ "$rc" != 0 ]; then echo "KNC proxy unavailable rc=$rc $(printf '%s' "$m" | head -n 1)"; exit 0; fi
  line=$(printf '%s\n' "$m" | awk -v t="$since" -v want="ip_family=\"$family\"" '
    # the gauges of the IP family of the Service (labelled ip_family: kube-proxy runs a proxier
    # per family, and the other one never queues anything for this Service), or unlabelled ones
    function mine(l) { return l !~ /\{/ || index(l, want) > 0 }
    function fam(l) { return (l ~ /\{/) ? substr(l, index(l, "{")) : "" }
    /^kubeproxy_sync_proxy_rules_last_timestamp_seconds[ {]/ && mine($1) { s[fam($1)] = $2 }
    /^kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds[ {]/ && mine($1) { q[fam($1)] = $2 }
    /^kubeproxy_sync_proxy_rules_endpoint_changes_pending[ {]/ { p = $2 }
    END {
      n = 0; ok = 1; ls = ""; lq = ""
      for (f in q) {
        n++
        if (!(f in s) || q[f] + 0 < t + 0 || s[f] + 0 < q[f] + 0) ok = 0
        if (lq == "" || q[f] + 0 < lq + 0) lq = q[f]
        if (ls == "" || s[f] + 0 < ls + 0) ls = s[f]
      }
      if (n == 0 || (p != "" && p + 0 != 0)) ok = 0
      printf "%s synced=%s queued=%s pending=%s", (ok ? "ok" : "wait"), (ls == "" ? "?" : ls), (lq == "" ? "?" : lq), (p == "" ? "?" : p)
    }')
  case "$line" in ok*) echo "KNC proxy $line"; exit 0 ;; "") echo "KNC proxy unavailable (no awk?)"; exit 0 ;; esac
  if [ $(($(date +%s) - start)) -ge "$secs" ]; then echo "KNC proxy $line"; exit 0; fi
  sleep 0.1 2>/dev/null || sleep 1
done
`;

/**
 * Polls kube-proxy's metrics on the node (run in a node view) until its proxier for `family` (the
 * Service's ClusterIP family) synced a change queued at or after `since` (epoch s).
 */
export function proxySyncProbe(
  id: string,
  sinceS: number,
  deadlineS: number,
  family: 'IPv4' | 'IPv6' = 'IPv4',
  url = 'http://127.0.0.1:10249/metrics',
  url6 = 'http://[::1]:10249/metrics',
): Probe {
  return { id, argv: ['sh', '-c', PROXY_SCRIPT, 'proxy', sinceS.toFixed(3), String(Math.max(1, Math.ceil(deadlineS))), url, family, url6] };
}

/** The session command (sessionArgv, without its id) that runs `probe`, a proxySyncProbe, in a node view's session. */
export function armedProxySyncLine(probe: Probe): string {
  const args = probe.argv.slice(4);
  if (probe.argv[2] !== PROXY_SCRIPT || args.length !== 5 || !args.every(sessionWord))
    throw new Error(`not a proxy-sync probe a session can run: ${JSON.stringify(probe.argv.slice(3))}`);
  return `sync ${args.join(' ')}`;
}

export interface ProxySync {
  state: 'ok' | 'wait' | 'unavailable';
  /** kube-proxy's last sync and last queued sync (epoch s), its pending endpoint changes. */
  synced?: number;
  queued?: number;
  pending?: number;
  /** The line as printed, for evidence. */
  line: string;
}

export function parseProxySync(output: string): ProxySync {
  const m = /^KNC proxy (ok|wait|unavailable)(.*)$/m.exec(output);
  if (!m) throw new Error(`no proxy-sync result in ${JSON.stringify(output.slice(-200))}`);
  const num = (k: string) => {
    const v = new RegExp(`${k}=(\\S+)`).exec(m[2])?.[1];
    return v === undefined || v === '?' ? undefined : Number(v);
  };
  return { state: m[1] as ProxySync['state'], synced: num('synced'), queued: num('queued'), pending: num('pending'), line: `${m[1]}${m[2]}`.trim() };
}
