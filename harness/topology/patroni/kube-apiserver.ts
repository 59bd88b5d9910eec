import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { sleep } from "../../common/clock.ts";
import { type KubeApis, createOrKeep, kubeApis, kubeconfigYaml } from "../../common/kubernetes-api.ts";
import {
  POSTGRES_USER,
  componentVersions,
  memberEnv,
  prepareMemberDir,
  processLog,
  runOnMember,
  stopGracefully,
  writeConfig,
} from "../members.ts";
import type { TopologyContext } from "../topology.ts";
import { ETCD_COMMAND, EtcdCluster } from "./etcd.ts";
import type { PatroniSource } from "./patroni-client.ts";
import type { PatroniDcs } from "./patroni-dcs.ts";
import { PatroniKubernetes, type PatroniKubernetesTarget } from "./patroni-kubernetes.ts";

/** The release scripts/build-kube-apiserver.sh builds by default (docs/kube-apiserver-lab.md). */
export const KUBE_VERSION = "v1.37.2";
export const KUBE_APISERVER = join(
  process.env.PGCHAOS_LIB ?? "/usr/local/lib/pgchaos",
  `kube-apiserver-${KUBE_VERSION}`,
);
export const KUBE_APISERVER_PORT = 6443;
const APISERVER_COMMAND = /kube-apiserver/;

/** The Kubernetes namespace the cluster's objects live in, and Crunchy PGO's label keys (internal/naming). */
const NAMESPACE = "pgchaos";
const PGO_CLUSTER_LABEL = "postgres-operator.crunchydata.com/cluster";
const PGO_PATRONI_LABEL = "postgres-operator.crunchydata.com/patroni";
const PGO_ROLE_LABEL = "postgres-operator.crunchydata.com/role";
/** The context every kubeconfig names: Patroni 3.0.2 ignores current-context (its default is "kind-kind"). */
const CONTEXT = "pgchaos";
const PATRONI_USER = "pgchaos-patroni";
/** The first address of --service-cluster-ip-range: the `kubernetes` Service's ClusterIP. */
const SERVICE_RANGE = "10.96.0.0/24";
const SERVICE_IP = "10.96.0.1";

/** The Role Crunchy PGO gives Patroni in Endpoints mode (internal/patroni/rbac.go). */
const PATRONI_RULES = [
  {
    apiGroups: [""],
    resources: ["endpoints"],
    verbs: ["create", "deletecollection", "get", "list", "patch", "watch"],
  },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "patch", "watch"] },
  { apiGroups: [""], resources: ["services"], verbs: ["create"] },
];

/**
 * A CA ($3-ca: the run's name), the API server's serving certificate (the member's address, the Service IP, the usual
 * names) and the service-account key pair, made with openssl inside the member, into its own
 * directory: nothing of a run's PKI lives outside the run's work directory.
 */
const PKI_SCRIPT = `set -e
cd "$1"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$3-ca" -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:${SERVICE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\\nextendedKeyUsage=serverAuth\\n' "$2" >apiserver.ext
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null`;

/**
 * Patroni's DCS on a real Kubernetes API, as Crunchy PGO runs it: one member, `k8s`, running
 * Debian's etcd 3.4 and a kube-apiserver built here (scripts/build-kube-apiserver.sh) that listens
 * on the member's address only, with RBAC, a static token per client and certificates made per
 * run. No kubelet, scheduler or controller-manager: each Patroni member gets a Pending placeholder
 * Pod named after it, which is all Patroni needs (it keeps its state in the Pod's annotations).
 */
export class KubernetesDcs implements PatroniDcs {
  readonly names: string[];
  readonly cluster: string;
  readonly scope: string;
  private readonly etcd: EtcdCluster;
  private readonly tokens = { admin: token(), patroni: token() };
  private caPem: string | null = null;
  private admin: KubeApis | null = null;
  private reader: PatroniKubernetes | null = null;

  constructor(
    private readonly context: TopologyContext,
    private readonly member: string,
  ) {
    this.names = [member];
    // PGO names the scope <cluster>-ha; the run id keeps it apart from any other run's.
    this.cluster = `pgchaos-${context.runId}`;
    this.scope = `${this.cluster}-ha`;
    this.etcd = new EtcdCluster(context.backend, context.runId, [member]);
  }

  private host() {
    return this.context.backend.member(this.member);
  }

  private pki(file: string): string {
    return join(this.host().dir, "pki", file);
  }

  /** What the harness dials: the member's own address, which the serving certificate names. */
  private server(): string {
    const { host, port } = this.host().endpoint(KUBE_APISERVER_PORT);
    return `https://${host}:${port}`;
  }

