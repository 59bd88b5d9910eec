import { join } from "node:path";
import { parse, stringify } from "yaml";
import { renderFixture } from "../../common/template.ts";
import type { StartMode } from "../../model/cluster.ts";
import type { Member } from "../../model/record.ts";
import type { TopologyName } from "../../model/scenario.ts";
import { agentArgv } from "../clock.ts";
import { composeTopology } from "../compose.ts";
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
} from "../members.ts";
import type { Parameters } from "../sql.ts";
import type { Deployment, TopologyContext, TopologyKind } from "../topology.ts";
import { ETCD_COMMAND, EtcdCluster } from "./etcd.ts";
import { KUBE_APISERVER_PORT, KubernetesDcs } from "./kube-apiserver.ts";
import { PATRONI_REST_PORT, PatroniClient, type PatroniSource, restSource } from "./patroni-client.ts";
import type { PatroniDcs } from "./patroni-dcs.ts";

/** Patroni over a 3-member etcd cluster (etcd3:), one host per member; the client reads Patroni's REST API. */
class EtcdDcs implements PatroniDcs {
  readonly scope: string;
  private readonly etcd: EtcdCluster;

  constructor(
    private readonly context: TopologyContext,
    readonly names: string[],
  ) {
    this.scope = `pgchaos-${context.runId}`;
    this.etcd = new EtcdCluster(context.backend, context.runId, names);
  }

  async start(): Promise<void> {
    await this.etcd.configure();
    await Promise.all(this.names.map((name) => this.etcd.start(name)));
  }

  startMember(name: string): Promise<void> {
    return this.etcd.start(name);
  }

  stopMember(name: string): Promise<void> {
    return stopGracefully(this.context.backend.member(name), ETCD_COMMAND);
  }

  async patroniConfig(): Promise<{ section: Record<string, unknown>; env: Record<string, string> }> {
    return { section: { etcd3: { hosts: this.etcd.clientUrls() } }, env: {} };
  }

  versions(): Promise<Record<string, string>> {
    return componentVersions(this.context.backend.member(this.names[0] ?? "e1"), { etcd: "/usr/bin/etcd" });
  }

  settings(): Record<string, unknown> {
    return { dcs: "etcd", etcd_members: this.names.length };
  }

  logFiles(member: string): string[] {
    return [processLog(this.context.backend.member(member))];
  }
}

/** A Patroni topology: its DCS members, how to make its DCS, and where its client reads. */
function patroniKind(
  name: Extract<TopologyName, "patroni" | "patroni-k8s">,
  dcsMembers: string[],
  dcsPorts: number[],
  makeDcs: (context: TopologyContext) => PatroniDcs & { readonly source?: PatroniSource },
): TopologyKind {
  const kind: TopologyKind = {
    members: (scenario) => [
      ...nodeNames(scenario.cluster.nodes).map((node) => ({ name: node, kind: "postgres" as const })),
      ...dcsMembers.map((member) => ({ name: member, kind: "dcs" as const })),
    ],
    harnessPorts: [POSTGRES_PORT, PATRONI_REST_PORT, ...dcsPorts],
    create: (context) => {
      const deployment = new PatroniDeployment(context, name, kind, makeDcs(context));
      return composeTopology(deployment.client, deployment);
    },
  };
  return kind;
}

/** Patroni over a 3-member etcd: one host per PostgreSQL node and per etcd member. */
export const patroni = patroniKind(
  "patroni",
  ["e1", "e2", "e3"],
  [],
  (context) => new EtcdDcs(context, ["e1", "e2", "e3"]),
);

/**
 * Patroni on the Kubernetes API as Crunchy PGO runs it (kubernetes: DCS, Endpoints, PGO's labels),
 * its API server on a host of its own, `k8s`; the client reads the lock, members and history there.
 */
export const patroniK8s = patroniKind(
  "patroni-k8s",
  ["k8s"],
  [KUBE_APISERVER_PORT],
  (context) => new KubernetesDcs(context, "k8s"),
);

/** How pgchaos deploys Patroni: configs rendered per member, the DCS and Patroni started as postgres. */
class PatroniDeployment implements Deployment {
  private readonly nodes: string[];
  readonly dcsSettings: Record<string, unknown>;
  readonly client: PatroniClient;
  private readonly agentEnv = new Map<string, Record<string, string>>();

