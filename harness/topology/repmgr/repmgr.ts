import { join } from "node:path";
import type { StartedMember } from "../../backend/backend.ts";
import { pollUntil } from "../../common/clock.ts";
import { renderFixture } from "../../common/template.ts";
import type { StartMode } from "../../model/cluster.ts";
import type { Member } from "../../model/record.ts";
import { agentArgv } from "../clock.ts";
import { composeTopology } from "../compose.ts";
import {
  POSTGRES_PORT,
  POSTGRES_USER,
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
  writeConfig,
} from "../members.ts";
import { openShellAccess } from "../shell-access.ts";
import { type Parameters, alterSystem, withConnection } from "../sql.ts";
import type { Deployment, TopologyContext, TopologyKind } from "../topology.ts";
import { RepmgrClient } from "./repmgr-client.ts";

export const WITNESS = "witness";

/** repmgr.conf keys a scenario may set under cluster.ha.repmgr (all reloaded by repmgrd on SIGHUP). */
export const REPMGR_SETTINGS = [
  "reconnect_attempts",
  "reconnect_interval",
  "monitor_interval_secs",
  "priority",
  "primary_visibility_consensus",
  "standby_disconnect_on_failover",
  "degraded_monitoring_timeout",
] as const;

/**
 * repmgr with repmgrd on every node and a witness on its own host. PostgreSQL runs under
 * pg_ctl (repmgr's service commands), repmgrd as the HA agent beside it.
 */
export const repmgr: TopologyKind = {
  members: (scenario) => [
    ...nodeNames(scenario.cluster.nodes).map((name) => ({ name, kind: "postgres" as const })),
    { name: WITNESS, kind: "witness" as const },
  ],
  harnessPorts: [POSTGRES_PORT],
  create: (context) => {
    const deployment = new RepmgrDeployment(context);
    return composeTopology(deployment.client, deployment);
  },
};

/** How pgchaos deploys repmgr: initdb and clones, repmgr.conf per member, repmgrd beside each PostgreSQL. */
class RepmgrDeployment implements Deployment {
  private readonly nodes: string[];
  readonly client: RepmgrClient;

  constructor(private readonly context: TopologyContext) {
    this.nodes = nodeNames(context.scenario.cluster.nodes);
    this.client = new RepmgrClient(context.backend, this.nodes, {
      login: { password: context.password },
      witness: WITNESS,
      repmgr: (member, args, timeoutMs) => this.repmgr(member, args, timeoutMs),
    });
  }

  members(): Member[] {
    const { backend, scenario } = this.context;
    return repmgr.members(scenario).map((m) => describeMember(backend, m.name, m.kind));
  }

  postgresMembers(): string[] {
    return this.nodes;
  }

  private host(member: string): StartedMember {
    return this.context.backend.member(member);
  }

  private dir(member: string): string {
    return this.host(member).dir;
  }

  private bin(tool: string): string {
    return `${this.context.backend.stack.postgresBin}/${tool}`;
  }

  private sh(member: string, argv: string[]): Promise<string> {
    return runOnMember(this.context.backend, this.host(member), argv);
  }

  private repmgr(member: string, args: string[], timeoutMs?: number): Promise<string> {
    const conf = join(this.dir(member), "repmgr.conf");
    return runOnMember(this.context.backend, this.host(member), ["/usr/bin/repmgr", "-f", conf, ...args], {
      timeoutMs,
    });
  }

  private psql(member: string, sql: string): Promise<string> {
    return this.sh(member, [
      this.bin("psql"),
      "-h",
      join(this.dir(member), "sock"),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-Atc",
      sql,
    ]);
  }

  private pgCtlStart(member: string): Promise<string> {
    const dir = this.dir(member);
    return this.sh(member, [
      this.bin("pg_ctl"),
      "-D",
      join(dir, "data"),
      "-l",
      join(dir, `${member}-postgres.log`),
      "-o",
      `-p ${POSTGRES_PORT} -k ${join(dir, "sock")}`,
      "-w",
      "start",
    ]);
  }

