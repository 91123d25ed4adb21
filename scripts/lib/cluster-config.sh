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

POD_SUBNET_V4="$(shape_value "$KNC_KIND_CONFIG" podSubnet)"
SERVICE_SUBNET_V4="$(shape_value "$KNC_KIND_CONFIG" serviceSubnet)"
[[ -n "$POD_SUBNET_V4" && -n "$SERVICE_SUBNET_V4" ]] \
  || die "$KNC_KIND_CONFIG must set networking.podSubnet and networking.serviceSubnet (the safety net routes them)"
[[ "$POD_SUBNET_V4$SERVICE_SUBNET_V4" != *[:,]* ]] \
  || die "$KNC_KIND_CONFIG: podSubnet and serviceSubnet must be IPv4 ranges (the IP family comes from KNC_IP_FAMILY; IPv6 ranges from '# kube-netcheck: pod-subnet-v6=' and 'service-subnet-v6=')"

# The IP family (kind's networking.ipFamily): ipv4 (default), ipv6 or dual (KNC_IP_FAMILY, IP_FAMILY=,
# --ip-family). The IPv6 ranges: the shape's "# kube-netcheck: pod-subnet-v6=R" / "service-subnet-v6=R"
# lines, else fd00:A:B:: from the IPv4 range's first two octets A.B, /56 for pods (a /64 per node),
# /112 for Services: 10.244.0.0/16 -> fd00:10:244::/56, 10.96.0.0/16 -> fd00:10:96::/112, kind's own
# IPv6 defaults. POD_SUBNET / SERVICE_SUBNET are what kind gets: one range, or "IPv4,IPv6" for dual.
KNC_IP_FAMILY="${KNC_IP_FAMILY:-ipv4}"
case "$KNC_IP_FAMILY" in
  ipv4 | ipv6 | dual) ;;
  *) die "KNC_IP_FAMILY='$KNC_IP_FAMILY' (IP_FAMILY= / --ip-family) is not one of ipv4, ipv6, dual" ;;
esac
v6_range() { local a b; IFS=. read -r a b _ <<<"${1%/*}"; printf 'fd00:%s:%s::/%s' "$a" "$b" "$2"; }
POD_SUBNET_V6="$(shape_directive "$KNC_KIND_CONFIG" pod-subnet-v6)"
SERVICE_SUBNET_V6="$(shape_directive "$KNC_KIND_CONFIG" service-subnet-v6)"
POD_SUBNET_V6="${POD_SUBNET_V6:-$(v6_range "$POD_SUBNET_V4" 56)}"
SERVICE_SUBNET_V6="${SERVICE_SUBNET_V6:-$(v6_range "$SERVICE_SUBNET_V4" 112)}"
case "$KNC_IP_FAMILY" in
  ipv4) POD_SUBNET="$POD_SUBNET_V4" SERVICE_SUBNET="$SERVICE_SUBNET_V4" ;;
  ipv6) POD_SUBNET="$POD_SUBNET_V6" SERVICE_SUBNET="$SERVICE_SUBNET_V6" ;;
  dual) POD_SUBNET="$POD_SUBNET_V4,$POD_SUBNET_V6" SERVICE_SUBNET="$SERVICE_SUBNET_V4,$SERVICE_SUBNET_V6" ;;
esac
export KNC_IP_FAMILY POD_SUBNET SERVICE_SUBNET

# host_ipv6_ready WHY: dies with one line when this host cannot run IPv6 clusters (no IPv6 in the
# kernel, IPv6 disabled, no ip6tables nat/filter: kube-proxy and the CNIs program them on this kernel).
host_ipv6_ready() {
  local out t
  [[ -e /proc/net/if_inet6 ]] \
    || die "$1 needs IPv6, and this host's kernel has none (/proc/net/if_inet6 missing: booted with ipv6.disable=1?); use KNC_IP_FAMILY=ipv4"
  [[ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null)" == 0 ]] \
    || die "$1 needs IPv6, and it is disabled on this host (net.ipv6.conf.all.disable_ipv6=1): sysctl -w net.ipv6.conf.all.disable_ipv6=0, or use KNC_IP_FAMILY=ipv4"
  need_cmd ip6tables iptables
  for t in nat filter; do
    out="$(ip6tables -w 5 -t "$t" -S 2>&1 >/dev/null)" \
      || die "$1 needs ip6tables, and its $t table does not work on this host: $(head -n 1 <<<"$out" | cut -c1-120); use KNC_IP_FAMILY=ipv4"
  done
}

# kc ARGS...: kubectl against the managed kind cluster.
kc() { kubectl --kubeconfig "$KNC_KIND_KUBECONFIG" "$@"; }
# control_plane_container: the docker container of the cluster's (first) control-plane node.
control_plane_container() {
  docker ps -a --filter "label=io.x-k8s.kind.cluster=$KNC_CLUSTER" --filter label=io.x-k8s.kind.role=control-plane \
    --format '{{.Names}}' | sort | head -n 1
}
