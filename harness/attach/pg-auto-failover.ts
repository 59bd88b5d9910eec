import type { StartedMember } from "../backend/backend.ts";
import type { StartMode } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { composeTopology } from "../topology/compose.ts";
import { POSTGRES_USER } from "../topology/members.ts";
import { PgAutoFailoverClient } from "../topology/pg-auto-failover/pg-auto-failover-client.ts";
import { type Parameters, alterSystem } from "../topology/sql.ts";
import type { Deployment } from "../topology/topology.ts";
import {
  type AttachContext,
  type AttachedTopology,
  attachedLogin,
  attachedMembers,
  attachedNodes,
  clusterMember,
  dataDirectories,
  memberWithRole,
  runService,
} from "./attachment.ts";
import type { Component } from "./cluster-file.ts";

/**
 * pg_autoctl's supervisor, however it was started (a unit's `ExecStart=/usr/bin/pg_autoctl run`,
 * `pg_autoctl run --pgdata …`), not its workers (`pg_autoctl: node active`, …): a worker outliving
 * a killed supervisor is not a running agent.
 */
const AUTOCTL_RUN = /(^|[\s/])pg_autoctl run(\s|$)/;

/**
 * What in `pg_autoctl run`'s environment tells pg_autoctl where its files are: its config and state
 * live under $XDG_CONFIG_HOME / $XDG_DATA_HOME (default ~/.config, ~/.local/share) by PGDATA.
 */
