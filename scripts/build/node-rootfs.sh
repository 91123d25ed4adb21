#!/usr/bin/env bash
# The node's root filesystem: Debian + systemd + containerd/runc + kind's own base-image files,
# prepared as kind's images/base Dockerfile does. Prints the cached tarball's path.
source "$(dirname "$0")/../lib/common.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
kind_files="$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/images/base/files"
[[ -d "$kind_files" ]] || die "kind base-image files not found in the module cache ($kind_files)"
pkgs='systemd,dbus,conntrack,iptables,nftables,ebtables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,e2fsprogs,bash,ca-certificates,curl,jq,procps,socat,containerd,runc'
hook="$KNC_ROOT/scripts/images/node/customize-rootfs.sh"
# the hook's content hash is an (ignored) argument so that editing the hook rebuilds the rootfs
hook_text="$(cat "$hook")"
exec "$KNC_ROOT/scripts/build/rootfs.sh" node "$pkgs" \
  --customize-hook="$hook \"\$1\" $kind_files $PAUSE_IMAGE $(key_of "$hook_text")"
