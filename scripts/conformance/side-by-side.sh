#!/usr/bin/env bash
# Reproduces the side-by-side table of docs/conformance.md: kube-netcheck and upstream's
# [sig-network] [Conformance] tests on the same kind cluster, healthy and under each fault,
# restoring the cluster after each fault.
#
# usage: side-by-side.sh [--cluster NAME] [--out DIR] [--faults healthy,masq,no-endpoints,dns,drop]
#                        [--fault-focus REGEX] [--fault-spec-timeout DURATION]
#   --cluster       the kind cluster (default $KNC_CLUSTER, else kube-netcheck); it must exist, with
#                   the conformance images loaded (scripts/conformance/load-images.sh)
#   --out           where every run's reports go (default reports/side-by-side); the table is
#                   printed on stdout and written to OUT/table.md
#   --faults        which rows (default all, in that order)
#   --fault-focus   the upstream tests run under the no-endpoints, dns and drop faults (default 8:
#                   Networking Granular Checks intra-/node-pod http, Services basic endpoint and
#                   NodePort, EndpointSlice for pods matching a Service, DNS for services, for the
#                   cluster, partial names); the healthy and masquerade rows run all 45
#   --table-only    only print the table from OUT/rows.jsonl (the results of earlier runs)
#   --fault-spec-timeout  per-test budget under a fault (default 90s; each test in its own
#                   process — a failing DNS test would otherwise poll for 10 minutes)
#   KNC_SIDE_BY_SIDE_CLI_ROOT  the checkout whose `kube-netcheck run` is used (default this one)
#   KNC_SIDE_BY_SIDE_SUITES    kube-netcheck,upstream (default) or just one of them
#
# Faults (every one undone before the next):
#   masq          every node masquerades pod-to-pod traffic (iptables nat POSTROUTING MASQUERADE
#                 -s podSubnet -d podSubnet, first rule)
#   no-endpoints  the EndpointSlice and Endpoints controllers are off (kube-controller-manager
#                 --controllers): every new Service behaves like a Service selecting nothing
#   dns           CoreDNS without the kubernetes plugin (Corefile edited, CoreDNS restarted)
#   drop          every node drops forwarded traffic between its pod CIDR and every other node's
#                 (iptables filter FORWARD DROP, first rules)
# Nothing here sends a packet anywhere but to the cluster's own containers.
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
cluster="${KNC_CLUSTER:-kube-netcheck}" out="$KNC_ROOT/reports/side-by-side"
faults="healthy,masq,no-endpoints,dns,drop"
fault_focus='\[sig-network\] (Networking Granular Checks: Pods should function for (intra|node)-pod communication: http|Services should (serve a basic endpoint from pods|be able to create a functioning NodePort service)|EndpointSlice should create Endpoints and EndpointSlices for Pods matching|DNS should (provide DNS for services|provide DNS for the cluster|resolve DNS of partial qualified names))'
fault_timeout="90s"
table_only=0
# the kube-netcheck checkout whose CLI runs (KNC_SIDE_BY_SIDE_CLI_ROOT: e.g. a worktree of a release)
knc_root="${KNC_SIDE_BY_SIDE_CLI_ROOT:-$KNC_ROOT}"
# Its images must be the offline ones loaded by cluster-up.sh: with --kubeconfig the CLI would
# otherwise default to public images, and a node would try to pull them.
# shellcheck source=../lib/image-names.sh
source "$KNC_ROOT/scripts/lib/image-names.sh"
# flannel has no NetworkPolicy engine: the policy checks are left out, as `make check` does
read -r -a knc_args <<<"${KNC_SIDE_BY_SIDE_RUN_ARGS:---skip policy}"
while (($#)); do
  case "$1" in
    --cluster) cluster="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --faults) faults="$2"; shift 2 ;;
    --fault-focus) fault_focus="$2"; shift 2 ;;
    --fault-spec-timeout) fault_timeout="$2"; shift 2 ;;
    --table-only) table_only=1; shift ;;
    -h|--help) sed -n '2,/^# Nothing here/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
