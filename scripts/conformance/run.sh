#!/usr/bin/env bash
# Runs the upstream [sig-network] [Conformance] tests (the e2e.test built by
# scripts/build/conformance.sh) against a cluster, serially, offline, with bounded time.
#
# usage: run.sh [--kubeconfig FILE] [--context NAME] [--focus REGEX] [--skip REGEX]
#               [--report-dir DIR] [--spec-timeout DURATION] [--timeout DURATION] [--isolate]
#               [--netpol] [--dry-run]
#
#   --focus/--skip  Ginkgo regexes on the full test name, applied within the sig-network
#                   conformance tests (labels sig-network && Conformance); default focus
#                   '\[sig-network\].*\[Conformance\]' (45 tests at v1.34.4)
#   --report-dir    where upstream's JUnit goes (junit_01.xml); default reports/conformance
#   --spec-timeout  time budget per test (default 3m). One process: --ginkgo.timeout is
#                   tests x budget + 2m, at most --timeout (default 30m; the 45 take ~6 min).
#                   With --isolate every test runs in its own e2e.test process with
#                   --ginkgo.timeout = budget, so one stuck test costs at most that; the JUnit
#                   files are merged into junit_01.xml.
#   --netpol        instead of the conformance tests: upstream's NetworkPolicy e2e tests
#                   (test/e2e/network/netpol, label Feature:NetworkPolicy, focus
#                   '\[sig-network\] Netpol'; 45 at v1.34.4). The 3 [Feature:SCTPConnectivity]
#                   ones are left out: they need SCTP in the node kernel (this machine has none).
#                   They use agnhost only; default --timeout 90m (each test makes 3 namespaces
#                   and 9 pods, about 30-60 s a test).
#   --dry-run       only list the selected tests
#
# Before running, checks and stops with ONE line and exit 2 when: e2e.test is not built, the
# cluster is unreachable or runs another Kubernetes minor version than e2e.test was built for,
# a test image is missing on a schedulable node, or the selection is empty.
# Exit: 0 all selected tests passed, 1 a test failed, 2 environment or usage error.
# The last stdout line is JSON: {"junit":...,"selected":N,"passed":N,"failed":N,"skipped":N,"wallMs":N}
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=image-names.sh
source "$KNC_ROOT/scripts/conformance/image-names.sh"

kubeconfig="${KUBECONFIG:-}" context="" focus="" skip="" report_dir="$KNC_ROOT/reports/conformance"
spec_timeout="3m" suite_timeout="" isolate=0 dry_run=0 netpol=0
need_arg() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see the usage at the top of scripts/conformance/run.sh)"; }
while (($#)); do
  case "$1" in
    --kubeconfig) need_arg "$@"; kubeconfig="$2"; shift 2 ;;
    --context) need_arg "$@"; context="$2"; shift 2 ;;
    --focus) need_arg "$@"; focus="$2"; shift 2 ;;
    --skip) need_arg "$@"; skip="$2"; shift 2 ;;
    --report-dir) need_arg "$@"; report_dir="$2"; shift 2 ;;
    --spec-timeout) need_arg "$@"; spec_timeout="$2"; shift 2 ;;
    --timeout) need_arg "$@"; suite_timeout="$2"; shift 2 ;;
    --isolate) isolate=1; shift ;;
    --netpol) netpol=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
# duration → seconds (Go-style: 90s, 5m, 1h30m, or plain seconds)
to_seconds() {
  local d="$1" total=0 n u
  [[ "$d" =~ ^[0-9]+$ ]] && { echo "$d"; return; }
  [[ "$d" =~ ^([0-9]+[hms])+$ ]] || return 1
  while [[ "$d" =~ ^([0-9]+)([hms])(.*)$ ]]; do
    n="${BASH_REMATCH[1]}" u="${BASH_REMATCH[2]}" d="${BASH_REMATCH[3]}"
    case "$u" in h) total=$((total + n * 3600)) ;; m) total=$((total + n * 60)) ;; s) total=$((total + n)) ;; esac
  done
  echo "$total"
}
[[ -n "$suite_timeout" ]] || { suite_timeout=30m; ((netpol)) && suite_timeout=90m; }
spec_s="$(to_seconds "$spec_timeout")" || die "--spec-timeout '$spec_timeout' is not a duration like 90s, 5m or 1h"
suite_s="$(to_seconds "$suite_timeout")" || die "--timeout '$suite_timeout' is not a duration like 30m or 1h"
((spec_s >= 30)) || die "--spec-timeout $spec_timeout is too short: a test needs at least 30s to create its namespace and pods"
[[ -n "$kubeconfig" ]] || die "no kubeconfig: pass --kubeconfig FILE (or set KUBECONFIG)"
[[ -r "$kubeconfig" ]] || die "kubeconfig $kubeconfig does not exist or is not readable"
kubeconfig="$(realpath "$kubeconfig")"

