#!/usr/bin/env bash
# Builds the binaries a one-node Kubernetes needs — kubelet, kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy and kubectl, all of one release — from the k8s.io/kubernetes Go modules
# (no git checkout, no binary download), the way scripts/build-kube-apiserver.sh builds the API
# server: a wrapper module replaces each staging module (k8s.io/api, client-go, kubelet, …) with its
# published v0.N.P twin, and the version ldflags are set as hack/lib/version.sh would set them.
# One `go build` for all six: the packages are compiled once and the links share the build cache.
#
# Prints the install directory on stdout (messages go to stderr); it holds kubelet,
# kube-apiserver, … without a version suffix. A no-op (prints the directory) when all six are built.
#
# Environment:
#   KUBE_NODE_VERSION  default v1.35.4: 1.35 is the last minor that runs on cgroup v1 (with
#                      failCgroupV1: false) and on containerd 1.x (Debian 13 ships 1.7).
#   PGCHAOS_CACHE      default /var/cache/pgchaos (wrapper module, Go module and build caches)
#   PGCHAOS_LIB        default /usr/local/lib/pgchaos (install parent: <lib>/kube-node-<version>/)
#   GOMODCACHE/GOCACHE default <cache>/go-mod and <cache>/go-build
# Figures: docs/kubernetes-node-lab.md.
set -euo pipefail

VERSION=${KUBE_NODE_VERSION:-v1.35.4}
CACHE=${PGCHAOS_CACHE:-/var/cache/pgchaos}
LIB=${PGCHAOS_LIB:-/usr/local/lib/pgchaos}
DIR="$LIB/kube-node-$VERSION"
BUILD="$CACHE/kube-node-build/$VERSION"
BINS="kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl"

have_all() {
  local b
  for b in $BINS; do [ -x "$DIR/$b" ] || return 1; done
}
if have_all; then echo "$DIR"; exit 0; fi

case "$VERSION" in
  v1.*.*) ;;
  *) echo "pgchaos: KUBE_NODE_VERSION must look like v1.35.4, got '$VERSION'" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ] && ! { mkdir -p "$LIB" "$BUILD" && [ -w "$LIB" ] && [ -w "$BUILD" ]; } 2>/dev/null; then
  echo "pgchaos: Kubernetes node binaries $VERSION are missing — fix: sudo bash $(realpath "$0")" >&2
  exit 2
fi
# shellcheck source=go.sh
source "$(dirname "$0")/go.sh" "the Kubernetes node"

export GOMODCACHE=${GOMODCACHE:-$CACHE/go-mod}
export GOCACHE=${GOCACHE:-$CACHE/go-build}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
# Static binaries: they run inside the node image (Debian 13), not on the build host.
export CGO_ENABLED=0

# shellcheck source=kube-module.sh
source "$(dirname "$0")/kube-module.sh"

echo "pgchaos: building $BINS $VERSION in $BUILD (staging modules at $STAGING_VERSION)" >&2
mkdir -p "$BUILD" "$LIB" "$GOMODCACHE" "$GOCACHE"
cd "$BUILD"
# Lowest priority: PostgreSQL clusters run on the same 2-core machine while this compiles.
run() { nice -n 19 "$go" "$@"; }

kube_wrapper_module pgchaos.local/kube-node-build

pkgs=""
for b in $BINS; do pkgs="$pkgs k8s.io/kubernetes/cmd/$b"; done
# shellcheck disable=SC2086
run get $(for p in $pkgs; do echo "$p@$VERSION"; done)

ldflags=$(kube_ldflags)
rm -rf "$BUILD/out"
mkdir -p "$BUILD/out"
# shellcheck disable=SC2086
run build -trimpath -ldflags "$ldflags" -o "$BUILD/out/" $pkgs
for b in $BINS; do
  case "$b" in
    kubectl) "$BUILD/out/$b" version --client >&2 ;;
    *) "$BUILD/out/$b" --version >&2 ;;
  esac
done
mkdir -p "$DIR.tmp"
for b in $BINS; do install -m 0755 "$BUILD/out/$b" "$DIR.tmp/$b"; done
rm -rf "$DIR"
mv -f "$DIR.tmp" "$DIR"
rm -rf "$BUILD/out"
echo "$DIR"
