#!/usr/bin/env bash
# Builds every container image kube-netcheck needs from local files only (FROM scratch + ADD),
# tagged with the exact names kubeadm/kind expect, and saves each to $KNC_CACHE/images/*.tar.
# Prints "name<TAB>tarball<TAB>content key" lines on stdout. Needs a running Docker engine and the binaries.
source "$(dirname "$0")/../lib/common.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
b="$KNC_CACHE/build" imgdir="$KNC_CACHE/images" recipes="$KNC_ROOT/scripts/images"
mkdir -p "$imgdir"
export DOCKER_BUILDKIT=0

# build_image TAG KEY CONTEXT_SETUP...: builds TAG unless an image with label knc.key=KEY exists.
build_image() {
  local tag="$1" key="$2"; shift 2
  local tar; tar="$imgdir/$(tr '/:' '__' <<<"$tag").tar"
  if [[ "$(docker image inspect -f '{{index .Config.Labels "knc.key"}}' "$tag" 2>/dev/null)" != "$key" ]]; then
    local ctx; ctx="$(mktemp -d)"
    "$@" "$ctx"
    log "docker build $tag"
    docker build -q --label "knc.key=$key" -t "$tag" "$ctx" >/dev/null || die "docker build of $tag failed"
    rm -rf "$ctx"; rm -f "$tar"
  fi
  [[ -s "$tar" ]] || docker save -o "$tar" "$tag" || die "docker save of $tag failed"
  printf '%s\t%s\t%s\n' "$tag" "$tar" "$key"
}
# scratch_ctx BINARY ENTRYPOINT_PATH CTX: a single static binary in an empty image.
scratch_ctx() {
  cp "$1" "$3/bin"
  printf 'FROM scratch\nCOPY bin %s\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ["%s"]\n' "$2" "$2" >"$3/Dockerfile"
}
# rootfs_ctx RECIPE ROOTFS_TAR CTX: a recipe dir from scripts/images plus a Debian rootfs.
rootfs_ctx() { cp -r "$recipes/$1"/. "$3"/; ln "$2" "$3/rootfs.tar" 2>/dev/null || cp "$2" "$3/rootfs.tar"; }
# with_binary BINARY DEST RECIPE ROOTFS_TAR CTX: a rootfs recipe plus one extra binary at DEST.
with_binary() {
  rootfs_ctx "$3" "$4" "$5"
  cp "$1" "$5/extra.bin"
  printf 'COPY extra.bin %s\n' "$2" >>"$5/Dockerfile"
}

k8s="$b/kubernetes-$K8S_VERSION"
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  build_image "$(k8s_image "$c")" "$(key_of "$K8S_VERSION" "$c")" scratch_ctx "$k8s/$c" "/usr/local/bin/$c"
done
build_image "$ETCD_IMAGE" "$(key_of "$ETCD_VERSION")" scratch_ctx "$b/etcd-$ETCD_VERSION/server" /usr/local/bin/etcd
build_image "$COREDNS_IMAGE" "$(key_of "$COREDNS_VERSION")" scratch_ctx "$b/coredns-$COREDNS_VERSION/coredns" /coredns
build_image "$PAUSE_IMAGE" "$(key_of "$PAUSE_VERSION")" scratch_ctx "$b/pause-$PAUSE_VERSION/pause" /pause

netbase="$("$KNC_ROOT/scripts/build/rootfs.sh" netbase 'iptables,nftables,conntrack,ipset,iproute2,kmod')"
recipe="$(cat "$recipes"/netbase/*)"
nb_key="$(key_of "$netbase" "$recipe")"
build_image "$(k8s_image kube-proxy)" "$(key_of "$nb_key" "$K8S_VERSION")" \
  with_binary "$k8s/kube-proxy" /usr/local/bin/kube-proxy netbase "$netbase"
build_image "$FLANNEL_IMAGE" "$(key_of "$nb_key" "$FLANNEL_VERSION")" \
  with_binary "$b/flannel-$FLANNEL_VERSION/flannel" /opt/bin/flanneld netbase "$netbase"

nginx="$("$KNC_ROOT/scripts/build/rootfs.sh" nginx 'nginx')"
recipe="$(cat "$recipes"/nginx/*)"
build_image "$NGINX_IMAGE" "$(key_of "$nginx" "$recipe")" rootfs_ctx nginx "$nginx"
probe="$("$KNC_ROOT/scripts/build/rootfs.sh" probe 'busybox,dnsutils,curl,ca-certificates,iproute2,procps,netcat-openbsd,iputils-ping')"
recipe="$(cat "$recipes"/probe/*)"
build_image "$PROBE_IMAGE" "$(key_of "$probe" "$recipe")" rootfs_ctx probe "$probe"