e2e="$CONF_DIR/e2e.test"
# KNC_REGISTRY (kube-netcheck images --registry): every test image from that mirror, paths kept
# (src/cluster/registry.ts's rule), through e2e.test's own KUBE_TEST_REPO_LIST
if [[ -n "${KNC_REGISTRY:-}" ]]; then
  repo_list="$(mktemp)"; r="${KNC_REGISTRY%/}"
  printf '%s\n' "promoterE2eRegistry: $r/e2e-test-images" "gcRegistry: $r" "gcEtcdRegistry: $r" "sigStorageRegistry: $r/sig-storage" \
    "buildImageRegistry: $r/build-image" "dockerLibraryRegistry: $r/library" "cloudProviderGcpRegistry: $r/cloud-provider-gcp" >"$repo_list"
  export KUBE_TEST_REPO_LIST="$repo_list"
  log "test images from the mirror $r (KUBE_TEST_REPO_LIST $repo_list)"
fi
[[ -x "$e2e" && -s "$CONF_DIR/k8s-version" ]] || die "e2e.test for $K8S_VERSION is not built: run scripts/build/conformance.sh"
built_version="$(cat "$CONF_DIR/k8s-version")"
kubectl_bin="$KNC_BIN/kubectl"
minor_of() { local v="${1#v}"; cut -d. -f1,2 <<<"$v"; }
[[ -x "$kubectl_bin" ]] || die "no kubectl at $kubectl_bin: run scripts/build/kubernetes.sh and install its kubectl there (scripts/cluster-up.sh does)"
kc=("$kubectl_bin" --kubeconfig "$kubeconfig" --request-timeout=15s)
[[ -n "$context" ]] && kc+=(--context "$context")
ctx_args=(--kubeconfig "$kubeconfig")
[[ -n "$context" ]] && ctx_args+=(--context "$context")
if ! version_json="$("${kc[@]}" version -o json 2>"$KNC_CACHE/.conformance-kubectl.err")"; then
  die "cannot reach the cluster of $kubeconfig${context:+ (context $context)}: $(grep -v '^$' "$KNC_CACHE/.conformance-kubectl.err" | tail -1)"
fi
server_version="$(jq -r '.serverVersion.gitVersion // empty' <<<"$version_json")"
[[ -n "$server_version" ]] || die "the cluster of $kubeconfig did not report its version"
if [[ "$(minor_of "$server_version")" != "$(minor_of "$built_version")" ]]; then
  die "the cluster runs Kubernetes $server_version but e2e.test was built for $built_version: rebuild it with K8S_VERSION=<the cluster's version> bash scripts/build/conformance.sh (versions.env), or test a $(minor_of "$built_version").x cluster"
fi
[[ "$server_version" == "$built_version" ]] || log "note: cluster $server_version, e2e.test $built_version (same minor version: running)"
kubectl_json="$("$kubectl_bin" version --client -o json 2>/dev/null)" || die "$kubectl_bin does not run"
kubectl_version="$(jq -r '.clientVersion.gitVersion' <<<"$kubectl_json")"
[[ "$(minor_of "$kubectl_version")" == "$(minor_of "$built_version")" ]] \
  || die "kubectl at $kubectl_bin is $kubectl_version, e2e.test is $built_version: install a kubectl of the same minor version there"


