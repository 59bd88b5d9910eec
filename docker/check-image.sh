#!/usr/bin/env bash
# Check that an image has everything a pgchaos member needs.
#
#   docker/check-image.sh <image>
#
# Starts a throwaway container (pgchaos-imgcheck-<random>, --network none, --cap-add NET_ADMIN,
# removed afterwards), and prints one line per component:
#
#   <name> <version> [<path>]
#
# names: postgres initdb pg_ctl patroni etcd etcdctl pg_autoctl repmgr repmgrd haproxy pgpool nft
# ip ps node sshd postgres-user, then the functional checks pg-cluster (initdb + pg_ctl start/stop
# as postgres), patroni-etcd3 (patroni's python imports patroni.dcs.etcd3) and nft-netadmin (root can
# add and delete an nftables table with NET_ADMIN), whose version is "ok".
# Exit 0 when all are there; otherwise 1 with one line on stderr naming what is missing or broken,
# e.g. "check-image: myimg: missing: repmgrd, pgpool; failed: pg-cluster". Exit 2 on usage or when
# the container cannot be started.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then echo "usage: $0 <image>" >&2; exit 2; fi
IMAGE=$1

docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "check-image: $IMAGE: image not found" >&2; exit 2; }

NAME="pgchaos-imgcheck-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! docker run -d --name "$NAME" --user 0 --network none --cap-add NET_ADMIN \
  --entrypoint sleep "$IMAGE" 900 >/dev/null 2>"/tmp/$NAME.err"; then
  echo "check-image: $IMAGE: cannot start a container: $(tr '\n' ' ' <"/tmp/$NAME.err")" >&2
  rm -f "/tmp/$NAME.err"
  exit 2
fi
rm -f "/tmp/$NAME.err"

