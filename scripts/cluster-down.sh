#!/usr/bin/env bash
# Deletes the kube-netcheck kind cluster and the host's safety-net routes.
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
if command -v kind >/dev/null && docker info >/dev/null 2>&1; then
  kind delete cluster --name "$KNC_CLUSTER" >&2 || die "kind delete cluster failed" 1
fi
rm -f "$KNC_KUBECONFIG"
"$KNC_ROOT/scripts/safety-net.sh" down
