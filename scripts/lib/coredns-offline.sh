#!/usr/bin/env bash
# Offline clusters must not forward DNS off the machine: CoreDNS answers NXDOMAIN for every
# name outside the cluster instead of forwarding to the node's resolver.
source "$(dirname "$0")/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
corefile="$(kc -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')" || die "cannot read the coredns ConfigMap" 1
new="$(perl -0pe 's/forward \. \/etc\/resolv\.conf \{.*?\}/template ANY ANY {\n       rcode NXDOMAIN\n    }/s' <<<"$corefile")"
[[ "$new" == *"rcode NXDOMAIN"* && "$new" != *forward* ]] || die "unexpected Corefile, not patched:\n$corefile" 1
kc -n kube-system create configmap coredns --from-literal=Corefile="$new" --dry-run=client -o yaml | kc replace -f - >/dev/null
kc -n kube-system rollout restart deployment coredns >/dev/null
log "CoreDNS: upstream forwarding replaced by NXDOMAIN (offline)"
