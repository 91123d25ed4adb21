#!/usr/bin/env bash
# Waits until the cluster is usable: every node Ready, CoreDNS rolled out and Ready, and a pod on
# each worker got an IP from the pod range. On timeout: says what, how long, and what was seen.
source "$(dirname "$0")/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
deadline="${KNC_CLUSTER_TIMEOUT:-300}"
fail() { log "timed out after ${deadline}s waiting for $1; last seen:"; kc get nodes -o wide >&2 || true
  kc get pods -A -o wide >&2 || true; kc get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 >&2; die "cluster not ready: $1" 1; }
kc wait --for=condition=Ready nodes --all --timeout="${deadline}s" >/dev/null || fail "all nodes Ready"
# rollout status: every replica updated and available, and the old ones gone (a pod-label wait
# would also catch an old replica that is still terminating after the offline Corefile restart)
kc -n kube-system rollout status deployment/coredns --timeout="${deadline}s" >/dev/null || fail "CoreDNS rollout (all replicas Ready)"
# a pause pod pinned to each worker proves the CNI hands out pod IPs there
ns="kube-netcheck-smoke-$(date +%s)-$RANDOM"   # unique: a previous one may still be terminating
kc create namespace "$ns" --dry-run=client -o yaml | kc label --local -f - app.kubernetes.io/managed-by=kube-netcheck -o yaml | kc apply -f - >/dev/null
trap 'kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT
for node in $(kc get nodes -l '!node-role.kubernetes.io/control-plane' -o name); do
  node="${node#node/}"
  kc -n "$ns" run "ip-$node" --image="$PAUSE_IMAGE" --image-pull-policy=Never --restart=Never \
    --overrides="{\"spec\":{\"nodeName\":\"$node\"}}" --labels=app.kubernetes.io/managed-by=kube-netcheck >/dev/null
done
kc -n "$ns" wait --for=condition=Ready pods --all --timeout="${deadline}s" >/dev/null || fail "a Ready pod with an IP on each worker"
kc -n "$ns" get pods -o custom-columns=POD:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP --no-headers >&2
