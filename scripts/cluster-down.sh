#!/usr/bin/env bash
# Deletes the kind cluster KNC_CLUSTER, the kubeconfig kube-netcheck wrote for it
# ($KNC_CACHE/kubeconfig-<cluster>; never KNC_KUBECONFIG, a user's) and its safety-net routes
# (those no other cluster still needs).
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
# The kubeconfig goes only when it is the one kind wrote for this cluster (checked before kind
# delete, which removes the cluster's entries from it).
ours=0
if [[ -f "$KNC_KIND_KUBECONFIG" ]] && { grep -q "name: kind-$KNC_CLUSTER\$" "$KNC_KIND_KUBECONFIG" || ! grep -q . "$KNC_KIND_KUBECONFIG"; }; then ours=1; fi
if command -v kind >/dev/null && docker info >/dev/null 2>&1; then
  # --kubeconfig: kind edits only that file (by default it would edit $KUBECONFIG or ~/.kube/config)
  kind delete cluster --name "$KNC_CLUSTER" --kubeconfig "$KNC_KIND_KUBECONFIG" >&2 || die "kind delete cluster failed" 1
fi
if ((ours)); then rm -f "$KNC_KIND_KUBECONFIG"
elif [[ -f "$KNC_KIND_KUBECONFIG" ]]; then log "keeping $KNC_KIND_KUBECONFIG: it is not a kubeconfig kind wrote for $KNC_CLUSTER"; fi
rm -rf "$KNC_CLUSTER_STATE"
"$KNC_ROOT/scripts/safety-net.sh" down
