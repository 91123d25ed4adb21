#!/usr/bin/env bash
# Benchmark of the NetworkPolicy truth tables (src/catalogue/netpol.ts): `kube-netcheck run --only
# netpol` on a warm cluster with a policy engine (created or reused first, kept afterwards; pick it
# with KNC_CLUSTER / KNC_CNI as for scripts/cluster-up.sh), RUNS times: wall time from command start
# to reports written, the netpol phases alone (every case: its change, convergence, the judged
# round), cases passed, execs and probes; then the slowest cases of the last run.
# usage: KNC_CLUSTER=knc-policy KNC_CNI=flannel-vxlan+policy scripts/bench-netpol.sh [RUNS] [extra run flags...]   (default 3)
source "$(dirname "$0")/lib/common.sh"
runs="${1:-3}"; shift || true
info="$(bash "$KNC_ROOT/scripts/cluster-up.sh" | tail -n 1)"
kubeconfig="$(node -e 'console.log(JSON.parse(process.argv[1]).kubeconfig)' "$info")"
nginx="$(node -e 'console.log(JSON.parse(process.argv[1]).nginxImage)' "$info")"
probe="$(node -e 'console.log(JSON.parse(process.argv[1]).probeImage)' "$info")"
cd "$KNC_ROOT"
[[ -f dist/cli/main.js ]] || npm run --silent build
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
printf 'cluster %s (CNI %s), %s nodes\n\n' "${KNC_CLUSTER:-kube-netcheck}" "${KNC_CNI:-flannel-host-gw}" "$(kubectl --kubeconfig "$kubeconfig" get nodes --no-headers | wc -l)"
printf '| run | wall time, command start to reports written (s) | netpol phases (s) | cases passed/total | execs | probes |\n|---|---|---|---|---|---|\n'
for i in $(seq 1 "$runs"); do
  kubectl --kubeconfig "$kubeconfig" wait --for=delete namespace -l app.kubernetes.io/managed-by=kube-netcheck --timeout=180s >/dev/null 2>&1 \
    || die "the previous run's namespaces were not deleted within 180 s" 1
  t0=$(date +%s%N)
  node bin/kube-netcheck.js run --kubeconfig "$kubeconfig" --nginx-image "$nginx" --probe-image "$probe" \
    --only netpol --report-dir "$out/$i" "$@" >"$out/$i.log" 2>&1 || true
  t1=$(date +%s%N)
  [[ -s "$out/$i/results.json" ]] || { tail -n 40 "$out/$i.log" >&2; die "run $i wrote no results.json (log above)" 1; }
  # shellcheck disable=SC2016  # the ${...} are JavaScript template literals
  node -e '
    const r = require(process.argv[1]); const ph = r.timings.phases.filter((p) => p.phase.startsWith("netpol-"));
    const sum = ph.reduce((n, p) => n + p.enterMs + p.fanoutMs + p.verifyMs, 0);
    const cases = r.records.filter((c) => c.tags.includes("netpol"));
    console.log(`| ${process.argv[2]} | ${process.argv[3]} | ${(sum / 1000).toFixed(1)} | ${cases.filter((c) => c.status === "passed").length}/${cases.length} | ${r.execs} | ${r.probes} |`);
  ' "$out/$i/results.json" "$i" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1e9}')"
done
printf '\nslowest cases of run %s (change → converged, rounds; the whole phase):\n' "$runs"
# shellcheck disable=SC2016
node -e '
  const r = require(process.argv[1]); const t = r.sections?.netpol ?? {};
  const ph = Object.fromEntries(r.timings.phases.map((p) => [p.phase, p.enterMs + p.fanoutMs + p.verifyMs]));
  const rows = Object.entries(t).map(([id, c]) => [id, c.convergence, ph["netpol-" + id.replace(/^netpol\./, "")] ?? 0]).sort((a, b) => b[2] - a[2]);
  for (const [id, cv, ms] of rows.slice(0, 8)) console.log(`  ${id}: ${cv ? `${cv.converged ? "converged" : "NOT converged"} in ${cv.ms} ms, ${cv.rounds} rounds` : "-"}; phase ${(ms / 1000).toFixed(1)} s`);
  for (const c of r.records.filter((x) => x.tags.includes("netpol") && x.status !== "passed")) console.log(`  ${c.status}: ${c.id}: ${(c.error ?? c.reason ?? "").split("\n")[0].slice(0, 300)}`);
' "$out/$runs/results.json"