# ---- the table ----------------------------------------------------------------------------------
print_table() {
python3 - "$out/rows.jsonl" >"$out/table.md" <<'PY'
import sys, json
rows = {}
for l in open(sys.argv[1]):
    r = json.loads(l); rows.setdefault(r["row"], {})[r["suite"]] = r
label = {"healthy": "none (healthy cluster)", "masq": "every node masquerades pod-to-pod traffic",
         "no-endpoints": "Services get no endpoints (EndpointSlice/Endpoints controllers off)",
         "dns": "CoreDNS without the kubernetes plugin", "drop": "cross-node pod traffic dropped (FORWARD)"}
def verdict(r):
    if not r: return "not run"
    return "PASS" if r.get("exitCode") == 0 else ("FAIL" if r.get("exitCode") == 1 else f"ERROR (exit {r.get('exitCode')})")
print("| fault | kube-netcheck | failing checks | upstream | failing upstream tests |")
print("|---|---|---|---|---|")
for row, s in rows.items():
    k, u = s.get("kube-netcheck", {}), s.get("upstream", {})
    kc = f"{verdict(k)} — {k.get('passed','?')}/{k.get('total','?')} passed, {k.get('wallMs',0)/1000:.0f} s"
    uc = f"{verdict(u)} — {u.get('passed','?')}/{u.get('selected','?')} passed, {u.get('wallMs',0)/1000:.0f} s"
    kf = ", ".join(f"`{c}`" for c in k.get("failing", [])) or "—"
    uf = "; ".join(t.replace("[sig-network] ", "").replace(" [Conformance]", "") for t in u.get("failing", [])) or "—"
    print(f"| {label.get(row, row)} | {kc} | {kf} | {uc} | {uf} |")
PY
cat "$out/table.md"
}
if ((table_only)); then mkdir -p "$out"; [[ -s "$out/rows.jsonl" ]] || die "no $out/rows.jsonl"; print_table; exit 0; fi
[[ "$cluster" != "kube-netcheck" || "${KNC_SIDE_BY_SIDE_MAIN:-0}" == 1 ]] \
  || die "refusing to inject faults into the cluster named kube-netcheck: pass --cluster NAME (or KNC_SIDE_BY_SIDE_MAIN=1)"
