#!/usr/bin/env bash
# Builds a Go main package (or several) from the Go module proxy into the cache.
# usage: go-binaries.sh OUT_DIR MODULE VERSION 'LDFLAGS' PKG... [-- REPLACE_MODULE=VERSION ...]
# A throwaway wrapper module requires MODULE@VERSION so that modules whose go.mod uses local
# replace directives (kubernetes staging, etcd) still build; REPLACE pairs pin those modules.
source "$(dirname "$0")/../lib/common.sh"
out="$1" module="$2" version="$3" ldflags="$4"; shift 4
pkgs=() replaces=()
while (($#)); do
  if [[ "$1" == "--" ]]; then shift; replaces=("$@"); break; fi
  pkgs+=("$1"); shift
done
key="cgo=${CGO_ENABLED:-0} $module@$version ${pkgs[*]} ${replaces[*]} $ldflags $(go env GOVERSION)"
if stamp_ok "$out" "$key"; then log "cached: $out"; exit 0; fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work" || die "cannot cd to $work"
go mod init knc.local/build >/dev/null 2>&1
for r in "${replaces[@]}"; do go mod edit -replace "${r%%=*}=${r%%=*}@${r#*=}"; done
go mod edit -require "$module@$version"
log "resolving $module@$version"
GOFLAGS=-mod=mod go get "${pkgs[@]/%/@$version}" >/dev/null 2>"$work/get.log" || GOFLAGS=-mod=mod go get "$module@$version" "${pkgs[@]}" >/dev/null 2>>"$work/get.log" || { cat "$work/get.log" >&2; die "go get $module@$version failed"; }
mkdir -p "$out"
log "building ${pkgs[*]}"
CGO_ENABLED="${CGO_ENABLED:-0}" GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "${pkgs[@]}" \
  || die "go build of $module@$version failed"
stamp_set "$out" "$key"
built=("$out"/*)
log "built into $out: ${built[*]##*/}"
