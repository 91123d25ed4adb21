#!/usr/bin/env bash
# mmdebstrap customize hook for the node base: turns a Debian rootfs plus kind's own base-image
# files (read from the sigs.k8s.io/kind module, never copied into this repo) into what kind's
# node entrypoint expects. Mirrors the steps of kind's images/base Dockerfile, adapted to
# Debian's containerd/runc packages. usage: customize-rootfs.sh ROOT KIND_FILES_DIR PAUSE_IMAGE
set -euo pipefail
root="$1" kind_files="$2" pause_image="$3"
cp -a --no-preserve=mode "$kind_files"/. "$root"/
chmod 0755 "$root"/kind "$root"/kind/bin "$root"/kind/bin/* "$root"/usr/local/bin/*
# kind's units run containerd from /usr/local/bin; Debian installs it in /usr/bin.
for b in containerd containerd-shim-runc-v2 ctr; do ln -sf "/usr/bin/$b" "$root/usr/local/bin/$b"; done
# systemd inside a container: drop units that make no sense there (as kind's base does).
rm -f "$root"/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \
  "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
  "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
  "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>"$root"/etc/systemd/journald.conf
ln -sf /usr/lib/systemd/systemd "$root"/sbin/init
chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
chroot "$root" systemctl mask systemd-binfmt.service >/dev/null 2>&1
mkdir -p "$root"/etc/kubernetes/manifests "$root"/opt/cni/bin
# The base OCI spec for pods, with kind's product-files hook and without rlimits.
chroot "$root" ctr oci spec \
  | chroot "$root" jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | chroot "$root" jq 'del(.process.rlimits)' >"$root"/etc/containerd/cri-base.json
# containerd must use the pause image we pre-load, never pull one.
sed -i "s|sandbox_image = \".*\"|sandbox_image = \"$pause_image\"|" "$root"/etc/containerd/config.toml
grep -q "sandbox_image = \"$pause_image\"" "$root"/etc/containerd/config.toml
# Pods ask for negative oom_score_adj (-998 for sandboxes); lowering it needs CAP_SYS_RESOURCE,
# which hosts like ours lack, and runc init then dies ("can't get final child's PID from pipe").
# Clamp instead, as kind itself does for rootless nodes.
sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "$root"/etc/containerd/config.toml
grep -q 'restrict_oom_score_adj = true' "$root"/etc/containerd/config.toml
# Debian builds containerd with /usr/lib/cni as the default CNI bin dir; kind puts plugins in /opt/cni/bin.
printf '\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"\n  conf_dir = "/etc/cni/net.d"\n' >>"$root"/etc/containerd/config.toml
