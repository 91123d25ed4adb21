#!/usr/bin/env bash
# Creates (or reuses, by name) the kind cluster kube-netcheck manages.
#   KNC_CLUSTER       its name (default kube-netcheck)
#   KNC_SHAPE         its kind config: manifests/kind/<shape>.yaml (default, alt, scale, single; docs/cluster-shapes.md)
#   KNC_CNI           flannel-host-gw (default, built into the node image) or a built-in name from
#                     manifests/cni/<name>.yaml, installed by scripts/cni/install.sh
#   KNC_CNI_MANIFEST  a CNI manifest file of your own, applied with kubectl as you would
#   KNC_IP_FAMILY     ipv4 (default), ipv6 or dual: kind's networking.ipFamily, the IPv6 pod and
#                     service ranges (scripts/lib/cluster-config.sh), the CNI's IPv6 settings; needs
#                     IPv6 and ip6tables on this host and an IPv6 subnet on docker's "kind" network
#   KNC_ADMIN_POLICY  1: flannel-vxlan+policy also enforces AdminNetworkPolicy/BaselineAdminNetworkPolicy
#                     (their CRDs served, the engine's flags on; it then queues every connection to
#                     userspace, docs/netpol.md); 0 (default): the netpol admin cases are not applicable
# Any CNI but the default, or the default in an ipv6/dual cluster (the node image's copy is
# IPv4-only): the cluster is created with disableDefaultCNI and the CNI installed afterwards. Done only when every node is Ready, a pod on each node has an IP from the pod range
# and CoreDNS is Ready. A cluster of that name with another shape, CNI or node image is recreated.
#   KNC_REUSE=as-is   (what `kube-netcheck run` / `cluster up` ask when the command names no CNI, shape
#                     or node image) an existing cluster of that name is reused as it is, whatever CNI,
#                     shape and node image it has, and never deleted: one that is not usable (a node
#                     not running, a CNI install that never finished) is an error saying how to replace
#                     it. KNC_SHAPE and KNC_IP_FAMILY must then be its recorded ones (the ranges the
#                     safety net routes).
#   KNC_REUSE=named   (what they ask when the command names a CNI, shape, family or node image) an
#                     existing cluster of that name is reused only if it is exactly what is named;
#                     otherwise this is an error (exit 2) and the cluster is left as it is, never
#                     deleted. Without KNC_REUSE (make cluster-up, the scripts) it is recreated.
# Offline (the default unless KNC_OFFLINE=0 or the official node image is already local): node
# and test images are built here from Debian packages and Go modules.
# stdout: one JSON line {cluster, kubeconfig, nginxImage, probeImage, offline, shape, cni, cniManifest, created, ipFamily}.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
start=$SECONDS
as_is=0; [[ "${KNC_REUSE:-}" == as-is ]] && as_is=1
named=0; [[ "${KNC_REUSE:-}" == named ]] && named=1

# --- which CNI (checked before anything slow) ---
known_cnis() { # the built-in default, then manifests/cni/*.yaml
  local f n=("$KNC_CNI_DEFAULT")
  for f in "$KNC_ROOT"/manifests/cni/*.yaml; do f="${f##*/}"; [[ "${f%.yaml}" == "$KNC_CNI_DEFAULT" || "$f" == "*.yaml" ]] || n+=("${f%.yaml}"); done
  echo "${n[*]}"
}
cni_manifest="" cni_key=""
# the node image's flannel (kind's default-CNI slot, templated by kind with one pod range) serves IPv4 only
image_cni=0
[[ -z "${KNC_CNI_MANIFEST:-}" && "$KNC_CNI" == "$KNC_CNI_DEFAULT" && "$KNC_IP_FAMILY" == ipv4 ]] && image_cni=1
if ((as_is)); then
  : # the cluster's own CNI, read from it below
elif [[ -n "${KNC_CNI_MANIFEST:-}" ]]; then
  [[ "$KNC_CNI" == "$KNC_CNI_DEFAULT" ]] || die "set KNC_CNI ($KNC_CNI) or KNC_CNI_MANIFEST ($KNC_CNI_MANIFEST), not both"
  cni_manifest="$(realpath -e -- "$KNC_CNI_MANIFEST" 2>/dev/null)" || die "KNC_CNI_MANIFEST=$KNC_CNI_MANIFEST: no such file"
  [[ -f "$cni_manifest" && -r "$cni_manifest" ]] || die "KNC_CNI_MANIFEST=$KNC_CNI_MANIFEST is not a readable file"
  KNC_CNI="manifest:${cni_manifest##*/}"
  cni_key="$(sha256sum "$cni_manifest" | cut -c1-12)"
