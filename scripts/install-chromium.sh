#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser that renders reports/report.html in the unit tests).
# usage: install-chromium.sh   (idempotent: does nothing when /usr/bin/chromium is already there)
# Exit 2 with one line on stderr when it cannot be installed.
# Only the host's own Debian apt sources are used; Chromium itself is never started here.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

CHROMIUM=/usr/bin/chromium
[[ -x "$CHROMIUM" ]] && exit 0

[[ "$(id -u)" == 0 ]] || die "$CHROMIUM is missing and installing Debian's chromium needs root: run sudo bash scripts/install-chromium.sh"
command -v apt-get >/dev/null 2>&1 || die "$CHROMIUM is missing and this is not a Debian/apt machine: install chromium by hand"

export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }
# apt-get update only when the package lists do not know chromium yet (or the install fails).
if ! apt-cache show chromium >/dev/null 2>&1; then
  log "apt-get update (the package lists do not know chromium yet)"
  apt-get update -q >/dev/null 2>&1 || die "apt-get update failed; cannot install Debian's chromium for the HTML report tests"
  updated=1
fi
log "installing Debian's chromium (for the HTML report render test)"
if ! apt_install; then
  if [[ -z "${updated:-}" ]] && apt-get update -q >/dev/null 2>&1 && apt_install; then :; else
    die "could not install Debian package chromium (apt-get install chromium failed); the HTML report render test needs $CHROMIUM"
  fi
fi
[[ -x "$CHROMIUM" ]] || die "Debian package chromium installed but $CHROMIUM is missing"
log "chromium $(dpkg-query -W -f '${Version}' chromium) installed: $CHROMIUM"
