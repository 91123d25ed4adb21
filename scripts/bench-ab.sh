#!/usr/bin/env bash
# Interleaved A/B of the seed checks (as scripts/bench.sh runs them): another built checkout (A: e.g. a
# worktree of an older commit, `git worktree add /tmp/a <commit> && (cd /tmp/a && npm ci && npm run build)`)
# and this one (B), one run each in turn, PAIRS times, on the same warm cluster (created or reused
# first, kept) — on a machine whose speed varies (docs/benchmark.md), only runs next to each other
# compare. Prints, per run: side, wall time (command start to reports written), checks passed,
# execs, the machine's speed just before (bench_cpu), the load; then each side's median and B/A.
# usage: scripts/bench-ab.sh PAIRS OTHER_CHECKOUT [extra run flags...]
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$KNC_ROOT/scripts/lib/bench.sh"
pairs="${1:?usage: scripts/bench-ab.sh PAIRS OTHER_CHECKOUT [run flags...]}"; other="${2:?usage: scripts/bench-ab.sh PAIRS OTHER_CHECKOUT [run flags...]}"; shift 2
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || die "PAIRS must be a positive number, got '${pairs:0:40}'"
[[ -f "$other/bin/kube-netcheck.js" && -d "$other/dist" ]] || die "not a built kube-netcheck checkout: '${other:0:80}' (bin/kube-netcheck.js and dist/ needed)"
other="$(cd "$other" && pwd)"
bench_cluster
printf '| pair | side | commit | wall time (s) | passed/total | execs | CPU loop before (s) | load |\n|---|---|---|---|---|---|---|---|\n'
for i in $(seq 1 "$pairs"); do
  for side in A B; do
    dir="$other"; [[ "$side" == B ]] && dir="$KNC_ROOT"
    bench_quiet
    cpu="$(bench_cpu)"; load="$(cut -d' ' -f1 /proc/loadavg)"
    t0=$(date +%s%N)
    bench_seed "$dir" "$out/$side$i" "$@" >"$out/$side$i.log" 2>&1 || { tail -n 40 "$out/$side$i.log" >&2; die "side $side failed during the benchmark (log above)" 1; }
    t1=$(date +%s%N)
    wall="$(bench_time "$t0" "$t1")"
    printf '%s\n' "$wall" >>"$out/times-$side"
    # shellcheck disable=SC2016  # the ${...} are JavaScript template literals
    node -e 'const r = require(process.argv[1]); console.log(`| ${process.argv.slice(2, 6).join(" | ")} | ${r.summary.passed}/${r.summary.total} | ${r.execs} | ${process.argv[6]} | ${process.argv[7]} |`)' \
      "$out/$side$i/results.json" "$i" "$side" "$(git -C "$dir" rev-parse --short HEAD)" "$wall" "$cpu" "$load"
  done
done
a="$(bench_median "$out/times-A")"; b="$(bench_median "$out/times-B")"
printf '\nmedian A %s s, B %s s, B/A %s\n' "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b/a}')"
