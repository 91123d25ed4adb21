# shellcheck shell=bash disable=SC2034  # its variables are read by the scripts that source it
# The k8s.io/kubernetes module at $K8S_VERSION as a build dependency (kubernetes.sh, conformance.sh):
# its staging modules — required as v0.0.0 with local replaces in its go.mod — pinned to their
# published v0.x tags, and the version ldflags hack/lib/version.sh would set. Source after
# common.sh; sets K8S_STAGING_VERSION, K8S_STAGING_MODULES (array) and K8S_VERSION_LDFLAGS.
go mod download k8s.io/kubernetes@"$K8S_VERSION"
k8s_modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
[[ -s "$k8s_modfile" ]] || die "k8s.io/kubernetes@$K8S_VERSION: go.mod not in the module cache after download"
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"
k8s_staging="$(awk '/^\tk8s.io\/[a-z-]+ v0.0.0$/ {print $1}' "$k8s_modfile")"
[[ -n "$k8s_staging" ]] || die "no staging modules found in $k8s_modfile"
mapfile -t K8S_STAGING_MODULES <<<"$k8s_staging"
k8s_major="${K8S_VERSION#v}"
k8s_major="${k8s_major%%.*}"
k8s_minor="$(cut -d. -f2 <<<"$K8S_VERSION")"
K8S_VERSION_LDFLAGS=""
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  K8S_VERSION_LDFLAGS+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$k8s_major -X $p.gitMinor=$k8s_minor"
  K8S_VERSION_LDFLAGS+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
