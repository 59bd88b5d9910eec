import { join } from "node:path";
import type { StartedMember } from "../../backend/backend.ts";
import { pollUntil } from "../../common/clock.ts";
import type { StartMode } from "../../model/cluster.ts";
import type { Member } from "../../model/record.ts";
import { agentArgv } from "../clock.ts";
import { composeTopology } from "../compose.ts";
import {
  POSTGRES_PORT,
  appendToFile,
  componentVersions,
  dataDirOf,
  describeMember,
  nodeNames,
  prepareMemberDir,
  processLog,
  runAsPostgres,
  runOnMember,
  stopGracefully,
} from "../members.ts";
import { type Parameters, alterSystem } from "../sql.ts";
import type { Deployment, TopologyContext, TopologyKind } from "../topology.ts";
import { PgAutoFailoverClient } from "./pg-auto-failover-client.ts";

export const MONITOR = "monitor";
const NODE_READY_TIMEOUT_MS = 120_000;

/** Monitor GUCs (pgautofailover.*) a scenario may set; all are sighup in 2.0, applied with ALTER SYSTEM. */
export const MONITOR_SETTINGS = [
  "health_check_period",
  "health_check_timeout",
  "health_check_max_retries",
  "health_check_retry_delay",
  "node_considered_unhealthy_timeout",
  "primary_demote_timeout",
  "startup_grace_period",
] as const;

/** Keeper settings (pg_autoctl config set timeout.*), set on every node before its keeper starts. */
export const KEEPER_SETTINGS = [
  "network_partition_timeout",
  "prepare_promotion_catchup",
  "prepare_promotion_walreceiver",
  "postgresql_restart_failure_timeout",
] as const;

/**
 * pg_auto_failover: a monitor on its own host and PostgreSQL nodes, each kept running by
 * `pg_autoctl run` as its HA agent. The monitor's tables are the source of roles and events.
 */
export const pgAutoFailover: TopologyKind = {
  members: (scenario) => [
    ...nodeNames(scenario.cluster.nodes).map((name) => ({ name, kind: "postgres" as const })),
    { name: MONITOR, kind: "monitor" as const },
  ],
  harnessPorts: [POSTGRES_PORT],
  create: (context) => {
    const deployment = new PgAutoFailoverDeployment(context);
    return composeTopology(deployment.client, deployment);
  },
};

/** Each member's own environment: hosts may share one filesystem, so sockets and config dirs are per member. */
export function autoctlEnv(member: StartedMember): Record<string, string> {
  const { dir } = member;
  return {
    XDG_CONFIG_HOME: join(dir, ".config"),
    XDG_DATA_HOME: join(dir, ".local"),
    // Makes pg_autoctl start postgres with -k <dir>, away from the shared /var/run/postgresql.
    PG_REGRESS_SOCK_DIR: join(dir, "sock"),
    PGHOST: join(dir, "sock"),
  };
}

/** How pgchaos deploys pg_auto_failover: `pg_autoctl create` on each member, then `pg_autoctl run`. */
class PgAutoFailoverDeployment implements Deployment {
  private readonly nodes: string[];
  private readonly settingsUsed: Record<string, unknown>;
  readonly client: PgAutoFailoverClient;

  constructor(private readonly context: TopologyContext) {
    this.nodes = nodeNames(context.scenario.cluster.nodes);
    this.settingsUsed = { ...(context.scenario.cluster.ha.pg_auto_failover ?? {}) };
    this.client = new PgAutoFailoverClient(context.backend, this.nodes, {
      login: { password: context.password },
      monitor: MONITOR,
      autoctl: (args, timeoutMs) =>
        this.autoctl(MONITOR, [...args, "--pgdata", this.pgdata(MONITOR)], timeoutMs),
    });
  }

  members(): Member[] {
    const { backend, scenario } = this.context;
    return pgAutoFailover.members(scenario).map((m) => describeMember(backend, m.name, m.kind));
  }

  private env(member: string): Record<string, string> {
    return autoctlEnv(this.context.backend.member(member));
  }

  private pgdata(member: string): string {
    return dataDirOf(this.context.backend.member(member));
  }

  private autoctl(member: string, args: string[], timeoutMs = 120_000): Promise<string> {
    const { backend } = this.context;
    return runOnMember(backend, backend.member(member), ["pg_autoctl", ...args], {
      env: this.env(member),
      timeoutMs,
    });
  }

  private monitorUri(): string {
    return `postgres://autoctl_node@${this.context.backend.member(MONITOR).address}:${POSTGRES_PORT}/pg_auto_failover?sslmode=disable`;
  }

  /** The harness reaches every member over the run's own bridge; trust is confined to that subnet. */
  private allowHarness(member: string): Promise<void> {
    const { backend } = this.context;
    const { subnet } = backend;
    return appendToFile(
      backend.member(member),
      join(this.pgdata(member), "pg_hba.conf"),
      `host all all ${subnet} trust # pgchaos harness\nhost replication all ${subnet} trust # pgchaos (pg_rewind)\n`,
    );
  }

