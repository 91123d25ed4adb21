#!/usr/bin/env bash
# Benchmark of the NetworkPolicy truth tables (src/catalogue/netpol.ts): `kube-netcheck run --only
# netpol` on a warm cluster with a policy engine (created or reused first, kept afterwards; pick it
# with KNC_CLUSTER / KNC_CNI as for scripts/cluster-up.sh), RUNS times: wall time from command start
# to reports written, the netpol phases alone (every case: its change, convergence, the judged
# round), cases passed, execs, probes and the load average before and after; the median wall time;
# then the slowest cases of the last run. With --upstream, upstream's Netpol e2e tests
# (`kube-netcheck conformance --netpol`, 45 tests) run once afterwards on the same cluster, side by side.
# usage: KNC_CLUSTER=knc-policy KNC_CNI=flannel-vxlan+policy scripts/bench-netpol.sh [RUNS] [--upstream] [extra run flags...]   (default 3)
#        KNC_BENCH_KEEP=DIR keeps each run's reports (DIR/<run>/results.json …) and log
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/bench.sh
source "$KNC_ROOT/scripts/lib/bench.sh"
runs="${1:-3}"; shift || true
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, got '$runs'"
upstream=0
if [[ "${1:-}" == --upstream ]]; then upstream=1; shift; fi
bench_cluster
printf 'cluster %s (CNI %s), %s nodes\n\n' "${KNC_CLUSTER:-kube-netcheck}" "${KNC_CNI:-flannel-host-gw}" "$(kubectl --kubeconfig "$kubeconfig" get nodes --no-headers | wc -l)"
printf '| run | wall time, command start to reports written (s) | netpol phases (s) | cases passed/failed/n-a | execs | probes | load before | load after |\n|---|---|---|---|---|---|---|---|\n'
for i in $(seq 1 "$runs"); do
  bench_quiet
  load0="$(bench_load)"
  t0=$(date +%s%N)
  node bin/kube-netcheck.js run --kubeconfig "$kubeconfig" --nginx-image "$nginx" --probe-image "$probe" \
    --only netpol --report-dir "$out/$i" "$@" >"$out/$i.log" 2>&1 || true
  t1=$(date +%s%N)
  load1="$(bench_load)"
  [[ -s "$out/$i/results.json" ]] || { tail -n 40 "$out/$i.log" >&2; die "run $i wrote no results.json (log above)" 1; }
  printf '%s %s\n' "$(bench_time "$t0" "$t1")" "$i" >>"$out/times"
  # KNC_BENCH_KEEP=DIR keeps every run's reports and log (the temporary directory is removed on exit)
  if [[ -n "${KNC_BENCH_KEEP:-}" ]]; then mkdir -p "$KNC_BENCH_KEEP" && cp -r "$out/$i" "$out/$i.log" "$KNC_BENCH_KEEP/"; fi
  # shellcheck disable=SC2016  # the ${...} are JavaScript template literals
  node -e '
    const r = require(process.argv[1]); const ph = r.timings.phases.filter((p) => p.phase.startsWith("netpol-"));
    const sum = ph.reduce((n, p) => n + p.enterMs + p.fanoutMs + p.verifyMs, 0);
    const cases = r.results.filter((c) => c.tags.includes("netpol"));
    const n = (s) => cases.filter((c) => c.status === s).length;
    console.log(`| ${process.argv[2]} | ${process.argv[3]} | ${(sum / 1000).toFixed(1)} | ${n("passed")}/${n("failed")}/${n("skipped")} of ${cases.length} | ${r.execs} | ${r.probes} | ${process.argv[4]} | ${process.argv[5]} |`);
  ' "$out/$i/results.json" "$i" "$(tail -n 1 "$out/times" | cut -d' ' -f1)" "$load0" "$load1"
done
printf '\nmedian of %s runs: %s s\n' "$runs" "$(bench_median "$out/times")"
printf '\nslowest cases of run %s (change → converged, rounds; the whole phase):\n' "$runs"
# shellcheck disable=SC2016
node -e '
  const r = require(process.argv[1]); const t = r.sections?.netpol ?? {};
  const ph = Object.fromEntries(r.timings.phases.map((p) => [p.phase, p.enterMs + p.fanoutMs + p.verifyMs]));
  const rows = Object.entries(t).map(([id, c]) => [id, c.convergence, ph["netpol-" + id.replace(/^netpol\./, "")] ?? 0]).sort((a, b) => b[2] - a[2]);
  for (const [id, cv, ms] of rows.slice(0, 8)) console.log(`  ${id}: ${cv ? `${cv.converged ? "converged" : "NOT converged"} in ${cv.ms} ms, ${cv.rounds} rounds` : "-"}; phase ${(ms / 1000).toFixed(1)} s`);
  for (const c of r.results.filter((x) => x.tags.includes("netpol") && x.status !== "passed")) console.log(`  ${c.status}: ${c.id}: ${(c.error ?? c.reason ?? "").split("\n")[0].slice(0, 300)}`);
' "$out/$runs/results.json"
if ((upstream)); then
  bench_quiet
  load0="$(bench_load)"
  t0=$(date +%s%N)
  node bin/kube-netcheck.js conformance --netpol --kubeconfig "$kubeconfig" --report-dir "$out/upstream" >"$out/upstream.log" 2>&1 || true
  t1=$(date +%s%N)
  line="$(grep '^upstream conformance: ' "$out/upstream.log" | tail -n 1)"
  [[ -n "$line" ]] || { tail -n 20 "$out/upstream.log" >&2; die "the upstream Netpol run printed no summary (log above)" 1; }
  printf '\nupstream Netpol e2e (kube-netcheck conformance --netpol), once: %s s wall, load %s → %s\n  %s\n' \
    "$(bench_time "$t0" "$t1")" "$load0" "$(bench_load)" "$line"
  grep '^FAIL ' "$out/upstream.log" | cut -c1-300 || true
fi
