import type { StartedMember } from "../backend/backend.ts";
import { pollUntil } from "../common/clock.ts";
import type { StartMode } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { composeTopology } from "../topology/compose.ts";
import { POSTGRES_USER, componentVersions } from "../topology/members.ts";
import { RepmgrClient } from "../topology/repmgr/repmgr-client.ts";
import { type Parameters, alterSystem } from "../topology/sql.ts";
import type { Deployment } from "../topology/topology.ts";
import {
  type AttachContext,
  type AttachedTopology,
  attachedLogin,
  attachedMembers,
  attachedNodes,
  clusterMember,
  runService,
} from "./attachment.ts";
import type { Component } from "./cluster-file.ts";

/** repmgrd, however it is installed (Debian's pg_wrapper execs the versioned binary). */
const REPMGRD = /(^|[\s/])repmgrd(\s|$)/;
/** A postmaster (never its children, whose titles read `postgres: …`). */
const POSTMASTER = /^(\S*\/)?(postgres|postmaster)(\s|$)/;
/** Files in the data directory that pg_rewind would overwrite with the source's (lab pitfall 2). */
const KEPT_CONFIG_FILES = ["postgresql.conf", "postgresql.auto.conf", "pg_hba.conf"];

/** What pgchaos reads from a member's repmgr.conf (repmgr itself refuses to run without these). */
export interface RepmgrConf {
  file: string;
  nodeName: string;
  /** How repmgr reaches the member: its database, user and host (never the workload's login). */
  conninfo: string;
  dataDirectory: string;
  values: Record<string, string>;
}

/**
 * A repmgr cluster pgchaos did not start. Its nodes are the cluster file's postgres members and its
 * witness the one with roles [witness]; who is primary is what the nodes say (the shared
 * RepmgrClient). PostgreSQL and repmgrd are separate services on every member, as repmgr ships
 * them; repmgr commands run as postgres over SSH with each member's own repmgr.conf.
 */
export async function attachRepmgr(context: AttachContext): Promise<AttachedTopology> {
  const { cluster } = context;
  const nodes = attachedNodes(cluster);
  const witnesses = cluster.members.filter((m) => m.roles.includes("witness") && !nodes.includes(m.name));
  if (witnesses.length > 1)
    throw new Error(
      `${cluster.file}: ${witnesses.map((w) => w.name).join(" and ")} both have roles: [witness]; repmgr has one`,
    );
  const witness = witnesses[0]?.name ?? null;
  const confs = new Map<string, RepmgrConf>();
  for (const name of [...nodes, ...(witness ? [witness] : [])])
    confs.set(name, await readRepmgrConf(context, name));
  const deployment = new RepmgrAttachment(context, nodes, witness, confs);
  return Object.assign(composeTopology(deployment.client, deployment), {
    coordinatorCommand: REPMGRD,
    postgresCommand: POSTMASTER,
  });
}

async function readRepmgrConf(context: AttachContext, member: string): Promise<RepmgrConf> {
  const { cluster, backend } = context;
  const file = clusterMember(cluster, member).haConfig;
  const hint = `set ha_config: for ${member} in ${cluster.file}`;
  if (!file) throw new Error(`${member}: no repmgr.conf known: ${hint}`);
  const text = await backend.member(member).readFile(file);
  if (text === null) throw new Error(`${member}: no ${file} on the host: ${hint}`);
  const values = parseRepmgrConf(text);
  const missing = ["node_name", "conninfo", "data_directory"].filter((key) => !values[key]);
  if (missing.length > 0) throw new Error(`${member}: ${file} sets no ${missing.join(", ")}`);
  return {
    file,
    nodeName: values.node_name as string,
    conninfo: values.conninfo as string,
    dataDirectory: clusterMember(cluster, member).pgdata ?? (values.data_directory as string),
    values,
  };
}

/**
 * repmgr.conf's `key = value` lines: values bare or in single quotes (`''` or `\'` for a quote
 * inside), `#` starting a comment outside quotes. The last setting of a key wins, as in repmgr.
 */
export function parseRepmgrConf(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=?\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key, rest] = match as unknown as [string, string, string];
    let value = "";
    if (rest.startsWith("'")) {
      for (let i = 1; i < rest.length; i++) {
        const c = rest[i] as string;
        if ((c === "\\" || (c === "'" && rest[i + 1] === "'")) && i + 1 < rest.length) value += rest[++i];
        else if (c === "'") break;
        else value += c;
      }
    } else value = (rest.split("#")[0] ?? "").trim();
    values[key] = value;
  }
  return values;
}

