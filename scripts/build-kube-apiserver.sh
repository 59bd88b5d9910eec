#!/usr/bin/env bash
# Builds a real kube-apiserver from Go modules (no Kubernetes git checkout, no Docker) so Patroni's
# `kubernetes:` DCS can be exercised in a network namespace. Prints the binary's path on stdout;
# quick when that version is built already.
# How (a wrapper module over k8s.io/kubernetes): scripts/kube-module.sh, shared with the node's build.
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

# shellcheck source=kube-module.sh
source "$(dirname "$0")/kube-module.sh"

echo "pgchaos: building kube-apiserver $VERSION in $BUILD (staging modules at $STAGING_VERSION)" >&2
mkdir -p "$BUILD" "$DIR"
cd "$BUILD"
# Low priority: other clusters run on the same (2-core) machine while this compiles.
run() { nice -n 19 "$go" "$@"; }

kube_wrapper_module pgchaos.local/kube-apiserver-build

run get "k8s.io/kubernetes/cmd/kube-apiserver@$VERSION"

ldflags=$(kube_ldflags)
run build -trimpath -ldflags "$ldflags" -o "$BUILD/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
"$BUILD/kube-apiserver.tmp" --version >&2
install -m 0755 "$BUILD/kube-apiserver.tmp" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"
rm -f "$BUILD/kube-apiserver.tmp"
echo "$BIN"
