#!/usr/bin/env bash
# The host routes every cluster's pod and service ranges nowhere, so no packet for a cluster
# address can leave this machine (a node forwards a packet it has no route for to docker's
# gateway: this host).
# usage: safety-net.sh up|down|check   (for the cluster KNC_CLUSTER)
#   up     record KNC_CLUSTER's ranges (read from its shape's kind config) in
#          $KNC_CACHE/safety-net/<cluster> and route them `unreachable`
#   down   drop KNC_CLUSTER's record and delete each of its routes that no other record and no
#          other running kind cluster still needs (several clusters may share ranges)
#   check  every range of KNC_CLUSTER is unreachable from the host (nothing is sent: `ip route get`)
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
need_cmd ip iproute2
need_cmd flock util-linux
record="$KNC_SAFETY_NET_DIR/$KNC_CLUSTER"
mkdir -p "$KNC_SAFETY_NET_DIR"

# recorded_ranges FILE: the ranges a record names, one per line.
recorded_ranges() { grep -E '^[0-9a-f.:]+/[0-9]+$' "$1" 2>/dev/null || true; }
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
    ranges="$( { recorded_ranges "$record"; printf '%s\n' "$POD_SUBNET" "$SERVICE_SUBNET"; } | awk '!seen[$0]++')"
    printf '%s\n' "$ranges" >"$record.tmp" && mv "$record.tmp" "$record"
    for r in $ranges; do ip route replace unreachable "$r" || die "cannot add unreachable route for $r"; done
    log "safety net for $KNC_CLUSTER: $(tr '\n' ' ' <<<"$ranges")unreachable from the host"
    ;;
  down)
    [[ -f "$record" ]] && ranges="$(recorded_ranges "$record")" || ranges="$(printf '%s\n' "$POD_SUBNET" "$SERVICE_SUBNET")"
    rm -f "$record"
    others="$(cat "$KNC_SAFETY_NET_DIR"/* 2>/dev/null || true)"
    live="$(live_cluster_ranges)"
    for r in $ranges; do
      if grep -qxF -- "$r" <<<"$others"$'\n'"$live"; then log "safety net: keeping $r (another cluster needs it)"; continue; fi
      ip route del unreachable "$r" 2>/dev/null || true
    done
    ;;
  check)
    [[ -f "$record" ]] && ranges="$(recorded_ranges "$record")" || ranges="$(printf '%s\n' "$POD_SUBNET" "$SERVICE_SUBNET")"
    for r in $ranges; do
      probe="${r%/*}"; probe="${probe%.*}.$(( ${probe##*.} + 7 ))"   # an address inside the range
      out="$(ip route get "$probe" 2>&1 || true)"
      [[ "$out" == *unreachable* || "$out" == *"No route to host"* ]] || die "safety net missing: 'ip route get $probe' gave: $out" 1
      echo "$r: $out"
    done
    ;;
  *) die "usage: safety-net.sh up|down|check" ;;
esac