kind get clusters 2>/dev/null | grep -qx "$cluster" || die "no kind cluster named $cluster (KNC_CLUSTER=$cluster bash scripts/cluster-up.sh)"
mkdir -p "$out"
out="$(realpath "$out")"
kubeconfig="$out/kubeconfig"
kind get kubeconfig --name "$cluster" >"$kubeconfig" || die "kind get kubeconfig --name $cluster failed"
kc() { kubectl --kubeconfig "$kubeconfig" --request-timeout=30s "$@"; }
mapfile -t nodes < <(kind get nodes --name "$cluster" | sort)
((${#nodes[@]} > 0)) || die "cluster $cluster has no nodes"
control_plane="$cluster-control-plane"
pod_subnet="$(docker exec "$control_plane" sh -c "grep -h -- '--cluster-cidr=' /etc/kubernetes/manifests/kube-controller-manager.yaml" | sed 's/.*--cluster-cidr=//' | tr -d ' ')"
[[ -n "$pod_subnet" ]] || die "cannot read --cluster-cidr from $control_plane's kube-controller-manager manifest"

# ---- faults -------------------------------------------------------------------------------------
masq_rule=(-s "$pod_subnet" -d "$pod_subnet" -j MASQUERADE)
masq_on() { for n in "${nodes[@]}"; do docker exec "$n" iptables -t nat -I POSTROUTING 1 "${masq_rule[@]}" || die "masquerade rule on $n failed"; done; }
masq_off() { for n in "${nodes[@]}"; do while docker exec "$n" iptables -t nat -D POSTROUTING "${masq_rule[@]}" 2>/dev/null; do :; done; done; }

# node → its pod CIDR
declare -A cidr_of
node_cidrs() {
  local line
  while read -r line; do cidr_of["${line%% *}"]="${line#* }"; done < <(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.podCIDR}{"\n"}{end}')
}
drop_rules() { # prints "node src dst" for every node and every pair of different pod CIDRs
  local n a b
  for n in "${nodes[@]}"; do for a in "${!cidr_of[@]}"; do for b in "${!cidr_of[@]}"; do
    [[ "$a" != "$b" ]] && printf '%s %s %s\n' "$n" "${cidr_of[$a]}" "${cidr_of[$b]}"
  done; done; done
}
drop_on() {
  node_cidrs
  local n s d
  while read -r n s d; do docker exec "$n" iptables -I FORWARD 1 -s "$s" -d "$d" -j DROP || die "drop rule on $n failed"; done < <(drop_rules)
}
drop_off() {
  node_cidrs
  local n s d
  while read -r n s d; do while docker exec "$n" iptables -D FORWARD -s "$s" -d "$d" -j DROP 2>/dev/null; do :; done; done < <(drop_rules)
}

kcm_manifest=/etc/kubernetes/manifests/kube-controller-manager.yaml
kcm_wait() { # the controller manager's static pod runs the manifest's flags and is Ready
  local want="$1" deadline=$((SECONDS + 180)) args
  while ((SECONDS < deadline)); do
    args="$(kc -n kube-system get pod "kube-controller-manager-$control_plane" -o jsonpath='{.spec.containers[0].command}{" "}{.status.containerStatuses[0].ready}' 2>/dev/null || true)"
    if [[ "$args" == *"$want"* && "$args" == *" true" ]]; then return 0; fi
    sleep 5
  done
  die "kube-controller-manager did not come back with '$want' within 180s"
}
no_endpoints_on() {
  docker exec "$control_plane" cp "$kcm_manifest" /root/kcm.yaml.orig || die "saving $kcm_manifest failed"
  docker exec "$control_plane" sed -i 's/--controllers=\(.*\)$/--controllers=\1,-endpointslice-controller,-endpoints-controller,-endpointslice-mirroring-controller/' "$kcm_manifest" \
    || die "editing $kcm_manifest failed"
  kcm_wait "-endpointslice-controller"
}
no_endpoints_off() {
  if docker exec "$control_plane" test -f /root/kcm.yaml.orig; then
    docker exec "$control_plane" cp /root/kcm.yaml.orig "$kcm_manifest" || die "restoring $kcm_manifest failed"
  fi
  local deadline=$((SECONDS + 180)) args
  while ((SECONDS < deadline)); do
    args="$(kc -n kube-system get pod "kube-controller-manager-$control_plane" -o jsonpath='{.spec.containers[0].command}{" "}{.status.containerStatuses[0].ready}' 2>/dev/null || true)"
    [[ -n "$args" && "$args" != *"-endpointslice-controller"* && "$args" == *" true" ]] && return 0
    sleep 5
  done
  die "kube-controller-manager did not come back with its original flags within 180s"
}

coredns_restart() {
  kc -n kube-system rollout restart deployment coredns >/dev/null || die "restarting CoreDNS failed"
  kc -n kube-system rollout status deployment coredns --timeout=180s >/dev/null || die "CoreDNS did not roll out within 180s"
}
dns_on() {
  kc -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}' >"$out/Corefile.orig" || die "reading the CoreDNS Corefile failed"
  grep -q '^\s*kubernetes ' "$out/Corefile.orig" || die "the Corefile has no kubernetes plugin block: nothing to remove"
  # drop the "kubernetes … { … }" block (or a one-line "kubernetes …")
  awk '/^[ \t]*kubernetes / { skip = /\{[ \t]*$/ ? 1 : 0; next } skip && /^[ \t]*\}/ { skip = 0; next } !skip' \
    "$out/Corefile.orig" >"$out/Corefile.fault"
  ! grep -q 'kubernetes' "$out/Corefile.fault" || die "could not remove the kubernetes plugin from the Corefile"
  kc -n kube-system create configmap coredns --from-file=Corefile="$out/Corefile.fault" --dry-run=client -o yaml \
    | kc apply -f - >/dev/null || die "writing the faulty Corefile failed"
  coredns_restart
}
dns_off() {
  [[ -s "$out/Corefile.orig" ]] || return 0
  kc -n kube-system create configmap coredns --from-file=Corefile="$out/Corefile.orig" --dry-run=client -o yaml \
    | kc apply -f - >/dev/null || die "restoring the Corefile failed"
  coredns_restart
}
restore_all() { masq_off; drop_off; no_endpoints_off; dns_off; }
trap 'log "restoring the cluster"; restore_all' EXIT

# ---- the two suites -----------------------------------------------------------------------------
results="$out/rows.jsonl"
IFS=, read -r -a rows <<<"$faults"
# which suites to run (KNC_SIDE_BY_SIDE_SUITES=upstream redoes only upstream's side of the rows)
suites="${KNC_SIDE_BY_SIDE_SUITES:-kube-netcheck,upstream}"
# keep the results of earlier runs that this run does not redo
touch "$results"
jq -c --argjson redo "$(printf '%s\n' "${rows[@]}" | jq -R . | jq -s .)" --arg suites ",$suites," \
  'select(.row as $r | .suite as $s | ($redo | index($r)) and ($suites | contains(",\($s),")) | not)' "$results" >"$results.tmp" \
  || die "reading $results failed"
mv "$results.tmp" "$results"
knc_run() { # ROW: kube-netcheck run, verdict and failing checks
  [[ ",$suites," == *,kube-netcheck,* ]] || return 0
  local row="$1" dir="$out/$1/kube-netcheck" t0 rc=0
  mkdir -p "$dir"
  t0="$(date +%s%3N)"
  (cd "$knc_root" && node bin/kube-netcheck.js run --kubeconfig "$kubeconfig" --report-dir "$dir" \
    --nginx-image "$NGINX_IMAGE" --probe-image "$PROBE_IMAGE" "${knc_args[@]}") >"$dir/run.log" 2>&1 || rc=$?
  local ms=$(( $(date +%s%3N) - t0 ))
  local summary='{}'
  [[ -s "$dir/results.json" ]] && summary="$(jq -c '{passed: .summary.passed, failed: .summary.failed, skipped: .summary.skipped, total: .summary.total,
      failing: [.results[] | select(.status == "failed") | .check] | unique}' "$dir/results.json")"
  jq -nc --arg row "$row" --argjson rc "$rc" --argjson ms "$ms" --argjson s "$summary" \
    '{row: $row, suite: "kube-netcheck", exitCode: $rc, wallMs: $ms} + $s' >>"$results"
  log "$row: kube-netcheck exit $rc in $((ms / 1000))s"
}
upstream_run() { # ROW ARGS...: upstream conformance, verdict and failing tests
  [[ ",$suites," == *,upstream,* ]] || return 0
  local row="$1" dir="$out/$1/upstream" rc=0 line
  shift
  mkdir -p "$dir"
  "$KNC_ROOT/scripts/conformance/run.sh" --kubeconfig "$kubeconfig" --report-dir "$dir" "$@" >"$dir/run.json" 2>"$dir/run.log" || rc=$?
  line="$(tail -1 "$dir/run.json")"
  [[ "$line" == \{* ]] || line='{}'
  local failing='[]'
  [[ -s "$dir/junit_01.xml" && -s "$dir/selected.txt" ]] && failing="$(python3 - "$dir/junit_01.xml" "$dir/selected.txt" <<'PY'
import sys, json, xml.etree.ElementTree as ET
names = set(l.strip() for l in open(sys.argv[2]) if l.strip())
bad = []
for c in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    n = c.get("name", "")
    n = n[5:] if n.startswith("[It] ") else n
    if n in names and (c.find("failure") is not None or c.find("error") is not None):
        bad.append(n)
print(json.dumps(bad))
PY
)"
  jq -nc --arg row "$row" --argjson rc "$rc" --argjson s "$line" --argjson failing "$failing" \
    '{row: $row, suite: "upstream", exitCode: $rc} + $s + {failing: $failing}' >>"$results"
  log "$row: upstream exit $rc ($(jq -r '"\(.passed // "?") passed, \(.failed // "?") failed in \((.wallMs // 0) / 1000 | floor)s"' <<<"$line"))"
}

for row in "${rows[@]}"; do
  log "=== $row"
  case "$row" in
    healthy) knc_run healthy; upstream_run healthy ;;
    masq) masq_on; knc_run masq; upstream_run masq; masq_off ;;
    no-endpoints) no_endpoints_on; knc_run no-endpoints
      upstream_run no-endpoints --focus "$fault_focus" --isolate --spec-timeout "$fault_timeout"; no_endpoints_off ;;
    dns) dns_on; knc_run dns; upstream_run dns --focus "$fault_focus" --isolate --spec-timeout "$fault_timeout"; dns_off ;;
    drop) drop_on; knc_run drop; upstream_run drop --focus "$fault_focus" --isolate --spec-timeout "$fault_timeout"; drop_off ;;
    *) die "unknown fault '$row' (healthy, masq, no-endpoints, dns, drop)" ;;
  esac
done
trap - EXIT
restore_all

print_table