const LOCATING = ["HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "PGHOST"] as const;

/**
 * A pg_auto_failover formation pgchaos did not start: its nodes are the cluster file's postgres
 * members, its monitor the member with roles [monitor]; who is primary is what the monitor's
 * pgautofailover.node says (the shared PgAutoFailoverClient). Switchover and the formation URI are
 * `pg_autoctl` run on the monitor's host as postgres, against the monitor's own data directory.
 */
export async function attachPgAutoFailover(context: AttachContext): Promise<AttachedTopology> {
  const nodes = attachedNodes(context.cluster);
  const deployment = new PgAutoFailoverAttachment(context, nodes, await dataDirectories(context, nodes));
  return Object.assign(composeTopology(deployment.client, deployment), {
    coordinatorCommand: AUTOCTL_RUN,
  });
}

class PgAutoFailoverAttachment implements Deployment {
  readonly client: PgAutoFailoverClient;
  readonly agentCommand = AUTOCTL_RUN;
  private readonly monitor: string;
  /** The monitor's pgautofailover.* settings in force, read when the run starts (for the RTO bound). */
  private monitorSettings: Record<string, number> = {};
  private monitorPgdata: string | null = null;
  private serviceEnv: Record<string, string> | null = null;

  constructor(
    private readonly context: AttachContext,
    private readonly nodes: string[],
    readonly dataDir: (member: string) => string,
  ) {
    this.monitor = memberWithRole(context.cluster, "monitor").name;
    this.client = new PgAutoFailoverClient(context.backend, this.nodes, {
      login: attachedLogin(context),
      monitor: this.monitor,
      autoctl: (args, timeoutMs) => this.autoctl(args, timeoutMs),
    });
  }

  /**
   * `pg_autoctl <args> --pgdata <the monitor's>` as postgres on the monitor's host. The binary is
   * the packages': Debian's pg-auto-failover-cli installs /usr/bin/pg_autoctl, the PGDG RPMs put it
   * beside postgres, so PostgreSQL's bin directory is searched first. The environment that locates
   * its config is the running monitor's own (a unit's HOME, or an XDG_CONFIG_HOME it was given):
   * pg_autoctl finds nothing under another HOME.
   */
  private async autoctl(args: string[], timeoutMs = 120_000): Promise<string> {
    const { backend } = this.context;
    const host = backend.member(this.monitor);
    this.monitorPgdata ??= await this.monitorDataDirectory();
    this.serviceEnv ??= await locatingEnv(host);
    const env = this.serviceEnv ?? {};
    const result = await host.exec(["pg_autoctl", ...args, "--pgdata", this.monitorPgdata], {
      user: POSTGRES_USER,
      env: {
        LANG: "C.UTF-8",
        PATH: `${backend.stack.postgresBin}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin`,
        ...env,
      },
      timeoutMs,
    });
    if (result.code !== 0) {
      const last = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" | ");
      throw new Error(
        `pg_autoctl ${args.slice(0, 2).join(" ")} on ${this.monitor} exited ${result.code}: ${last}`,
      );
    }
    return result.stdout;
  }

  /**
   * The file's `pgdata:` for the monitor, else what the monitor's PostgreSQL reports, asked on its
   * own database (the file's database is the nodes' application database, which a monitor lacks).
   */
  private async monitorDataDirectory(): Promise<string> {
    const named = clusterMember(this.context.cluster, this.monitor).pgdata;
    if (named) return named;
    const shown = await this.client
      .withMonitor(
        async (client) =>
          (await client.query<{ d: string }>("select current_setting('data_directory') as d")).rows[0]?.d,
      )
      .catch((error: Error) => {
        throw new Error(
          `${this.monitor}: cannot read data_directory (${error.message}): set pgdata: for it in ${this.context.cluster.file}`,
        );
      });
    if (!shown) throw new Error(`${this.monitor}: PostgreSQL reported no data_directory`);
    return shown;
  }

  members(): Member[] {
    return attachedMembers(this.context.cluster);
  }

  /**
   * Nothing to start: the formation runs already. Checks that the monitor answers and that every
   * node it lists is a member of the cluster file (by host, else by name), then reads its settings.
   */
  async start(): Promise<void> {
    const { cluster } = this.context;
    const rows = await this.client.monitorNodes();
    if (!rows)
      throw new Error(
        `${cluster.file}: the monitor ${this.monitor} does not answer (database pg_auto_failover as ${cluster.database.role})`,
      );
    const strangers = rows.filter((row) => !this.nodes.includes(row.nodename));
    if (strangers.length > 0)
      throw new Error(
        `${cluster.file}: the monitor lists ${strangers.map((r) => `${r.nodename} (${r.nodehost})`).join(", ")}, which no postgres member is: give each member the address: the monitor knows it by`,
      );
    this.monitorSettings = await this.client.withMonitor(async (client) => {
      const result = await client.query<{ name: string; setting: string }>(
        "select substr(name, length('pgautofailover.') + 1) as name, setting from pg_settings where name like 'pgautofailover.%'",
      );
      return Object.fromEntries(
        result.rows
          .filter((row) => /^\d+$/.test(row.setting))
          .map((row) => [row.name, Number(row.setting)] as const),
      );
    });
  }

  /** pg_auto_failover leaves PostgreSQL's parameters alone: ALTER SYSTEM on the member itself. */
  configure(member: string, parameters: Parameters): Promise<void> {
    return alterSystem(this.client.endpoint(member), parameters);
  }

  /** The file's command: pg_autoctl stops its PostgreSQL when it stops. */
  async stopMember(member: string): Promise<void> {
    await runService(this.context, member, this.componentOf(member), "stop");
  }

  /** The file's command: `pg_autoctl run` finds a PostgreSQL still running and supervises it again. */
  async startMember(member: string, _mode?: StartMode): Promise<void> {
    await runService(this.context, member, this.componentOf(member), "start");
  }

  async startAgent(member: string): Promise<void> {
    await runService(this.context, member, this.componentOf(member), "start");
  }

  private componentOf(member: string): Component {
    return this.nodes.includes(member) ? "ha_agent" : "dcs";
  }

  async versions(): Promise<Record<string, string>> {
    const { backend } = this.context;
    const first = (name: string, argv: string[]) =>
      backend
        .member(name)
        .exec(argv, { env: { PATH: `${backend.stack.postgresBin}:/usr/local/bin:/usr/bin:/bin` } })
        .then((r) => `${r.stdout}${r.stderr}`.split("\n")[0]?.trim() || "unknown")
        .catch(() => "unknown");
    return {
      postgresql: await first(this.nodes[0] ?? this.monitor, ["postgres", "--version"]),
      pg_auto_failover: await first(this.monitor, ["pg_autoctl", "--version"]),
    };
  }

  settings(): Record<string, unknown> {
    const { cluster, schema } = this.context;
    return {
      attached: cluster.name,
      nodes: this.nodes.length,
      monitor: this.monitor,
      workload_schema: schema,
      pg_auto_failover: this.monitorSettings,
    };
  }

  /** The user's pg_autoctl logs where its service says (journald, often): events come from the monitor. */
  logFiles(): string[] {
    return [];
  }
}

/**
 * The locating part of the environment the host's running `pg_autoctl run` was started with (read
 * from /proc as root); null when none runs (asked again next time), and meanwhile the postgres
 * login's own HOME is used.
 */
async function locatingEnv(host: StartedMember): Promise<Record<string, string> | null> {
  const supervisor = (await host.processes()).find((p) => AUTOCTL_RUN.test(p.command));
  if (!supervisor) return null;
  const read = await host.exec(["cat", `/proc/${supervisor.pid}/environ`]);
  if (read.code !== 0) return null;
  const env: Record<string, string> = {};
  for (const entry of read.stdout.split("\0")) {
    const at = entry.indexOf("=");
    const key = entry.slice(0, at);
    if (at > 0 && (LOCATING as readonly string[]).includes(key)) env[key] = entry.slice(at + 1);
  }
  return env;
}
