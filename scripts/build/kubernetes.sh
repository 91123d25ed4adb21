#!/usr/bin/env bash
# Builds kubelet, kubeadm, kubectl and the control-plane binaries of $K8S_VERSION from the
# k8s.io/kubernetes module, with the version ldflags hack/lib/version.sh would set.
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../lib/k8s-module.sh
source "$KNC_ROOT/scripts/lib/k8s-module.sh"
out="$KNC_CACHE/build/kubernetes-$K8S_VERSION"
replaces=("${K8S_STAGING_MODULES[@]/%/=$K8S_STAGING_VERSION}")
cmds=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
"$KNC_ROOT/scripts/build/go-binaries.sh" "$out" k8s.io/kubernetes "$K8S_VERSION" "$K8S_VERSION_LDFLAGS" \
  "${cmds[@]/#/k8s.io/kubernetes/cmd/}" -- "${replaces[@]}"
