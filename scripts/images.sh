#!/usr/bin/env bash
# Every container image kube-netcheck's commands use, as "USE<TAB>IMAGE" lines on stdout (read by
# `kube-netcheck images`, which adds the public defaults and applies --registry). Builds nothing.
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/cni/lib.sh"
source "$KNC_ROOT/scripts/conformance/image-names.sh"
out() { printf '%s\t%s\n' "$1" "$2"; }
out "run (offline, on clusters cluster up builds)" "$NGINX_IMAGE"
out "run (offline, on clusters cluster up builds)" "$PROBE_IMAGE"
out "grade (default probe image)" "$PROBE_IMAGE"
out "cluster up (in the kind node image)" "$(k8s_image kube-apiserver)"
out "cluster up (in the kind node image)" "$(k8s_image kube-controller-manager)"
out "cluster up (in the kind node image)" "$(k8s_image kube-scheduler)"
out "cluster up (in the kind node image)" "$(k8s_image kube-proxy)"
out "cluster up (in the kind node image)" "$ETCD_IMAGE"
out "cluster up (in the kind node image)" "$COREDNS_IMAGE"
out "cluster up (in the kind node image)" "$PAUSE_IMAGE"
while read -r name; do
  while read -r _ img; do [[ -n "$img" ]] && out "cni $name" "$img"; done < <(cni_images "$name")
done < <(cni_names)
for img in "${CONF_IMAGES[@]}" "$CONF_PAUSE_IMAGE"; do out "conformance" "$img"; done
