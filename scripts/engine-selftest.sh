#!/usr/bin/env bash
# Proves the engine from engine.sh can run and exec into --privileged containers, offline:
# builds knc-selftest:local FROM scratch with Debian's busybox-static, pulls nothing.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
IMAGE=knc-selftest:local NAME=knc-selftest
work="$(mktemp -d)"
trap 'rm -rf "$work"; docker rm -f "$NAME" >/dev/null 2>&1 || true' EXIT

out="$KNC_CACHE/engine-selftest.log"
dpkg -s busybox-static >/dev/null 2>&1 \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >"$out" 2>&1 \
  || die "apt-get install busybox-static failed: $(tail -n 1 "$out")"
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sh"
# Reproducible tar: a re-run hits the build cache instead of leaving dangling images.
tar -C "$work/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .
printf 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/sh"]\n' >"$work/Dockerfile"
DOCKER_BUILDKIT=0 docker build -t "$IMAGE" "$work" >"$out" 2>&1 || die "docker build of $IMAGE failed: $(tail -n 1 "$out")"

# --network none: the test containers send no packets anywhere.
log "docker run --rm --privileged $IMAGE /bin/busybox id"
docker run --rm --privileged --network none "$IMAGE" /bin/busybox id || die "privileged docker run failed"
docker run -d --privileged --network none --name "$NAME" "$IMAGE" /bin/busybox sleep 300 >/dev/null \
  || die "privileged docker run -d failed"
log "docker exec $NAME (privileged): id, CapBnd"
docker exec "$NAME" /bin/sh -c 'busybox id; busybox grep CapBnd /proc/self/status' || die "docker exec failed"
log "selftest passed: $(docker version --format 'client {{.Client.Version}}, server {{.Server.Version}}')"
