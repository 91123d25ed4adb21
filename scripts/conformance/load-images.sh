#!/usr/bin/env bash
# Loads the images of the upstream [sig-network] [Conformance] tests (built by
# scripts/build/conformance.sh) into a kind cluster's nodes, under the names the tests ask for,
# then waits until every node reports them in its status (what scripts/conformance/run.sh checks).
# usage: KNC_CLUSTER=name load-images.sh    (default cluster: kube-netcheck)
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=image-names.sh
source "$KNC_ROOT/scripts/conformance/image-names.sh"
cluster="${KNC_CLUSTER:-kube-netcheck}"
command -v kind >/dev/null 2>&1 || die "kind not found: run scripts/build/components.sh (or make setup)"
kind get clusters 2>/dev/null | grep -qx "$cluster" || die "no kind cluster named $cluster: create it first (KNC_CLUSTER=$cluster bash scripts/cluster-up.sh)"
for img in "${CONF_IMAGES[@]}"; do
  docker image inspect "$img" >/dev/null 2>&1 || die "image $img is not built: run scripts/build/conformance.sh"
done
start=$SECONDS
kind load docker-image --name "$cluster" "${CONF_IMAGES[@]}" >&2 || die "kind load of the conformance images into $cluster failed" 1
kubeconfig="$(mktemp)"; trap 'rm -f "$kubeconfig"' EXIT
kind get kubeconfig --name "$cluster" >"$kubeconfig" || die "kind get kubeconfig --name $cluster failed"
# The kubelet refreshes the image list of its node status periodically: wait for it (run.sh reads it).
deadline=$((SECONDS + 120))
while :; do
  nodes_json="$(kubectl --kubeconfig "$kubeconfig" get nodes -o json)" || die "kubectl get nodes on $cluster failed"
  missing="$(jq -r --argjson want "$(printf '%s\n' "${CONF_IMAGES[@]}" | jq -R . | jq -s .)" '
    .items[] | .metadata.name as $n | ([.status.images[]?.names[]?]) as $have
    | $want[] | select(. as $w | $have | index($w) | not) | "\($n):\(.)"' <<<"$nodes_json")"
  [[ -z "$missing" ]] && break
  ((SECONDS < deadline)) || die "after kind load, node status still lacks: $(tr '\n' ' ' <<<"$missing")"
  sleep 5
done
log "loaded ${#CONF_IMAGES[@]} conformance images into $cluster in $((SECONDS - start))s: ${CONF_IMAGES[*]}"