  private async writeConfig(member: string, nodeId: number, sshOptions: string[]): Promise<void> {
    const dir = this.dir(member);
    const settings = this.context.scenario.cluster.ha.repmgr ?? {};
    const extra = REPMGR_SETTINGS.filter((key) => settings[key] !== undefined).map((key) => {
      const value = settings[key];
      return `${key}=${typeof value === "boolean" ? String(value) : value}`;
    });
    const conf = renderFixture("repmgr/repmgr.conf", {
      node_id: nodeId,
      name: member,
      address: this.host(member).address,
      dir,
      bin_dir: this.context.backend.stack.postgresBin,
      ssh_options: sshOptions.join(" "),
    });
    await writeConfig(this.host(member), "repmgr.conf", `${conf}${extra.join("\n")}\n`);
  }

  private async writeHba(member: string): Promise<void> {
    const hba = renderFixture("repmgr/pg_hba.conf", { subnet: this.context.backend.subnet });
    await writeConfig(this.host(member), join("data", "pg_hba.conf"), hba);
  }

  /** A fresh cluster: initdb + repmgr database on the first node, then the witness. */
  private async initPrimaryLike(member: string): Promise<void> {
    const dir = this.dir(member);
    await this.sh(member, [
      this.bin("initdb"),
      "-D",
      join(dir, "data"),
      "-U",
      "postgres",
      "-A",
      "trust",
      "--data-checksums",
    ]);
    await appendToFile(
      this.host(member),
      join(dir, "data", "postgresql.conf"),
      renderFixture("repmgr/postgresql.conf", {}),
    );
    await this.writeHba(member);
    await this.pgCtlStart(member);
    await this.psql(member, "create user repmgr superuser");
    await this.psql(member, "create database repmgr owner repmgr");
  }

  async start(): Promise<void> {
    const { backend, scenario } = this.context;
    const members = [...this.nodes, WITNESS];
    for (const name of members) await prepareMemberDir(this.host(name), ["sock"]);
    // repmgr's switchover stops and rejoins the old primary (and makes siblings follow) over SSH.
    const sshOptions = await openShellAccess(
      members.map((name) => this.host(name)),
      POSTGRES_USER,
    );
    for (const [index, name] of members.entries())
      await this.writeConfig(name, index + 1, sshOptions.get(name) ?? []);
    const [first, ...standbys] = this.nodes;
    if (!first) throw new Error("repmgr needs at least one node");
    // repmgr does not manage synchronous replication: every node gets the same quorum setting,
    // once there are standbys to satisfy it (before that, every write on the primary would wait).
    const sync =
      scenario.cluster.replication === "sync"
        ? `synchronous_standby_names = 'ANY 1 (${this.nodes.join(", ")})'\n`
        : "";
    await this.initPrimaryLike(first);
    await this.repmgr(first, ["primary", "register"]);
    const source = ["-h", backend.member(first).address, "-U", "repmgr", "-d", "repmgr"];
    // Clones one after another: each takes a fast checkpoint on the primary (lab pitfall 3).
    for (const standby of standbys) {
      await this.repmgr(standby, [...source, "standby", "clone", "--fast-checkpoint"]);
      await appendToFile(this.host(standby), join(this.dir(standby), "data", "postgresql.conf"), sync);
      await this.pgCtlStart(standby);
      await this.repmgr(standby, ["standby", "register"]);
    }
    if (sync) {
      await appendToFile(this.host(first), join(this.dir(first), "data", "postgresql.conf"), sync);
      await this.psql(first, "select pg_reload_conf()");
    }
    await this.initPrimaryLike(WITNESS);
    await this.repmgr(WITNESS, [...source, "witness", "register"]);
    for (const member of [...this.nodes, WITNESS]) await this.startAgent(member);
  }

  readonly agentCommand = /\/repmgrd /;

  /** repmgrd only watches PostgreSQL: it starts beside it, whatever state PostgreSQL is in. */
  async startAgent(member: string): Promise<void> {
    const host = this.host(member);
    const argv = ["/usr/bin/repmgrd", "-f", join(this.dir(member), "repmgr.conf"), "--daemonize=false"];
    await runAsPostgres(this.context.backend, host, await agentArgv(this.context, host, argv));
  }

  /** The HA manager leaves PostgreSQL's parameters alone: ALTER SYSTEM on the member itself. */
  configure(member: string, parameters: Parameters): Promise<void> {
    return alterSystem(this.client.endpoint(member), parameters);
  }

  dataDir(member: string): string {
    return dataDirOf(this.host(member));
  }

