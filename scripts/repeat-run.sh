#!/usr/bin/env bash
# Repeats `kube-netcheck run --keep` on the managed kind cluster (kept: it is shared) and counts, per check, in how many runs
# it passed: the figures for intermittent faults (docs/holds.md). Each run starts once the previous
# run's namespaces are gone. Prints one line per run (exit code, passed/failed/skipped, wall time,
# the failed checks, the load average at its start) and then the checks that did not pass in every
# run. With KNC_RUN_LOCK=FILE the cluster's reuse check and each run (with the wait for the previous run's namespaces) holds that lock (flock), so a shared cluster
# serves others between runs. Reproduces docs/holds.md: KNC_RUN_LOCK=/path/to/lock scripts/repeat-run.sh 10 --skip policy
# usage: scripts/repeat-run.sh RUNS [run flags...]     e.g. scripts/repeat-run.sh 10 --skip policy
source "$(dirname "$0")/lib/common.sh"
runs="${1:?usage: scripts/repeat-run.sh RUNS [run flags...]}"; shift
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, got '${runs:0:40}'"
if [[ -n "${KNC_RUN_LOCK:-}" ]]; then info="$(flock "$KNC_RUN_LOCK" bash "$KNC_ROOT/scripts/cluster-up.sh" | tail -n 1)"
else info="$(bash "$KNC_ROOT/scripts/cluster-up.sh" | tail -n 1)"; fi
kubeconfig="$(node -e 'console.log(JSON.parse(process.argv[1]).kubeconfig)' "$info")"
cd "$KNC_ROOT"
[[ -f dist/cli/main.js ]] || npm run --silent build
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$runs"); do
  [[ -z "${KNC_RUN_LOCK:-}" ]] || exec 9>>"$KNC_RUN_LOCK"
  [[ -z "${KNC_RUN_LOCK:-}" ]] || flock 9
  kubectl --kubeconfig "$kubeconfig" wait --for=delete namespace -l app.kubernetes.io/managed-by=kube-netcheck --timeout=180s >/dev/null 2>&1 \
    || die "the previous run's namespaces were not deleted within 180 s" 1
  load="$(cut -d' ' -f1 /proc/loadavg)"
  t0=$(date +%s%N)
  rc=0; node bin/kube-netcheck.js run --keep --report-dir "$out/$i" "$@" >"$out/$i.log" 2>&1 || rc=$?
  t1=$(date +%s%N)
  [[ -z "${KNC_RUN_LOCK:-}" ]] || { flock -u 9; exec 9>&-; }
  [[ -f "$out/$i/results.json" ]] || { tail -n 20 "$out/$i.log" >&2; die "run $i wrote no results.json (exit $rc)" 1; }
  # shellcheck disable=SC2016  # the ${...} are JavaScript template literals
  node -e '
    const r = require(process.argv[1]);
    const failed = (r.results ?? r.records).filter((x) => x.status === "failed").map((x) => x.id);
    console.log(`run ${process.argv[2]}: exit ${process.argv[3]}, ${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.skipped} skipped, ${process.argv[4]} s (engine ${(r.timings.totalMs / 1000).toFixed(1)} s, load ${process.argv[5]} at start)${failed.length ? `; failed: ${failed.join(", ")}` : ""}`);
  ' "$out/$i/results.json" "$i" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1e9}')" "$load"
done
# shellcheck disable=SC2016  # the ${...} are JavaScript template literals
node -e '
  const fs = require("fs"); const dir = process.argv[1]; const n = Number(process.argv[2]);
  const passed = new Map(); const seen = new Map();
  for (let i = 1; i <= n; i++) for (const r of (({ results, records }) => results ?? records)(JSON.parse(fs.readFileSync(`${dir}/${i}/results.json`, "utf8")))) {
    seen.set(r.id, (seen.get(r.id) ?? 0) + 1); if (r.status === "passed") passed.set(r.id, (passed.get(r.id) ?? 0) + 1);
  }
  const short = [...seen].filter(([id, k]) => (passed.get(id) ?? 0) !== k);
  console.log(`\n${n} runs, ${seen.size} checks: ${short.length ? `not passed in every run: ${short.map(([id, k]) => `${id} ${passed.get(id) ?? 0}/${k}`).join(", ")}` : "every check passed in every run"}`);
  for (const id of [...seen.keys()].filter((id) => /\.negative$/.test(id) && /lossy|stale-rule/.test(id))) console.log(`  ${id}: passed ${passed.get(id) ?? 0}/${seen.get(id)}`);
' "$out" "$runs"
