#!/usr/bin/env bash
# The host routes every cluster's pod and service ranges nowhere, so no packet for a cluster
# address can leave this machine (a node forwards a packet it has no route for to docker's
# gateway: this host).
# usage: safety-net.sh up|down|check   (for the cluster KNC_CLUSTER)
#   up     record KNC_CLUSTER's ranges (read from its shape's kind config, for its IP family
#          KNC_IP_FAMILY: IPv4, IPv6 or both) in $KNC_CACHE/safety-net/<cluster> and route them
#          `unreachable` (IPv6 ranges as IPv6 routes: a node sends what it cannot route to the
#          docker bridge, i.e. this host, whose IPv6 default route leads off the machine once
#          docker has turned IPv6 forwarding on for the kind network)
#   down   drop KNC_CLUSTER's record and delete each of its routes that no other record and no
#          other running kind cluster still needs (several clusters may share ranges)
#   check  every range of KNC_CLUSTER is unreachable from the host (nothing is sent: `ip route get`)
# A host without IPv6 (or with it disabled) cannot hold an IPv6 range's route: one line, exit 2.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
need_cmd ip iproute2
need_cmd flock util-linux
record="$KNC_SAFETY_NET_DIR/$KNC_CLUSTER"
mkdir -p "$KNC_SAFETY_NET_DIR"

# recorded_ranges FILE: the ranges a record names, one per line.
recorded_ranges() { grep -E '^[0-9a-f.:]+/[0-9]+$' "$1" 2>/dev/null || true; }
# own_ranges: this cluster's pod and service ranges, one a line (dual-stack: both families).
own_ranges() { printf '%s\n' "$POD_SUBNET" "$SERVICE_SUBNET" | tr ',' '\n'; }
# route_unreachable RANGE: an IPv6 range needs IPv6 on the host (checked, so the error says why).
route_unreachable() {
  if [[ "$1" == *:* ]]; then host_ipv6_ready "the safety net for the IPv6 range $1"; fi
  ip route replace unreachable "$1" || die "cannot add unreachable route for $1"
}
# live_cluster_ranges: pod and service ranges of every running kind cluster except KNC_CLUSTER,
# read from the kubeadm config kind wrote into its control-plane node (covers clusters that
# were created before records existed, or whose record was removed by hand).
live_cluster_ranges() {
  command -v kind >/dev/null 2>&1 && docker info >/dev/null 2>&1 || return 0
  local name node clusters
  clusters="$(kind get clusters 2>/dev/null)" || return 0
  for name in $clusters; do
    [[ "$name" != "$KNC_CLUSTER" ]] || continue
    node="$(docker ps --filter "label=io.x-k8s.kind.cluster=$name" --filter label=io.x-k8s.kind.role=control-plane --format '{{.Names}}' | head -n 1)"
    [[ -n "$node" ]] || continue
    docker exec "$node" cat /kind/kubeadm.conf 2>/dev/null \
      | awk '$1 == "podSubnet:" || $1 == "serviceSubnet:" {gsub(/"/, "", $2); n = split($2, r, ","); for (i = 1; i <= n; i++) print r[i]}'
  done
}

exec 9>"$KNC_SAFETY_NET_DIR/.lock"
flock 9   # one cluster's up/down at a time
case "${1:-}" in
  up)
    # keep what the record already names: an existing cluster of this name may still use it
    # until cluster-up.sh recreates it (it then runs down + up)
    ranges="$( { recorded_ranges "$record"; own_ranges; } | awk '!seen[$0]++')"
    printf '%s\n' "$ranges" >"$record.tmp" && mv "$record.tmp" "$record"
    for r in $ranges; do route_unreachable "$r"; done
    log "safety net for $KNC_CLUSTER: $(tr '\n' ' ' <<<"$ranges")unreachable from the host"
    if grep -q : <<<"$ranges"; then
      log "host IPv6 forwarding: net.ipv6.conf.all.forwarding=$(cat /proc/sys/net/ipv6/conf/all/forwarding) (not needed: the nodes share the docker bridge; the routes above hold either way)"
    fi
    ;;
  down)
    [[ -f "$record" ]] && ranges="$(recorded_ranges "$record")" || ranges="$(own_ranges)"
    rm -f "$record"
    others="$(cat "$KNC_SAFETY_NET_DIR"/* 2>/dev/null || true)"
    live="$(live_cluster_ranges)"
    for r in $ranges; do
      if grep -qxF -- "$r" <<<"$others"$'\n'"$live"; then log "safety net: keeping $r (another cluster needs it)"; continue; fi
      ip route del unreachable "$r" 2>/dev/null || true
    done
    ;;
  check)
    [[ -f "$record" ]] && ranges="$(recorded_ranges "$record")" || ranges="$(own_ranges)"
    for r in $ranges; do
      probe="${r%/*}"   # an address inside the range: the network address + 7
      case "$probe" in
        *::) probe="${probe}7" ;;   # IPv6 network address ending in ::
        *:*) ;;                     # any other IPv6 network address is inside its range itself
        *) probe="${probe%.*}.$(( ${probe##*.} + 7 ))" ;;
      esac
      out="$(ip route get "$probe" 2>&1 || true)"
      [[ "$out" == *unreachable* || "$out" == *"No route to host"* ]] || die "safety net missing: 'ip route get $probe' gave: $out" 1
      echo "$r: $out"
    done
    ;;
  *) die "usage: safety-net.sh up|down|check" ;;
esac
