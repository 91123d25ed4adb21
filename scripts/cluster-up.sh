#!/usr/bin/env bash
# Creates (or reuses, by name) the kube-netcheck kind cluster: 1 control-plane + 2 workers.
# Done only when all nodes are Ready, CoreDNS is Ready and a pod on each worker has an IP.
# Offline (the default unless KNC_OFFLINE=0 or the official node image is already local):
# node and test images are built here from Debian packages and Go modules.
source "$(dirname "$0")/lib/common.sh"
source "$KNC_ROOT/scripts/lib/cluster-config.sh"
source "$KNC_ROOT/scripts/lib/image-names.sh"
start=$SECONDS
"$KNC_ROOT/scripts/engine.sh" >&2
"$KNC_ROOT/scripts/safety-net.sh" up   # before any node can send a packet

official_node="kindest/node:$K8S_VERSION"
case "${KNC_OFFLINE:-auto}" in
  0|false) offline=0 ;;
  1|true) offline=1 ;;
  *) if docker image inspect "$official_node" >/dev/null 2>&1; then offline=0; else offline=1; fi ;;
esac
if ((offline)); then
  node_image="${KNC_NODE_IMAGE:-$("$KNC_ROOT/scripts/build/node-image.sh")}"
else
  "$KNC_ROOT/scripts/build/components.sh" >&2    # kind itself
  node_image="${KNC_NODE_IMAGE:-$official_node}"
fi
command -v kubectl >/dev/null && [[ "$(command -v kubectl)" == "$KNC_BIN/kubectl" ]] \
  || { "$KNC_ROOT/scripts/build/kubernetes.sh" >&2; install -m 0755 "$KNC_CACHE/build/kubernetes-$K8S_VERSION/kubectl" "$KNC_BIN/kubectl"; }

# A cluster whose node containers are not all running (e.g. after the engine restarted) or that
# runs another node image is not reusable: recreate it.
if kind get clusters 2>/dev/null | grep -qx "$KNC_CLUSTER"; then
  for c in $(kind get nodes --name "$KNC_CLUSTER"); do
    state="$(docker inspect -f '{{.State.Running}} {{.Config.Image}}' "$c" 2>/dev/null || echo missing)"
    if [[ "$state" != "true $node_image" ]]; then
      log "cluster $KNC_CLUSTER not reusable (node $c: $state, want running $node_image): recreating"
      kind delete cluster --name "$KNC_CLUSTER" >&2; break
    fi
  done
fi
if kind get clusters 2>/dev/null | grep -qx "$KNC_CLUSTER"; then
  log "reusing kind cluster $KNC_CLUSTER"
  kind get kubeconfig --name "$KNC_CLUSTER" >"$KNC_KUBECONFIG"
else
  log "creating kind cluster $KNC_CLUSTER from $node_image"
  kind create cluster --name "$KNC_CLUSTER" --image "$node_image" --config "$KNC_KIND_CONFIG" \
    --kubeconfig "$KNC_KUBECONFIG" --retain=false >&2 || die "kind create cluster failed" 1
  if ((offline)); then "$KNC_ROOT/scripts/lib/coredns-offline.sh"; fi
fi
if ((offline)); then
  for img in "$NGINX_IMAGE" "$PROBE_IMAGE"; do
    kind load docker-image --name "$KNC_CLUSTER" "$img" >&2 || die "kind load of $img failed" 1
  done
fi
"$KNC_ROOT/scripts/lib/wait-cluster.sh"
log "cluster $KNC_CLUSTER ready in $((SECONDS - start))s; KUBECONFIG=$KNC_KUBECONFIG"
# one JSON line for callers (the Jest global setup): where the cluster is and which images to use
if ((offline)); then nginx="$NGINX_IMAGE" probe="$PROBE_IMAGE"; else nginx="${KNC_NGINX_IMAGE:-nginx:1.27}" probe="${KNC_PROBE_IMAGE:-$PROBE_IMAGE_ONLINE}"; fi
printf '{"cluster":"%s","kubeconfig":"%s","nginxImage":"%s","probeImage":"%s","offline":%s}\n' \
  "$KNC_CLUSTER" "$KNC_KUBECONFIG" "$nginx" "$probe" "$( ((offline)) && echo true || echo false)"
