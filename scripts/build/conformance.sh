#!/usr/bin/env bash
# Builds what the upstream [sig-network] [Conformance] tests need, offline, cached by version:
#   $KNC_CACHE/build/conformance-$K8S_VERSION/e2e.test   (go test -c k8s.io/kubernetes/test/e2e)
#   $KNC_CACHE/build/conformance-$K8S_VERSION/agnhost    (k8s.io/kubernetes/test/images/agnhost)
# and the images those tests ask for, under the exact names of test/utils/image/manifest.go
# (agnhost, jessie-dnsutils, nginx; pause is in the node image), saved to $KNC_CACHE/images/.
# usage: conformance.sh [--binaries-only]
# Prints "name<TAB>tarball<TAB>content key" lines for the images on stdout (like images.sh).
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../conformance/image-names.sh
source "$KNC_ROOT/scripts/conformance/image-names.sh"
binaries_only=0
[[ "${1:-}" == "--binaries-only" ]] && binaries_only=1
out="$KNC_CACHE/build/conformance-$K8S_VERSION"
# The build is heavy (the e2e binary links most of Kubernetes): never starve the machine.
nice_go() { nice -n 10 "$@"; }

# shellcheck source=../lib/k8s-module.sh
source "$KNC_ROOT/scripts/lib/k8s-module.sh"
staging_version="$K8S_STAGING_VERSION"
replaces=("${K8S_STAGING_MODULES[@]}")
ld="-s -w$K8S_VERSION_LDFLAGS"
goversion="$(go env GOVERSION)"
key="conformance k8s.io/kubernetes@$K8S_VERSION staging=$staging_version $ld $goversion"

if stamp_ok "$out" "$key"; then
  log "cached: $out (e2e.test, agnhost)"
else
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    go mod init knc.local/conformance >/dev/null 2>&1
    for m in "${replaces[@]}"; do go mod edit -replace "$m=$m@$staging_version"; done
    go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
    log "resolving k8s.io/kubernetes@$K8S_VERSION test/e2e + test/images/agnhost"
    GOFLAGS=-mod=mod go get k8s.io/kubernetes/test/e2e@"$K8S_VERSION" k8s.io/kubernetes/test/images/agnhost@"$K8S_VERSION" \
      >/dev/null 2>"$work/get.log" || { cat "$work/get.log" >&2; die "go get of k8s.io/kubernetes@$K8S_VERSION test packages failed"; }
    mkdir -p "$out"
    rm -f "$out/.stamp"
    log "building agnhost"
    CGO_ENABLED=0 GOFLAGS=-mod=mod nice_go go build -trimpath -ldflags "$ld" -o "$out/agnhost" \
      k8s.io/kubernetes/test/images/agnhost || die "go build of agnhost ($K8S_VERSION) failed"
    log "building e2e.test (go test -c; several minutes, longer with a cold Go build cache)"
    CGO_ENABLED=0 GOFLAGS=-mod=mod nice_go go test -c -trimpath -ldflags "$ld" -o "$out/e2e.test" \
      k8s.io/kubernetes/test/e2e || die "go test -c of k8s.io/kubernetes/test/e2e ($K8S_VERSION) failed"
  ) || exit $?
  printf '%s\n' "$K8S_VERSION" >"$out/k8s-version"
  stamp_set "$out" "$key"
  log "built into $out: e2e.test $(du -h "$out/e2e.test" | cut -f1), agnhost $(du -h "$out/agnhost" | cut -f1)"
fi
((binaries_only)) && exit 0

