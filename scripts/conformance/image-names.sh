#!/usr/bin/env bash
# shellcheck disable=SC2034 # sourced: the variables are used by the scripts that source it
# Image names the upstream [sig-network] [Conformance] tests of $K8S_VERSION ask for
# (test/utils/image/manifest.go of k8s.io/kubernetes). The tests use IfNotPresent, so images
# loaded into the nodes under these names are used as they are; nothing is pulled.
# Source it after scripts/lib/common.sh.
CONF_REGISTRY="registry.k8s.io/e2e-test-images"
CONF_AGNHOST_IMAGE="$CONF_REGISTRY/agnhost:2.56"
CONF_DNSUTILS_IMAGE="$CONF_REGISTRY/jessie-dnsutils:1.7"
CONF_NGINX_IMAGE="$CONF_REGISTRY/nginx:1.14-4"
# In the node image already (scripts/build/images.sh builds it for kubeadm).
CONF_PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_VERSION"
# What scripts/build/conformance.sh builds and scripts/conformance/load-images.sh loads.
CONF_IMAGES=("$CONF_AGNHOST_IMAGE" "$CONF_DNSUTILS_IMAGE" "$CONF_NGINX_IMAGE")
CONF_DIR="$KNC_CACHE/build/conformance-$K8S_VERSION"
