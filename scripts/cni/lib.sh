# shellcheck shell=bash
# Built-in CNIs: their names, images and manifests. Source it after scripts/lib/common.sh.
# A built-in CNI NAME is the template manifests/cni/NAME.yaml; the @...@ placeholders in it say
# which images it needs (see cni_images) and where the cluster's pod range goes.
# shellcheck source=../lib/image-names.sh
source "$KNC_ROOT/scripts/lib/image-names.sh"
KUBE_ROUTER_IMAGE="kube-netcheck.local/kube-router:$KUBE_ROUTER_VERSION"
KNP_IMAGE="kube-netcheck.local/kube-network-policies:$KUBE_NETWORK_POLICIES_VERSION"
CNI_MANIFEST_DIR="$KNC_ROOT/manifests/cni"

# cni_names: every built-in CNI name, one a line.
cni_names() {
  local f
  for f in "$CNI_MANIFEST_DIR"/*.yaml; do f="${f##*/}"; printf '%s\n' "${f%.yaml}"; done | LC_ALL=C sort
}
# cni_manifest NAME: the template's path; dies naming the built-in names when NAME is not one.
cni_manifest() {
  local f="$CNI_MANIFEST_DIR/$1.yaml" names
  if [[ -z "$1" || "$1" == */* || ! -f "$f" ]]; then
    names="$(cni_names | paste -sd' ')"
    die "unknown CNI '$1' (built-in: $names)"
  fi
  printf '%s' "$f"
}
# cni_images NAME: the image placeholders NAME's manifest uses, as "PLACEHOLDER IMAGE" lines.
cni_images() {
  local f p
  f="$(cni_manifest "$1")"
  for p in FLANNEL_IMAGE KUBE_ROUTER_IMAGE KNP_IMAGE; do
    if grep -q "@$p@" "$f"; then printf '%s %s\n' "$p" "${!p}"; fi
  done
}
# cni_render NAME POD_SUBNET: the plain manifest (placeholders filled in) on stdout.
cni_render() {
  local f
  f="$(cni_manifest "$1")"
  [[ "$2" =~ ^[0-9a-fA-F.:]+/[0-9]+$ ]] || die "not a pod CIDR: '$2'"
  sed -e "s|@FLANNEL_IMAGE@|$FLANNEL_IMAGE|g" -e "s|@KUBE_ROUTER_IMAGE@|$KUBE_ROUTER_IMAGE|g" \
    -e "s|@KNP_IMAGE@|$KNP_IMAGE|g" -e "s|@POD_SUBNET@|$2|g" "$f"
}
