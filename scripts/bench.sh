#!/usr/bin/env bash
# Benchmark: `kube-netcheck run` of the seed checks (layers nodes, coredns, pod-ip, service, dns, as
# in docs/benchmark.md's figure: not the Service datapath checks (#17, tag datapath) nor the per-family
# pod-IP variants (#19, tag ip-family), which joined those layers later and have figures of their own) on a
# warm cluster (created or reused first, kept afterwards): wall time from command start to reports
# written, RUNS times, then the median and the breakdown of the median run (setup, each phase,
# teardown; execs and probes) from its results.json.
# usage: scripts/bench.sh [RUNS] [extra run flags...]   (default 5)
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$KNC_ROOT/scripts/lib/bench.sh"
runs="${1:-5}"; shift || true
bench_cluster
cpu0="$(bench_cpu)"
printf '| run | wall time, command start to reports written (s) | checks passed/total | execs | probes | setup | phases (enter+fan-out+verdicts) | teardown |\n|---|---|---|---|---|---|---|---|\n'
for i in $(seq 1 "$runs"); do
  # each run starts on a quiet cluster: the previous run's namespaces are gone (not timed)
  bench_quiet
  t0=$(date +%s%N)
  # the user-cluster path (--kubeconfig): the run does not bring the cluster up or down
  bench_seed "$KNC_ROOT" "$out/$i" "$@" >"$out/$i.log" 2>&1 \
    || { tail -n 40 "$out/$i.log" >&2; die "suite failed during the benchmark (log above)" 1; }
  t1=$(date +%s%N)
  printf '%s %s\n' "$(bench_time "$t0" "$t1")" "$i" >>"$out/times"
  # shellcheck disable=SC2016  # the ${...} are JavaScript template literals
  node -e '
    const r = require(process.argv[1]); const t = r.timings;
    const s = (ms) => (ms / 1000).toFixed(1) + " s";
    console.log(`| ${process.argv[2]} | ${process.argv[3]} | ${r.summary.passed}/${r.summary.total} | ${r.execs} | ${r.probes} | ${s(t.setupMs)} | ${t.phases.map((p) => `${p.phase} ${s(p.enterMs + p.fanoutMs + p.verifyMs)}`).join(", ")} | ${s(t.teardownMs)} |`);
  ' "$out/$i/results.json" "$i" "$(tail -n 1 "$out/times" | cut -d' ' -f1)"
done
median="$(bench_median "$out/times")"
printf '\nmedian of %s runs: %s s (nodes: %s; the machine: a fixed CPU loop took %s s before, %s s after; load %s)\n' "$runs" "$median" \
  "$(kubectl --kubeconfig "$kubeconfig" get nodes --no-headers | wc -l)" "$cpu0" "$(bench_cpu)" "$(bench_load)"
