#!/usr/bin/env bash
# A class on the default cluster: N namespaces (default 30) with the seed lab's reference solution,
# graded by ONE command (kube-netcheck grade --lab seed --namespaces 'bench-grade-*'), its wall
# time measured; the namespaces are deleted at the end. Run under the shared lock:
#   flock /work/coord/default-cluster.lock bash scripts/bench-grade.sh 30
set -euo pipefail
n=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
kc=${KNC_KUBECONFIG:-}
args=()
[ -n "$kc" ] && args=(--kubeconfig "$kc")
k() { kubectl "${args[@]}" "$@"; }
nginx=${KNC_NGINX_IMAGE:-$(k get nodes -o jsonpath='{.items[0].status.images[*].names[*]}' | tr ' ' '\n' | grep -m1 '^kube-netcheck.local/nginx:')}
probe=${KNC_PROBE_IMAGE:-$(k get nodes -o jsonpath='{.items[0].status.images[*].names[*]}' | tr ' ' '\n' | grep -m1 '^kube-netcheck.local/probe:')}
out=$(mktemp -d)
cleanup() { for i in $(seq -w 1 "$n"); do k delete ns "bench-grade-$i" --wait=false >/dev/null 2>&1 || true; done; rm -rf "$out"; }
trap cleanup EXIT
for i in $(seq -w 1 "$n"); do
  k create ns "bench-grade-$i" >/dev/null
  k label ns "bench-grade-$i" app.kubernetes.io/managed-by=kube-netcheck >/dev/null
  sed "s#image: nginx:1.27#image: $nginx#" "$root/manifests/grading/solutions/seed/reference.yaml" | k apply -n "bench-grade-$i" -f - >/dev/null
done
for i in $(seq -w 1 "$n"); do k -n "bench-grade-$i" rollout status deploy/my-nginx --timeout=180s >/dev/null; done
# Endpoints follow Ready pods: wait (bounded) until each lists both, so the bench measures grading
deadline=$(( $(date +%s) + 120 ))
for i in $(seq -w 1 "$n"); do
  until [ "$(k -n "bench-grade-$i" get endpoints my-nginx -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)" = 2 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench-grade: Endpoints of bench-grade-$i never listed 2 pods" >&2; exit 1; }
    sleep 0.5
  done
done
start=$(date +%s%N)
KNC_PROBE_IMAGE=$probe node "$root/bin/kube-netcheck.js" grade --lab seed --namespaces 'bench-grade-*' --out "$out" "${args[@]}" | tail -3 || true
end=$(date +%s%N)
cp "$out/gradebook.csv" "${BENCH_OUT:-/tmp}/bench-grade-gradebook.csv"
echo "bench-grade: $n namespaces graded in $(( (end - start) / 1000000 ))ms (wall, one command); passed: $(grep -c ',graded,15,15,100.0,true,' "$out/gradebook.csv")"
