#!/usr/bin/env bash
# Builds kubelet, kubeadm, kubectl and the control-plane binaries of $K8S_VERSION from the
# k8s.io/kubernetes module, with the version ldflags hack/lib/version.sh would set.
source "$(dirname "$0")/../lib/common.sh"
out="$KNC_CACHE/build/kubernetes-$K8S_VERSION"
go mod download k8s.io/kubernetes@"$K8S_VERSION"
modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
staging_version="v0.${K8S_VERSION#v1.}"
# kubernetes requires its staging modules as v0.0.0 + local replace: pin each to its published tag.
staging="$(awk '/^\tk8s.io\/[a-z-]+ v0.0.0$/ {print $1"='"$staging_version"'"}' "$modfile")"
mapfile -t replaces <<<"$staging"
major="${K8S_VERSION#v}"; major="${major%%.*}"; minor="$(cut -d. -f2 <<<"$K8S_VERSION")"
ld=""
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
  ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
cmds=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
"$KNC_ROOT/scripts/build/go-binaries.sh" "$out" k8s.io/kubernetes "$K8S_VERSION" "$ld" \
  "${cmds[@]/#/k8s.io/kubernetes/cmd/}" -- "${replaces[@]}"
