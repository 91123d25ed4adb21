# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# The kind cluster kube-netcheck manages: its name, shape (a kind config in manifests/kind/), CNI,
# where its kubeconfig is written, and its address ranges (read from the shape's kind config, so
# there is one source of truth). Source it after common.sh.
#
# KNC_KUBECONFIG is NOT used here: it names a cluster the user already has, and no script writes,
# truncates or deletes it. The managed cluster's kubeconfig is always KNC_KIND_KUBECONFIG.
KNC_CLUSTER="${KNC_CLUSTER:-kube-netcheck}"
KNC_SHAPE="${KNC_SHAPE:-default}"
KNC_CNI_DEFAULT=flannel-host-gw   # built into the node image (kind's default-CNI slot)
KNC_CNI="${KNC_CNI:-$KNC_CNI_DEFAULT}"
[[ "$KNC_CLUSTER" =~ ^[a-z0-9][a-z0-9.-]*$ ]] || die "KNC_CLUSTER='$KNC_CLUSTER' is not a valid kind cluster name (lower-case letters, digits, '.', '-')"
[[ "$KNC_SHAPE" =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "KNC_SHAPE='$KNC_SHAPE' is not a shape name"
export KNC_CLUSTER KNC_SHAPE KNC_CNI

KNC_KIND_KUBECONFIG="$KNC_CACHE/kubeconfig-$KNC_CLUSTER"
KNC_CLUSTER_STATE="$KNC_CACHE/clusters/$KNC_CLUSTER"   # generated kind config, readiness reports
KNC_SAFETY_NET_DIR="$KNC_CACHE/safety-net"              # one file per cluster: the ranges it needs
KNC_SHAPES_DIR="$KNC_ROOT/manifests/kind"
KNC_KIND_CONFIG="$KNC_SHAPES_DIR/$KNC_SHAPE.yaml"
export KNC_KIND_KUBECONFIG

known_shapes() { local f s=(); for f in "$KNC_SHAPES_DIR"/*.yaml; do f="${f##*/}"; s+=("${f%.yaml}"); done; echo "${s[*]}"; }
[[ -f "$KNC_KIND_CONFIG" ]] || die "unknown cluster shape '$KNC_SHAPE' (KNC_SHAPE / SHAPE=): known shapes: $(known_shapes)"

# shape_value FILE KEY: a top-level-ish "key: value" of a kind config (first match, quotes removed).
shape_value() { awk -v k="$2:" '$1 == k {gsub(/"/, "", $2); print $2; exit}' "$1"; }
# shape_directive FILE NAME: the value of a "# kube-netcheck: NAME=VALUE" comment line, if any.
shape_directive() { sed -n "s/^# kube-netcheck: $2=\\([^ ]*\\).*/\\1/p" "$1" | head -n 1; }

POD_SUBNET="$(shape_value "$KNC_KIND_CONFIG" podSubnet)"
SERVICE_SUBNET="$(shape_value "$KNC_KIND_CONFIG" serviceSubnet)"
[[ -n "$POD_SUBNET" && -n "$SERVICE_SUBNET" ]] \
  || die "$KNC_KIND_CONFIG must set networking.podSubnet and networking.serviceSubnet (the safety net routes them)"
export POD_SUBNET SERVICE_SUBNET

# kc ARGS...: kubectl against the managed kind cluster.
kc() { kubectl --kubeconfig "$KNC_KIND_KUBECONFIG" "$@"; }
# control_plane_container: the docker container of the cluster's (first) control-plane node.
control_plane_container() {
  docker ps -a --filter "label=io.x-k8s.kind.cluster=$KNC_CLUSTER" --filter label=io.x-k8s.kind.role=control-plane \
    --format '{{.Names}}' | sort | head -n 1
}
