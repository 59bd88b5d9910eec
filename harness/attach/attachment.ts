import type { StartedBackend } from "../backend/backend.ts";
import type { ClientLogin } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import type { TopologyName } from "../model/scenario.ts";
import { postgresEndpoint } from "../topology/members.ts";
import { withConnection } from "../topology/sql.ts";
import type { Topology } from "../topology/topology.ts";
import type { ClusterFile, ClusterMember, Component } from "./cluster-file.ts";

/**
 * What every attach deployment shares: a cluster pgchaos did not start, reached over SSH. Who leads
 * is always asked of the HA manager; a member stops and starts through the cluster file's
 * `services` commands run on its host — never by spawning anything of pgchaos's.
 */
export interface AttachContext {
  backend: StartedBackend;
  cluster: ClusterFile;
  /** The workload role's password (password_env or ~/.pgpass). */
  password: string;
  /** The run's own schema, first on every session's search_path: the workload's tables go there. */
  schema: string;
}

/** An attached cluster's Topology, plus what `pgchaos heal` looks for to tell a component is running. */
export interface AttachedTopology extends Topology {
  /** The `dcs` component's process (etcd; the monitor's pg_autoctl; the witness's repmgrd). */
  readonly coordinatorCommand: RegExp;
  /**
   * The postmaster, where PostgreSQL is a service of its own that the agent does not start
   * (repmgr's, on every member): heal brings a member whose PostgreSQL is down back with
   * startMember(…, "repair"), agent included. Absent: the agent runs PostgreSQL (Patroni, pg_autoctl).
   */
  readonly postgresCommand?: RegExp;
}

/** Builds the Topology of a running cluster of one HA manager from its cluster file. */
export type Attacher = (context: AttachContext) => Promise<AttachedTopology>;

/** The cluster file's role, database and the run's search_path: how every client of an attached run logs in. */
export function attachedLogin({ cluster, password, schema }: AttachContext): ClientLogin {
  return {
    password,
    user: cluster.database.role,
    database: cluster.database.name,
    sessionOptions: `-c search_path=${schema}`,
  };
}

/** Members with the postgres role, in the file's order. */
export function attachedNodes(cluster: ClusterFile): string[] {
  return cluster.members.filter((m) => m.roles.includes("postgres")).map((m) => m.name);
}

/** The one member with this role hint (the monitor, the witness); the schema guarantees it for the monitor. */
export function memberWithRole(cluster: ClusterFile, role: "monitor" | "witness" | "dcs"): ClusterMember {
  const found = cluster.members.find((m) => m.roles.includes(role));
  if (!found) throw new Error(`${cluster.file}: no member has roles: [${role}]`);
  return found;
}

/** The run record's members: the role hints become kinds (a PostgreSQL node wins over a hint). */
export function attachedMembers(cluster: ClusterFile): Member[] {
  return cluster.members.map((m) => ({
    name: m.name,
    kind: m.roles.includes("postgres")
      ? "postgres"
      : m.roles.includes("monitor")
        ? "monitor"
        : m.roles.includes("witness")
          ? "witness"
          : "dcs",
    address: m.address,
  }));
}

export function clusterMember(cluster: ClusterFile, name: string): ClusterMember {
  const found = cluster.members.find((m) => m.name === name);
  if (!found) throw new Error(`no member ${name} in ${cluster.file}`);
  return found;
}

/** The cluster file's command for a component, run by the host's shell as root (sudo -n when asked). */
export async function runService(
  context: AttachContext,
  member: string,
  component: Component,
  verb: "stop" | "start",
): Promise<void> {
  const command = clusterMember(context.cluster, member).services[component][verb];
  const result = await context.backend.member(member).exec(["sh", "-c", command], { timeoutMs: 120_000 });
  if (result.code !== 0) {
    const last = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-2).join(" | ");
    throw new Error(`${component} ${verb} on ${member} (${command}) exited ${result.code}: ${last}`);
  }
}

/**
 * A node's data directory: the cluster file's `pgdata`, else what PostgreSQL itself reports
 * (`data_directory` needs a superuser or pg_read_all_settings; doctor checks it).
 */
export async function dataDirectory(context: AttachContext, member: string): Promise<string> {
  const named = clusterMember(context.cluster, member).pgdata;
  if (named) return named;
  const endpoint = postgresEndpoint(context.backend.member(member), attachedLogin(context));
  const shown = await withConnection(endpoint, async (client) => {
    const result = await client.query<{ data_directory: string }>("show data_directory");
    return result.rows[0]?.data_directory;
  }).catch((error: unknown) => {
    throw new Error(
      `${member}: cannot read data_directory (${(error as Error).message}): set pgdata: for it in ${context.cluster.file}`,
    );
  });
  if (!shown) throw new Error(`${member}: PostgreSQL reported no data_directory`);
  return shown;
}

/**
 * Every node's data directory, read once when the run attaches (Deployment.dataDir is synchronous:
 * crash-postgres reads postmaster.pid there, promote runs pg_ctl on it). A node that cannot say
 * keeps its error, thrown only if a fault needs that directory.
 */
export async function dataDirectories(
  context: AttachContext,
  nodes: string[],
): Promise<(member: string) => string> {
  const found = new Map<string, string | Error>();
  await Promise.all(
    nodes.map(async (node) => {
      found.set(node, await dataDirectory(context, node).catch((error: Error) => error));
    }),
  );
  return (member) => {
    const dir = found.get(member);
    if (dir === undefined) throw new Error(`${member} is not a PostgreSQL member of ${context.cluster.file}`);
    if (dir instanceof Error) throw dir;
    return dir;
  };
}

/**
 * The application's own connection string when the cluster file gives one (entrypoints: kind uri),
 * else the HA manager's: what `entrypoint: uri` writers hand to libpq.
 */
export function withApplicationUri(topology: AttachedTopology, cluster: ClusterFile): AttachedTopology {
  const given = cluster.entrypoints.find((e) => e.kind === "uri");
  if (!given || given.kind !== "uri") return topology;
  // composeTopology's object holds only closures: a copy with one replaced behaves the same.
  return { ...topology, connectionUri: async () => given.uri };
}

export type AttacherRegistry = { readonly [K in TopologyName]: Attacher | null };
