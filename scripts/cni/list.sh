#!/usr/bin/env bash
# Prints the names of the built-in CNIs, one a line (the files manifests/cni/NAME.yaml).
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=lib.sh
source "$KNC_ROOT/scripts/cni/lib.sh"
cni_names
