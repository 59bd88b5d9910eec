#!/usr/bin/env bash
# The Docker backend's prerequisites on a fresh Debian machine: docker.io and debootstrap, a running
# engine, and the node images (built locally: no registry is needed or used). Reuses what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "pgchaos: no Docker engine reachable — fix: start dockerd (or set DOCKER_HOST), or run as root to install it" >&2
    exit 2
  fi
  missing=()
  for pkg in docker.io debootstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "pgchaos: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  echo "pgchaos: starting dockerd (log: /var/log/dockerd.log)" >&2
  setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo "pgchaos: dockerd did not start; see /var/log/dockerd.log" >&2; exit 2; }
fi
if ! command -v debootstrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
bash docker/build.sh "${@:-all}"