elif ((!image_cni)); then
  [[ "$KNC_CNI" =~ ^[A-Za-z0-9][A-Za-z0-9+._-]*$ && -f "$KNC_ROOT/manifests/cni/$KNC_CNI.yaml" ]] \
    || die "unknown CNI '$KNC_CNI' (KNC_CNI / CNI=): known: $(known_cnis); or KNC_CNI_MANIFEST=FILE for your own"
  [[ -f "$KNC_ROOT/scripts/cni/install.sh" ]] || die "CNI $KNC_CNI needs scripts/cni/install.sh, which is missing"
  # what gets applied (images and pod range filled in): a new CNI version or manifest recreates the cluster
  rendered="$(KNC_POD_SUBNET="$POD_SUBNET" bash "$KNC_ROOT/scripts/cni/render.sh" "$KNC_CNI" 2>/dev/null)" \
    || rendered="$(cat "$KNC_ROOT/manifests/cni/$KNC_CNI.yaml")"
  cni_key="$(sha256sum <<<"$rendered" | cut -c1-12)"
fi
if [[ "$KNC_IP_FAMILY" != ipv4 ]]; then host_ipv6_ready "KNC_IP_FAMILY=$KNC_IP_FAMILY"; fi

"$KNC_ROOT/scripts/engine.sh" >&2
# IPv6 nodes need docker's "kind" network (one for every kind cluster here, created by the first)
# to have an IPv6 subnet; kind creates it with one unless docker refused IPv6 at the time.
kind_network_ipv6() {
  local v
  v="$(docker network inspect kind -f '{{.EnableIPv6}}' 2>/dev/null)" || { echo absent; return; }
  echo "$v"
}
need_kind_network_ipv6() {
  [[ "$KNC_IP_FAMILY" != ipv4 && "$(kind_network_ipv6)" == false ]] || return 0
  die "KNC_IP_FAMILY=$KNC_IP_FAMILY needs IPv6 on docker's network 'kind', which has none (created IPv4-only); it can only be recreated with IPv6 once no kind cluster uses it (docker network rm kind; the next cluster re-creates it)"
}
need_kind_network_ipv6
"$KNC_ROOT/scripts/safety-net.sh" up   # before any node can send a packet
need_cmd jq jq

official_node="kindest/node:$K8S_VERSION"
case "${KNC_OFFLINE:-auto}" in
  0|false) offline=0 ;;
  1|true) offline=1 ;;
  *) if docker image inspect "$official_node" >/dev/null 2>&1; then offline=0; else offline=1; fi ;;
esac
if ((offline)); then
  node_image="${KNC_NODE_IMAGE:-}"
  [[ -n "$node_image" ]] || node_image="$("$KNC_ROOT/scripts/build/node-image.sh")"
else
  "$KNC_ROOT/scripts/build/components.sh" >&2    # kind itself
  node_image="${KNC_NODE_IMAGE:-$official_node}"
fi
if [[ "$(command -v kubectl || true)" != "$KNC_BIN/kubectl" ]]; then
  "$KNC_ROOT/scripts/build/kubernetes.sh" >&2
  install -m 0755 "$KNC_CACHE/build/kubernetes-$K8S_VERSION/kubectl" "$KNC_BIN/kubectl"
fi

# --- the kind config: the shape, plus disableDefaultCNI for any CNI but the node image's, plus
# the IP family and its ranges for ipv6/dual ---
mkdir -p "$KNC_CLUSTER_STATE"
kind_config="$KNC_CLUSTER_STATE/kind.yaml"
cp "$KNC_KIND_CONFIG" "$kind_config.tmp"
if ((!image_cni)) || [[ "$KNC_IP_FAMILY" != ipv4 ]]; then
  grep -q '^networking:' "$KNC_KIND_CONFIG" || die "$KNC_KIND_CONFIG has no 'networking:' section"
fi
if ((!image_cni)); then sed -i '/^networking:/a\  disableDefaultCNI: true' "$kind_config.tmp"; fi
if [[ "$KNC_IP_FAMILY" != ipv4 ]]; then
  sed -i -E -e "/^networking:/a\\  ipFamily: $KNC_IP_FAMILY" \
    -e "s|^(  podSubnet:).*|\\1 \"$POD_SUBNET\"|" -e "s|^(  serviceSubnet:).*|\\1 \"$SERVICE_SUBNET\"|" "$kind_config.tmp"
  { grep -qxF "  podSubnet: \"$POD_SUBNET\"" "$kind_config.tmp" && grep -qxF "  serviceSubnet: \"$SERVICE_SUBNET\"" "$kind_config.tmp"; } \
    || die "$KNC_KIND_CONFIG: cannot set the $KNC_IP_FAMILY ranges (networking.podSubnet and serviceSubnet must be indented by two spaces)"
