#!/usr/bin/env bash
# Builds the pgchaos Kubernetes node image, pgchaos/kube-node:<version>, without any registry:
#   1. the Kubernetes binaries (scripts/build-kube-node.sh: kubelet, kube-apiserver, …, kubectl);
#   2. the sandbox ("pause") image: docker/kube-node/pause, a static Go binary, in an image FROM
#      scratch (pgchaos/pause:1), saved as a docker archive that the node imports into containerd;
#   3. docker build of docker/kube-node/Dockerfile on pgchaos/base:trixie (docker/build.sh trixie
#      makes it when missing), with the binaries and the pause archive in a temporary context.
# Reused when its label pgchaos.recipe matches the hash of everything that goes in; --rebuild
# forces a build with --no-cache (fresh packages from the mirror). Prints the image name on stdout
# (messages go to stderr).
# Env: KUBE_NODE_VERSION (default: scripts/build-kube-node.sh's), PGCHAOS_CACHE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${PGCHAOS_CACHE:-/var/cache/pgchaos}
REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "kube-node/build.sh: must run as root" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "kube-node/build.sh: cannot reach dockerd (bash scripts/ensure-docker.sh)" >&2; exit 1; }
if [ -z "${DOCKER_BUILDKIT:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi
fi

BIN_DIR=$(bash "$ROOT/scripts/build-kube-node.sh")
VERSION=$(basename "$BIN_DIR"); VERSION=${VERSION#kube-node-}
IMAGE="pgchaos/kube-node:$VERSION"
PAUSE_IMAGE="pgchaos/pause:1"

if ! docker image inspect pgchaos/base:trixie >/dev/null 2>&1; then
  echo "kube-node/build.sh: building pgchaos/base:trixie (docker/build.sh trixie)" >&2
  bash "$ROOT/docker/build.sh" trixie >&2
fi

# The pause binary, in the Go build cache the Kubernetes build uses.
source "$ROOT/scripts/go.sh" pause
PAUSE_BUILD="$CACHE/kube-node-build/pause"
mkdir -p "$PAUSE_BUILD"
(cd "$HERE/pause" && CGO_ENABLED=0 GOTOOLCHAIN=local GOCACHE=${GOCACHE:-$CACHE/go-build} \
  nice -n 19 "$go" build -trimpath -ldflags '-s -w' -o "$PAUSE_BUILD/pause" .)

CTX=$(mktemp -d "${TMPDIR:-/var/tmp}/pgchaos-kube-node-ctx.XXXXXX")
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/bin" "$CTX/images" "$CTX/files" "$CTX/pause"
cp "$HERE/Dockerfile" "$CTX/"
cp "$HERE"/files/* "$CTX/files/"
cp "$BIN_DIR"/* "$CTX/bin/"
cp "$PAUSE_BUILD/pause" "$CTX/pause/pause"

recipe=$({
  echo "base=$(docker image inspect -f '{{.Id}}' pgchaos/base:trixie) version=$VERSION"
  (cd "$CTX" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
} | sha256sum | cut -d' ' -f1)
have=$(docker image inspect -f '{{index .Config.Labels "pgchaos.recipe"}}' "$IMAGE" 2>/dev/null || true)
if [ "$REBUILD" = 0 ] && [ "$have" = "$recipe" ]; then
  echo "kube-node/build.sh: reusing $IMAGE (recipe ${recipe:0:12})" >&2
  echo "$IMAGE"
  exit 0
fi

# pause image: FROM scratch, one static binary. Its archive goes into the node image.
printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$CTX/pause/Dockerfile"
docker build -q -t "$PAUSE_IMAGE" "$CTX/pause" >&2
docker save -o "$CTX/images/pause.tar" "$PAUSE_IMAGE"
rm -rf "$CTX/pause"

old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
t=$(date +%s)
nocache=()
[ "$REBUILD" = 1 ] && nocache=(--no-cache)
docker build "${nocache[@]}" --build-arg BASE=pgchaos/base:trixie --build-arg "KUBE_VERSION=$VERSION" \
  --label "pgchaos.recipe=$recipe" -t "$IMAGE" "$CTX" >&2
echo "kube-node/build.sh: built $IMAGE in $(($(date +%s) - t)) s" >&2
if [ -n "$old_id" ] && [ "$(docker image inspect -f '{{.Id}}' "$IMAGE")" != "$old_id" ]; then
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi
echo "$IMAGE"
