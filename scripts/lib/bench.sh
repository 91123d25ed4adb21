# shellcheck shell=bash
# What the benchmark scripts share (scripts/bench.sh, scripts/bench-netpol.sh). Source it after
# scripts/lib/common.sh.
#   bench_cluster          brings the cluster up or reuses it (scripts/cluster-up.sh: KNC_CLUSTER, KNC_CNI, …),
#                          sets kubeconfig, nginx, probe; cds to the checkout; builds dist/ when missing;
#                          makes $out, a temporary directory removed on exit
#   bench_quiet            waits (bounded, not timed) until the previous run's namespaces are gone
#   bench_time T0 T1       seconds between two `date +%s%N` stamps, one decimal
#   bench_median FILE      the median of the first column of FILE
#   bench_load             the load average now (1, 5, 15 min)
#   bench_cpu              seconds a fixed CPU-bound loop takes in node now: the machine's speed at that moment (on
#                          this shared 2-core VM it varied 1.8-4.7 s within an hour: quote it beside a figure)
#   bench_seed DIR OUT [flags]  one seed run (the checks of docs/benchmark.md) of the checkout DIR, reports in OUT
# shellcheck disable=SC2034  # kubeconfig, nginx, probe, out: for the script that sources this
bench_cluster() {
  local info
  info="$(bash "$KNC_ROOT/scripts/cluster-up.sh" | tail -n 1)" || die "scripts/cluster-up.sh failed" 1
  kubeconfig="$(node -e 'console.log(JSON.parse(process.argv[1]).kubeconfig)' "$info")"
  nginx="$(node -e 'console.log(JSON.parse(process.argv[1]).nginxImage)' "$info")"
  probe="$(node -e 'console.log(JSON.parse(process.argv[1]).probeImage)' "$info")"
  cd "$KNC_ROOT" || die "cd $KNC_ROOT failed"
  [[ -f dist/cli/main.js ]] || npm run --silent build
  out="$(mktemp -d)"
  # shellcheck disable=SC2064  # $out is fixed now
  trap "rm -rf '$out'" EXIT
}
bench_quiet() {
  kubectl --kubeconfig "$kubeconfig" wait --for=delete namespace -l app.kubernetes.io/managed-by=kube-netcheck --timeout=180s >/dev/null 2>&1 \
    || die "the previous run's namespaces were not deleted within 180 s" 1
}
bench_time() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (b-a)/1e9}'; }
bench_median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
bench_load() { cut -d' ' -f1-3 /proc/loadavg; }
bench_cpu() { node -e 'const t = process.hrtime.bigint(); let s = 0; for (let i = 0; i < 3e8; i++) s += i; console.log((Number(process.hrtime.bigint() - t) / 1e9).toFixed(2))'; }
bench_seed() {
  local dir="$1" report="$2"; shift 2
  (cd "$dir" && node bin/kube-netcheck.js run --kubeconfig "$kubeconfig" --nginx-image "$nginx" --probe-image "$probe" \
    --only nodes,coredns,pod-ip,service,dns --skip mtu,policy,datapath,ip-family --report-dir "$report" "$@")
}
