import type { StartedBackend } from "../backend/backend.ts";
import { httpRequest } from "../common/http.ts";
import type { Member } from "../run/record.ts";
import { composeTopology } from "../topology/compose.ts";
import { componentVersions } from "../topology/members.ts";
import { PATRONI_REST_PORT, PatroniClient } from "../topology/patroni-client.ts";
import type { Parameters } from "../topology/sql.ts";
import type { Deployment, StartMode, Topology } from "../topology/topology.ts";
import type { ClusterFile, ClusterMember, Component } from "./cluster-file.ts";

/**
 * A Patroni cluster pgchaos did not start: its members are the cluster file's, who leads is what
 * Patroni's REST API says when asked (the shared PatroniClient), and a member stops and starts
 * through the file's `services` commands run on its host — never by spawning anything of pgchaos's.
 */
export interface AttachContext {
  backend: StartedBackend;
  cluster: ClusterFile;
  /** The workload role's password (password_env or ~/.pgpass). */
  password: string;
  /** The run's own schema, first on every session's search_path: the workload's tables go there. */
  schema: string;
}

export async function attachPatroni(context: AttachContext): Promise<Topology> {
  const nodes = context.cluster.members.filter((m) => m.roles.includes("postgres")).map((m) => m.name);
  const dcs = await readDcsConfig(context.backend, nodes);
  const deployment = new PatroniAttachment(context, nodes, dcs);
  return composeTopology(deployment.client, deployment);
}

/** The cluster's own DCS config (GET /config from any node): whether it runs synchronous_mode. */
async function readDcsConfig(backend: StartedBackend, nodes: string[]): Promise<Record<string, unknown>> {
  const errors: string[] = [];
  for (const node of nodes) {
    const { host, port } = backend.member(node).endpoint(PATRONI_REST_PORT);
    try {
      const answer = await httpRequest(`http://${host}:${port}/config`, { timeoutMs: 3000 });
      if (answer.status === 200) return JSON.parse(answer.body) as Record<string, unknown>;
      errors.push(`${node}: HTTP ${answer.status}`);
    } catch (error) {
      errors.push(`${node}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    `no Patroni REST API answered GET /config on port ${PATRONI_REST_PORT} (${errors.join("; ")})`,
  );
}

class PatroniAttachment implements Deployment {
  readonly client: PatroniClient;
  /** Patroni's process, however it is installed (/usr/bin/patroni, a virtualenv's, patroni.py). */
  readonly agentCommand = /(^|[\s/])patroni(\.py)?(\s|$)/;

  constructor(
    private readonly context: AttachContext,
    private readonly nodes: string[],
    private readonly dcs: Record<string, unknown>,
  ) {
    const { cluster, password, schema } = context;
    this.client = new PatroniClient(context.backend, nodes, {
      password,
      synchronous: dcs.synchronous_mode === true || dcs.synchronous_mode === "on",
      // The user's Patroni logs where its own config says (often journald): events come from /history.
      logFiles: () => [],
      login: { user: cluster.database.role, database: cluster.database.name },
      sessionOptions: `-c search_path=${schema}`,
    });
  }

  members(): Member[] {
    return this.context.cluster.members.map((m) => ({
      name: m.name,
      kind: m.roles.includes("postgres") ? "postgres" : "dcs",
      address: m.address,
    }));
  }

  /** Nothing to start: the cluster runs already. Only checks that Patroni answers for it. */
  async start(): Promise<void> {
    const status = await this.client.status();
    if (!status.reachable) throw new Error(`${this.context.cluster.file}: ${status.detail}`);
  }

  dataDir(member: string): string {
    throw new Error(`${member}: the data directory of an attached cluster is not known yet (pg_ctl faults)`);
  }

  configure(_member: string, parameters: Parameters): Promise<void> {
    return this.client.patchConfig({ postgresql: { parameters } });
  }

  async stopMember(member: string): Promise<void> {
    await this.service(member, this.componentOf(member), "stop");
  }

  async startMember(member: string, _mode?: StartMode): Promise<void> {
    await this.service(member, this.componentOf(member), "start");
  }

  async startAgent(member: string): Promise<void> {
    await this.service(member, "ha_agent", "start");
  }

  private componentOf(member: string): Component {
    return this.nodes.includes(member) ? "ha_agent" : "dcs";
  }

  /** The cluster file's command for this member, run by the host's shell as root (sudo -n when asked). */
  private async service(member: string, component: Component, verb: "stop" | "start"): Promise<void> {
    const command = this.clusterMember(member).services[component][verb];
    const result = await this.context.backend
      .member(member)
      .exec(["sh", "-c", command], { timeoutMs: 120_000 });
    if (result.code !== 0) {
      const last = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-2).join(" | ");
      throw new Error(`${component} ${verb} on ${member} (${command}) exited ${result.code}: ${last}`);
    }
  }

  private clusterMember(name: string): ClusterMember {
    const found = this.context.cluster.members.find((m) => m.name === name);
    if (!found) throw new Error(`no member ${name} in ${this.context.cluster.file}`);
    return found;
  }

  async versions(): Promise<Record<string, string>> {
    const { backend } = this.context;
    const node = backend.member(this.nodes[0] ?? "");
    return componentVersions(node, {
      postgresql: `${backend.stack.postgresBin}/postgres`,
      patroni: "patroni",
    }).catch(() => ({}));
  }

  settings(): Record<string, unknown> {
    const { cluster, schema } = this.context;
    return {
      attached: cluster.name,
      nodes: this.nodes.length,
      dcs_members: cluster.members.filter((m) => m.roles.includes("dcs")).length,
      workload_schema: schema,
      patroni_dcs: this.dcs,
    };
  }

  logFiles(): string[] {
    return [];
  }
}