  constructor(
    private readonly context: TopologyContext,
    private readonly name: Extract<TopologyName, "patroni" | "patroni-k8s">,
    private readonly kind: TopologyKind,
    private readonly dcs: PatroniDcs & { readonly source?: PatroniSource },
  ) {
    this.nodes = nodeNames(context.scenario.cluster.nodes);
    this.dcsSettings = this.bootstrapDcs();
    this.client = new PatroniClient(context.backend, this.nodes, {
      login: { password: context.password },
      synchronous: this.dcsSettings.synchronous_mode === true,
      logFiles: (member) => this.logFiles(member),
      source: dcs.source ?? restSource(context.backend, this.nodes),
      name,
    });
  }

  members(): Member[] {
    const { backend, scenario } = this.context;
    return this.kind.members(scenario).map((m) => describeMember(backend, m.name, m.kind));
  }

  /**
   * bootstrap.dcs: the fixture's defaults, the scenario's replication mode, then every key the
   * scenario passes under cluster.ha.<topology>.
   */
  private bootstrapDcs(): Record<string, unknown> {
    const base = parse(renderFixture("patroni/patroni.yml", placeholderValues())) as {
      bootstrap: { dcs: Record<string, unknown> };
    };
    const { cluster } = this.context.scenario;
    const own = (cluster.ha[this.name] ?? {}) as Record<string, unknown>;
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
    await this.dcs.start(this.nodes);
    for (const name of this.nodes) {
      const member = backend.member(name);
      const config = parse(
        renderFixture("patroni/patroni.yml", {
          scope: this.dcs.scope,
          name,
          address: member.address,
          dir: member.dir,
          bin_dir: backend.stack.postgresBin,
          password: this.context.password,
          subnet: backend.subnet,
        }),
      ) as { bootstrap: { dcs: Record<string, unknown> } };
      config.bootstrap.dcs = this.dcsSettings;
      const { section, env } = await this.dcs.patroniConfig(name);
      this.agentEnv.set(name, env);
      await writeConfig(member, "patroni.yml", stringify({ ...config, ...section }));
    }
    await Promise.all(this.nodes.map((name) => this.startMember(name)));
  }

  dataDir(member: string): string {
    return dataDirOf(this.context.backend.member(member));
  }

  readonly agentCommand = /\/usr\/bin\/patroni /;

  async stopMember(member: string): Promise<void> {
    if (this.dcs.names.includes(member)) return this.dcs.stopMember(member);
    await stopGracefully(this.context.backend.member(member), this.agentCommand);
  }

  async startMember(member: string, _mode?: StartMode): Promise<void> {
    if (this.dcs.names.includes(member)) return this.dcs.startMember(member);
    await this.startAgent(member);
  }

  /** Patroni adopts a PostgreSQL that is still running in its data directory. */
  async startAgent(member: string): Promise<void> {
    const host = this.context.backend.member(member);
    const argv = await agentArgv(this.context, host, ["/usr/bin/patroni", join(host.dir, "patroni.yml")]);
    await runAsPostgres(this.context.backend, host, argv, this.agentEnv.get(member));
  }

  /** Patroni owns postgresql.conf: parameters go into its DCS config (PATCH /config), for every member. */
  configure(_member: string, parameters: Parameters): Promise<void> {
    return this.client.patchConfig({ postgresql: { parameters } });
  }

  async versions(): Promise<Record<string, string>> {
    const { backend } = this.context;
    return {
      ...(await componentVersions(backend.member(this.nodes[0] ?? "n1"), {
        postgresql: `${backend.stack.postgresBin}/postgres`,
        patroni: "/usr/bin/patroni",
      })),
      ...(await this.dcs.versions()),
    };
  }

  settings(): Record<string, unknown> {
    return {
      nodes: this.nodes.length,
      ...this.dcs.settings(),
      replication: this.context.scenario.cluster.replication,
      patroni_dcs: this.dcsSettings,
    };
  }

  logFiles(member: string): string[] {
    if (this.dcs.names.includes(member)) return this.dcs.logFiles(member);
    return [processLog(this.context.backend.member(member))];
  }
}

/** Placeholder values used only to read the fixture's bootstrap.dcs defaults. */
function placeholderValues(): Record<string, string> {
  const keys = ["scope", "name", "address", "dir", "bin_dir", "password", "subnet"];
  return Object.fromEntries(keys.map((k) => [k, "x"]));
}
