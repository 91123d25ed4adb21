#!/usr/bin/env bash
# Waits until the managed cluster is usable, whatever its shape and CNI:
#   1. every node Ready (with a CNI of one's own, nodes stay NotReady until it works),
#   2. a pause pod pinned to EACH node (control plane included, its taints tolerated) is Ready
#      with an IP inside the pod range (the CNI hands out addresses everywhere, and every one of
#      them is covered by the host's safety net); dual-stack: one IP per family, each inside its
#      family's range,
#   3. CoreDNS rolled out: every replica, however many, updated and Ready.
# On timeout (KNC_CLUSTER_TIMEOUT seconds in all, default 300): one line naming what never became
# ready and what was last seen, exit 2; the full picture goes to $KNC_CACHE/clusters/<name>/not-ready.txt.
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
timeout="${KNC_CLUSTER_TIMEOUT:-300}"
begin=$SECONDS
end=$((begin + timeout))
report="$KNC_CLUSTER_STATE/not-ready.txt"
mkdir -p "$KNC_CLUSTER_STATE"

# ip_in_cidr IP CIDR: IPv4 in an IPv4 range, or IPv6 in an IPv6 range (false across families)
ip_to_int() { local a b c d; IFS=. read -r a b c d <<<"$1"; echo $(((a << 24) | (b << 16) | (c << 8) | d)); }
# ip6_hex ADDR: the 32 hex digits of an IPv6 address as the API prints it (compressed or not)
ip6_hex() {
  local a="$1" head="$1" tail="" g out="" i
  local -a hg=() tg=()
  if [[ "$a" == *::* ]]; then head="${a%%::*}" tail="${a#*::}"; fi
  [[ -z "$head" ]] || IFS=: read -ra hg <<<"$head"
  [[ -z "$tail" ]] || IFS=: read -ra tg <<<"$tail"
  for g in "${hg[@]}" "${tg[@]}"; do [[ "$g" =~ ^[0-9a-fA-F]{1,4}$ ]] || return 1; done
  for g in "${hg[@]}"; do out+="$(printf '%04x' "0x$g")"; done
  if [[ "$a" == *::* ]]; then for ((i = ${#hg[@]} + ${#tg[@]}; i < 8; i++)); do out+=0000; done; fi
  for g in "${tg[@]}"; do out+="$(printf '%04x' "0x$g")"; done
  ((${#out} == 32)) && echo "$out"
}
ip_in_cidr() {
  local ip net bits mask full rem
  [[ "$2" == */* ]] || return 1
  bits="${2#*/}"
  if [[ "$1" == *:* ]]; then
    [[ "$2" == *:* ]] && ip="$(ip6_hex "$1")" && net="$(ip6_hex "${2%/*}")" || return 1
    full=$((bits / 4)) rem=$((bits % 4))
    [[ "${ip:0:full}" == "${net:0:full}" ]] || return 1
    ((rem == 0)) || (((16#${ip:full:1} >> (4 - rem)) == (16#${net:full:1} >> (4 - rem))))
    return
  fi
  [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ && "$2" != *:* ]] || return 1
  ip="$(ip_to_int "$1")"; net="$(ip_to_int "${2%/*}")"
  mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
  (((ip & mask) == (net & mask)))
}
short() { tr -s '\n\t ' ' ' <<<"$1" | sed 's/ *$//' | cut -c1-"${2:-200}"; }
# not_ready WHAT SEEN: the one-line verdict (after saving the whole picture for a closer look).
not_ready() {
  { echo "# $(date -u +%FT%TZ) cluster $KNC_CLUSTER: $1"; kc get nodes -o wide; kc get pods -A -o wide
    kc get events -A --sort-by=.lastTimestamp | tail -n 40; } >"$report" 2>&1 || true
  die "cluster $KNC_CLUSTER not ready after $((SECONDS - begin))s (of ${timeout}s): $1 (last seen: $(short "$2" 300)); details: $report" 2
}
left() { local l=$((end - SECONDS)); if ((l > 1)); then echo "$l"; else echo 1; fi; }  # kubectl: 0 = forever
# last_event NS NAME: the newest event about an object, "reason: message".
last_event() {
  kc -n "$1" get events --field-selector "involvedObject.name=$2" --sort-by=.lastTimestamp \
    -o jsonpath='{range .items[*]}{.reason}{": "}{.message}{"\n"}{end}' 2>/dev/null | tail -n 1
}

# cni_crashing: the built-in CNI's first pod (label app.kubernetes.io/part-of=kube-netcheck-cni) whose
# container restarted at least 3 times and is waiting in CrashLoopBackOff, with its last log line:
# such a CNI never makes the nodes Ready, so the wait ends at once instead of at its timeout.
cni_crashing() {
  local line pod ctr restarts
  line="$(kc -n kube-system get pods -l app.kubernetes.io/part-of=kube-netcheck-cni -o jsonpath='{range .items[*]}{.metadata.name}{range .status.containerStatuses[*]}{"\t"}{.name}{"\t"}{.restartCount}{"\t"}{.state.waiting.reason}{end}{"\n"}{end}' 2>/dev/null \
    | awk -F'\t' '{ for (i = 2; i + 2 <= NF; i += 3) if ($(i + 1) >= 3 && $(i + 2) == "CrashLoopBackOff") { print $1 "\t" $i "\t" $(i + 1); exit } }')"
  [[ -n "$line" ]] || return 1
  IFS=$'\t' read -r pod ctr restarts <<<"$line"
  echo "kube-system/$pod container $ctr in CrashLoopBackOff after $restarts restarts; its last log line: $(kc -n kube-system logs "$pod" -c "$ctr" --previous --tail=1 2>&1 | cut -c1-240)"
}

# 1. nodes
expected_nodes="$(kind get nodes --name "$KNC_CLUSTER" 2>/dev/null | wc -l)"
while :; do
  lines="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\t"}{.status.conditions[?(@.type=="Ready")].reason}{": "}{.status.conditions[?(@.type=="Ready")].message}{"\n"}{end}' 2>&1)" \
    || lines="api: $lines"
  pending="$(awk -F'\t' '$2 != "True"' <<<"$lines")"
  count="$(grep -c . <<<"$lines" || true)"
  [[ -z "$pending" && "$lines" != api:* ]] && ((count >= expected_nodes)) && break
  if crash="$(cni_crashing)"; then not_ready "the CNI's pods running (nodes stay NotReady without them)" "$crash"; fi
  if ((SECONDS >= end)); then
    if [[ "$lines" == api:* ]]; then not_ready "the API server" "$lines"; fi
    if [[ -z "$pending" ]]; then not_ready "$expected_nodes nodes registered" "$count: $(cut -f1 <<<"$lines" | tr '\n' ' ')"; fi
    IFS=$'\t' read -r node status why <<<"$(head -n 1 <<<"$pending")"
    not_ready "node $node Ready" "Ready=${status:-unknown} $why"
  fi
  sleep 2
done
log "nodes Ready: $(cut -f1 <<<"$lines" | tr '\n' ' ')"

# 2. a pod with an IP on every node
ns="kube-netcheck-smoke-$(date +%s)-$RANDOM"   # unique: a previous one may still be terminating
trap 'kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT
nodes="$(cut -f1 <<<"$lines")"
# the namespace and a pause pod per node in one request (one kubectl: each costs ~0.3 s of a reuse);
# applied again while a fresh namespace refuses pods (its default ServiceAccount not made yet)
smoke="$(
  printf '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s","labels":{"app.kubernetes.io/managed-by":"kube-netcheck"}}}' "$ns"
  for node in $nodes; do
    printf ',{"apiVersion":"v1","kind":"Pod","metadata":{"name":"ip-%s","namespace":"%s","labels":{"app.kubernetes.io/managed-by":"kube-netcheck"}},"spec":{"nodeName":"%s","tolerations":[{"operator":"Exists"}],"restartPolicy":"Never","containers":[{"name":"ip","image":"%s","imagePullPolicy":"Never"}]}}' "$node" "$ns" "$node" "$PAUSE_IMAGE"
  done
  printf ']}\n'
)"
until out="$(kc apply -f - <<<"$smoke" 2>&1)"; do
  ((SECONDS < end)) || not_ready "the smoke pods created in $ns" "$(tail -n 1 <<<"$out" | cut -c1-240)"
  sleep 0.5
done
while :; do
  pods="$(kc -n "$ns" get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.nodeName}{"\t"}{.status.podIPs[*].ip}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\t"}{.status.phase}{" "}{.status.containerStatuses[0].state.waiting.reason}{"\n"}{end}' 2>&1)" || true
  waiting="$(awk -F'\t' '$3 == "" || $4 != "True"' <<<"$pods")"
  [[ -z "$waiting" && "$(grep -c . <<<"$pods")" == "$(grep -c . <<<"$nodes")" ]] && break
  # a pod that cannot start ends the wait at once (the pause image is in every node image)
  stuck="$(grep -E 'ErrImageNeverPull|ErrImagePull|ImagePullBackOff|InvalidImageName|CrashLoopBackOff' <<<"$waiting" | head -n 1 || true)"
  if crash="$(cni_crashing)"; then not_ready "the CNI's pods running (pods get no address without them)" "$crash"; fi
  if [[ -n "$stuck" ]] || ((SECONDS >= end)); then
    IFS=$'\t' read -r pod node ip _ state <<<"${stuck:-$(head -n 1 <<<"$waiting")}"
    not_ready "pod $ns/$pod on node $node Ready with an IP" "ip=${ip:-none} $state; last event: $(last_event "$ns" "$pod")"
  fi
  sleep 0.5
done
ranges="${POD_SUBNET//,/ }"
while IFS=$'\t' read -r pod node ips _; do
  for ip in $ips; do
    inside=""
    for r in $ranges; do if ip_in_cidr "$ip" "$r"; then inside="$r"; fi; done
    [[ -n "$inside" ]] \
      || die "pod $ns/$pod on node $node got IP $ip, outside the cluster's pod range $POD_SUBNET: the host's safety net does not cover it (configure the CNI's address pool to $POD_SUBNET)" 2
  done
  # one address per range: a dual-stack cluster whose CNI hands out one family only is not ready
  n="$(wc -w <<<"$ips")"
  (($(wc -w <<<"$ranges") == n)) \
    || die "pod $ns/$pod on node $node got $n IP(s) ($ips) in a $KNC_IP_FAMILY cluster (pod ranges $POD_SUBNET): the CNI does not hand out one address per family (its IPv6 settings?)" 2
done <<<"$pods"
cut -f1-3 <<<"$pods" >&2

# 3. CoreDNS: rollout status = every replica updated and available and the old ones gone (a
# pod-label wait would also catch an old replica still terminating after the offline Corefile restart)
if ! kc -n kube-system rollout status deployment/coredns --timeout="$(left)s" >/dev/null 2>&1; then
  seen="$(kc -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}/{.spec.replicas} ready, {.status.updatedReplicas} updated' 2>&1)"
  bad="$(kc -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{.metadata.name}{" on "}{.spec.nodeName}{": "}{.status.phase}{" "}{.status.containerStatuses[0].state.waiting.reason}{"; "}{end}' 2>&1)"
  not_ready "CoreDNS rollout (every replica Ready)" "$seen; $bad"
fi
log "CoreDNS: $(kc -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}') replicas Ready"
