import { join } from "node:path";
import type { StartedMember } from "../backend/backend.ts";
import { pollUntil } from "../common/clock.ts";
import { renderFixture } from "../common/template.ts";
import type { Member } from "../run/record.ts";
import {
  POSTGRES_USER,
  appendToFile,
  componentVersions,
  dataDirOf,
  describeMember,
  nodeNames,
  postgresEndpoint,
  prepareMemberDir,
  processLog,
  runAsPostgres,
  runOnMember,
  stopGracefully,
  writeConfig,
} from "./members.ts";
import { openShellAccess } from "./shell-access.ts";
import {
  type Parameters,
  alterSystem,
  countStreaming,
  readForkLsn,
  synchronousStandbyAddresses,
  withConnection,
} from "./sql.ts";
import type {
  ClusterStatus,
  HaEvent,
  HaPromotion,
  PostgresEndpoint,
  StartMode,
  Topology,
  TopologyContext,
  TopologyKind,
} from "./topology.ts";
import { multiHostUri } from "./uri.ts";

export const WITNESS = "witness";
const PORT = 5432;

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

interface EventRow {
  ms: number;
  node_name: string | null;
  event: string;
  successful: boolean;
  details: string | null;
}

/**
 * repmgr with repmgrd on every node and a witness on its own host. PostgreSQL runs under
 * pg_ctl (repmgr's service commands), repmgrd as the HA agent beside it.
 */
export const repmgr: TopologyKind = {
  members: (scenario) => [
    ...nodeNames(scenario.cluster.nodes).map((name) => ({ name, kind: "postgres" as const })),
    { name: WITNESS, kind: "witness" as const },
  ],
  create: (context) => new RepmgrTopology(context),
};

class RepmgrTopology implements Topology {
  readonly name = "repmgr";
  private readonly nodes: string[];

  constructor(private readonly context: TopologyContext) {
    this.nodes = nodeNames(context.scenario.cluster.nodes);
  }

  members(): Member[] {
    const { backend } = this.context;
    return [
      ...this.nodes.map((name) => describeMember(backend, name, "postgres")),
      describeMember(backend, WITNESS, "witness"),
    ];
  }

  postgresMembers(): string[] {
    return this.nodes;
  }

  async connectionUri(): Promise<string> {
    return multiHostUri(this.nodes.map((node) => ({ host: this.host(node).address, port: PORT })));
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
      `-p ${PORT} -k ${join(dir, "sock")}`,
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
    for (const member of [...this.nodes, WITNESS]) await this.startRepmgrd(member);
  }

  private async startRepmgrd(member: string): Promise<void> {
    const dir = this.dir(member);
    await runAsPostgres(this.context.backend, this.host(member), [
      "/usr/bin/repmgrd",
      "-f",
      join(dir, "repmgr.conf"),
      "--daemonize=false",
    ]);
  }

  /**
   * "repair" is the HA manager's own repair of a killed member: a former primary that another node
   * has replaced rejoins it with pg_rewind (after a CHECKPOINT on the new primary, lab pitfall 5).
   * "restart", and any other member, simply starts again — a killed primary comes back as a primary.
   */
  /** The HA manager leaves PostgreSQL's parameters alone: ALTER SYSTEM on the member itself. */
  configure(member: string, parameters: Parameters): Promise<void> {
    return alterSystem(this.endpoint(member), parameters);
  }

  dataDir(member: string): string {
    return dataDirOf(this.host(member));
  }

  /** repmgrd does not manage PostgreSQL's life: pg_ctl stops it, as repmgr's own service command does. */
  async stopMember(member: string): Promise<void> {
    // pg_ctl fails when PostgreSQL is already down (crashed): stopGracefully still checks that nothing runs.
    await stopGracefully(this.host(member), /\/repmgrd /, () =>
      this.sh(member, [this.bin("pg_ctl"), "-D", this.dataDir(member), "-m", "fast", "-w", "stop"]).catch(
        () => {},
      ),
    );
  }

  async startMember(member: string, mode: StartMode): Promise<void> {
    const primary = mode === "repair" ? (await this.status()).primary : null;
    if (member !== WITNESS && primary && primary !== member && (await this.wasPrimary(member))) {
      // `standby promote` records the new primary in repmgr.nodes just after PostgreSQL promoted;
      // node rejoin refuses a primary not registered as one, so wait for repmgr to finish.
      await this.untilRegisteredPrimary(primary);
      await withConnection(this.endpoint(primary), (client) => client.query("checkpoint"));
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
    }
    await this.startRepmgrd(member);
  }

