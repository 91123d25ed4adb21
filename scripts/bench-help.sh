#!/usr/bin/env bash
# Benchmark: start-up of the installed package. Packs the checkout, installs the tarball with
# `npm install --omit=dev` into an empty directory (as a user would), then times
# `kube-netcheck --help` RUNS times through the installed bin and through npx, and prints each
# median (after one untimed warm-up run each).
# usage: scripts/bench-help.sh [RUNS]   (default 11)
source "$(dirname "$0")/lib/common.sh"
runs="${1:-11}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, got '${runs:0:40}'" 2
cd "$KNC_ROOT"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
npm pack --silent --pack-destination "$dir" >/dev/null
tarball="$(ls "$dir"/kube-netcheck-*.tgz)"
(cd "$dir" && npm init -y >/dev/null && npm install --omit=dev --no-audit --no-fund "$tarball" >/dev/null 2>&1) \
  || die "npm install --omit=dev of the packed tarball failed" 1

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
time_runs() {
  local t0 t1
  "$@" >/dev/null 2>&1 || die "'$*' failed in $dir" 1
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e9}'
  done
}
cd "$dir"
printf '| command (installed tarball, %s runs) | median (s) | min–max (s) |\n|---|---|---|\n' "$runs"
for cmd in "./node_modules/.bin/kube-netcheck --help" "npx kube-netcheck --help"; do
  # shellcheck disable=SC2086  # the command is split into words on purpose
  times="$(time_runs $cmd)"
  # shellcheck disable=SC2016  # the backquotes are Markdown
  printf '| `%s` | %s | %s–%s |\n' "$cmd" "$(median <<<"$times")" "$(sort -n <<<"$times" | head -n 1)" "$(sort -n <<<"$times" | tail -n 1)"
done
printf '\nload average: %s; node %s, npm %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(node --version)" "$(npm --version)"
