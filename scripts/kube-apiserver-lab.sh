#!/usr/bin/env bash
# Proves the kube-apiserver from build-kube-apiserver.sh answers, and (with --patroni) that Patroni
# 3.0.2 uses it as its DCS. Everything runs in one network namespace this script creates and
# deletes: etcd, kube-apiserver, and one Patroni + PostgreSQL member as user postgres.
# Certificates, tokens and data are made per run in a temporary directory and removed at exit.
#
# Usage: sudo scripts/kube-apiserver-lab.sh [--patroni] [--no-pod] [--no-pod-ip] [--hold SECONDS]
#   --patroni    also start one Patroni member with the `kubernetes:` DCS (use_endpoints, PGO labels)
#   --no-pod     do not create the placeholder Pod Patroni keeps its member status on
#   --no-pod-ip  leave kubernetes.pod_ip unset (the leader Endpoints then gets no address)
#   --hold N     keep everything running N seconds before tearing down (to poke at it)
# Environment: ETCD_BIN (default /usr/bin/etcd, Debian 12's 3.4.23), KUBE_VERSION (see the build script).
# Notes and figures: docs/kube-apiserver-lab.md
set -euo pipefail

patroni=0 pod=1 pod_ip=1 hold=0
while [ $# -gt 0 ]; do
  case "$1" in
    --patroni) patroni=1 ;;
    --no-pod) pod=0 ;;
    --no-pod-ip) pod_ip=0 ;;
    --hold) hold=$2; shift ;;
    *) echo "usage: $0 [--patroni] [--no-pod] [--no-pod-ip] [--hold SECONDS]" >&2; exit 2 ;;
  esac
  shift
done
if [ "$(id -u)" != 0 ]; then echo "pgchaos: needs root (network namespaces)" >&2; exit 2; fi

here=$(dirname "$(realpath "$0")")
APISERVER=$(bash "$here/build-kube-apiserver.sh")
ETCD=${ETCD_BIN:-/usr/bin/etcd}
PATRONI=/usr/bin/patroni
PGBIN=/usr/lib/postgresql/15/bin

NS=pgchaos-k8slab-$$
ADDR=10.203.0.10 # inside the namespace only: both veth ends live there
PORT=6443
SCOPE=hippo-ha CLUSTER=hippo MEMBER=hippo-0 K8S_NS=pgchaos
W=$(mktemp -d "${TMPDIR:-/tmp}/pgchaos-k8slab.XXXXXX")
chmod 755 "$W"
pids=()

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
log() { echo "[k8slab] $*" >&2; }

