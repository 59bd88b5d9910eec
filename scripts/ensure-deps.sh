#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks for pgchaos: the Debian packages (when root)
# and node_modules (npm ci). Quiet and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql-15 postgresql-contrib patroni python3-psycopg2 etcd-server etcd-client
  postgresql-15-auto-failover pg-auto-failover-cli postgresql-15-repmgr nftables iproute2 util-linux
  haproxy pgpool2 openssh-server openssh-client  # entry points; sshd for repmgr's switchover
  sudo  # the SSH backend's integration test: a non-root login that reaches root with sudo -n
  libfaketime  # clock-skew: the HA agents' clocks
  dnsmasq-base  # the dns entry point: the name server and the clients' caching resolver
  libpq-dev  # npm ci builds the libpq addon the `uri` entry point uses (node-gyp, g++, make)
  chromium)  # chromium: the report tests open the HTML reports in it, headless, via playwright-core
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "pgchaos: missing Debian packages: ${missing[*]} — fix: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "pgchaos: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's postgresql-common would create and start a 15/main cluster; pgchaos never uses it.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/pgchaos.conf
  # Packages must not start their services (sshd, haproxy, pgpool) on the host: pgchaos runs its own.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "pgchaos: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/ensure-toxiproxy.sh  # the latency and reset-peer faults run Toxiproxy inside members