class RepmgrAttachment implements Deployment {
  readonly client: RepmgrClient;
  readonly agentCommand = REPMGRD;

  constructor(
    private readonly context: AttachContext,
    private readonly nodes: string[],
    private readonly witness: string | null,
    private readonly confs: ReadonlyMap<string, RepmgrConf>,
  ) {
    this.client = new RepmgrClient(context.backend, nodes, {
      login: attachedLogin(context),
      witness,
      repmgr: (member, args, timeoutMs) => this.repmgr(member, args, timeoutMs),
      nodeNames: new Map([...confs].map(([member, conf]) => [member, conf.nodeName])),
    });
  }

  members(): Member[] {
    return attachedMembers(this.context.cluster);
  }

  /** Nothing to start: the cluster runs already. Checks a node answers, and numbers later promotions. */
  async start(): Promise<void> {
    const status = await this.client.status();
    if (!status.reachable) throw new Error(`${this.context.cluster.file}: ${status.detail}`);
    await this.client.anchorTimelines();
  }

  private host(member: string): StartedMember {
    return this.context.backend.member(member);
  }

  private conf(member: string): RepmgrConf {
    const conf = this.confs.get(member);
    if (!conf) throw new Error(`${member} runs no repmgr`);
    return conf;
  }

  private bin(tool: string): string {
    return `${this.context.backend.stack.postgresBin}/${tool}`;
  }

