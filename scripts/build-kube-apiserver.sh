#!/usr/bin/env bash
# Builds a real kube-apiserver from Go modules (no Kubernetes git checkout, no Docker) so Patroni's
# `kubernetes:` DCS can be exercised in a network namespace. Prints the binary's path on stdout;
# quick when that version is built already.
#
# k8s.io/kubernetes is not meant to be imported: its go.mod requires the staging modules
# (k8s.io/api, client-go, apiserver, …) at v0.0.0 and replaces them with ./staging/src/…, and a
# dependency's replace directives are ignored. A wrapper module therefore replaces each of them with
# its published twin: Kubernetes v1.N.P ships staging modules tagged v0.N.P.
#
# Environment: KUBE_VERSION (default v1.37.2, the newest served release whose go.mod asks for no
# newer Go than 1.26), PGCHAOS_CACHE (build directory parent, default /var/cache/pgchaos),
# PGCHAOS_LIB (install directory, default /usr/local/lib/pgchaos).
# Notes and figures: docs/kube-apiserver-lab.md (cold build about 7 min on 2 cores, 2.4 GB peak RSS,
# ~550 MB of modules and ~2.7 GB of Go build cache).
set -euo pipefail

VERSION=${KUBE_VERSION:-v1.37.2}
CACHE=${PGCHAOS_CACHE:-/var/cache/pgchaos}
DIR=${PGCHAOS_LIB:-/usr/local/lib/pgchaos}
BIN="$DIR/kube-apiserver-$VERSION"
BUILD="$CACHE/kube-apiserver-build/$VERSION"

if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi

case "$VERSION" in
  v1.*.*) ;;
  *) echo "pgchaos: KUBE_VERSION must look like v1.37.2, got '$VERSION'" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ] && ! { mkdir -p "$DIR" "$BUILD" && [ -w "$DIR" ] && [ -w "$BUILD" ]; } 2>/dev/null; then
  echo "pgchaos: kube-apiserver $VERSION is missing — fix: sudo bash $(realpath "$0")" >&2
  exit 2
fi
# shellcheck source=go.sh
source "$(dirname "$0")/go.sh" kube-apiserver

# v1.37.2 -> v0.37.2
STAGING_VERSION="v0.${VERSION#v1.}"
minor=${VERSION#v1.}; minor=${minor%%.*}

echo "pgchaos: building kube-apiserver $VERSION in $BUILD (staging modules at $STAGING_VERSION)" >&2
mkdir -p "$BUILD" "$DIR"
cd "$BUILD"
# Low priority: other clusters run on the same (2-core) machine while this compiles.
run() { nice -n 19 "$go" "$@"; }

# Kubernetes' own go.mod lists the staging modules; read it instead of hard-coding the list
# (it changes between releases: cri-streaming and streaming appeared in 1.36).
rm -f go.mod go.sum
kmod=$(GOFLAGS=-mod=mod run mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
if [ ! -f "$kmod" ]; then
  echo "pgchaos: could not download k8s.io/kubernetes@$VERSION's go.mod" >&2
  exit 1
fi
goline=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kmod")
staging=$(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*|\1|p' "$kmod")
{
  echo "module pgchaos.local/kube-apiserver-build"
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

run get "k8s.io/kubernetes/cmd/kube-apiserver@$VERSION"

# The same version stamps hack/lib/version.sh sets; without them `kube-apiserver --version` and
# /version say v0.0.0-master. gitCommit is set empty: a module zip carries no commit hash (the
# default would be the unexpanded "$Format:%H$").
pkg=k8s.io/component-base/version
ldflags="-s -w \
 -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitCommit= \
 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ) \
 -X k8s.io/client-go/pkg/version.gitVersion=$VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
run build -trimpath -ldflags "$ldflags" -o "$BUILD/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
"$BUILD/kube-apiserver.tmp" --version >&2
install -m 0755 "$BUILD/kube-apiserver.tmp" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"
rm -f "$BUILD/kube-apiserver.tmp"
echo "$BIN"
