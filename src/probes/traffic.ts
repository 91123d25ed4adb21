// "Who answers this address?" asked from inside one probe pod until the answer settles, in one
// exec: every `intervalS` (0.3 s) a new round of `requests` parallel GETs of /whoami starts (rounds
// overlap, so a request hanging on a proxy rule that still points at a removed pod does not hold
// up the rounds behind it). A round is good when every request was answered by a wanted server;
// the loop ends when consecutive good rounds (a bad one starts the count again) were answered by
// every wanted server between them. At the deadline the latest finished round is the evidence.
import type { Probe } from './batch.js';
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
    argv: ['sh', '-c', SCRIPT, 'traffic', loop.url, String(loop.requests), loop.want.join(' '), String(loop.deadlineS), String(loop.requestTimeoutS ?? 2), String(Math.max(1, Math.round((loop.intervalS ?? 0.3) / 0.1)))],
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
