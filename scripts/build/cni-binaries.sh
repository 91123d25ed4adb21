#!/usr/bin/env bash
# Builds the Go programs of the built-in CNIs that the node image does not already carry:
#   kube-router             github.com/cloudnativelabs/kube-router/v2 (CGO_ENABLED=0)
#   kube-network-policies   sigs.k8s.io/kube-network-policies, against a copy of google/nftables
#                           whose nft `queue` expression is sent as the xtables NFQUEUE target
#                           (this kernel has no nft_queue; see scripts/images/kube-network-policies)
# (flannel, the bridge/host-local/... CNI plugins: scripts/build/components.sh.)
# usage: cni-binaries.sh kube-router|kube-network-policies   prints the directory holding the binary
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
b="$KNC_CACHE/build"
case "${1:-}" in
  kube-router)
    out="$b/kube-router-$KUBE_ROUTER_VERSION"
    v=github.com/cloudnativelabs/kube-router/v2/pkg/version
    CGO_ENABLED=0 nice -n 10 "$KNC_ROOT/scripts/build/go-binaries.sh" "$out" \
      github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" \
      "-X $v.Version=$KUBE_ROUTER_VERSION -X $v.BuildDate=1970-01-01T00:00:00Z" \
      github.com/cloudnativelabs/kube-router/v2/cmd/kube-router >&2
    ;;
  kube-network-policies)
    out="$b/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION"
    patch="$KNC_ROOT/scripts/images/kube-network-policies/nft_queue_xt.go"
    key="$KUBE_NETWORK_POLICIES_VERSION nftables@$KNP_NFTABLES_VERSION $(key_of "$(cat "$patch")") $(go env GOVERSION)"
    if stamp_ok "$out" "$key"; then
      log "cached: $out"
    else
      work="$(mktemp -d)"; trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
      nft_json="$(go mod download -json "github.com/google/nftables@$KNP_NFTABLES_VERSION")" \
        || die "go mod download github.com/google/nftables@$KNP_NFTABLES_VERSION failed: $nft_json"
      nft_dir="$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$nft_json")"
      [[ -f "$nft_dir/expr/queue.go" ]] || die "google/nftables@$KNP_NFTABLES_VERSION has no expr/queue.go ($nft_dir)"
      cp -r "$nft_dir" "$work/nftables"; chmod -R u+w "$work/nftables"
      sed -i 's/^func (e \*Queue) marshal(fam byte)/func (e *Queue) marshalNFTQueue(fam byte)/' "$work/nftables/expr/queue.go"
      grep -q 'marshalNFTQueue' "$work/nftables/expr/queue.go" || die "google/nftables expr/queue.go changed: Queue.marshal not found"
      cp "$patch" "$work/nftables/expr/"
      mkdir "$work/m"; cd "$work/m" || die "cannot enter $work/m"
      go mod init knc.local/build >/dev/null 2>&1
      go mod edit -require "sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION" \
        -replace "github.com/google/nftables=../nftables"
      log "resolving sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION"
      GOFLAGS=-mod=mod go get "sigs.k8s.io/kube-network-policies/cmd@$KUBE_NETWORK_POLICIES_VERSION" >/dev/null 2>"$work/get.log" \
        || { cat "$work/get.log" >&2; die "go get sigs.k8s.io/kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION failed"; }
      mkdir -p "$out"
      log "building sigs.k8s.io/kube-network-policies/cmd (NFQUEUE via xtables target)"
      CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags "-s -w" -o "$out/kube-network-policies" \
        sigs.k8s.io/kube-network-policies/cmd || die "go build of kube-network-policies failed"
      stamp_set "$out" "$key"
    fi
    ;;
  *) die "usage: cni-binaries.sh kube-router|kube-network-policies" ;;
esac
echo "$out"
