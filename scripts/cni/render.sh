#!/usr/bin/env bash
# Prints built-in CNI NAME as a plain manifest anyone can `kubectl apply -f` (a user's own CNI
# manifest, e.g. for --cni-manifest): images and the pod range filled in. The images must be in
# the nodes already (scripts/build/cni-images.sh NAME, then `kind load docker-image` each).
# usage: render.sh NAME   env: KNC_POD_SUBNET (default: podSubnet of the KNC_SHAPE kind config,
# manifests/kind/default.yaml unless set)
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../lib/cluster-config.sh
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
# shellcheck source=lib.sh
source "$KNC_ROOT/scripts/cni/lib.sh"
(($# == 1)) || die "usage: render.sh NAME (built-in: $(cni_names | paste -sd' '))"
cni_render "$1" "${KNC_POD_SUBNET:-$POD_SUBNET}"
