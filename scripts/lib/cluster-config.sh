# The cluster kube-netcheck manages: name, config, kubeconfig path, and its address ranges
# (read from manifests/kind-cluster.yaml so there is one source of truth).
KNC_CLUSTER="${KNC_CLUSTER:-kube-netcheck}"
KNC_KIND_CONFIG="$KNC_ROOT/manifests/kind-cluster.yaml"
KNC_KUBECONFIG="${KNC_KUBECONFIG:-$KNC_CACHE/kubeconfig-$KNC_CLUSTER}"
POD_SUBNET="$(awk '/podSubnet:/ {print $2}' "$KNC_KIND_CONFIG")"
SERVICE_SUBNET="$(awk '/serviceSubnet:/ {print $2}' "$KNC_KIND_CONFIG")"
kc() { kubectl --kubeconfig "$KNC_KUBECONFIG" "$@"; }
