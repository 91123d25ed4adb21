#!/usr/bin/env bash
# Installs built-in CNI NAME into a running kind cluster created with `disableDefaultCNI: true`:
# builds its images if needed (scripts/build/cni-images.sh), `kind load`s them into every node and
# applies manifests/cni/NAME.yaml with the cluster's pod range. Does not wait for readiness.
# usage: install.sh NAME
# env: KNC_CLUSTER (kind cluster name; default kube-netcheck). kubectl talks to the cluster through
#      scripts/lib/cluster-config.sh's kc, i.e. the managed kubeconfig $KNC_CACHE/kubeconfig-$KNC_CLUSTER
#      (KNC_KIND_KUBECONFIG). KNC_POD_SUBNET overrides the pod range (default: networking.podSubnet
#      of the cluster's kubeadm-config, i.e. the podSubnet of the kind config it was created with).
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../lib/cluster-config.sh
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
# shellcheck source=lib.sh
source "$KNC_ROOT/scripts/cni/lib.sh"
(($# == 1)) || die "usage: install.sh NAME (built-in: $(cni_names | paste -sd' '))"
name="$1"
cni_manifest "$name" >/dev/null
clusters="$(kind get clusters 2>/dev/null)" || die "kind get clusters failed (is kind on PATH? docker running?)"
grep -qx "$KNC_CLUSTER" <<<"$clusters" || die "no kind cluster named '$KNC_CLUSTER'"

pod_subnet="${KNC_POD_SUBNET:-}"
if [[ -z "$pod_subnet" ]]; then
  kubeadm_cfg="$(kc -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')" \
    || die "cannot read kubeadm-config from cluster $KNC_CLUSTER"
  pod_subnet="$(awk '/^ *podSubnet:/ {print $2; exit}' <<<"$kubeadm_cfg")"
  [[ -n "$pod_subnet" ]] || die "cluster $KNC_CLUSTER has no networking.podSubnet in kubeadm-config; set KNC_POD_SUBNET"
fi

images="$("$KNC_ROOT/scripts/build/cni-images.sh" "$name")"
for image in $images; do
  log "kind load docker-image $image (cluster $KNC_CLUSTER)"
  kind load docker-image --name "$KNC_CLUSTER" "$image" >&2 || die "kind load of $image failed"
done
manifest="$(cni_render "$name" "$pod_subnet")"
kc apply -f - <<<"$manifest" >&2 || die "applying manifests/cni/$name.yaml failed"
log "CNI $name applied to cluster $KNC_CLUSTER (pod range $pod_subnet); readiness not awaited"
