# Sourced by scripts/build-kube-apiserver.sh and scripts/build-kube-node.sh: what building a piece of
# Kubernetes from its Go modules takes, said once.
#
# k8s.io/kubernetes is not meant to be imported: its go.mod requires the staging modules (k8s.io/api,
# client-go, apiserver, kubelet, …) at v0.0.0 and replaces them with ./staging/src/…, and a
# dependency's replace directives are ignored. A wrapper module therefore replaces each of them with
# its published twin: Kubernetes v1.N.P ships staging modules tagged v0.N.P.
#
# Needs: $VERSION (v1.N.P) and a function `run` that runs go (at the caller's priority), in the
# wrapper module's directory.

# v1.37.2 -> v0.37.2, and the minor for the version stamps.
STAGING_VERSION="v0.${VERSION#v1.}"
minor=${VERSION#v1.}; minor=${minor%%.*}

# Writes ./go.mod for module $1: Kubernetes' own go.mod lists the staging modules (the list changes
# between releases: cri-streaming and streaming appeared in 1.36), so it is read, not hard-coded.
kube_wrapper_module() {
  local name=$1 kmod goline staging m
  rm -f go.mod go.sum
  kmod=$(GOFLAGS=-mod=mod run mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  if [ ! -f "$kmod" ]; then
    echo "pgchaos: could not download k8s.io/kubernetes@$VERSION's go.mod" >&2
    return 1
  fi
  goline=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kmod")
  staging=$(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*|\1|p' "$kmod")
  {
    echo "module $name"
    echo
    echo "go $goline"
    echo
    echo "require k8s.io/kubernetes $VERSION"
    echo
    echo "replace ("
    for m in $staging; do
      # Only modules Kubernetes requires: some staged samples (sample-controller, sample-cli-plugin)
      # are replaced but never required, and are not always published for every patch release.
      if grep -Eq "^[[:space:]]*$m v0\.0\.0([[:space:]]|$)" "$kmod"; then
        echo "	$m => $m $STAGING_VERSION"
      fi
    done
    echo ")"
  } > go.mod
}

# The version stamps hack/lib/version.sh sets; without them `--version` says v0.0.0-master.
# gitCommit is empty: a module zip carries no commit hash (the default would be "$Format:%H$").
kube_ldflags() {
  local pkg=k8s.io/component-base/version
  echo "-s -w \
 -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitCommit= \
 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ) \
 -X k8s.io/client-go/pkg/version.gitVersion=$VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
}