# --- images -------------------------------------------------------------------------------
command -v docker >/dev/null 2>&1 || die "docker not found: run scripts/engine.sh first"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer: run scripts/engine.sh first"
imgdir="$KNC_CACHE/images" recipes="$KNC_ROOT/scripts/images"
mkdir -p "$imgdir"
export DOCKER_BUILDKIT=0
module_dir="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION"
[[ -d "$module_dir/test/images/agnhost/porter" ]] || die "k8s.io/kubernetes@$K8S_VERSION is not extracted in the module cache ($module_dir)"
# The names in scripts/conformance/image-names.sh must be the ones this version's tests ask for.
manifest="$module_dir/test/utils/image/manifest.go"
for pair in "Agnhost agnhost ${CONF_AGNHOST_IMAGE##*:}" "JessieDnsutils jessie-dnsutils ${CONF_DNSUTILS_IMAGE##*:}" "Nginx nginx ${CONF_NGINX_IMAGE##*:}"; do
  read -r id name tag <<<"$pair"
  grep -q "configs\[$id\] = Config{list.PromoterE2eRegistry, \"$name\", \"$tag\"}" "$manifest" \
    || die "$manifest of $K8S_VERSION does not ask for $name:$tag: update scripts/conformance/image-names.sh"
done

# conf_image TAG KEY CONTEXT_SETUP...: builds TAG unless an image labelled knc.key=KEY exists,
# saves it to $imgdir and prints "tag<TAB>tarball<TAB>key".
conf_image() {
  local tag="$1" key="$2"; shift 2
  local tar current ctx
  tar="$imgdir/$(tr '/:' '__' <<<"$tag").tar"
  current="$(docker image inspect -f '{{index .Config.Labels "knc.key"}}' "$tag" 2>/dev/null || true)"
  if [[ "$current" != "$key" ]]; then
    ctx="$(mktemp -d)"
    "$@" "$ctx"
    log "docker build $tag"
    nice -n 10 docker build -q --label "knc.key=$key" -t "$tag" "$ctx" >/dev/null || die "docker build of $tag failed"
    rm -rf "$ctx"; rm -f "$tar"
  else
    log "cached image: $tag"
  fi
  [[ -s "$tar" ]] || docker save -o "$tar" "$tag" || die "docker save of $tag failed"
  printf '%s\t%s\t%s\n' "$tag" "$tar" "$key"
}
# recipe_ctx RECIPE ROOTFS_TAR CTX: a recipe dir from scripts/images plus a Debian rootfs.
recipe_ctx() { cp -r "$recipes/$1"/. "$3"/; ln "$2" "$3/rootfs.tar" 2>/dev/null || cp "$2" "$3/rootfs.tar"; }
agnhost_ctx() {
  recipe_ctx agnhost "$1" "$2"
  cp "$out/agnhost" "$2/agnhost"
  cp "$module_dir/test/images/agnhost/porter/localhost.crt" "$module_dir/test/images/agnhost/porter/localhost.key" "$2/"
  chmod 0644 "$2/localhost.crt" "$2/localhost.key"
}

agnhost_rootfs="$("$KNC_ROOT/scripts/build/rootfs.sh" agnhost 'bind9-dnsutils,curl,ca-certificates,netcat-openbsd,iproute2,iperf,bash,wget,passwd')"
conf_image "$CONF_AGNHOST_IMAGE" "$(key_of "$agnhost_rootfs" "$key" "$(cat "$recipes"/agnhost/*)")" agnhost_ctx "$agnhost_rootfs"
dns_rootfs="$("$KNC_ROOT/scripts/build/rootfs.sh" dnsutils 'bind9-dnsutils')"
conf_image "$CONF_DNSUTILS_IMAGE" "$(key_of "$dns_rootfs" "$(cat "$recipes"/dnsutils/*)")" recipe_ctx dnsutils "$dns_rootfs"
# nginx: kube-netcheck's own nginx recipe and rootfs (same package list as scripts/build/images.sh).
nginx_rootfs="$("$KNC_ROOT/scripts/build/rootfs.sh" nginx 'nginx')"
conf_image "$CONF_NGINX_IMAGE" "$(key_of "$nginx_rootfs" "$(cat "$recipes"/nginx/*)")" recipe_ctx nginx "$nginx_rootfs"