# Images: the tests use IfNotPresent and nothing may be pulled here, so every schedulable node
# must already hold every image (the kubelet lists them in the node status).
nodes_json="$("${kc[@]}" get nodes -o json)" || die "kubectl get nodes failed on $kubeconfig"
want_images=("${CONF_IMAGES[@]}")
((netpol)) && want_images=("$CONF_AGNHOST_IMAGE")   # every netpol pod and probe is agnhost
want_json="$(printf '%s\n' "${want_images[@]}" "$CONF_PAUSE_IMAGE" | jq -R . | jq -s .)"
missing="$(jq -r --argjson want "$want_json" '
  [ .items[] | select([.spec.taints[]? | select(.effect == "NoSchedule" or .effect == "NoExecute")] | length == 0)
    | .metadata.name as $n | ([.status.images[]?.names[]?]) as $have
    | $want[] | select(. as $w | $have | index($w) | not) | {image: ., node: $n} ]
  | group_by(.image) | map("\(.[0].image) on \(map(.node) | join(" "))") | join(", ")' <<<"$nodes_json")"
[[ -z "$missing" ]] || die "test images missing on the nodes ($missing): build and load them (scripts/build/conformance.sh, then KNC_CLUSTER=<kind cluster> scripts/conformance/load-images.sh)"

default_focus='\[sig-network\].*\[Conformance\]' labels='sig-network && Conformance' what='sig-network conformance'
if ((netpol)); then
  default_focus='\[sig-network\] Netpol ' labels='Feature:NetworkPolicy && !Feature:SCTPConnectivity' what='sig-network Netpol (NetworkPolicy)'
fi
selection=(--ginkgo.label-filter="$labels" --ginkgo.focus="${focus:-$default_focus}")
[[ -n "$skip" ]] && selection+=(--ginkgo.skip="$skip")
common=(--provider=skeleton "${ctx_args[@]}" --kubectl-path="$kubectl_bin" --prepull-images=false
        --ginkgo.no-color --ginkgo.poll-progress-after=2m --ginkgo.poll-progress-interval=1m)

# Dry run: which tests the selection takes (a bad regex or an empty selection stops here).
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
if ! "$e2e" "${common[@]}" "${selection[@]}" --ginkgo.dry-run --ginkgo.json-report="$work/dry.json" >"$work/dry.log" 2>&1; then
  why="$(grep -o 'error parsing regexp: .*' "$work/dry.log" | head -1)"
  [[ -n "$why" ]] || why="$(grep -v '^\s*$' "$work/dry.log" | tail -1)"
  die "e2e.test --ginkgo.dry-run failed (bad --focus/--skip regex?): $why"