  /** repmgrd does not manage PostgreSQL's life: pg_ctl stops it, as repmgr's own service command does. */
  async stopMember(member: string): Promise<void> {
    // pg_ctl fails when PostgreSQL is already down (crashed): stopGracefully still checks that nothing runs.
    await stopGracefully(this.host(member), this.agentCommand, () =>
      this.sh(member, [this.bin("pg_ctl"), "-D", this.dataDir(member), "-m", "fast", "-w", "stop"]).catch(
        () => {},
      ),
    );
  }

  /**
   * "repair" is the HA manager's own repair of a killed member: a former primary that another node
   * has replaced rejoins it with pg_rewind (after a CHECKPOINT on the new primary, lab pitfall 5).
   * "restart", and any other member, simply starts again — a killed primary comes back as a primary.
   */
  async startMember(member: string, mode: StartMode): Promise<void> {
    const primary = mode === "repair" ? (await this.client.status()).primary : null;
    if (member !== WITNESS && primary && primary !== member && (await this.wasPrimary(member))) {
      // `standby promote` records the new primary in repmgr.nodes just after PostgreSQL promoted;
      // node rejoin refuses a primary not registered as one, so wait for repmgr to finish.
      await this.untilRegisteredPrimary(primary);
      await withConnection(this.client.endpoint(primary), (client) => client.query("checkpoint"));
      await this.repmgr(member, [
        "node",
        "rejoin",
        "-d",
        `host=${this.host(primary).address} user=repmgr dbname=repmgr`,
        "--force-rewind",
        "--config-files=postgresql.conf,postgresql.auto.conf,pg_hba.conf",
      ]);
    } else {
      await this.pgCtlStart(member);
      // A standby that went down with its primary comes back still pointing at it: the operator's
      // repair is `standby follow` of whoever is primary now (otherwise it cascades from a standby).
      if (member !== WITNESS && primary && primary !== member && !(await this.follows(member, primary))) {
        await this.untilRegisteredPrimary(primary);
        await this.repmgr(member, ["standby", "follow", "--wait"]);
      }
    }
    await this.startAgent(member);
  }

  private async untilRegisteredPrimary(primary: string): Promise<void> {
    const isRegistered = () =>
      withConnection({ ...this.client.endpoint(primary), database: "repmgr" }, async (client) => {
        const result = await client.query<{ type: string }>(
          "select type from repmgr.nodes where node_name = $1",
          [primary],
        );
        return result.rows[0]?.type === "primary";
      }).catch(() => false);
    const registered = await pollUntil(async () => ((await isRegistered()) ? true : undefined), 60_000);
    if (!registered) throw new Error(`repmgr never registered ${primary} as the primary within 60s`);
  }

  /** Whether a standby's primary_conninfo (written by repmgr in postgresql.auto.conf) names this primary. */
  private async follows(member: string, primary: string): Promise<boolean> {
    if (await this.wasPrimary(member)) return false;
    const auto = (await this.host(member).readFile(join(this.dataDir(member), "postgresql.auto.conf"))) ?? "";
    const conninfo = auto.match(/^primary_conninfo = '(.*)'$/m)?.[1] ?? "";
    return new RegExp(`\\bhost=${this.host(primary).address.replaceAll(".", "\\.")}\\b`).test(conninfo);
  }

  /** A data directory without standby.signal belonged to a primary when it stopped. */
  private async wasPrimary(member: string): Promise<boolean> {
    const result = await this.host(member).exec([
      "test",
      "-e",
      join(this.dir(member), "data", "standby.signal"),
    ]);
    return result.code !== 0;
  }

  versions(): Promise<Record<string, string>> {
    return componentVersions(this.host(WITNESS), {
      postgresql: this.bin("postgres"),
      repmgr: "/usr/bin/repmgr",
    });
  }

  settings(): Record<string, unknown> {
    return {
      nodes: this.nodes.length,
      witness: true,
      replication: this.context.scenario.cluster.replication,
      repmgr: this.context.scenario.cluster.ha.repmgr ?? {},
    };
  }

  logFiles(member: string): string[] {
    const dir = this.dir(member);
    return [
      processLog(this.host(member)),
      join(dir, `${member}-repmgrd.log`),
      join(dir, `${member}-postgres.log`),
    ];
  }
}
