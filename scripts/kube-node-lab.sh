#!/usr/bin/env bash
# Lab (issue 27, step 1): one Kubernetes node that runs Pods on this machine, built only from the
# package registries it reaches. Starts a node container (docker/kube-node: containerd, runc and
# the CNI plugins from Debian 13; kubelet, kube-apiserver, kube-controller-manager, kube-scheduler,
# kube-proxy and kubectl built from the k8s.io/kubernetes Go modules by scripts/build-kube-node.sh),
# waits for the Node to be Ready, runs PostgreSQL in a Pod made from the project's own
# pgchaos/node:trixie image (imported into the node's containerd, no registry) behind a Service,
# execs into it, reads its logs, then removes everything and checks that nothing is left.
#
#   bash scripts/kube-node-lab.sh [--host-sysctls] [--hold SECONDS] [--logs DIR]
#
#   --host-sysctls  let the kubelet write the host's kernel.panic, kernel.panic_on_oops,
#                   vm.overcommit_memory, vm.panic_on_oom and kernel.keys.root_max{keys,bytes}
#                   (default: the node shadows them with private copies). Restored either way.
#   --hold N        keep the node N seconds after the checks (kubectl: docker exec <node> kubectl …)
#   --logs DIR      copy the node's daemon logs to DIR before teardown (always done on failure,
#                   to /var/tmp/pgchaos-kube-node-logs.<run>)
#
# Env KUBE_NODE_IMAGE: use that node image instead of building pgchaos/kube-node:<version>.
# Needs root and Docker (scripts/ensure-docker.sh). First run builds the binaries and the image
# (see docs/kubernetes-node-lab.md for the times). Every step is timed; figures go to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST_SYSCTLS=0
HOLD=0
LOGS_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --host-sysctls) HOST_SYSCTLS=1 ;;
    --hold) HOLD=$2; shift ;;
    --logs) LOGS_DIR=$2; shift ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "kube-node-lab: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "kube-node-lab: run as root" >&2; exit 2; }

RUN=$(openssl rand -hex 4)
NAME="pgchaos-kube-node-$RUN"
NS=pgchaos-lab
W=$(mktemp -d "/var/tmp/pgchaos-kube-node-lab.$RUN.XXXX")
SYSCTLS="kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables"
HASHSIZE=/sys/module/nf_conntrack/parameters/hashsize
CID=""
VOLUMES=""
MERGED=""
NETNS=""
FAILED=1

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
say() { printf '\n== %s\n' "$*"; }
k() { docker exec "$NAME" kubectl "$@"; }