fi
mv "$kind_config.tmp" "$kind_config"
# What the cluster is, recorded in its control-plane node and compared on reuse (the family is
# named for ipv6/dual; an IPv4 cluster's identity is what it was before families existed).
family_id=""
[[ "$KNC_IP_FAMILY" == ipv4 ]] || family_id=" family=$KNC_IP_FAMILY"
identity="shape=$KNC_SHAPE cni=$KNC_CNI$family_id config=$(sha256sum "$kind_config" | cut -c1-12)${cni_key:+ cni-key=$cni_key}"
IDENTITY_FILE=/etc/kube-netcheck/cluster
read_identity() { # prints the recorded identity; clusters from before the record were the default
  local cp; cp="$(control_plane_container)"
  [[ -n "$cp" ]] || { echo "no control-plane node"; return; }
  docker exec "$cp" cat "$IDENTITY_FILE" 2>/dev/null \
    || echo "shape=default cni=$KNC_CNI_DEFAULT config=$(sha256sum <"$KNC_SHAPES_DIR/default.yaml" | cut -c1-12)"
}
write_identity() { docker exec -i "$(control_plane_container)" sh -c "mkdir -p ${IDENTITY_FILE%/*} && cat >$IDENTITY_FILE" <<<"$1"; }
# the list is captured first: `kind … | grep -q` under pipefail fails when grep stops reading early
cluster_exists() { local all; all="$(kind get clusters 2>/dev/null)" || return 1; grep -qxF "$KNC_CLUSTER" <<<"$all"; }
delete_cluster() { kind delete cluster --name "$KNC_CLUSTER" --kubeconfig "$KNC_KIND_KUBECONFIG" >&2 || die "kind delete cluster $KNC_CLUSTER failed" 1; }

# A cluster whose node containers are not all running (e.g. after the engine restarted), that
# runs another node image, or has another shape or CNI, is not reusable: recreate it.
if cluster_exists; then
  why=""
  nodes="$(kind get nodes --name "$KNC_CLUSTER")"
  for c in $nodes; do
    state="$(docker inspect -f '{{.State.Running}} {{.Config.Image}}' "$c" 2>/dev/null || echo missing)"
    if ((as_is)); then [[ "$state" == "true "* ]] || { why="node $c: $state, not running"; break; }
    else [[ "$state" == "true $node_image" ]] || { why="node $c: $state, want running $node_image"; break; }; fi
  done
  if [[ -z "$why" ]]; then
    have="$(read_identity)"
    if ((as_is)); then
      [[ "$have" != pending* ]] || why="its CNI install never finished ('$have')"
    else
      [[ "$have" == "$identity" ]] || why="it is '$have', want '$identity'"
    fi
  fi
  if [[ -n "$why" ]] && ((as_is)); then
    die "kind cluster $KNC_CLUSTER cannot be reused as it is ($why); kube-netcheck deletes a cluster only when asked: delete it first (kube-netcheck cluster down) and bring it up as you want it, or give the new one another name (KNC_CLUSTER)"
  elif ((as_is)); then
    # reused as it is: what it is, as recorded in it
    identity="$have"
    KNC_CNI="$(sed -n 's/^.*\bcni=\([^ ]*\).*$/\1/p' <<<"$have")"
    [[ -n "$KNC_CNI" ]] || die "kind cluster $KNC_CLUSTER: cannot read its CNI from '$have'"
    have_family="$(sed -n 's/^.*\bfamily=\([^ ]*\).*$/\1/p' <<<"$have")"
    [[ "${have_family:-ipv4}" == "$KNC_IP_FAMILY" ]] \
      || die "kind cluster $KNC_CLUSTER is ${have_family:-ipv4}, not KNC_IP_FAMILY=$KNC_IP_FAMILY: reuse it with its own family, or name the family to recreate it"
  fi
  if [[ -n "$why" ]] && ((named)); then
    die "kind cluster $KNC_CLUSTER is not what the command names ($why); kube-netcheck deletes a cluster only when asked: delete it first (kube-netcheck cluster down) and bring it up as you want it, or give the new one another name (KNC_CLUSTER)"
  fi
  if [[ -n "$why" ]]; then
    log "cluster $KNC_CLUSTER not reusable ($why): recreating"
    delete_cluster
    # its ranges may differ from the new shape's: re-record them
    "$KNC_ROOT/scripts/safety-net.sh" down
    "$KNC_ROOT/scripts/safety-net.sh" up
  fi
fi

write_kubeconfig() { kind get kubeconfig --name "$KNC_CLUSTER" >"$KNC_KIND_KUBECONFIG.tmp" && chmod 600 "$KNC_KIND_KUBECONFIG.tmp" && mv "$KNC_KIND_KUBECONFIG.tmp" "$KNC_KIND_KUBECONFIG"; }
if cluster_exists; then
  log "reusing kind cluster $KNC_CLUSTER ($identity)"
  write_kubeconfig || die "kind get kubeconfig --name $KNC_CLUSTER failed" 1
  created=0