  /** A kubeconfig for this API server; the CA inline, unless `caFile` names a copy of it. */
  private kubeconfig(token: string, user: string, caFile?: string): string {
    if (this.caPem === null) throw new Error("the Kubernetes API has no CA yet: start() first");
    return kubeconfigYaml({
      server: this.server(),
      ca: caFile ? { file: caFile } : { pem: this.caPem },
      token,
      context: CONTEXT,
      user,
      namespace: NAMESPACE,
    });
  }

  /** Where the cluster's objects are: what the HA client needs, the same shape an attach to PGO gives. */
  target(): PatroniKubernetesTarget {
    return {
      kubeconfig: this.kubeconfig(this.tokens.admin, "pgchaos-admin"),
      namespace: NAMESPACE,
      scope: this.scope,
      labels: { [PGO_CLUSTER_LABEL]: this.cluster },
      scopeLabel: PGO_PATRONI_LABEL,
    };
  }

  async start(nodes: string[]): Promise<void> {
    const host = this.host();
    await prepareMemberDir(host, ["pki"]);
    await runOnMember(this.context.backend, host, [
      "sh",
      "-c",
      PKI_SCRIPT,
      "pki",
      join(host.dir, "pki"),
      host.address,
      // The CA names the run (pgchaos-<run id>-ca), so a copy of it anywhere is traced to its run.
      this.cluster,
    ]);
    this.caPem = await host.readFile(this.pki("ca.crt"));
    if (!this.caPem) throw new Error(`no CA certificate was made on ${this.member}`);
    // token,user,uid,"groups": system:masters is bound to cluster-admin by the bootstrap policy.
    await writeConfig(
      host,
      "tokens.csv",
      `${this.tokens.admin},pgchaos-admin,uid-admin,"system:masters"\n${this.tokens.patroni},${PATRONI_USER},uid-patroni\n`,
    );
    await writeConfig(host, "admin.kubeconfig", this.kubeconfig(this.tokens.admin, "pgchaos-admin"));
    await this.etcd.configure();
    await this.startMember(this.member);
    this.admin = await kubeApis(this.kubeconfig(this.tokens.admin, "pgchaos-admin"));
    await this.waitReady(120_000);
    await this.createObjects(nodes);
    this.reader = await PatroniKubernetes.connect(this.target());
  }