# The probe is POSIX sh (the image may lack bash). Lines: "<name> <version> <path>" for what is
# there, "!missing <name>" and "!failed <name> <reason>" for what is not.
PROBE=$(cat <<'PROBE_EOF'
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export LANG=C.UTF-8 LC_ALL=C.UTF-8

first_line() { sed -n 1p; }
# first token that looks like a version number, leading "v" dropped
ver() { grep -oE '[vV]?[0-9]+(\.[0-9]+)+[0-9A-Za-z.+~:-]*' | sed -n '1{s/^[vV]//;p;}'; }

as_postgres() {
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"
  elif command -v setpriv >/dev/null 2>&1; then
    setpriv --reuid postgres --regid postgres --init-groups --reset-env -- "$@"
  else su -s /bin/sh postgres -c '"$0" "$@"' -- "$@"
  fi
}

# newest /usr/lib/postgresql/<major>/bin with postgres, initdb and pg_ctl
PGBIN=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr); do
  if [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then PGBIN=$d; break; fi
done

# find NAME: prefer $PGBIN, then PATH
find_bin() {
  if [ -n "$PGBIN" ] && [ -x "$PGBIN/$1" ]; then echo "$PGBIN/$1"; return 0; fi
  command -v "$1" 2>/dev/null | grep '^/' || return 1
}

HAVE_PGUSER=0
if id -u postgres >/dev/null 2>&1; then
  HAVE_PGUSER=1
fi

report() { # name path version-command...
  name=$1; path=$2; shift 2
  v=$("$@" 2>&1 | ver)
  if [ -n "$v" ]; then echo "$name $v $path"; else echo "!failed $name version not readable"; fi
}

for b in postgres initdb pg_ctl; do
  if [ -n "$PGBIN" ]; then report "$b" "$PGBIN/$b" "$PGBIN/$b" --version
  else echo "!missing $b"; fi
done

check() { # name [user] args...   (user: root|postgres)
  name=$1; user=$2; shift 2
  p=$(find_bin "$name") || { echo "!missing $name"; return 0; }
  if [ "$user" = postgres ] && [ "$HAVE_PGUSER" = 1 ]; then report "$name" "$p" as_postgres "$p" "$@"
  else report "$name" "$p" "$p" "$@"; fi
}
check patroni root --version
check etcd root --version
check etcdctl root version
check pg_autoctl postgres --version
check repmgr postgres --version
check repmgrd postgres --version
check haproxy root -v
check pgpool root --version
check nft root --version
check ip root -V
check ps root --version
if p=$(find_bin node) || p=$(find_bin nodejs); then report node "$p" "$p" --version; else echo "!missing node"; fi
check sshd root -V

if [ "$HAVE_PGUSER" = 1 ]; then
  echo "postgres-user $(id -u postgres):$(id -g postgres) $(getent passwd postgres 2>/dev/null | cut -d: -f6)"
else
  echo "!missing postgres-user"
fi

# initdb + pg_ctl start/stop as postgres, socket only
if [ -n "$PGBIN" ] && [ "$HAVE_PGUSER" = 1 ]; then
  W=$(mktemp -d /tmp/pgchaos-check.XXXXXX) && chown postgres "$W" && chmod 700 "$W"
  if ! out=$(as_postgres "$PGBIN/initdb" -D "$W/data" -U postgres -A trust --no-sync 2>&1); then
    echo "!failed pg-cluster initdb: $(echo "$out" | tail -n 1)"
  elif ! out=$(as_postgres "$PGBIN/pg_ctl" -D "$W/data" -l "$W/log" -w -t 60 \
      -o "-c listen_addresses= -k $W" start 2>&1); then
    echo "!failed pg-cluster pg_ctl start: $(tail -n 1 "$W/log" 2>/dev/null || echo "$out" | tail -n 1)"
  else
    if [ -x "$PGBIN/psql" ] && ! as_postgres "$PGBIN/psql" -h "$W" -U postgres -At -c 'select 1' postgres >/dev/null 2>&1; then
      echo "!failed pg-cluster started but psql select 1 failed"
    elif ! as_postgres "$PGBIN/pg_ctl" -D "$W/data" -m fast -w stop >/dev/null 2>&1; then
      echo "!failed pg-cluster pg_ctl stop"
    else
      echo "pg-cluster ok $PGBIN"
    fi
  fi
  as_postgres "$PGBIN/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$W"
fi

# Patroni's own interpreter (it may live in a venv) must import the etcd3 DCS module
if p=$(find_bin patroni); then
  py=$(sed -n '1s/^#![[:space:]]*//p' "$p" | cut -d' ' -f1)
  case "$py" in */env) py=$(sed -n '1s/^#![[:space:]]*//p' "$p" | cut -d' ' -f2) ;; esac
  [ -n "$py" ] || py=python3
  if out=$("$py" -c 'import patroni.dcs.etcd3' 2>&1); then echo "patroni-etcd3 ok $py"
  else echo "!failed patroni-etcd3 $(echo "$out" | tail -n 1)"; fi
fi

# nft as root with NET_ADMIN (the container's own netns)
if p=$(find_bin nft); then
  if out=$( { "$p" add table inet pgchaos_check && "$p" list table inet pgchaos_check >/dev/null \
      && "$p" delete table inet pgchaos_check; } 2>&1); then echo "nft-netadmin ok $p"
  else echo "!failed nft-netadmin $(echo "$out" | tail -n 1)"; fi
fi
PROBE_EOF
)

OUT=$(docker exec -i -u 0 "$NAME" /bin/sh -s <<<"$PROBE" 2>&1) || {
  echo "check-image: $IMAGE: probe did not run: $(echo "$OUT" | tail -n 1)" >&2
  exit 2
}

MISSING=()
FAILED=()
while IFS= read -r line; do
  case "$line" in
    '!missing '*) MISSING+=("${line#!missing }") ;;
    '!failed '*) rest=${line#!failed }; FAILED+=("${rest%% *} (${rest#* })") ;;
    '') ;;
    *) echo "$line" ;;
  esac
done <<<"$OUT"

if [ ${#MISSING[@]} -gt 0 ] || [ ${#FAILED[@]} -gt 0 ]; then
  msg="check-image: $IMAGE:"
  if [ ${#MISSING[@]} -gt 0 ]; then msg+=" missing: $(printf '%s, ' "${MISSING[@]}" | sed 's/, $//')"; fi
  if [ ${#FAILED[@]} -gt 0 ]; then
    [ ${#MISSING[@]} -gt 0 ] && msg+=";"
    msg+=" failed: $(printf '%s; ' "${FAILED[@]}" | sed 's/; $//')"
  fi
  echo "$msg" >&2
  exit 1
fi
