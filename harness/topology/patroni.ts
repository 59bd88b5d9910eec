import { join } from "node:path";
import { parse, stringify } from "yaml";
import { renderFixture } from "../common/template.ts";
import type { Member } from "../run/record.ts";
import { agentArgv } from "./clock.ts";
import { composeTopology } from "./compose.ts";
import { EtcdCluster } from "./etcd.ts";
import {
  POSTGRES_PORT,
  componentVersions,
  dataDirOf,
  describeMember,
  nodeNames,
  processLog,
  runAsPostgres,
  stopGracefully,
  writeConfig,
} from "./members.ts";
import { PATRONI_REST_PORT, PatroniClient } from "./patroni-client.ts";
import type { Parameters } from "./sql.ts";
import type { Deployment, StartMode, TopologyContext, TopologyKind } from "./topology.ts";

const ETCD_NAMES = ["e1", "e2", "e3"];

/** Patroni over a 3-member etcd: one host per PostgreSQL node and per etcd member. */
export const patroni: TopologyKind = {
  members: (scenario) => [
    ...nodeNames(scenario.cluster.nodes).map((name) => ({ name, kind: "postgres" as const })),
    ...ETCD_NAMES.map((name) => ({ name, kind: "dcs" as const })),
  ],
  harnessPorts: [POSTGRES_PORT, PATRONI_REST_PORT],
  create: (context) => {
    const deployment = new PatroniDeployment(context);
    return composeTopology(deployment.client, deployment);
  },
};

/** How pgchaos deploys Patroni: configs rendered per member, etcd and Patroni started as postgres. */
class PatroniDeployment implements Deployment {
  private readonly nodes: string[];
  private readonly etcd: EtcdCluster;
  readonly dcs: Record<string, unknown>;
  readonly client: PatroniClient;

  constructor(private readonly context: TopologyContext) {
    this.nodes = nodeNames(context.scenario.cluster.nodes);
    this.etcd = new EtcdCluster(context.backend, context.runId, ETCD_NAMES);
    this.dcs = this.dcsSettings();
    this.client = new PatroniClient(context.backend, this.nodes, {
      login: { password: context.password },
      synchronous: this.dcs.synchronous_mode === true,
      logFiles: (member) => this.logFiles(member),
    });
  }

  members(): Member[] {
    const { backend, scenario } = this.context;
    return patroni.members(scenario).map((m) => describeMember(backend, m.name, m.kind));
  }

  /** bootstrap.dcs: the fixture's defaults, the scenario's replication mode, then every key the scenario passes. */
  private dcsSettings(): Record<string, unknown> {
    const base = parse(renderFixture("patroni/patroni.yml", placeholderValues())) as {
      bootstrap: { dcs: Record<string, unknown> };
    };
    const { cluster } = this.context.scenario;
    const own = cluster.ha.patroni ?? {};
    // postgresql.parameters merge into the fixture's (wal_level, hot_standby…) rather than replace them.
    const parameters = (dcs: Record<string, unknown>) =>
      (dcs.postgresql as { parameters?: Record<string, unknown> } | undefined)?.parameters ?? {};
    const postgresql = {
      ...((base.bootstrap.dcs.postgresql as Record<string, unknown> | undefined) ?? {}),
      ...((own.postgresql as Record<string, unknown> | undefined) ?? {}),
      parameters: { ...parameters(base.bootstrap.dcs), ...parameters(own) },
    };
    return {
      ...base.bootstrap.dcs,
      synchronous_mode: cluster.replication === "sync",
      ...own,
      postgresql,
    };
  }

  async start(): Promise<void> {
    const { backend } = this.context;
    await this.etcd.configure();
    for (const name of this.nodes) {
      const member = backend.member(name);
      const config = parse(
        renderFixture("patroni/patroni.yml", {
          run_id: this.context.runId,
          name,
          address: member.address,
          etcd_hosts: this.etcd.clientUrls(),
          dir: member.dir,
          bin_dir: backend.stack.postgresBin,
          password: this.context.password,
          subnet: backend.subnet,
        }),
      ) as { bootstrap: { dcs: Record<string, unknown> } };
      config.bootstrap.dcs = this.dcs;
      await writeConfig(member, "patroni.yml", stringify(config));
    }
    await Promise.all(this.etcd.names.map((name) => this.etcd.start(name)));
    await Promise.all(this.nodes.map((name) => this.startMember(name)));
  }

  dataDir(member: string): string {
    return dataDirOf(this.context.backend.member(member));
  }

  readonly agentCommand = /\/usr\/bin\/patroni /;

  async stopMember(member: string): Promise<void> {
    await stopGracefully(this.context.backend.member(member), this.agentCommand);
  }

  async startMember(member: string, _mode?: StartMode): Promise<void> {
    if (this.etcd.names.includes(member)) return this.etcd.start(member);
    await this.startAgent(member);
  }

  /** Patroni adopts a PostgreSQL that is still running in its data directory. */
  async startAgent(member: string): Promise<void> {
    const host = this.context.backend.member(member);
    const argv = await agentArgv(this.context, host, ["/usr/bin/patroni", join(host.dir, "patroni.yml")]);
    await runAsPostgres(this.context.backend, host, argv);
  }

  /** Patroni owns postgresql.conf: parameters go into its DCS config (PATCH /config), for every member. */
  configure(_member: string, parameters: Parameters): Promise<void> {
    return this.client.patchConfig({ postgresql: { parameters } });
  }

  async versions(): Promise<Record<string, string>> {
    const { backend } = this.context;
    const [node, dcs] = [this.nodes[0] ?? "n1", this.etcd.names[0] ?? "e1"];
    return {
      ...(await componentVersions(backend.member(node), {
        postgresql: `${backend.stack.postgresBin}/postgres`,
        patroni: "/usr/bin/patroni",
      })),
      ...(await componentVersions(backend.member(dcs), { etcd: "/usr/bin/etcd" })),
    };
  }

  settings(): Record<string, unknown> {
    return {
      nodes: this.nodes.length,
      etcd_members: this.etcd.names.length,
      replication: this.context.scenario.cluster.replication,
      patroni_dcs: this.dcs,
    };
  }

  logFiles(member: string): string[] {
    return [processLog(this.context.backend.member(member))];
  }
}

/** Placeholder values used only to read the fixture's bootstrap.dcs defaults. */
function placeholderValues(): Record<string, string> {
  const keys = ["run_id", "name", "address", "etcd_hosts", "dir", "bin_dir", "password", "subnet"];
  return Object.fromEntries(keys.map((k) => [k, "x"]));
}
