#!/usr/bin/env bash
# Offline clusters must not forward DNS off the machine. CoreDNS keeps its kubeadm Corefile for
# the cluster's own zones (the cluster domain and the reverse zones) minus the upstream forward,
# and a second server block answers NXDOMAIN for every other name. (A template in the same block
# would not do: CoreDNS runs template before kubernetes, whatever the Corefile order.)
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
corefile="$(kc -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')" || die "cannot read the coredns ConfigMap" 1
if [[ "$corefile" == *"rcode NXDOMAIN"* ]]; then log "CoreDNS already offline"; exit 0; fi
domain="$(awk '/^ *kubernetes / {print $2; exit}' <<<"$corefile")"
new="$(perl -0pe 's/\n\s*forward \. \/etc\/resolv\.conf \{.*?\}//s; s/^\.:53 \{/'"$domain"':53 in-addr.arpa:53 ip6.arpa:53 {/' <<<"$corefile")"
new+=$'\n.:53 {\n    errors\n    template ANY ANY {\n       rcode NXDOMAIN\n    }\n}\n'
[[ -n "$domain" && "$new" != *forward* && "$new" == "$domain:53 "* ]] || die "unexpected Corefile, not patched: $corefile" 1
kc -n kube-system create configmap coredns --from-literal=Corefile="$new" --dry-run=client -o yaml | kc replace -f - >/dev/null
kc -n kube-system rollout restart deployment coredns >/dev/null
log "CoreDNS: names outside $domain answered NXDOMAIN, nothing forwarded (offline)"
