#!/usr/bin/env bash
# The host routes the cluster's pod and service ranges nowhere, so no packet for a cluster
# address can leave this machine (a node forwards a packet it has no route for to docker's
# gateway: this host). usage: safety-net.sh up|down|check
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
need_cmd ip iproute2
ranges=("$POD_SUBNET" "$SERVICE_SUBNET")
case "${1:-}" in
  up)    for r in "${ranges[@]}"; do ip route replace unreachable "$r" || die "cannot add unreachable route for $r"; done ;;
  down)  for r in "${ranges[@]}"; do ip route del unreachable "$r" 2>/dev/null || true; done ;;
  check) for r in "${ranges[@]}"; do
           probe="${r%/*}"; probe="${probe%.*}.$(( ${probe##*.} + 7 ))"   # an address inside the range
           out="$(ip route get "$probe" 2>&1 || true)"
           [[ "$out" == *unreachable* || "$out" == *"No route to host"* ]] || die "safety net missing: 'ip route get $probe' gave: $out" 1
           echo "$r: $out"
         done ;;
  *) die "usage: safety-net.sh up|down|check" ;;
esac