else
  log "creating kind cluster $KNC_CLUSTER from $node_image (shape $KNC_SHAPE, CNI $KNC_CNI, IP family $KNC_IP_FAMILY)"
  t0=$SECONDS
  kind create cluster --name "$KNC_CLUSTER" --image "$node_image" --config "$kind_config" \
    --kubeconfig "$KNC_KIND_KUBECONFIG" --retain=false >&2 || die "kind create cluster failed" 1
  log "kind create cluster: $((SECONDS - t0))s"
  write_identity "pending $identity"   # until the CNI is in: a failed install is recreated next time
  created=1
fi
# The cluster's own word on which images it holds (src/cluster/resolve.ts reads it): "loading" from
# now until they are in the nodes, so a run started meanwhile waits for them instead of choosing
# public images and sending every node to a registry; the node image lists lag by many seconds.
images_marker() { kc annotate nodes --all --overwrite "kube-netcheck.local/images=$1" >/dev/null || die "cannot annotate the nodes (kube-netcheck.local/images)" 1; }
if ((offline)); then images_marker loading; fi
need_kind_network_ipv6   # kind made the network just now if it was absent
if ((offline)); then "$KNC_ROOT/scripts/lib/coredns-offline.sh"; fi
replicas="$(shape_directive "$KNC_KIND_CONFIG" coredns-replicas)"
if [[ -n "$replicas" ]]; then
  kc -n kube-system scale deployment coredns --replicas="$replicas" >/dev/null || die "cannot scale CoreDNS to $replicas replicas" 1
  log "CoreDNS: $replicas replicas (shape $KNC_SHAPE)"
fi
if ((created)); then
  if [[ -n "$cni_manifest" ]]; then
    # Nothing can be pulled here: the images the manifest names that this machine's Docker has
    # go into the nodes first (online, the nodes pull the rest themselves as usual).
    manifest_images="$(sed -nE 's/^[[:space:]-]*image:[[:space:]]*["'"'"']?([^"'"'"'[:space:]]+).*/\1/p' "$cni_manifest" | sort -u)"
    for img in $manifest_images; do
      if docker image inspect "$img" >/dev/null 2>&1; then
        kind load docker-image --name "$KNC_CLUSTER" "$img" >&2 || die "kind load of $img (named in $cni_manifest) failed" 1
      elif ((offline)); then
        log "image $img (named in $cni_manifest) is not in this machine's Docker: its pods can only start if a node can pull it"
      fi
    done
    log "applying CNI manifest $cni_manifest"
    kc apply -f "$cni_manifest" >&2 || die "kubectl apply -f $cni_manifest failed" 1
  elif ((!image_cni)); then
    log "installing CNI $KNC_CNI (scripts/cni/install.sh, pod range $POD_SUBNET)"
    bash "$KNC_ROOT/scripts/cni/install.sh" "$KNC_CNI" >&2 || die "scripts/cni/install.sh $KNC_CNI failed" 1
  fi
  write_identity "$identity"
fi
if ((offline)); then
  for img in "$NGINX_IMAGE" "$PROBE_IMAGE"; do
    kind load docker-image --name "$KNC_CLUSTER" "$img" >&2 || die "kind load of $img failed" 1
  done
  images_marker "$NGINX_IMAGE,$PROBE_IMAGE"
fi
"$KNC_ROOT/scripts/lib/wait-cluster.sh"
log "cluster $KNC_CLUSTER ready in $((SECONDS - start))s (shape $KNC_SHAPE, CNI $KNC_CNI, IP family $KNC_IP_FAMILY); KUBECONFIG=$KNC_KIND_KUBECONFIG"
# one JSON line for callers (the Jest global setup, the CLI): where the cluster is, what it is, which images to use
if ((offline)); then nginx="$NGINX_IMAGE" probe="$PROBE_IMAGE"; else nginx="${KNC_NGINX_IMAGE:-nginx:1.27}" probe="${KNC_PROBE_IMAGE:-$PROBE_IMAGE_ONLINE}"; fi
jq -cn --arg cluster "$KNC_CLUSTER" --arg kubeconfig "$KNC_KIND_KUBECONFIG" --arg nginx "$nginx" --arg probe "$probe" \
  --argjson offline "$( ((offline)) && echo true || echo false)" --arg shape "$KNC_SHAPE" --arg cni "$KNC_CNI" \
  --arg manifest "$cni_manifest" --argjson created "$( ((created)) && echo true || echo false)" --arg family "$KNC_IP_FAMILY" \
  '{cluster: $cluster, kubeconfig: $kubeconfig, nginxImage: $nginx, probeImage: $probe, offline: $offline,
    shape: $shape, cni: $cni, cniManifest: (if $manifest == "" then null else $manifest end), created: $created, ipFamily: $family}'
