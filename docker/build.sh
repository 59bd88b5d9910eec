#!/usr/bin/env bash
# Build the pgchaos node images without any container registry.
#
#   docker/build.sh [--rebuild] [--rebuild-base] [bookworm|trixie|all]   (default: all)
#
# For each stack:
#   pgchaos/base:<stack>  debootstrap --variant=minbase + docker import (reused when present;
#                         --rebuild-base or `docker rmi` forces a new one)
#   pgchaos/node:<stack>  docker build of docker/node/Dockerfile on top of the base. Reused only
#                         when its label pgchaos.recipe matches the sha256 of the build context,
#                         the build args and the base image id; --rebuild forces a build with
#                         --no-cache (fresh packages from the mirror).
# An image that a rebuild replaced is removed when it is left untagged and unused.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), TMPDIR (where the rootfs is made).
# Needs root (debootstrap) and a running dockerd.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_CTX="$HERE/node"
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

usage() { echo "usage: $0 [--rebuild] [--rebuild-base] [bookworm|trixie|all]" >&2; exit 2; }

REBUILD=0
REBUILD_BASE=0
TARGET=all
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    --rebuild-base) REBUILD_BASE=1; REBUILD=1 ;;
    bookworm | trixie | all) TARGET=$arg ;;
    -h | --help) usage ;;
    *) echo "build.sh: unknown argument: $arg" >&2; usage ;;
  esac
done
case "$TARGET" in
  all) STACKS=(bookworm trixie) ;;
  *) STACKS=("$TARGET") ;;
esac

pg_major_for() {
  case "$1" in
    bookworm) echo 15 ;;
    trixie) echo 17 ;;
    *) echo "build.sh: no PG_MAJOR for stack $1" >&2; return 1 ;;
  esac
}

[ "$(id -u)" -eq 0 ] || { echo "build.sh: must run as root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build.sh: debootstrap not installed (apt-get install debootstrap)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build.sh: cannot reach dockerd (docker info failed)" >&2; exit 1; }

# Debian's dockerd 20.10 + a docker CLI without the buildx plugin: BuildKit mode would fail
# ("BuildKit is enabled but the buildx component is missing"), so use the legacy builder.
if [ -z "${DOCKER_BUILDKIT:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi
fi

ROOTFS=""
cleanup_rootfs() {
  [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ] || return 0
  # debootstrap normally unmounts proc/sys itself; be safe after an interrupted run.
  local m
  awk -v r="$ROOTFS" 'index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$ROOTFS"
  ROOTFS=""
}
trap cleanup_rootfs EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
TIMINGS=()
record() { # stack step start
  local s; s=$(elapsed "$3")
  TIMINGS+=("$(printf '%-9s %-12s %8ss' "$1" "$2" "$s")")
  echo "[$1] $2: ${s}s"
}

build_base() {
  local stack=$1 image="pgchaos/base:$1" old_id t
  if [ "$REBUILD_BASE" -eq 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "[$stack] reusing $image"
    TIMINGS+=("$(printf '%-9s %-12s %9s' "$stack" "base" "reused")")
    return 0
  fi
  ROOTFS=$(mktemp -d "${TMPDIR:-/var/tmp}/pgchaos-rootfs-$stack.XXXXXX")
  echo "[$stack] debootstrap --variant=minbase $stack $ROOTFS $MIRROR"
  t=$(now)
  debootstrap --variant=minbase "$stack" "$ROOTFS" "$MIRROR"
  record "$stack" debootstrap "$t"
  old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  rm -f "$ROOTFS"/var/cache/apt/archives/*.deb
  rm -rf "$ROOTFS"/var/lib/apt/lists/*
  t=$(now)
  tar -C "$ROOTFS" --numeric-owner -c . |
    docker import \
      --change 'CMD ["/bin/bash"]' \
      --change 'ENV LANG=C.UTF-8' \
      --change "LABEL pgchaos.stack=$stack" \
      - "$image" >/dev/null
  record "$stack" import "$t"
  cleanup_rootfs
  OLD_BASE_ID=$old_id # dropped after the node image no longer builds on it
}

drop_if_dangling() { # image id replaced by a rebuild: remove it if nothing tags or uses it
  [ -n "$1" ] || return 0
  [ "$(docker image inspect -f '{{len .RepoTags}}' "$1" 2>/dev/null || echo x)" = 0 ] || return 0
  docker rmi "$1" >/dev/null 2>&1 || true
}

recipe_hash() { # stack pg_major base_id
  {
    printf 'BASE=%s\nPG_MAJOR=%s\nSTACK=%s\nBASE_ID=%s\n' "pgchaos/base:$1" "$2" "$1" "$3"
    (cd "$NODE_CTX" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

build_node() {
  local stack=$1 image="pgchaos/node:$1" pg base_id recipe have old_id t
  local cache=()
  pg=$(pg_major_for "$stack")
  base_id=$(docker image inspect -f '{{.Id}}' "pgchaos/base:$stack")
  recipe=$(recipe_hash "$stack" "$pg" "$base_id")
  have=$(docker image inspect -f '{{index .Config.Labels "pgchaos.recipe"}}' "$image" 2>/dev/null || true)
  if [ "$REBUILD" -eq 0 ] && [ "$have" = "$recipe" ]; then
    echo "[$stack] reusing $image (recipe ${recipe:0:12})"
    TIMINGS+=("$(printf '%-9s %-12s %9s' "$stack" "build" "reused")")
    return 0
  fi
  if [ -n "$have" ] && [ "$have" != "$recipe" ]; then
    echo "[$stack] $image recipe changed (${have:0:12} -> ${recipe:0:12}): rebuilding"
  fi
  old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  if [ "$REBUILD" -eq 1 ]; then cache=(--no-cache); fi
  t=$(now)
  docker build "${cache[@]}" \
    --build-arg "BASE=pgchaos/base:$stack" \
    --build-arg "PG_MAJOR=$pg" \
    --build-arg "STACK=$stack" \
    --label "pgchaos.recipe=$recipe" \
    -t "$image" \
    -f "$NODE_CTX/Dockerfile" "$NODE_CTX"
  record "$stack" build "$t"
  drop_if_dangling "$old_id"
}

for stack in "${STACKS[@]}"; do
  OLD_BASE_ID=""
  build_base "$stack"
  build_node "$stack"
  drop_if_dangling "$OLD_BASE_ID"
done

echo
echo "== timings"
printf '%s\n' "${TIMINGS[@]}"
echo "== sizes"
for stack in "${STACKS[@]}"; do
  for image in "pgchaos/base:$stack" "pgchaos/node:$stack"; do
    docker image inspect -f '{{.Size}}' "$image" |
      awk -v i="$image" '{ printf "%-22s %7.1f MB\n", i, $1 / 1000000 }'
  done
done
