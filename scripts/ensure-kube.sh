#!/usr/bin/env bash
# What the patroni-k8s topology and the kubernetes backend need beyond scripts/ensure-deps.sh: a kube-apiserver built from Go
# modules (scripts/build-kube-apiserver.sh: about 7 min and 2.4 GB of RAM on 2 cores the first
# time, nothing once built) and openssl for each run's certificates. `npm run test:k8s` and
# `npm run test:full` call it; `npm test` does not run patroni-k8s.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v openssl >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "pgchaos: openssl is missing — fix: sudo apt-get install -y openssl" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
fi
bash scripts/build-kube-apiserver.sh >/dev/null
# The kubernetes backend (test/k8s/kubernetes-backend.test.ts): dockerd with the members' image,
# and the node image (docker/kube-node/build.sh builds the Kubernetes binaries first: ~10 min cold
# on 2 cores, 32 s with warm Go caches, nothing once built; docs/kubernetes-node-lab.md).
bash scripts/ensure-docker.sh bookworm >/dev/null
bash docker/kube-node/build.sh >/dev/null