  /** A command as postgres on the member, as an operator runs repmgr (postgres's own HOME, ~/.pgpass, ~/.ssh). */
  private async asPostgres(
    member: string,
    what: string,
    argv: string[],
    timeoutMs = 120_000,
  ): Promise<string> {
    const result = await this.host(member).exec(argv, { user: POSTGRES_USER, timeoutMs });
    if (result.code !== 0) {
      const last = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" | ");
      throw new Error(`${what} on ${member} exited ${result.code}: ${last}`);
    }
    return result.stdout;
  }

  private repmgr(member: string, args: string[], timeoutMs?: number): Promise<string> {
    const { file } = this.conf(member);
    // Named without -d: a conninfo may carry a password.
    const what = `repmgr ${args.filter((a) => !a.includes("=")).join(" ")}`;
    return this.asPostgres(member, what, [this.bin("repmgr"), "-f", file, ...args], timeoutMs);
  }

  /** SQL as repmgr itself connects to `target` (its conninfo), from `member`'s host. */
  private psql(member: string, target: string, sql: string): Promise<string> {
    const argv = [this.bin("psql"), "-d", this.conf(target).conninfo, "-XAtc", sql];
    return this.asPostgres(member, `psql to ${target} (${sql.split(" ")[0]})`, argv);
  }

  /** The component that is repmgrd on this member: the nodes' agent, the witness's coordinator. */
  private agentOf(member: string): Component {
    return this.nodes.includes(member) ? "ha_agent" : "dcs";
  }

  /** The HA manager leaves PostgreSQL's parameters alone: ALTER SYSTEM on the member itself. */
  configure(member: string, parameters: Parameters): Promise<void> {
    return alterSystem(this.client.endpoint(member), parameters);
  }

  dataDir(member: string): string {
    return this.conf(member).dataDirectory;
  }

  /**
   * As the provisioned deployment stops a member: repmgrd first, then PostgreSQL (fast shutdown,
   * through the file's service command), and only done once neither runs — a service command that
   * stopped nothing would turn stop-primary into no fault at all.
   */
  async stopMember(member: string): Promise<void> {
    await runService(this.context, member, this.agentOf(member), "stop");
    await runService(this.context, member, "postgres", "stop");
    const left = await pollUntil(
      async () => {
        const running = (await this.host(member).processes()).filter(
          (p) => POSTMASTER.test(p.command) || REPMGRD.test(p.command),
        );
        return running.length === 0 ? true : undefined;
      },
      60_000,
      250,
    );
    if (!left) {
      const running = (await this.host(member).processes())
        .filter((p) => POSTMASTER.test(p.command) || REPMGRD.test(p.command))
        .map((p) => `${p.pid} ${p.command.slice(0, 80)}`);
      throw new Error(`${member}: still running 60 s after its stop commands: ${running.join("; ")}`);
    }
  }

  /**
   * As the provisioned deployment repairs a member ("repair"): a former primary that another node
   * has replaced rejoins it with `repmgr node rejoin --force-rewind` after a CHECKPOINT on the new
   * primary (lab pitfall 5); any other member starts with the file's command, and a standby still
   * pointing elsewhere follows the primary. "restart" only starts. repmgrd starts last.
   */
  async startMember(member: string, mode: StartMode): Promise<void> {
    const node = this.nodes.includes(member);
    const primary = mode === "repair" && node ? (await this.client.status()).primary : null;
    const other = primary !== null && primary !== member ? primary : null;
    if (other && (await this.wasPrimary(member))) {
      await this.untilRegisteredPrimary(member, other);
      await this.psql(member, other, "checkpoint");
      await this.repmgr(
        member,
        [
          "node",
          "rejoin",
          "-d",
          this.conf(other).conninfo,
          "--force-rewind",
          `--config-files=${(await this.configFilesIn(member)).join(",")}`,
        ],
        180_000,
      );
    } else {
      await runService(this.context, member, "postgres", "start");
      if (other && !(await this.follows(member, other))) {
        await this.untilRegisteredPrimary(member, other);
        await this.repmgr(member, ["standby", "follow", "--wait"], 180_000);
      }
    }
    await this.startAgent(member);
  }

  async startAgent(member: string): Promise<void> {
    await runService(this.context, member, this.agentOf(member), "start");
  }

  /** node rejoin refuses a primary repmgr has not registered as one yet (standby promote does, just after). */
  private async untilRegisteredPrimary(member: string, primary: string): Promise<void> {
    const name = this.conf(primary).nodeName.replaceAll("'", "''");
    const registered = await pollUntil(
      async () => {
        const type = await this.psql(
          member,
          primary,
          `select type from repmgr.nodes where node_name = '${name}'`,
        ).catch(() => "");
        return type.trim() === "primary" ? true : undefined;
      },
      60_000,
      500,
    );
    if (!registered) throw new Error(`repmgr never registered ${primary} as the primary within 60s`);
  }

  /** A data directory without standby.signal (recovery.conf before PostgreSQL 12) was a primary's. */
  private async wasPrimary(member: string): Promise<boolean> {
    const dir = this.dataDir(member);
    const result = await this.host(member).exec([
      "sh",
      "-c",
      'test -e "$1/standby.signal" || test -e "$1/recovery.conf"',
      "sh",
      dir,
    ]);
    return result.code !== 0;
  }

  /** Whether the standby's primary_conninfo (written by repmgr) names the primary's host. */
  private async follows(member: string, primary: string): Promise<boolean> {
    if (await this.wasPrimary(member)) return false;
    const dir = this.dataDir(member);
    const auto = (await this.host(member).readFile(`${dir}/postgresql.auto.conf`)) ?? "";
    const recovery = (await this.host(member).readFile(`${dir}/recovery.conf`)) ?? "";
    const conninfo = `${auto}\n${recovery}`.match(/^primary_conninfo\s*=\s*'(.*)'\s*$/m)?.[1] ?? "";
    const hostOf = (text: string) => /(?:^|\s)host=([^\s']+)/.exec(text)?.[1];
    const wanted = [hostOf(this.conf(primary).conninfo), this.host(primary).address];
    return wanted.includes(hostOf(conninfo));
  }

  /** The configuration files pg_rewind must not take from the new primary: those the data directory holds. */
  private async configFilesIn(member: string): Promise<string[]> {
    const script = 'dir=$1; shift; for f in "$@"; do [ -e "$dir/$f" ] && echo "$f"; done; exit 0';
    const listed = await this.host(member).exec([
      "sh",
      "-c",
      script,
      "sh",
      this.dataDir(member),
      ...KEPT_CONFIG_FILES,
    ]);
    return listed.stdout.split("\n").filter(Boolean);
  }

  async versions(): Promise<Record<string, string>> {
    return componentVersions(this.host(this.nodes[0] ?? ""), {
      postgresql: this.bin("postgres"),
      repmgr: this.bin("repmgr"),
    }).catch(() => ({}));
  }

  settings(): Record<string, unknown> {
    const { cluster, schema } = this.context;
    const keys = [
      "failover",
      "reconnect_attempts",
      "reconnect_interval",
      "monitor_interval_secs",
      "priority",
    ];
    return {
      attached: cluster.name,
      nodes: this.nodes.length,
      witness: this.witness !== null,
      workload_schema: schema,
      repmgr: Object.fromEntries(
        [...this.confs].map(([member, conf]) => [
          member,
          Object.fromEntries(keys.filter((k) => k in conf.values).map((k) => [k, conf.values[k]])),
        ]),
      ),
    };
  }

  /** The user's repmgr logs where its own config says: events come from repmgr.events. */
  logFiles(): string[] {
    return [];
  }
}