fi
mapfile -t names < <(jq -r '.[0].SpecReports[] | select(.LeafNodeType == "It") | select(.State != "skipped")
  | ((.ContainerHierarchyTexts + [.LeafNodeText]) | join(" "))' "$work/dry.json")
skip_note=""
[[ -n "$skip" ]] && skip_note=", skip '$skip'"
((${#names[@]} > 0)) || die "the selection (focus '${focus:-$default_focus}'$skip_note) matches no $what test"
log "e2e.test $built_version against $server_version: ${#names[@]} tests selected"
if ((dry_run)); then printf '%s\n' "${names[@]}"; exit 0; fi

mkdir -p "$report_dir"
rm -f "$report_dir"/junit_*.xml
printf '%s\n' "${names[@]}" >"$report_dir/selected.txt"
junit="$report_dir/junit_01.xml"
log_file="$report_dir/e2e.log"
: >"$log_file"
start_ms="$(date +%s%3N)"
# run_e2e SECONDS REPORT_DIR ARGS...: one e2e.test process, Ginkgo's timeout SECONDS, and a hard
# stop 3 minutes later should Ginkgo's own cleanup hang.
run_e2e() {
  local secs="$1" dir="$2"; shift 2
  timeout --kill-after=30s "$((secs + 180))" "$e2e" "${common[@]}" --report-dir="$dir" \
    --ginkgo.timeout="${secs}s" --ginkgo.grace-period=60s "$@" >>"$log_file" 2>&1
}
rc=0
if ((isolate)); then
  i=0
  for name in "${names[@]}"; do
    i=$((i + 1))
    log "[$i/${#names[@]}] $name"
    mkdir -p "$work/r$i"
    # Ginkgo matches the focus against "<suite description> <spec text>": anchor the end only
    run_e2e "$spec_s" "$work/r$i" --ginkgo.focus="\\Q$name\\E\$" --ginkgo.label-filter="$labels" || rc=$?
    [[ -s "$work/r$i/junit_01.xml" ]] || die "e2e.test wrote no JUnit report for '$name' (exit $rc): see $log_file"
    grep -q '<testcase name="\[It\] [^"]*" classname="[^"]*" status="\(passed\|failed\|timedout\|interrupted\|panicked\|aborted\)"' "$work/r$i/junit_01.xml" \
      || die "the isolated run of '$name' ran no test: see $log_file"
  done
  # one JUnit file with every test case (the same shape e2e.test writes)
  python3 - "$junit" "$work"/r*/junit_01.xml <<'PY' || die "merging the JUnit reports failed"
import sys, xml.etree.ElementTree as ET
out, files = sys.argv[1], sys.argv[2:]
suites = ET.Element("testsuites")
suite = ET.SubElement(suites, "testsuite", name="Kubernetes e2e suite")
totals = dict(tests=0, failures=0, errors=0, disabled=0, skipped=0, time=0.0)
for f in sorted(files, key=lambda p: int(p.split("/r")[-1].split("/")[0])):
    for s in ET.parse(f).getroot().iter("testsuite"):
        for k in ("tests", "failures", "errors", "disabled", "skipped"):
            totals[k] += int(s.get(k, "0"))
        totals["time"] += float(s.get("time", "0"))
        for case in s.findall("testcase"):
            # each file lists every spec e2e.test knows: keep the one that ran (and failed suite nodes)
            sk = case.find("skipped")
            unselected = case.get("status") == "skipped" and sk is not None and sk.get("message") == "skipped"
            suite_node = not case.get("name", "").startswith("[It] ")
            if unselected or (suite_node and case.get("status") == "passed"):
                continue
            suite.append(case)
totals["tests"] = len(suite.findall("testcase"))
totals["skipped"] = sum(1 for c in suite.findall("testcase") if c.get("status") == "skipped")
totals["disabled"] = 0
for k, v in totals.items():
    suite.set(k, f"{v:.3f}" if k == "time" else str(v))
    suites.set(k, f"{v:.3f}" if k == "time" else str(v))
ET.ElementTree(suites).write(out, encoding="unicode", xml_declaration=True)
PY
else
  budget=$((${#names[@]} * spec_s + 120))
  ((budget <= suite_s)) || budget=$suite_s
  log "running ${#names[@]} tests serially (Ginkgo timeout $((budget / 60))m$((budget % 60))s); log: $log_file"
  run_e2e "$budget" "$report_dir" "${selection[@]}" || rc=$?
  [[ -s "$junit" ]] || die "e2e.test wrote no JUnit report (exit $rc): see $log_file"
fi
wall_ms=$(( $(date +%s%3N) - start_ms ))
# Counts over the selected tests only (the report also lists every unselected spec as skipped).
counts="$(python3 - "$junit" "${names[@]}" <<'PY'
import sys, json, xml.etree.ElementTree as ET
junit, names = sys.argv[1], set(sys.argv[2:])
c = dict(passed=0, failed=0, skipped=0)
failed = []
for case in ET.parse(junit).getroot().iter("testcase"):
    name = case.get("name", "")
    name = name[5:] if name.startswith("[It] ") else name
    if name not in names:
        continue
    if case.find("failure") is not None or case.find("error") is not None:
        c["failed"] += 1; failed.append(name)
    elif case.find("skipped") is not None:
        c["skipped"] += 1
    else:
        c["passed"] += 1
print(json.dumps(c)); print("\n".join(failed), file=sys.stderr)
PY
)" || die "reading $junit failed"
passed="$(jq -r .passed <<<"$counts")" failed="$(jq -r .failed <<<"$counts")" skipped="$(jq -r .skipped <<<"$counts")"
log "upstream $what: $passed passed, $failed failed, $skipped skipped of ${#names[@]} in $((wall_ms / 1000))s; JUnit $junit"
printf '{"junit":"%s","selected":%d,"passed":%d,"failed":%d,"skipped":%d,"wallMs":%d,"exitCode":%d}\n' \
  "$junit" "${#names[@]}" "$passed" "$failed" "$skipped" "$wall_ms" "$rc"
((failed == 0 && passed + skipped == ${#names[@]})) && exit 0
exit 1