  async start(): Promise<void> {
    const { backend } = this.context;
    for (const name of [MONITOR, ...this.nodes]) await prepareMemberDir(backend.member(name), ["sock"]);
    const address = (m: string) => backend.member(m).address;
    await this.autoctl(MONITOR, [
      "create",
      "monitor",
      "--pgdata",
      this.pgdata(MONITOR),
      "--pgport",
      String(POSTGRES_PORT),
      "--hostname",
      address(MONITOR),
      "--auth",
      "trust",
      "--no-ssl",
    ]);
    await this.allowHarness(MONITOR);
    await this.startMember(MONITOR);
    await pollUntil(async () => ((await this.client.monitorNodes()) ? true : undefined), 30_000);
    await this.applyMonitorSettings();

    const [first, ...others] = this.nodes;
    if (!first) throw new Error("pg_auto_failover needs at least one node");
    await this.createNode(first);
    await this.allowHarness(first);
    await this.startMember(first);
    await this.waitForState(first, ["single"]);
    // Secondaries are cloned from the first node and start with its pg_hba.conf.
    for (const node of others) {
      await this.createNode(node);
      await this.startMember(node);
    }
  }

  private async createNode(node: string): Promise<void> {
    const { backend, scenario } = this.context;
    const settings = scenario.cluster.ha.pg_auto_failover ?? {};
    const { dir } = backend.member(node);
    await this.autoctl(node, [
      "create",
      "postgres",
      "--pgdata",
      this.pgdata(node),
      "--pgport",
      String(POSTGRES_PORT),
      "--pghost",
      join(dir, "sock"),
      "--hostname",
      backend.member(node).address,
      "--name",
      node,
      "--dbname",
      "postgres",
      "--auth",
      "trust",
      "--no-ssl",
      "--pg-hba-lan",
      // Replication quorum is set at creation: `pg_autoctl set node replication-quorum` is broken in Debian's 2.0.
      "--replication-quorum",
      scenario.cluster.replication === "sync" ? "true" : "false",
      "--candidate-priority",
      String(settings.candidate_priority ?? 50),
      "--monitor",
      this.monitorUri(),
    ]);
    for (const key of KEEPER_SETTINGS) {
      const value = settings[key];
      if (value === undefined) continue;
      await this.autoctl(node, [
        "config",
        "set",
        "--pgdata",
        this.pgdata(node),
        `timeout.${key}`,
        String(value),
      ]);
    }
  }

  private async applyMonitorSettings(): Promise<void> {
    const settings = this.context.scenario.cluster.ha.pg_auto_failover ?? {};
    const statements = MONITOR_SETTINGS.filter((key) => settings[key] !== undefined).map(
      (key) => `alter system set pgautofailover.${key} = ${Number(settings[key])}`,
    );
    if (statements.length === 0) return;
    await this.client.withMonitor(async (client) => {
      for (const statement of statements) await client.query(statement);
      await client.query("select pg_reload_conf()");
    });
  }

  private async waitForState(node: string, states: string[]): Promise<void> {
    const reached = await pollUntil(async () => {
      const row = (await this.client.monitorNodes())?.find((n) => n.nodename === node);
      return row && states.includes(row.reportedstate) && row.reportedstate === row.goalstate
        ? true
        : undefined;
    }, NODE_READY_TIMEOUT_MS);
    if (!reached) throw new Error(`pg_auto_failover node ${node} did not reach ${states.join("/")}`);
  }

  /** The HA manager leaves PostgreSQL's parameters alone: ALTER SYSTEM on the member itself. */
  configure(member: string, parameters: Parameters): Promise<void> {
    return alterSystem(this.client.endpoint(member), parameters);
  }

  dataDir(member: string): string {
    return this.pgdata(member);
  }

  readonly agentCommand = /^pg_autoctl /;

  async stopMember(member: string): Promise<void> {
    await stopGracefully(this.context.backend.member(member), this.agentCommand);
  }

  async startMember(member: string, _mode?: StartMode): Promise<void> {
    await this.startAgent(member);
  }

  /** `pg_autoctl run` finds a PostgreSQL still running in its data directory and supervises it again. */
  async startAgent(member: string): Promise<void> {
    const { backend } = this.context;
    const host = backend.member(member);
    const argv = await agentArgv(this.context, host, ["pg_autoctl", "run", "--pgdata", this.pgdata(member)]);
    await runAsPostgres(backend, host, argv, this.env(member));
  }

  versions(): Promise<Record<string, string>> {
    const { backend } = this.context;
    return componentVersions(backend.member(MONITOR), {
      postgresql: `${backend.stack.postgresBin}/postgres`,
      pg_auto_failover: "/usr/bin/pg_autoctl",
    });
  }

  settings(): Record<string, unknown> {
    return {
      nodes: this.nodes.length,
      replication: this.context.scenario.cluster.replication,
      replication_quorum: this.context.scenario.cluster.replication === "sync",
      pg_auto_failover: this.settingsUsed,
    };
  }

  logFiles(member: string): string[] {
    return [processLog(this.context.backend.member(member))];
  }
}
