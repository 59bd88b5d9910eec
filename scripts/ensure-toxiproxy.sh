#!/usr/bin/env bash
# Installs Toxiproxy's server (the latency and reset-peer faults run one inside a member) once, from
# source with Go, into a fixed place. Quiet and quick when it is already there.
set -euo pipefail

VERSION=v2.5.0
DIR=/usr/local/lib/pgchaos
BIN="$DIR/toxiproxy-server"

if [ -x "$BIN" ] && [ "$(cat "$DIR/toxiproxy-server.version" 2>/dev/null)" = "$VERSION" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "pgchaos: Toxiproxy is missing — fix: sudo bash $(realpath "$0")" >&2
  exit 2
fi
# shellcheck source=go.sh
source "$(dirname "$0")/go.sh" Toxiproxy
echo "pgchaos: building Toxiproxy $VERSION into $BIN" >&2
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
GOBIN="$build" GOFLAGS=-mod=mod "$go" install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
install -d "$DIR"
install -m 0755 "$build/server" "$BIN"
echo "$VERSION" > "$DIR/toxiproxy-server.version"
