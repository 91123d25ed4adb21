#!/usr/bin/env bash
# Makes a Debian $DEBIAN_SUITE root filesystem tarball with mmdebstrap (no container registry
# needed) and prints its path. usage: rootfs.sh NAME 'pkg1,pkg2,...' [mmdebstrap hook args...]
# The tarball is cached under $KNC_CACHE/rootfs keyed by suite, packages, hooks and recipe.
source "$(dirname "$0")/../lib/common.sh"
name="$1" pkgs="$2"; shift 2
# the checkout path is not part of the key: CI builds from a fresh clone in another folder
args="$*"; key="$(key_of "$DEBIAN_SUITE $pkgs ${args//$KNC_ROOT/.} $IMAGE_RECIPE")"
out="$KNC_CACHE/rootfs/$name-$DEBIAN_SUITE-$key.tar"
if [[ -s "$out" ]]; then log "cached rootfs: $out"; echo "$out"; exit 0; fi
need_cmd mmdebstrap mmdebstrap
mkdir -p "$(dirname "$out")"
log "mmdebstrap $name ($DEBIAN_SUITE): $pkgs"
# shellcheck disable=SC2016  # "$1" in the hook is mmdebstrap's, expanded when the hook runs
mmdebstrap --mode=root --variant=minbase --include="$pkgs" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "$@" "$DEBIAN_SUITE" "${out%.tar}.partial.tar" "$(debian_mirror)" >&2 \
  || { rm -f "${out%.tar}.partial.tar"; die "mmdebstrap of $name failed"; }
mv "${out%.tar}.partial.tar" "$out"
log "rootfs $name: $(du -h "$out" | cut -f1)"
echo "$out"
