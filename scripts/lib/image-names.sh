# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# Image names: the exact ones kubeadm and kind expect for the cluster, and kube-netcheck's own
# (under kube-netcheck.local/, a registry that does not exist, so nothing can ever pull them).
k8s_image() { printf 'registry.k8s.io/%s:%s' "$1" "$K8S_VERSION"; }
ETCD_IMAGE="registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_VERSION"
FLANNEL_IMAGE="kube-netcheck.local/flannel:$FLANNEL_VERSION"
NGINX_IMAGE="${KNC_NGINX_IMAGE:-kube-netcheck.local/nginx:$DEBIAN_SUITE-r$IMAGE_RECIPE}"
PROBE_IMAGE="${KNC_PROBE_IMAGE:-kube-netcheck.local/probe:$DEBIAN_SUITE-r$IMAGE_RECIPE}"
# Online default probe (src/cluster/resolve.ts DEFAULT_IMAGES): Kubernetes' e2e agnhost image —
# Alpine with busybox (sh, wget, ping, timeout, awk), bind-tools (dig), musl getent, iproute2 (ip),
# curl, netcat-openbsd and bash: every tool the probes call.
PROBE_IMAGE_ONLINE="registry.k8s.io/e2e-test-images/agnhost:2.56"
