#!/usr/bin/env bash
# Builds a kind node image for $K8S_VERSION without any registry: Debian $DEBIAN_SUITE + kind's
# base-image files + Kubernetes binaries + every image kubeadm and the default CNI need, pre-imported
# into the node's containerd. Prints the image name. Needs a running Docker engine.
source "$(dirname "$0")/../lib/common.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
export DOCKER_BUILDKIT=0
b="$KNC_CACHE/build"
"$KNC_ROOT/scripts/build/kubernetes.sh" >&2
"$KNC_ROOT/scripts/build/components.sh" >&2
# not `mapfile < <(images.sh)`: a process substitution's exit status is lost
images_out="$("$KNC_ROOT/scripts/build/images.sh")"
mapfile -t images <<<"$images_out"

# 1. base: Debian + systemd + containerd/runc + kind's base files (scripts/build/node-rootfs.sh).
rootfs="$("$KNC_ROOT/scripts/build/node-rootfs.sh")"

# 2. node: base + binaries + /kind, then the images imported into containerd's k8s.io namespace.
recipe="$(cat "$KNC_ROOT"/scripts/versions.env "$KNC_ROOT"/scripts/images/node/* "$KNC_ROOT"/manifests/node/* "$0")"
key="$(key_of "$rootfs" "$recipe" "${images[*]}")"
node_image="kube-netcheck.local/node:$K8S_VERSION-$key"
if docker image inspect "$node_image" >/dev/null 2>&1; then log "cached node image $node_image"; echo "$node_image"; exit 0; fi

ctx="$(mktemp -d)"
cid=""
trap 'rm -rf "$ctx"; [[ -z "$cid" ]] || docker rm -f "$cid" >/dev/null 2>&1' EXIT
ln "$rootfs" "$ctx/rootfs.tar" 2>/dev/null || cp "$rootfs" "$ctx/rootfs.tar"
mkdir -p "$ctx/usr/bin" "$ctx/usr/local/bin" "$ctx/opt/cni/bin" "$ctx/kind/manifests"
cp "$b/kubernetes-$K8S_VERSION"/{kubelet,kubeadm,kubectl} "$ctx/usr/bin/"
cp "$b/crictl-$CRI_TOOLS_VERSION/crictl" "$ctx/usr/local/bin/"
cp "$b/cni-plugins-$CNI_PLUGINS_VERSION"/* "$b/cni-flannel-$FLANNEL_CNI_PLUGIN_VERSION/flannel" "$ctx/opt/cni/bin/"
printf '%s' "$K8S_VERSION" >"$ctx/kind/version"
sed "s|@FLANNEL_IMAGE@|$FLANNEL_IMAGE|g" "$KNC_ROOT/manifests/node/default-cni.yaml" >"$ctx/kind/manifests/default-cni.yaml"
cp "$KNC_ROOT/manifests/node/default-storage.yaml" "$ctx/kind/manifests/default-storage.yaml"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
COPY usr /usr
COPY opt /opt
COPY kind /kind
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
DOCKERFILE
log "docker build node stage"
docker build -q -t "$node_image-stage" "$ctx" >/dev/null || die "docker build of the node stage failed"

log "importing ${#images[@]} images into the node's containerd"
cid="$(docker run -d --init --entrypoint=sleep --security-opt seccomp=unconfined "$node_image-stage" infinity)"
docker exec "$cid" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
docker exec "$cid" bash -c 'for i in $(seq 1 100); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.1; done; cat /tmp/containerd.log; exit 1' \
  || die "containerd in the build container did not answer within 10s"
for line in "${images[@]}"; do
  IFS=$'\t' read -r name tar _ <<<"$line"
  case "$name" in "$NGINX_IMAGE"|"$PROBE_IMAGE") continue ;; esac  # test images go in with kind load
  docker exec -i "$cid" ctr -n k8s.io images import --all-platforms --no-unpack --digests - <"$tar" >/dev/null \
    || die "import of $name into the node image failed"
  docker exec "$cid" ctr -n k8s.io images label "$name" io.cri-containerd.pinned=pinned >/dev/null \
    || die "pinning $name failed"
done
docker exec "$cid" ctr -n k8s.io images ls -q >&2
docker exec "$cid" pkill containerd || true
docker exec "$cid" bash -c 'for i in $(seq 1 100); do ctr version >/dev/null 2>&1 || { rm -f /tmp/containerd.log; exit 0; }; sleep 0.1; done; exit 1' \
  || die "containerd in the build container did not stop within 10s"
docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' --change 'CMD []' "$cid" "$node_image" >/dev/null \
  || die "docker commit of the node image failed"
docker rm -f "$cid" >/dev/null; cid=""
docker rmi "$node_image-stage" >/dev/null || log "could not remove $node_image-stage"
log "node image $node_image: $(docker image inspect -f '{{.Size}}' "$node_image" | numfmt --to=iec)"
echo "$node_image"