cleanup() {
  set +e
  # Patroni first, with SIGTERM: it stops PostgreSQL and clears its leader annotation.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null
  done
  # Anything still inside the namespace is ours (e.g. a postmaster Patroni left behind).
  if ip netns pids "$NS" >/dev/null 2>&1; then
    for p in $(ip netns pids "$NS"); do kill -KILL "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break; sleep 0.1; done
    ip netns del "$NS"
  fi
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- network namespace: loopback plus an address the API server can advertise -------------------
ip netns add "$NS"
ip -n "$NS" link set lo up
# A veth pair with both ends in the namespace: Debian's kernel here has no `dummy` module loaded
# and the address must not be loopback (the API server advertises it in the `kubernetes` Endpoints).
ip -n "$NS" link add k8s0 type veth peer name k8s0p
ip -n "$NS" addr add "$ADDR/24" dev k8s0
ip -n "$NS" link set k8s0 up
ip -n "$NS" link set k8s0p up

# --- certificates and tokens, per run ------------------------------------------------------------
mkdir -p "$W/pki"
(
  cd "$W/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pgchaos-k8slab-ca -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr 2>/dev/null
  # 10.96.0.1 is the `kubernetes` Service's ClusterIP (first address of --service-cluster-ip-range).
  printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' "$ADDR" >apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  chmod 644 ca.crt
)
ADMIN=$(openssl rand -hex 16)
PATRONI_TOKEN=$(openssl rand -hex 16)
# token,user,uid,"groups": system:masters is bound to cluster-admin; Patroni's user gets a Role.
printf '%s,pgchaos-admin,uid-admin,"system:masters"\n%s,pgchaos-patroni,uid-patroni\n' "$ADMIN" "$PATRONI_TOKEN" >"$W/tokens.csv"
chmod 600 "$W/tokens.csv"
# Metadata-level audit of Patroni's requests only: shows which verbs and resources it really uses.
cat >"$W/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: [pgchaos-patroni]
- level: None
EOF

kc() { ip netns exec "$NS" curl -sS --cacert "$W/pki/ca.crt" -H "Authorization: Bearer $ADMIN" "$@"; }
API=https://127.0.0.1:$PORT

# --- etcd ----------------------------------------------------------------------------------------
t=$(now)
ip netns exec "$NS" setsid "$ETCD" --name k8slab --data-dir "$W/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster k8slab=http://127.0.0.1:2380 >"$W/etcd.log" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 1 100); do
  ip netns exec "$NS" curl -sf http://127.0.0.1:2379/health >/dev/null 2>&1 && break
  sleep 0.1
done
log "etcd $(ip netns exec "$NS" curl -s http://127.0.0.1:2379/version) healthy after $(since "$t") s"

# --- kube-apiserver ------------------------------------------------------------------------------
t=$(now)
ip netns exec "$NS" setsid "$APISERVER" \
  --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=0.0.0.0 --secure-port="$PORT" --advertise-address="$ADDR" \
  --tls-cert-file="$W/pki/apiserver.crt" --tls-private-key-file="$W/pki/apiserver.key" \
  --token-auth-file="$W/tokens.csv" --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$W/pki/sa.pub" --service-account-signing-key-file="$W/pki/sa.key" \
  --service-cluster-ip-range=10.96.0.0/24 --cert-dir="$W/pki" \
  --audit-policy-file="$W/audit-policy.yaml" --audit-log-path="$W/audit.log" \
  >"$W/apiserver.log" 2>&1 </dev/null &
pids+=($!)
apiserver_pid=$!
ready=0
for _ in $(seq 1 1200); do
  if kc -f "$API/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$apiserver_pid" 2>/dev/null || break
  sleep 0.1
done
if [ $ready != 1 ]; then
  log "kube-apiserver never became ready; its log ends:"
  tail -20 "$W/apiserver.log" >&2
  exit 1
fi
log "kube-apiserver $("$APISERVER" --version) /readyz ok after $(since "$t") s"
log "GET /api/v1/namespaces/default/endpoints:"
kc -i "$API/api/v1/namespaces/default/endpoints" | sed -n '1p;/^warning:/Ip' >&2
kc "$API/api/v1/namespaces/default/endpoints" |
  python3 -c 'import json,sys; [print("  ", i["metadata"]["name"], [a["ip"] for s in i.get("subsets") or [] for a in s["addresses"]]) for i in json.load(sys.stdin)["items"]]' >&2

if [ $patroni = 1 ]; then
  # --- what Patroni needs in the API: namespace, RBAC, and (optionally) its "pod" ----------------
  post() { kc -f -o /dev/null -H 'Content-Type: application/json' -X POST "$API$1" -d "$2"; }
  post /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$K8S_NS\"}}"
  # The rules Crunchy PGO gives Patroni (internal/patroni/rbac.go), Endpoints mode.
  post "/apis/rbac.authorization.k8s.io/v1/namespaces/$K8S_NS/roles" '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"patroni"},"rules":[
    {"apiGroups":[""],"resources":["endpoints"],"verbs":["create","deletecollection","get","list","patch","watch"]},
    {"apiGroups":[""],"resources":["pods"],"verbs":["get","list","patch","watch"]},
    {"apiGroups":[""],"resources":["services"],"verbs":["create"]}]}'
  post "/apis/rbac.authorization.k8s.io/v1/namespaces/$K8S_NS/rolebindings" '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"patroni"},
    "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"patroni"},
    "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"pgchaos-patroni"}]}'
  if [ $pod = 1 ]; then
    # No controller-manager: nobody creates the namespace's `default` ServiceAccount, and the
    # ServiceAccount admission plugin refuses a Pod without it. No scheduler or kubelet either: the
    # Pod stays Pending for ever, which is all Patroni needs (it patches labels and annotations).
    post "/api/v1/namespaces/$K8S_NS/serviceaccounts" '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}'
    post "/api/v1/namespaces/$K8S_NS/pods" "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$MEMBER\",
      \"labels\":{\"postgres-operator.crunchydata.com/cluster\":\"$CLUSTER\",\"postgres-operator.crunchydata.com/patroni\":\"$SCOPE\"}},
      \"spec\":{\"automountServiceAccountToken\":false,\"containers\":[{\"name\":\"database\",\"image\":\"pgchaos.invalid/placeholder\"}]}}"
  fi

  # Patroni 3.0.2 reads $KUBECONFIG (else ~/.kube/config) when KUBERNETES_SERVICE_HOST is unset,
  # and picks the context named by kubernetes.context, default "kind-kind": not current-context.
  cat >"$W/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: k8slab
  cluster: {server: "https://$ADDR:$PORT", certificate-authority: "$W/pki/ca.crt"}
users:
- name: patroni
  user: {token: "$PATRONI_TOKEN"}
contexts:
- name: k8slab
  context: {cluster: k8slab, user: patroni, namespace: $K8S_NS}
current-context: k8slab
EOF
  mkdir -p "$W/pg/sock"
  pod_ip_line="pod_ip: $ADDR"
  [ $pod_ip = 1 ] || pod_ip_line="# pod_ip unset"
  cat >"$W/patroni.yml" <<EOF
scope: $SCOPE
name: $MEMBER
restapi: {listen: "0.0.0.0:8008", connect_address: "$ADDR:8008"}
kubernetes:
  context: k8slab
  namespace: $K8S_NS
  labels: {postgres-operator.crunchydata.com/cluster: $CLUSTER}
  scope_label: postgres-operator.crunchydata.com/patroni
  role_label: postgres-operator.crunchydata.com/role
  use_endpoints: true
  $pod_ip_line
  ports: [{name: postgres, port: 5432}]
