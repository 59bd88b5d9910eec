import type { StartedBackend } from "../backend/backend.ts";
import { httpRequest } from "../common/http.ts";
import type { StartMode } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { composeTopology } from "../topology/compose.ts";
import { componentVersions } from "../topology/members.ts";
import { PATRONI_REST_PORT, PatroniClient } from "../topology/patroni/patroni-client.ts";
import type { Parameters } from "../topology/sql.ts";
import type { Deployment } from "../topology/topology.ts";
import {
  type AttachContext,
  type AttachedTopology,
  attachedLogin,
  attachedMembers,
  attachedNodes,
  dataDirectories,
  runService,
} from "./attachment.ts";
import type { Component } from "./cluster-file.ts";

/**
 * A Patroni cluster pgchaos did not start: its members are the cluster file's, who leads is what
 * Patroni's REST API says when asked (the shared PatroniClient).
 */
export async function attachPatroni(context: AttachContext): Promise<AttachedTopology> {
  const nodes = attachedNodes(context.cluster);
  const dcs = await readDcsConfig(context.backend, nodes);
  const deployment = new PatroniAttachment(context, nodes, dcs, await dataDirectories(context, nodes));
  return Object.assign(composeTopology(deployment.client, deployment), {
    coordinatorCommand: /(^|[\s/])etcd(\s|$)/,
  });
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
    readonly dataDir: (member: string) => string,
  ) {
    this.client = new PatroniClient(context.backend, nodes, {
      login: attachedLogin(context),
      synchronous: dcs.synchronous_mode === true || dcs.synchronous_mode === "on",
      // The user's Patroni logs where its own config says (often journald): events come from /history.
      logFiles: () => [],
    });
  }

  members(): Member[] {
    return attachedMembers(this.context.cluster);
  }

  /** Nothing to start: the cluster runs already. Only checks that Patroni answers for it. */
  async start(): Promise<void> {
    const status = await this.client.status();
    if (!status.reachable) throw new Error(`${this.context.cluster.file}: ${status.detail}`);
  }

  configure(_member: string, parameters: Parameters): Promise<void> {
    return this.client.patchConfig({ postgresql: { parameters } });
  }

  async stopMember(member: string): Promise<void> {
    await runService(this.context, member, this.componentOf(member), "stop");
  }

  async startMember(member: string, _mode?: StartMode): Promise<void> {
    await runService(this.context, member, this.componentOf(member), "start");
  }

  async startAgent(member: string): Promise<void> {
    await runService(this.context, member, "ha_agent", "start");
  }

  private componentOf(member: string): Component {
    return this.nodes.includes(member) ? "ha_agent" : "dcs";
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
