#!/usr/bin/env bash
# Benchmark: wall time of the seed suite (cluster facts, pod IPs, CoreDNS, Services; not the
# cleanup, rbac and grade specs, which run further suites or tools) on a warm cluster (created or reused first, kept
# afterwards), and how many execs it made. usage: scripts/bench.sh [RUNS]   (default 3)
source "$(dirname "$0")/lib/common.sh"
runs="${1:-3}"
info="$(bash "$KNC_ROOT/scripts/cluster-up.sh" | tail -n 1)"
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$info"; }
export KNC_KUBECONFIG="$(field kubeconfig)" KNC_NGINX_IMAGE="$(field nginxImage)" KNC_PROBE_IMAGE="$(field probeImage)"
cd "$KNC_ROOT"
printf '| run | suite wall time (s) | checks passed/total | execs |\n|---|---|---|---|\n'
for i in $(seq 1 "$runs"); do
  t0=$(date +%s%N)
  npm run --silent check -- specs/cluster/cluster.spec.ts specs/cluster/pod-ips.spec.ts specs/cluster/dns.spec.ts specs/cluster/services.spec.ts >/tmp/knc-bench.log 2>&1 \
    || { tail -n 40 /tmp/knc-bench.log >&2; die "suite failed during the benchmark (log above)" 1; }
  t1=$(date +%s%N)
  summary="$(node -e 'const r=require(process.argv[1]); console.log(`${r.summary.passed}/${r.summary.total} | ${r.execs}`)' "$KNC_ROOT/reports/results.json")"
  printf '| %s | %s | %s |\n' "$i" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1e9}')" "$summary"
done