# --- host state before ----------------------------------------------------------------------------
record_sysctls() { # file
  local key
  for key in $SYSCTLS; do echo "$key=$(sysctl -n "$key" 2>/dev/null || echo '?')"; done >"$1"
  [ -r "$HASHSIZE" ] && echo "nf_conntrack.hashsize=$(cat "$HASHSIZE")" >>"$1"
  return 0
}
restore_sysctls() {
  local line key val cur
  while IFS= read -r line; do
    key=${line%%=*}; val=${line#*=}
    [ "$val" = '?' ] && continue
    if [ "$key" = nf_conntrack.hashsize ]; then
      cur=$(cat "$HASHSIZE")
      [ "$cur" = "$val" ] || { echo "$val" >"$HASHSIZE" && echo "restored $key $cur -> $val"; }
      continue
    fi
    cur=$(sysctl -n "$key")
    if [ "$cur" != "$val" ]; then
      sysctl -qw "$key=$val" && echo "restored $key $cur -> $val"
    fi
  done <"$W/sysctls.before"
}
veths() { ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | sort; }
host_mounts() { # the host's mounts that belong to the node container: its rootfs, netns, volumes
  local pat="$CID" f
  [ -n "$MERGED" ] && pat="$pat|${MERGED%/merged}"
  [ -n "$NETNS" ] && pat="$pat|$NETNS"
  for f in $VOLUMES; do pat="$pat|$f"; done
  grep -E "$pat" /proc/self/mountinfo | awk '{print $5}'
}

record_sysctls "$W/sysctls.before"
veths >"$W/veths.before"
HOST_VETH=""
docker network ls -q | sort >"$W/networks.before"

teardown() {
  local rc=$? problems=0 f
  trap - EXIT INT TERM
  set +e
  [ "$FAILED" = 1 ] && [ -z "$LOGS_DIR" ] && LOGS_DIR=/var/tmp/pgchaos-kube-node-logs.$RUN
  say "teardown ($([ "$FAILED" = 1 ] && echo after a failure || echo normal))"
  if [ -n "$LOGS_DIR" ] && docker inspect "$NAME" >/dev/null 2>&1; then
    mkdir -p "$LOGS_DIR"
    docker logs "$NAME" >"$LOGS_DIR/node-init.log" 2>&1
    docker cp "$NAME:/var/log/kube/." "$LOGS_DIR/" >/dev/null 2>&1
    echo "node logs copied to $LOGS_DIR"
  fi
  if docker inspect "$NAME" >/dev/null 2>&1; then
    t=$(now)
    docker stop -t 20 "$NAME" >/dev/null
    echo "docker stop: $(since "$t") s"
    docker rm -f -v "$NAME" >/dev/null
  fi
  # Anything else this run labelled (e.g. after an interruption between run and inspect).
  for f in $(docker ps -aq --filter "label=pgchaos.kube-node.run=$RUN"); do docker rm -f -v "$f" >/dev/null; done
  for f in $VOLUMES; do docker volume rm "$f" >/dev/null 2>&1; done
  restore_sysctls
  record_sysctls "$W/sysctls.after"

  say "verify: nothing left"
  if [ -n "$(docker ps -aq --filter "label=pgchaos.kube-node.run=$RUN")" ]; then echo "LEFT: container"; problems=1; else echo "containers: none labelled pgchaos.kube-node.run=$RUN"; fi
  for f in $VOLUMES; do
    if docker volume inspect "$f" >/dev/null 2>&1; then echo "LEFT: volume $f"; problems=1; fi
  done
  echo "volumes: ${VOLUMES:-none recorded} gone"
  docker network ls -q | sort >"$W/networks.after"
  if cmp -s "$W/networks.before" "$W/networks.after"; then echo "networks: unchanged ($(wc -l <"$W/networks.after"))"; else echo "LEFT/CHANGED: networks"; diff "$W/networks.before" "$W/networks.after"; problems=1; fi
  veths >"$W/veths.after"
  if [ -n "$HOST_VETH" ] && ip link show "$HOST_VETH" >/dev/null 2>&1; then
    echo "LEFT: the node's host veth $HOST_VETH"; problems=1
  else
    echo "veths: the node's host veth ${HOST_VETH:-?} is gone"
  fi
  # Other users' namespaces and containers come and go on this host: report, do not fail.
  if ! cmp -s "$W/veths.before" "$W/veths.after"; then
    echo "  (host veths changed meanwhile, not the node's: $(diff "$W/veths.before" "$W/veths.after" | grep '^[<>]' | tr '\n' ' '))"
  fi
  if [ -n "$CID" ]; then
    left=$(host_mounts)
    if [ -n "$left" ]; then echo "LEFT: mounts"; echo "$left"; problems=1; else echo "mounts: none of the node's (rootfs ${MERGED:-?}, netns ${NETNS:-?}, volumes, id)"; fi
    left=$(grep -l "$CID" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | tr '\n' ' ')
    if [ -n "$left" ]; then echo "LEFT: processes in the node's cgroups: $left"; problems=1; else echo "processes: none in the node's cgroups"; fi
    left=$(find /sys/fs/cgroup/*/ -maxdepth 2 -type d -name "$CID*" 2>/dev/null | tr '\n' ' ')
    if [ -n "$left" ]; then echo "LEFT: cgroups $left"; problems=1; else echo "cgroups: none named $CID"; fi
  fi
  if cmp -s "$W/sysctls.before" "$W/sysctls.after"; then
    echo "sysctls: equal to the recorded values: $(tr '\n' ' ' <"$W/sysctls.after")"
  else
    echo "CHANGED: sysctls"; diff "$W/sysctls.before" "$W/sysctls.after"; problems=1
  fi
  rm -rf "$W"
  if [ "$problems" = 0 ]; then echo "clean: nothing left"; else echo "NOT CLEAN"; fi
  [ "$rc" = 0 ] && [ "$problems" != 0 ] && rc=1
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# --- build or reuse -------------------------------------------------------------------------------
say "images"
bash scripts/ensure-docker.sh trixie >/dev/null
t=$(now)
if [ -n "${KUBE_NODE_IMAGE:-}" ]; then
  IMAGE=$KUBE_NODE_IMAGE
  docker image inspect "$IMAGE" >/dev/null || exit 2
else
  IMAGE=$(bash docker/kube-node/build.sh)
fi
echo "node image $IMAGE ready in $(since "$t") s"
mkdir -p "$W/images"
t=$(now)
docker save -o "$W/images/pgchaos-node-trixie.tar" pgchaos/node:trixie
echo "docker save pgchaos/node:trixie: $(since "$t") s, $(du -m "$W/images/pgchaos-node-trixie.tar" | cut -f1) MB"
echo "host sysctls before: $(tr '\n' ' ' <"$W/sysctls.before")"

# --- start the node -------------------------------------------------------------------------------
say "start node $NAME"
# Not --privileged: this host's capability bounding set lacks CAP_SYS_RESOURCE, and a privileged
# container asks for every capability (runc: "unable to apply caps: operation not permitted").
# So: every capability but that one, no seccomp filter, unmasked /proc, a private cgroup
# namespace, /dev/kmsg for the kubelet's OOM watcher, and the device cgroup rule a privileged
# container would get (without it, privileged Pods fail: runc cannot write "a *:* rwm" to their
# devices.allow). /var is an anonymous volume: containerd's overlayfs snapshots need a non-overlay
# filesystem. docker rm -v removes it.
T_START=$(now)
CID=$(docker run -d --name "$NAME" --hostname "$NAME" \
  --label pgchaos.kube-node=1 --label "pgchaos.kube-node.run=$RUN" \
  --cap-add ALL --cap-drop SYS_RESOURCE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --security-opt systempaths=unconfined \
  --cgroupns=private --device /dev/kmsg --device-cgroup-rule 'a *:* rwm' \
  --tmpfs /run:rw,exec,nosuid,size=256m --tmpfs /tmp:rw,exec,nosuid,size=256m \
  -v /var -v "$W/images:/pgchaos/images:ro" \
  -e PGCHAOS_KUBE_HOST_SYSCTLS="$HOST_SYSCTLS" \
  "$IMAGE")
VOLUMES=$(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' "$CID")
MERGED=$(docker inspect -f '{{.GraphDriver.Data.MergedDir}}' "$CID" 2>/dev/null || true)
echo "container ${CID:0:12}, volume(s) $VOLUMES"

ready=""
for _ in $(seq 1 600); do
  phase=$(docker exec "$NAME" cat /run/pgchaos-kube/phase 2>/dev/null || true)
  case "$phase" in failed*) echo "node init: $phase"; docker logs "$NAME" 2>&1 | tail -20; exit 1 ;; esac
  if [ -z "$(docker ps -q --filter "id=$CID")" ]; then echo "node container exited"; docker logs "$NAME" 2>&1 | tail -20; exit 1; fi
  ready=$(k get node "$NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  [ "$ready" = True ] && break
  sleep 0.5
done
[ "$ready" = True ] || { echo "node not Ready after 300 s"; docker logs "$NAME" 2>&1 | tail -20; k describe node "$NAME" 2>&1 | tail -30; exit 1; }
T_READY=$(since "$T_START")
echo "node Ready: $T_READY s after docker run"
images=""
for _ in $(seq 1 600); do
  images=$(docker exec "$NAME" cat /run/pgchaos-kube/images 2>/dev/null || true)
  [ -n "$images" ] && break
  sleep 0.5
done
[ "$images" = imported ] || { echo "node image import: ${images:-not done after 300 s}"; exit 1; }
T_IMAGES=$(since "$T_START")
echo "pgchaos/node:trixie imported into the node's containerd: $T_IMAGES s after docker run"
NETNS=$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' "$CID")
NETNS=${NETNS#/var} # /var/run is a symlink to /run: mountinfo names /run/docker/netns/…
# The host end of the node's eth0 (its iflink is the host-side ifindex).
idx=$(docker exec "$NAME" cat /sys/class/net/eth0/iflink)
HOST_VETH=$(ip -o link show | awk -F': ' -v i="$idx" '$1 == i { sub(/@.*/, "", $2); print $2 }')
echo "node eth0 <-> host $HOST_VETH (on docker0)"
docker logs "$NAME" 2>&1 | grep -E 'imported|is up|phase running'
k get node -o wide

# --- a Pod from the project's image, and a Service --------------------------------------------------
say "pod and service"
k create namespace "$NS" >/dev/null
for _ in $(seq 1 60); do k -n "$NS" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.5; done
cat >"$W/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: pg
  namespace: $NS
  labels: {app: pg}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: postgres
    image: pgchaos/node:trixie
    imagePullPolicy: Never
    command: ["bash", "-c"]
    args:
    - |
      set -e
      d=/pgdata/data
      install -d -o postgres -g postgres -m 0700 "\$d"
      setpriv --reuid=postgres --regid=postgres --init-groups /usr/lib/postgresql/17/bin/initdb -D "\$d" -A trust -U postgres >/dev/null
      echo "host all all 0.0.0.0/0 trust" >>"\$d/pg_hba.conf"
      echo "pod: initdb done, starting postgres"
      exec setpriv --reuid=postgres --regid=postgres --init-groups /usr/lib/postgresql/17/bin/postgres -D "\$d" -c listen_addresses='*' -c unix_socket_directories=/tmp
    ports: [{name: pg, containerPort: 5432}]
    readinessProbe:
      exec: {command: ["pg_isready", "-h", "127.0.0.1", "-U", "postgres", "-q"]}
      periodSeconds: 1
    volumeMounts: [{name: data, mountPath: /pgdata}]
  volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata:
  name: pg
  namespace: $NS
spec:
  selector: {app: pg}
  ports: [{name: pg, port: 5432, targetPort: pg}]
EOF
T_POD=$(now)
docker exec -i "$NAME" kubectl apply -f - <"$W/pod.yaml"
k -n "$NS" wait --for=condition=Ready pod/pg --timeout=180s >/dev/null || {
  k -n "$NS" describe pod pg | tail -30; exit 1; }
T_POD_READY=$(since "$T_POD")
echo "pod Ready (PostgreSQL accepting connections): $T_POD_READY s after kubectl apply"
k -n "$NS" get pod pg -o 'jsonpath=created {.metadata.creationTimestamp}, container started {.status.containerStatuses[0].state.running.startedAt}{"\n"}'

say "kubectl get pods -A -o wide"
k get pods -A -o wide
k -n "$NS" get svc,endpointslices -o wide

say "exec into the pod"
k -n "$NS" exec pg -- psql -h 127.0.0.1 -U postgres -Atc "select 'in pod: ' || version()"
k -n "$NS" exec pg -- sh -c 'echo "pod hostname $(hostname), ip $(hostname -I), pid 1: $(cat /proc/1/cmdline | tr "\0" " ")"; grep -E "^(memory|cpu|pids):" /proc/self/cgroup | head -3'
SVC_IP=$(k -n "$NS" get svc pg -o 'jsonpath={.spec.clusterIP}')
POD_IP=$(k -n "$NS" get pod pg -o 'jsonpath={.status.podIP}')
echo "service pg: $SVC_IP:5432 -> pod $POD_IP:5432"
# Through the Service's ClusterIP (kube-proxy's iptables rules in the node): from the node itself,
# and from inside the Pod to itself (hairpin through the bridge).
docker exec "$NAME" bash -c "exec 3<>/dev/tcp/$SVC_IP/5432 && echo 'from the node: TCP connect to $SVC_IP:5432 OK'"
k -n "$NS" exec pg -- psql -h "$SVC_IP" -U postgres -Atc "select 'via service from the pod: ' || inet_server_addr()"

say "logs"
k -n "$NS" logs pg | tail -8

say "figures"
echo "node start -> Ready: $T_READY s; -> workload image imported: $T_IMAGES s; pod apply -> Ready: $T_POD_READY s"
docker exec "$NAME" sh -c 'for p in $(pgrep -x kube-apiserver) $(pgrep -x kubelet) $(pgrep -x etcd) $(pgrep -x containerd) $(pgrep -x kube-controller) $(pgrep -x kube-scheduler) $(pgrep -x kube-proxy); do printf "%-24s %6d MB\n" "$(cat /proc/$p/comm)" $(( $(awk "/VmRSS/{print \$2}" /proc/$p/status) / 1024 )); done'
echo "while running: $(host_mounts | wc -l) host mounts ($(host_mounts | tr '\n' ' ')), $(grep -cE '/run/containerd/|/var/lib/kubelet/' /proc/self/mountinfo) host mounts of the Pods' (they stay in the node's mount namespace), host veth $HOST_VETH, and $(find /sys/fs/cgroup/*/ -maxdepth 2 -type d -name "$CID*" | wc -l) host cgroup dirs name the container, $(grep -l "$CID" /proc/[0-9]*/cgroup 2>/dev/null | wc -l) processes are in it (the teardown checks these go to 0)"
docker stats --no-stream --format 'node container: {{.MemUsage}} {{.CPUPerc}}' "$NAME"
if [ "$HOST_SYSCTLS" = 1 ]; then
  record_sysctls "$W/sysctls.during"
  echo "host sysctls while the node ran: $(tr '\n' ' ' <"$W/sysctls.during")"
else
  echo "host sysctls while the node ran: $(record_sysctls /dev/stdout | tr '\n' ' ')"
  echo "node's private copies:           $(docker exec "$NAME" sh -c 'for f in /run/pgchaos-kube/sysctl/*; do printf "%s=%s " "${f##*/}" "$(cat "$f")"; done')"
fi
docker exec "$NAME" sh -c 'grep -ciE "error|fail" /var/log/kube/kubelet.log' | sed 's/^/kubelet log lines with error|fail: /'

if [ "$HOLD" -gt 0 ]; then say "holding $HOLD s: docker exec $NAME kubectl get pods -A"; sleep "$HOLD"; fi
FAILED=0