bootstrap:
  dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10, maximum_lag_on_failover: 1048576,
        postgresql: {use_pg_rewind: true, use_slots: true,
          parameters: {wal_level: replica, hot_standby: "on", wal_log_hints: "on"}}}
  initdb: [{encoding: UTF8}, data-checksums]
postgresql:
  listen: "$ADDR,127.0.0.1:5432"
  connect_address: "$ADDR:5432"
  data_dir: $W/pg/data
  bin_dir: $PGBIN
  pgpass: $W/pg/pgpass
  use_unix_socket: true
  authentication:
    superuser: {username: postgres, password: lab-superuser}
    replication: {username: replicator, password: lab-replicator}
    rewind: {username: rewinder, password: lab-rewinder}
  parameters: {unix_socket_directories: $W/pg/sock}
  pg_hba: ["local all all trust", "host replication replicator 127.0.0.1/32 scram-sha-256",
           "host all all $ADDR/24 scram-sha-256"]
watchdog: {mode: "off"}
EOF
  chown -R postgres:postgres "$W/pg"
  chmod 700 "$W/pg"
  chgrp postgres "$W/kubeconfig" "$W/patroni.yml"
  chmod 640 "$W/kubeconfig" "$W/patroni.yml"

  t=$(now)
  # setpriv execs in place, so $! is Patroni's own PID (runuser would stay in between).
  ip netns exec "$NS" setpriv --reuid=postgres --regid=postgres --init-groups \
    env HOME=/var/lib/postgresql USER=postgres KUBECONFIG="$W/kubeconfig" \
    setsid /usr/bin/python3 "$PATRONI" "$W/patroni.yml" >"$W/patroni.log" 2>&1 </dev/null &
  pids+=($!)
  patroni_pid=$!
  leader=""
  for _ in $(seq 1 600); do
    leader=$(kc "$API/api/v1/namespaces/$K8S_NS/endpoints/$SCOPE" 2>/dev/null |
      python3 -c 'import json,sys; print((json.load(sys.stdin).get("metadata",{}).get("annotations") or {}).get("leader",""))' 2>/dev/null || true)
    [ "$leader" = "$MEMBER" ] && break
    kill -0 "$patroni_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$leader" != "$MEMBER" ]; then
    log "Patroni did not take the leader lock; its log ends:"
    tail -30 "$W/patroni.log" >&2
    exit 1
  fi
  log "Patroni: leader Endpoints $K8S_NS/$SCOPE names $MEMBER after $(since "$t") s"
  sleep 12 # one more loop_wait, so the member status and the optime are written
  show() {
    python3 -c '
import json, sys
o = json.load(sys.stdin); m = o["metadata"]
print("--- %s %s/%s" % (o["kind"], m["namespace"], m["name"]))
print(json.dumps({k: v for k, v in {"labels": m.get("labels"), "annotations": m.get("annotations"),
      "subsets": o.get("subsets"), "phase": (o.get("status") or {}).get("phase")}.items() if v is not None}, indent=1))'
  }
  kc "$API/api/v1/namespaces/$K8S_NS/endpoints/$SCOPE" | show
  kc "$API/api/v1/namespaces/$K8S_NS/endpoints/$SCOPE-config" | show
  kc "$API/api/v1/namespaces/$K8S_NS/services" |
    python3 -c 'import json,sys; [print("--- Service", i["metadata"]["name"], "clusterIP", i["spec"].get("clusterIP")) for i in json.load(sys.stdin)["items"]]'
  [ $pod = 1 ] && kc "$API/api/v1/namespaces/$K8S_NS/pods/$MEMBER" | show
  echo "--- Patroni /cluster"
  ip netns exec "$NS" curl -s http://127.0.0.1:8008/cluster
  echo
  echo "--- Patroni log (errors are the Pod patch when --no-pod)"
  grep -E '^[0-9-]+ [0-9:,]+ (INFO|WARNING|ERROR)' "$W/patroni.log" | cut -c1-160 | sort | uniq -c -f2 | sort -rn | head -12
  echo "--- Patroni's API requests (audit log: verb resource[/subresource] code count)"
  python3 - "$W/audit.log" <<'EOF'
import collections, json, sys
seen = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    # A watch only completes when it ends: count it when it starts.
    if e.get("stage") != ("ResponseStarted" if e["verb"] == "watch" else "ResponseComplete"):
        continue
    r = e.get("objectRef", {})
    res = r.get("resource", e.get("requestURI")) + ("/" + r["subresource"] if r.get("subresource") else "")
    seen[(e["verb"], res, e.get("responseStatus", {}).get("code"))] += 1
for (verb, res, code), n in sorted(seen.items()):
    print("  %-7s %-12s %s x%d" % (verb, res, code, n))
EOF
fi

if [ "$hold" -gt 0 ]; then
  log "holding $hold s: ip netns exec $NS curl -k -H 'Authorization: Bearer $ADMIN' $API/... (work dir $W)"
  sleep "$hold"
fi
log "tearing down"
