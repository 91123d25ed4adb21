#!/usr/bin/env bash
# Builds every image built-in CNI NAME needs (manifests/cni/NAME.yaml) from Go modules and Debian
# packages only, and prints their names, one a line. Images carry a knc.key label (versions +
# recipe); an image whose key matches is not rebuilt. Needs a running Docker engine.
#   flannel-*       kube-netcheck.local/flannel:$FLANNEL_VERSION (built with the node image,
#                   scripts/build/images.sh; already inside offline node images)
#   kube-router     kube-netcheck.local/kube-router:$KUBE_ROUTER_VERSION: the netbase Debian rootfs
#                   (iptables/nft, ipset, conntrack, iproute2) + kube-router
#   *+policy        kube-netcheck.local/kube-network-policies:$KUBE_NETWORK_POLICIES_VERSION: one
#                   static binary in an empty image
# usage: cni-images.sh NAME
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../cni/lib.sh
source "$KNC_ROOT/scripts/cni/lib.sh"
(($# == 1)) || die "usage: cni-images.sh NAME (built-in: $(cni_names | paste -sd' '))"
export DOCKER_BUILDKIT=0
recipes="$KNC_ROOT/scripts/images"
docker info >/dev/null 2>&1 || die "docker does not answer (start it with scripts/engine.sh)"

# image_ok TAG KEY: TAG exists with label knc.key=KEY.
image_ok() { [[ "$(docker image inspect -f '{{index .Config.Labels "knc.key"}}' "$1" 2>/dev/null)" == "$2" ]]; }
# docker_build TAG KEY CTX: build CTX as TAG labelled with KEY, then remove CTX.
docker_build() {
  log "docker build $1"
  docker build -q --label "knc.key=$2" -t "$1" "$3" >/dev/null || die "docker build of $1 failed"
  rm -rf "$3"
}

build_flannel() {
  docker image inspect "$FLANNEL_IMAGE" >/dev/null 2>&1 && return 0
  log "$FLANNEL_IMAGE missing: building the node image's component images (scripts/build/images.sh)"
  "$KNC_ROOT/scripts/build/kubernetes.sh" >&2
  "$KNC_ROOT/scripts/build/components.sh" >&2
  "$KNC_ROOT/scripts/build/images.sh" >/dev/null
  docker image inspect "$FLANNEL_IMAGE" >/dev/null 2>&1 || die "scripts/build/images.sh did not build $FLANNEL_IMAGE"
}

build_kube_router() {
  local bin netbase key ctx
  bin="$("$KNC_ROOT/scripts/build/cni-binaries.sh" kube-router)"
  # the same Debian rootfs as kube-proxy's and flannel's images (scripts/build/images.sh)
  netbase="$("$KNC_ROOT/scripts/build/rootfs.sh" netbase 'iptables,nftables,conntrack,ipset,iproute2,kmod')"
  key="$(key_of "$netbase" "$(cat "$recipes"/netbase/*)" "$(cat "$bin/.stamp")" "$(declare -f build_kube_router)")"
  image_ok "$KUBE_ROUTER_IMAGE" "$key" && return 0
  ctx="$(mktemp -d)"
  cp -r "$recipes/netbase/." "$ctx/"
  ln "$netbase" "$ctx/rootfs.tar" 2>/dev/null || cp "$netbase" "$ctx/rootfs.tar"
  cp "$bin/kube-router" "$ctx/kube-router"
  # kube-router keeps BGP state under /var/lib/gobgp (as its upstream image does) and edits
  # /etc/iproute2/rt_tables, which Debian now ships only as /usr/share/iproute2/rt_tables
  printf '%s\n' 'COPY kube-router /usr/local/bin/kube-router' \
    'RUN mkdir -p /var/lib/gobgp /etc/iproute2 && cp /usr/share/iproute2/rt_tables /etc/iproute2/rt_tables' \
    'WORKDIR /root' 'ENTRYPOINT ["/usr/local/bin/kube-router"]' >>"$ctx/Dockerfile"
  docker_build "$KUBE_ROUTER_IMAGE" "$key" "$ctx"
}

build_knp() {
  local bin key ctx
  bin="$("$KNC_ROOT/scripts/build/cni-binaries.sh" kube-network-policies)"
  key="$(key_of "$(cat "$bin/.stamp")" "$(declare -f build_knp)")"
  image_ok "$KNP_IMAGE" "$key" && return 0
  ctx="$(mktemp -d)"
  cp "$bin/kube-network-policies" "$ctx/bin"
  printf '%s\n' 'FROM scratch' 'COPY bin /kube-network-policies' 'ENTRYPOINT ["/kube-network-policies"]' >"$ctx/Dockerfile"
  docker_build "$KNP_IMAGE" "$key" "$ctx"
}

wanted="$(cni_images "$1")"
while read -r placeholder image; do
  [[ -n "$placeholder" ]] || continue   # a manifest that needs no image of ours
  case "$placeholder" in
    FLANNEL_IMAGE) build_flannel ;;
    KUBE_ROUTER_IMAGE) build_kube_router ;;
    KNP_IMAGE) build_knp ;;
    *) die "no recipe for $placeholder" ;;
  esac
  size="$(docker image inspect -f '{{.Size}}' "$image")" || die "image $image missing after its build"
  log "$image: $(numfmt --to=si "$size")B"
  printf '%s\n' "$image"
done <<<"$wanted"