  private async untilRegisteredPrimary(primary: string): Promise<void> {
    const isRegistered = () =>
      withConnection({ ...this.endpoint(primary), database: "repmgr" }, async (client) => {
        const result = await client.query<{ type: string }>(
          "select type from repmgr.nodes where node_name = $1",
          [primary],
        );
        return result.rows[0]?.type === "primary";
      }).catch(() => false);
    const registered = await pollUntil(async () => ((await isRegistered()) ? true : undefined), 60_000);
    if (!registered) throw new Error(`repmgr never registered ${primary} as the primary within 60s`);
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

  /**
   * `repmgr standby switchover`, run on the candidate: it pauses every repmgrd, stops the old primary
   * over SSH, promotes, rejoins the old primary and has the other nodes (and the witness) follow.
   * Without a named candidate, the replica that has replayed the most WAL.
   */
  async switchover(candidate: string | null): Promise<void> {
    const target = candidate ?? (await this.mostAdvancedReplica());
    await this.repmgr(target, ["standby", "switchover", "--siblings-follow"], 180_000);
  }

  private async mostAdvancedReplica(): Promise<string> {
    const { replicas } = await this.status();
    const replayed = await Promise.all(
      replicas.map(async (member) => {
        const lsn = (await this.psql(member, "select pg_last_wal_replay_lsn() - '0/0'")).trim();
        return { member, bytes: Number(lsn) || 0 };
      }),
    );
    replayed.sort((a, b) => b.bytes - a.bytes || a.member.localeCompare(b.member));
    const best = replayed[0];
    if (!best) throw new Error("no replica to switch over to");
    return best.member;
  }

  /**
   * repmgr has no single authority: every node that answers is asked whether it is in recovery,
   * and the primary is the writable node most replicas stream from.
   */
  async status(): Promise<ClusterStatus> {
    const writable: { member: string; streaming: number }[] = [];
    const replicas: string[] = [];
    let answered = 0;
    await Promise.all(
      this.nodes.map(async (member) => {
        try {
          const row = await withConnection(
            this.endpoint(member),
            async (client) =>
              (await client.query<{ recovery: boolean }>("select pg_is_in_recovery() as recovery")).rows[0],
          );
          answered += 1;
          if (row?.recovery) replicas.push(member);
          else writable.push({ member, streaming: await countStreaming(this.endpoint(member)) });
        } catch {
          // down or unreachable
        }
      }),
    );
    writable.sort((a, b) => b.streaming - a.streaming || a.member.localeCompare(b.member));
    const primary = writable[0]?.member ?? null;
    // repmgr leaves synchronous replication to PostgreSQL: ask the primary which standbys count.
    const syncAddresses = primary ? await synchronousStandbyAddresses(this.endpoint(primary)) : [];
    const syncStandbys = this.nodes.filter((n) => syncAddresses.includes(this.host(n).address));
    const status = { reachable: answered > 0, primary, syncStandbys, replicas: replicas.sort() };
    if (!primary)
      return { ...status, healthy: false, detail: answered > 0 ? "no writable node" : "no node answers" };
    if (writable.length > 1) {
      return {
        ...status,
        healthy: false,
        detail: `${writable.map((w) => w.member).join(" and ")} are both writable`,
      };
    }
    const streaming = writable[0]?.streaming ?? 0;
    if (streaming < this.nodes.length - 1) {
      return {
        ...status,
        healthy: false,
        detail: `${streaming}/${this.nodes.length - 1} replicas streaming from ${primary}`,
      };
    }
    const witnessUp = await withConnection(this.endpoint(WITNESS), async () => true).catch(() => false);
    if (!witnessUp) return { ...status, healthy: false, detail: "witness down" };
    return { ...status, healthy: true, detail: `primary ${primary}, ${streaming} streaming` };
  }

  private async events(): Promise<EventRow[]> {
    const primary = (await this.status()).primary;
    if (!primary) return [];
    try {
      return await withConnection({ ...this.endpoint(primary), database: "repmgr" }, async (client) => {
        const result = await client.query<EventRow>(
          `select (extract(epoch from e.event_timestamp) * 1000)::float8 as ms, n.node_name, e.event,
                  e.successful, e.details
             from repmgr.events e left join repmgr.nodes n using (node_id) order by e.event_timestamp`,
        );
        return result.rows;
      });
    } catch {
      return [];
    }
  }

  /** Each successful standby_promote creates the next timeline; its fork point is in the history file. */
  async promotions(): Promise<HaPromotion[]> {
    const promotes = (await this.events()).filter((e) => e.event === "standby_promote" && e.successful);
    const primary = (await this.status()).primary;
    const promotions: HaPromotion[] = [];
    for (const [index, event] of promotes.entries()) {
      const timeline = index + 2;
      promotions.push({
        wallMs: event.ms,
        member: event.node_name ?? "?",
        timeline,
        forkLsn: primary ? await readForkLsn(this.endpoint(primary), timeline) : null,
        reason: event.details ?? "",
      });
    }
    return promotions;
  }

  async haEvents(): Promise<HaEvent[]> {
    return (await this.events()).map((e) => ({
      wallMs: e.ms,
      member: e.node_name,
      text: `${e.event}${e.successful ? "" : " (failed)"}: ${e.details ?? ""}`,
    }));
  }

  endpoint(member: string): PostgresEndpoint {
    return postgresEndpoint(this.host(member), this.context.password);
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
