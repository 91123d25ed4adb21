#!/usr/bin/env bash
# Builds every Go program the node image needs besides Kubernetes itself: etcd, CoreDNS,
# flannel (daemon + CNI meta plugin), the reference CNI plugins, crictl and kind.
source "$(dirname "$0")/../lib/common.sh"
gb="$KNC_ROOT/scripts/build/go-binaries.sh"
b="$KNC_CACHE/build"

"$gb" "$b/kind-$KIND_VERSION" sigs.k8s.io/kind "$KIND_VERSION" "" sigs.k8s.io/kind
"$gb" "$b/crictl-$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" \
  "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
"$gb" "$b/cni-plugins-$CNI_PLUGINS_VERSION" github.com/containernetworking/plugins "$CNI_PLUGINS_VERSION" "" \
  github.com/containernetworking/plugins/plugins/{main/bridge,main/loopback,main/ptp,ipam/host-local,meta/portmap}
# flannel's CNI meta plugin left containernetworking/plugins after v0.9.x; that release still has it.
"$gb" "$b/cni-flannel-$FLANNEL_CNI_PLUGIN_VERSION" github.com/containernetworking/plugins "$FLANNEL_CNI_PLUGIN_VERSION" "" \
  github.com/containernetworking/plugins/plugins/meta/flannel
# flannel pins a tencentcloud vpc SDK version the proxy does not serve (403); its tencentvpc
# backend (unused here) compiles against the newest served one. Its udp backend needs cgo.
CGO_ENABLED=1 "$gb" "$b/flannel-$FLANNEL_VERSION" github.com/flannel-io/flannel "$FLANNEL_VERSION" \
  "-X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION" github.com/flannel-io/flannel \
  -- "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc=$FLANNEL_TENCENT_VPC_VERSION"
"$gb" "$b/coredns-$COREDNS_VERSION" github.com/coredns/coredns "$COREDNS_VERSION" "" github.com/coredns/coredns
"$gb" "$b/etcd-$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "" go.etcd.io/etcd/server/v3
# pause is C: compile kubernetes' build/pause/linux/pause.c statically.
pause="$b/pause-$PAUSE_VERSION"
if ! stamp_ok "$pause" "$K8S_VERSION"; then
  src="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/build/pause/linux/pause.c"
  [[ -f "$src" ]] || go mod download "k8s.io/kubernetes@$K8S_VERSION"
  mkdir -p "$pause"
  command -v gcc >/dev/null || die "gcc is required to build pause"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-kube-netcheck" -o "$pause/pause" "$src"
  strip "$pause/pause"; stamp_set "$pause" "$K8S_VERSION"
fi
install -m 0755 "$b/kind-$KIND_VERSION/kind" "$KNC_BIN/kind"
install -m 0755 "$b/kubernetes-$K8S_VERSION/kubectl" "$KNC_BIN/kubectl" 2>/dev/null || true
log "components ready"
