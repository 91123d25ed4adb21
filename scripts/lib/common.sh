# shellcheck shell=bash
# Shared helpers for kube-netcheck's shell scripts. Source it; do not run it.
set -euo pipefail
# errexit inside $(...) too: a failing command in a command substitution stops it there (and with
# it the assignment, hence the script), instead of the substitution carrying on.
shopt -s inherit_errexit
KNC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../versions.env
source "$KNC_ROOT/scripts/versions.env"
# Expensive builds live outside the checkout, keyed by versions.
KNC_CACHE="${KNC_CACHE:-/var/cache/kube-netcheck}"
KNC_BIN="$KNC_CACHE/tools/bin"
export PATH="$KNC_BIN:$PATH"
mkdir -p "$KNC_CACHE" "$KNC_BIN"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { local code="${2:-2}"; printf 'kube-netcheck: %s\n' "$1" >&2; exit "$code"; }
# stamp_ok DIR KEY: true when DIR was completed for exactly KEY.
stamp_ok() { [[ -f "$1/.stamp" && "$(cat "$1/.stamp")" == "$2" ]]; }
stamp_set() { printf '%s' "$2" >"$1/.stamp"; }

# debian_mirror: the Debian archive this host's apt already uses (we name no host ourselves).
debian_mirror() {
  local uri
  uri="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  [[ -n "$uri" ]] || uri="$(awk '/^deb / && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  [[ -n "$uri" ]] || die "cannot find a Debian mirror in this host's apt sources"
  printf '%s' "$uri"
}
# need_cmd CMD PACKAGE: install a Debian package when CMD is missing.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing $2 (for $1)"
  { apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$2" >/dev/null; }; } \
    || die "could not install Debian package $2 (needed for $1)"
}
# key_of STRING...: a short stable hash used to name cached artifacts.
key_of() { printf '%s' "$*" | sha256sum | cut -c1-12; }
