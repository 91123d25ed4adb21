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
# network_policy_api_crds: the AdminNetworkPolicy and BaselineAdminNetworkPolicy CRDs
# (policy.networking.k8s.io/v1alpha1, "standard" channel) of the sigs.k8s.io/network-policy-api version
# kube-network-policies $KUBE_NETWORK_POLICIES_VERSION is built against, read from the Go module cache
# (downloaded through the Go module proxy when the cache lacks it), on stdout as YAML documents.
network_policy_api_crds() {
  local cache knp ver dir f
  command -v go >/dev/null 2>&1 || die "go not found: the AdminNetworkPolicy CRDs come from the Go module cache (make setup installs go)"
  cache="$(go env GOMODCACHE)" || die "go env GOMODCACHE failed"
  knp="$cache/sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION"
  if [[ ! -f "$knp/go.mod" ]]; then
    GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION" >&2 \
      || die "go mod download sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION failed"
  fi
  ver="$(awk '$1 == "sigs.k8s.io/network-policy-api" {print $2; exit}' "$knp/go.mod")"
  [[ -n "$ver" ]] || die "$knp/go.mod does not require sigs.k8s.io/network-policy-api"
  dir="$cache/sigs.k8s.io/network-policy-api@$ver/config/crd/standard"
  if [[ ! -d "$dir" ]]; then
    GOFLAGS=-mod=mod go mod download "sigs.k8s.io/network-policy-api@$ver" >&2 || die "go mod download sigs.k8s.io/network-policy-api@$ver failed"
  fi
  for f in adminnetworkpolicies baselineadminnetworkpolicies; do
    f="$dir/policy.networking.k8s.io_$f.yaml"
    [[ -s "$f" ]] || die "$f is missing in the Go module cache"
    printf -- '---\n'; cat "$f"
  done
}
# cni_render NAME POD_SUBNET [SERVICE_SUBNET]: the plain manifest (placeholders filled in) on stdout. POD_SUBNET is one
# range (IPv4 or IPv6) or "IPv4,IPv6" (dual-stack). An IPv4 range renders as it always did; with an
# IPv6 range, flannel's net-conf gets EnableIPv6/IPv6Network (and EnableIPv4 false when IPv6-only)
# and kube-router --enable-ipv6 (and --enable-ipv4=false --router-id=generate when IPv6-only); both take each node's
# ranges from its spec.podCIDRs.
cni_render() {
  local f r v4="" v6="" net
  f="$(cni_manifest "$1")"
  [[ "$2" =~ ^[0-9a-fA-F.:]+/[0-9]+(,[0-9a-fA-F.:]+/[0-9]+)?$ ]] || die "not a pod CIDR: '$2'"
  for r in ${2//,/ }; do
    if [[ "$r" == *:* ]]; then [[ -z "$v6" ]] || die "two IPv6 pod ranges: '$2'"; v6="$r"
    else [[ -z "$v4" ]] || die "two IPv4 pod ranges: '$2'"; v4="$r"; fi
  done
  local -a family=()
  if [[ -n "$v6" ]]; then
    if [[ -n "$v4" ]]; then net="\"Network\": \"$v4\", \"EnableIPv6\": true, \"IPv6Network\": \"$v6\","
    else net="\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"$v6\","; fi
    family=(-e "s|\"Network\": \"@POD_SUBNET@\",|$net|")
    local more='\n\1- --enable-ipv6=true'
    # IPv6-only: no IPv4 node address to take the BGP router id from; kube-router v2.1.0 then refuses to
    # start ("router-id must be specified when primary node IP is an IPv6 address") unless told to hash one
    [[ -n "$v4" ]] || more+='\n\1- --enable-ipv4=false\n\1- --router-id=generate'
    # and its policy controller parses the service range, default 10.96.0.0/12 ("IPv6 is enabled but
    # only IPv4 address is provided"): the cluster's IPv6 one (3rd argument, else $SERVICE_SUBNET)
    local svc="${3:-${SERVICE_SUBNET:-}}"
    if [[ -z "$v4" && "$svc" =~ ^[0-9a-fA-F:]+/[0-9]+$ ]]; then more+="\\n\\1- --service-cluster-ip-range=$svc"; fi
    family+=(-e "s|^\\( *\\)- --enable-overlay=false\$|&$more|")
  fi
  # a manifest with the line "# @NETWORK_POLICY_API_CRDS@" gets the AdminNetworkPolicy CRDs first and
  # the engine's admin-policy flags (@KNP_ADMIN_ARGS@), only when asked: KNC_ADMIN_POLICY=1 (the flags
  # make kube-network-policies queue every connection to userspace; see the manifest's comment)
  local admin=""
  case "${KNC_ADMIN_POLICY:-0}" in
    1)
      admin=', --admin-network-policy=true, --baseline-admin-network-policy=true'
      if grep -q '^# @NETWORK_POLICY_API_CRDS@$' "$f"; then network_policy_api_crds; fi
      ;;
    0) ;;
    *) die "KNC_ADMIN_POLICY must be 0 or 1: '${KNC_ADMIN_POLICY}'" 2 ;;
  esac
  sed -e '/^# @NETWORK_POLICY_API_CRDS@$/d' -e "s|@KNP_ADMIN_ARGS@|$admin|g" -e "s|@FLANNEL_IMAGE@|$FLANNEL_IMAGE|g" -e "s|@KUBE_ROUTER_IMAGE@|$KUBE_ROUTER_IMAGE|g" \
    -e "s|@KNP_IMAGE@|$KNP_IMAGE|g" "${family[@]}" -e "s|@POD_SUBNET@|$2|g" "$f"
}