  async startMember(name: string): Promise<void> {
    const host = this.context.backend.member(name);
    await this.etcd.start(name);
    await host.spawn({
      argv: [
        KUBE_APISERVER,
        "--etcd-servers=http://127.0.0.1:2379",
        `--bind-address=${host.address}`,
        `--secure-port=${KUBE_APISERVER_PORT}`,
        `--advertise-address=${host.address}`,
        `--tls-cert-file=${this.pki("apiserver.crt")}`,
        `--tls-private-key-file=${this.pki("apiserver.key")}`,
        `--token-auth-file=${join(host.dir, "tokens.csv")}`,
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${this.pki("sa.pub")}`,
        `--service-account-signing-key-file=${this.pki("sa.key")}`,
        `--service-cluster-ip-range=${SERVICE_RANGE}`,
        `--cert-dir=${join(host.dir, "pki")}`,
        // On SIGTERM the API server stops listening at once, but by default holds its open watches
        // (every Patroni has two) until its 60 s shutdown timeout: a clean stop then took 60 s to end,
        // and a 15 s stop of the DCS became a 75 s outage (run 57a835). Patroni sees the API gone
        // either way, from the moment it stops listening.
        "--shutdown-watch-termination-grace-period=2s",
      ],
      user: POSTGRES_USER,
      cwd: host.dir,
      logFile: this.apiserverLog(),
      env: memberEnv(host, this.context.backend.stack.postgresBin),
    });
  }

  /**
   * A clean stop in the order the API server needs: it first, then its etcd. Stopped together, the
   * API server's shutdown waited on the etcd that was going away and never ended (seen: still
   * running 60 s after SIGTERM).
   */
  async stopMember(name: string): Promise<void> {
    const host = this.context.backend.member(name);
    const running = async (command: RegExp) =>
      (await host.processes()).filter((p) => command.test(p.command));
    await stopGracefully(host, APISERVER_COMMAND, async () => {
      const deadline = Date.now() + 30_000;
      while ((await running(APISERVER_COMMAND)).length > 0 && Date.now() < deadline) {
        await sleep(100);
      }
      for (const etcd of await running(ETCD_COMMAND)) await host.signal(etcd.pid, "SIGTERM");
    });
  }

  private apiserverLog(): string {
    return join(this.host().dir, "kube-apiserver.log");
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.admin?.ready())) {
      if (Date.now() > deadline) {
        const log = ((await this.host().readFile(this.apiserverLog())) ?? "").trim().split("\n").slice(-3);
        throw new Error(
          `kube-apiserver on ${this.member} not ready after ${timeoutMs / 1000} s: ${log.join(" | ")}`,
        );
      }
      await sleep(200);
    }
  }

  /**
   * What PGO's reconciliation would have made before Patroni starts: the namespace, Patroni's Role
   * bound to its user, and a Pod per member. No controller-manager runs, so the namespace's
   * `default` ServiceAccount (which the ServiceAccount admission plugin wants for any Pod) is made here.
   */
  private async createObjects(nodes: string[]): Promise<void> {
    const api = this.admin;
    if (!api) throw new Error("createObjects before the API server runs");
    const namespace = NAMESPACE;
    await createOrKeep(() => api.core.createNamespace({ body: { metadata: { name: namespace } } }));
    await createOrKeep(() =>
      api.rbac.createNamespacedRole({
        namespace,
        body: { metadata: { name: "patroni" }, rules: PATRONI_RULES },
      }),
    );
    await createOrKeep(() =>
      api.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: "patroni" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "patroni" },
          subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: PATRONI_USER }],
        },
      }),
    );
    await createOrKeep(() =>
      api.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "default" } } }),
    );
    for (const node of nodes) {
      await createOrKeep(() =>
        api.core.createNamespacedPod({
          namespace,
          body: {
            metadata: {
              name: node,
              labels: { [PGO_CLUSTER_LABEL]: this.cluster, [PGO_PATRONI_LABEL]: this.scope },
            },
            spec: {
              automountServiceAccountToken: false,
              containers: [{ name: "database", image: "pgchaos.invalid/placeholder" }],
            },
          },
        }),
      );
    }
  }

  /**
   * A node's `kubernetes:` section as PGO writes it (internal/patroni/config.go): its labels,
   * scope and role label, Endpoints for the lock and config, the Pod's IP and PostgreSQL's port; plus
   * the kubeconfig (Patroni's own token, the CA inline) that KUBECONFIG points it at.
   */
  async patroniConfig(
    node: string,
  ): Promise<{ section: Record<string, unknown>; env: Record<string, string> }> {
    const member = this.context.backend.member(node);
    // The CA as a file of the member's own: given certificate-authority-data, Patroni 3.0.2 writes it
    // to a mkstemp file in /tmp that only a clean exit removes (kubernetes.py _create_temp_file), so
    // every killed Patroni left one behind (seen: three per run).
    const caFile = join(member.dir, "kube-ca.crt");
    await writeConfig(member, "kube-ca.crt", this.caPem ?? "");
    await writeConfig(member, "kubeconfig", this.kubeconfig(this.tokens.patroni, PATRONI_USER, caFile));
    return {
      section: {
        kubernetes: {
          context: CONTEXT,
          namespace: NAMESPACE,
          labels: { [PGO_CLUSTER_LABEL]: this.cluster },
          scope_label: PGO_PATRONI_LABEL,
          role_label: PGO_ROLE_LABEL,
          use_endpoints: true,
          pod_ip: member.address,
          ports: [{ name: "postgres", port: 5432 }],
        },
      },
      env: { KUBECONFIG: join(member.dir, "kubeconfig") },
    };
  }

  /** The HA client's reads and writes: this API server's objects, once it runs (its CA is made at start). */
  readonly source: PatroniSource = {
    describe: "Kubernetes API",
    cluster: async () => this.reader?.cluster(),
    history: async () => this.reader?.history(),
    switchover: (leader, candidate) => this.started().switchover(leader, candidate),
    watch: () => this.started().watch(),
    events: () => this.reader?.events() ?? [],
  };

  private started(): PatroniKubernetes {
    if (!this.reader) throw new Error("the Kubernetes API is not started yet");
    return this.reader;
  }

  async versions(): Promise<Record<string, string>> {
    const versions = await componentVersions(this.host(), {
      etcd: "/usr/bin/etcd",
      "kube-apiserver": KUBE_APISERVER,
    });
    return {
      ...versions,
      "kube-apiserver": versions["kube-apiserver"]?.replace(/^Kubernetes\s*/, "") ?? "unknown",
    };
  }

  settings(): Record<string, unknown> {
    return {
      dcs: "kubernetes",
      kubernetes: {
        namespace: NAMESPACE,
        scope: this.scope,
        labels: { [PGO_CLUSTER_LABEL]: this.cluster },
        use_endpoints: true,
        authorization: "RBAC",
      },
    };
  }

  logFiles(member: string): string[] {
    const host = this.context.backend.member(member);
    return [processLog(host), join(host.dir, "kube-apiserver.log")];
  }
}

function token(): string {
  return randomBytes(16).toString("hex");
}
