/**
 * The cluster file (`--cluster staging.yaml`): a cluster pgchaos did not start — the user's own
 * hosts, reached over SSH (harness/backend/ssh.ts). It says how to reach each host and how to
 * stop and start each component there; which member is primary, replica or synchronous standby
 * is never written here: it is asked of the HA manager when a step fires.
 *
 * Each HA manager's attach deployment (harness/attach/patroni.ts, pg-auto-failover.ts, repmgr.ts,
 * registered in attachers.ts) works over an SshSession's members (`sshMembers` below): its start()
 * only checks the cluster answers, its client discovers members and history through the HA manager,
 * and stop/start faults run the `services` commands here, gated by `allow_faults` or --yes.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { LineCounter, type Node, isPair, isScalar, isSeq, parseDocument, visit } from "yaml";
import { z } from "zod";
import { DEFAULT_REMOTE_DIR, type SshHost, type SshMemberOptions } from "../backend/ssh.ts";
import { abortRule, writeGapLimitMs } from "../common/abort-rule.ts";
import { UsageError } from "../common/errors.ts";
import { parseYaml, readSource } from "../common/yaml.ts";
import type { TopologyName } from "../model/scenario.ts";

/** Components a member can run, each stopped and started with a command of its own. */
export const COMPONENTS = ["ha_agent", "postgres", "dcs"] as const;
export type Component = (typeof COMPONENTS)[number];

/** Hints about members the HA manager cannot report itself: where its DCS, monitor or witness live. */
export const ROLE_HINTS = ["postgres", "dcs", "monitor", "witness"] as const;
/**
 * The HA managers a cluster file can name: patroni-k8s has no cluster file yet (its client reads a
 * PGO cluster from a kubeconfig, namespace, scope and labels: patroni-kubernetes.ts).
 */
export const ATTACHABLE_TOPOLOGIES = [
  "patroni",
  "pg_auto_failover",
  "repmgr",
] as const satisfies readonly TopologyName[];
export type AttachableTopology = (typeof ATTACHABLE_TOPOLOGIES)[number];

const HINT_TOPOLOGIES: Record<string, readonly TopologyName[]> = {
  dcs: ["patroni"],
  monitor: ["pg_auto_failover"],
  witness: ["repmgr"],
};

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { message: "use lower-case letters, digits, _ and -" });
/** Goes into an ssh_config: no spaces, quotes or a leading dash (it could become another option). */
const sshWord = z
  .string()
  .regex(/^[^\s"\\#-][^\s"\\#]*$/, { message: "no spaces, quotes, # or leading dash" });

const jumpHost = z.union([
  z.string().regex(/^([^\s@:"\\#-][^\s@"\\#]*@)?[^\s@:"\\#-][^\s@:"\\#]*(:\d+)?$/, {
    message: "write [user@]host[:port]",
  }),
  z.strictObject({
    host: sshWord,
    port: z.number().int().min(1).max(65535).optional(),
    user: sshWord.optional(),
    key: z.string().optional().describe("Private key file for the jump host; default: the member's"),
  }),
]);

const commands = z.strictObject({
  stop: z
    .string()
    .min(1)
    .optional()
    .describe("Shell command run as root on the member (sudo -n when sudo: true)"),
  start: z.string().min(1).optional(),
});

const services = z
  .strictObject(
    Object.fromEntries(COMPONENTS.map((c) => [c, commands.optional()])) as Record<
      Component,
      z.ZodOptional<typeof commands>
    >,
  )
  .describe("How to stop and start each component; defaults per HA manager and layout");

const ssh = z.strictObject({
  user: sshWord.optional().describe("Login user; default root"),
  port: z.number().int().min(1).max(65535).optional(),
  key: z
    .string()
    .optional()
    .describe("Private key file (~ allowed, relative to this file); default: the ssh agent"),
  agent: z.boolean().optional().describe("Use the ssh agent (SSH_AUTH_SOCK) rather than a key file"),
  jump: jumpHost.optional().describe("Bastion reached first (ssh -J)"),
  sudo: z
    .boolean()
    .optional()
    .describe("A non-root login: privileged commands run with sudo -n (never a password)"),
  dir: z
    .string()
    .optional()
    .describe(`A directory pgchaos may use on the host; default ${DEFAULT_REMOTE_DIR}`),
  process_users: z
    .array(sshWord)
    .min(1)
    .optional()
    .describe("Unix users whose processes are the system under test; default [postgres, etcd]"),
});

const entrypoint = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("haproxy"), host: sshWord, port: z.number().int().min(1).max(65535) }),
  z.strictObject({ kind: z.literal("pgpool"), host: sshWord, port: z.number().int().min(1).max(65535) }),
  z.strictObject({
    kind: z.literal("uri"),
    uri: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { message: "a postgresql:// URI" })
      .refine((uri) => !/^postgres(ql)?:\/\/[^/@?]*:[^/@?]*@/.test(uri), {
        message: "no password in the URI: use database.password_env or ~/.pgpass",
      })
      .refine((uri) => !/[?&]password=/.test(uri), {
        message: "no password in the URI: use database.password_env or ~/.pgpass",
      }),
  }),
]);

const member = z.strictObject({
  name,
  host: sshWord.describe("Address pgchaos connects to (ssh, PostgreSQL, the HA manager's API)"),
  address: sshWord.optional().describe("Address the other members use for it, when not `host`"),
  roles: z.array(z.enum(ROLE_HINTS)).min(1).optional().describe("Default: [postgres]"),
  ssh: ssh.optional().describe("Overrides the file's ssh: for this member"),
  services: services.optional().describe("Overrides the file's services: for this member"),
  pgdata: z
    .string()
    .regex(/^\//, { message: "an absolute path" })
    .optional()
    .describe("PostgreSQL's data directory on the host; default: what PostgreSQL reports (data_directory)"),
  ha_config: z
    .string()
    .regex(/^\//, { message: "an absolute path" })
    .optional()
    .describe(
      "The HA manager's config file on the host (repmgr.conf); default per layout: /etc/repmgr.conf, /etc/repmgr/<version>/repmgr.conf",
    ),
});

export const clusterSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name,
    description: z.string().optional(),
    ha: z.enum(ATTACHABLE_TOPOLOGIES).describe("The HA manager that runs the cluster"),
    layout: z
      .enum(["debian", "rhel"])
      .default("debian")
      .describe("Package layout, for default service names"),
    postgres_version: z.number().int().min(10).max(99).default(15),
    allow_faults: z
      .boolean()
      .default(false)
      .describe("Nothing that stops, kills or cuts off a member runs unless this is true (or --yes)"),
    abort_if: abortRule.optional(),
    known_hosts: z
      .string()
      .optional()
      .describe(
        "A known_hosts file (~ allowed) every host's key must already be in (StrictHostKeyChecking yes); default: trust on first use, in a file private to the run",
      ),
    ssh: ssh.optional().describe("Defaults for every member"),
    services: services.optional(),
    members: z.array(member).min(1),
    entrypoints: z
      .array(entrypoint)
      .optional()
      .describe("How applications reach the cluster; default: each node"),
    database: z
      .strictObject({
        name: z.string().min(1).default("postgres"),
        role: z
          .string()
          .min(1)
          .describe("The workload's role: it creates its own schema, dropped at the end"),
        password_env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .optional()
          .describe("Environment variable holding the password; without it, ~/.pgpass (libpq's PGPASSFILE)"),
      })
      .describe("Never a password here: password_env names a variable, or libpq reads ~/.pgpass"),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    for (const [index, m] of file.members.entries()) {
      if (seen.has(m.name))
        ctx.addIssue({
          code: "custom",
          path: ["members", index, "name"],
          message: `${m.name} is listed twice`,
        });
      seen.set(m.name, index);
      for (const [at, hint] of (m.roles ?? []).entries()) {
        const allowed = HINT_TOPOLOGIES[hint];
        if (allowed && !allowed.includes(file.ha))
          ctx.addIssue({
            code: "custom",
            path: ["members", index, "roles", at],
            message: `${hint} is a ${allowed.join("/")} role, not ${file.ha}'s`,
          });
      }
      const merged = { ...file.ssh, ...m.ssh };
      if (merged.key !== undefined && merged.agent)
        ctx.addIssue({
          code: "custom",
          path: ["members", index, "ssh"],
          message: "key and agent: pick one",
        });
    }
    const nodes = file.members.filter((m) => (m.roles ?? ["postgres"]).includes("postgres"));
    if (nodes.length === 0)
      ctx.addIssue({ code: "custom", path: ["members"], message: "no member has the postgres role" });
    if (
      file.ha === "pg_auto_failover" &&
      file.members.filter((m) => m.roles?.includes("monitor")).length !== 1
    )
      ctx.addIssue({
        code: "custom",
        path: ["members"],
        message: "pg_auto_failover needs exactly one member with roles: [monitor] (discovery asks it)",
      });
    for (const [index, e] of (file.entrypoints ?? []).entries()) {
      const topologies = ENTRYPOINT_FOR[e.kind];
      if (topologies && !topologies.includes(file.ha))
        ctx.addIssue({
          code: "custom",
          path: ["entrypoints", index, "kind"],
          message: `${e.kind} is not supported with ${file.ha} yet`,
        });
    }
  });

/** Entry points by HA manager, as for provisioned runs (HAProxy checks Patroni's REST API). */
const ENTRYPOINT_FOR: Record<string, readonly TopologyName[]> = {
  haproxy: ["patroni"],
  pgpool: ["pg_auto_failover", "repmgr"],
};

export type ClusterFileInput = z.input<typeof clusterSchema>;
type Parsed = z.output<typeof clusterSchema>;

export interface ClusterMember {
  name: string;
  host: string;
  address: string;
  roles: (typeof ROLE_HINTS)[number][];
  ssh: SshMemberOptions;
  /** Every component's commands, defaults merged with the file's and the member's own. */
  services: Record<Component, { stop: string; start: string }>;
  /** PostgreSQL's data directory when the file names it; null: ask PostgreSQL (SHOW data_directory). */
  pgdata: string | null;
  /** The HA manager's own config file on the host (repmgr's `-f`), the file's or the layout's default. */
  haConfig: string | null;
}

export interface ClusterFile {
  file: string;
  name: string;
  description: string;
  ha: AttachableTopology;
  allowFaults: boolean;
  /** Host keys must be in this file (StrictHostKeyChecking yes); null: trust on first use. */
  knownHosts: string | null;
  /** The file's abort_if write_gap in ms (every run attached to it); null: none. */
  abortWriteGapMs: number | null;
  layout: "debian" | "rhel";
  postgresVersion: number;
  members: ClusterMember[];
  entrypoints: Parsed["entrypoints"] & {};
  database: { name: string; role: string; passwordEnv: string | null };
}

/**
 * Service commands as Debian's and RHEL's packages (and the HA managers' own docs) name them.
 * Patroni runs PostgreSQL itself; pg_autoctl too (its unit from `pg_autoctl show systemd`). `dcs`
 * is the coordination service on a member: Patroni's etcd; the monitor's pg_autoctl; the witness's repmgrd.
 */
export function defaultServices(
  ha: AttachableTopology,
  layout: "debian" | "rhel",
  version: number,
): Record<Component, { stop: string; start: string }> {
  const unit = (name: string) => ({ stop: `systemctl stop ${name}`, start: `systemctl start ${name}` });
  const postgres = layout === "debian" ? `postgresql@${version}-main` : `postgresql-${version}`;
  switch (ha) {
    case "patroni":
      return { ha_agent: unit("patroni"), postgres: unit("patroni"), dcs: unit("etcd") };
    case "pg_auto_failover":
      return {
        ha_agent: unit("pgautofailover"),
        postgres: unit("pgautofailover"),
        dcs: unit("pgautofailover"),
      };
    case "repmgr":
      return {
        ha_agent: unit(layout === "debian" ? "repmgrd" : `repmgr-${version}`),
        postgres: unit(postgres),
        dcs: unit(layout === "debian" ? "repmgrd" : `repmgr-${version}`),
      };
  }
}

/** Where the packages put the HA manager's config file (repmgr's; Patroni's and pg_autoctl's are not read). */
export function defaultHaConfig(
  ha: AttachableTopology,
  layout: "debian" | "rhel",
  version: number,
): string | null {
  switch (ha) {
    case "repmgr":
      return layout === "debian" ? "/etc/repmgr.conf" : `/etc/repmgr/${version}/repmgr.conf`;
    case "patroni":
      return layout === "debian" ? `/etc/patroni/${version}-main.yml` : "/etc/patroni/patroni.yml";
    case "pg_auto_failover":
      return null;
  }
}

export function loadClusterFile(file: string): ClusterFile {
  return parseClusterFile(readSource(file), file);
}

export function parseClusterFile(source: string, file: string): ClusterFile {
  refusePasswords(source, file);
  const { doc } = parseYaml(clusterSchema, source, file);
  const base = resolve(dirname(file));
  const defaults = defaultServices(doc.ha, doc.layout, doc.postgres_version);
  const members = doc.members.map((m): ClusterMember => {
    const s = { ...doc.ssh, ...m.ssh };
    const key = s.agent ? undefined : s.key !== undefined ? expandPath(s.key, base) : undefined;
    const services = Object.fromEntries(
      COMPONENTS.map((c) => [c, { ...defaults[c], ...doc.services?.[c], ...m.services?.[c] }]),
    ) as ClusterMember["services"];
    const login: SshHost = {
      host: m.host,
      ...(s.port !== undefined ? { port: s.port } : {}),
      user: s.user ?? "root",
      ...(key ? { identityFile: key } : {}),
    };
    return {
      name: m.name,
      host: m.host,
      address: m.address ?? m.host,
      roles: m.roles ?? ["postgres"],
      services,
      pgdata: m.pgdata ?? null,
      haConfig: m.ha_config ?? defaultHaConfig(doc.ha, doc.layout, doc.postgres_version),
      ssh: {
        name: m.name,
        ssh: login,
        ...(s.jump !== undefined ? { jump: jumpOf(s.jump, key, base) } : {}),
        sudo: s.sudo ?? false,
        address: m.address ?? m.host,
        dir: s.dir ?? DEFAULT_REMOTE_DIR,
        ...(s.process_users ? { processUsers: s.process_users } : {}),
      },
    };
  });
  return {
    file,
    name: doc.name,
    description: doc.description ?? "",
    ha: doc.ha,
    allowFaults: doc.allow_faults,
    abortWriteGapMs: writeGapLimitMs(doc.abort_if),
    knownHosts: doc.known_hosts !== undefined ? expandPath(doc.known_hosts, base) : null,
    layout: doc.layout,
    postgresVersion: doc.postgres_version,
    members,
    entrypoints: doc.entrypoints ?? [],
    database: {
      name: doc.database.name,
      role: doc.database.role,
      passwordEnv: doc.database.password_env ?? null,
    },
  };
}

/**
 * The workload role's password: the variable password_env names, else the first matching line of
 * ~/.pgpass (or PGPASSFILE), as libpq would pick it for the first PostgreSQL member. Never the file.
 */
export function databasePassword(cluster: ClusterFile, env: NodeJS.ProcessEnv = process.env): string {
  const { passwordEnv, role, name: database } = cluster.database;
  if (passwordEnv !== null) {
    const value = env[passwordEnv];
    if (value === undefined || value === "")
      throw new UsageError(`${cluster.file}: database.password_env: ${passwordEnv} is not set`);
    return value;
  }
  const file = env.PGPASSFILE ?? resolve(homedir(), ".pgpass");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError(
      `${cluster.file}: no password for role ${role}: set database.password_env, or add a line for it to ${file}`,
    );
  }
  const host = cluster.members.find((m) => m.roles.includes("postgres"))?.host ?? "";
  const found = pgpassLookup(text, { host, port: "5432", database, user: role });
  if (found === null)
    throw new UsageError(`${cluster.file}: no line for ${role}@${host}:5432/${database} in ${file}`);
  return found;
}

/** libpq's ~/.pgpass: host:port:database:user:password, `*` matching anything, `\:` and `\\` escaped. */
export function pgpassLookup(
  text: string,
  wanted: { host: string; port: string; database: string; user: string },
): string | null {
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields: string[] = [];
    let field = "";
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string;
      if (c === "\\" && i + 1 < line.length) field += line[++i];
      else if (c === ":" && fields.length < 4) {
        fields.push(field);
        field = "";
      } else field += c;
    }
    fields.push(field.replace(/\r$/, ""));
    if (fields.length !== 5) continue;
    const [host, port, database, user, password] = fields as [string, string, string, string, string];
    const matches = (pattern: string, value: string) => pattern === "*" || pattern === value;
    if (
      matches(host, wanted.host) &&
      matches(port, wanted.port) &&
      matches(database, wanted.database) &&
      matches(user, wanted.user)
    )
      return password;
  }
  return null;
}

function jumpOf(jump: z.output<typeof jumpHost>, memberKey: string | undefined, base: string): SshHost {
  if (typeof jump === "string") {
    const match = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(jump) as RegExpExecArray;
    return {
      host: match[2] as string,
      ...(match[3] ? { port: Number(match[3]) } : {}),
      ...(match[1] ? { user: match[1] } : {}),
      ...(memberKey ? { identityFile: memberKey } : {}),
    };
  }
  const key = jump.key !== undefined ? expandPath(jump.key, base) : memberKey;
  return {
    host: jump.host,
    ...(jump.port !== undefined ? { port: jump.port } : {}),
    ...(jump.user !== undefined ? { user: jump.user } : {}),
    ...(key ? { identityFile: key } : {}),
  };
}

function expandPath(path: string, base: string): string {
  if (path === "~" || path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

/**
 * A `password:` anywhere in the file is refused before anything else, at its line: a secret in a
 * file that gets committed, pasted into tickets and attached to reports is the one mistake this
 * format exists to make impossible.
 */
function refusePasswords(source: string, file: string): void {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) return; // parseYaml reports it
  let found: { node: Node; path: string } | null = null;
  visit(document, {
    Pair(_key, pair, ancestors) {
      if (found || !isScalar(pair.key) || !/^(password|passwd|pgpassword)$/i.test(String(pair.key.value)))
        return;
      // The dotted key, as describeIssue writes it: pairs' keys, and [i] inside a sequence.
      const chain = [...ancestors, pair];
      let path = "";
      for (const [i, node] of chain.entries()) {
        if (isPair(node) && isScalar(node.key)) path += `.${String(node.key.value)}`;
        if (isSeq(node)) path += `[${node.items.indexOf(chain[i + 1] as never)}]`;
      }
      found = { node: pair.key, path: path.replace(/^\./, "") };
    },
  });
  if (!found) return;
  const { node, path } = found as { node: Node; path: string };
  const pos = lineCounter.linePos(node.range?.[0] ?? 0);
  throw new UsageError(
    `${file}:${pos.line}:${pos.col}: ${path}: no password in the cluster file — set database.password_env to the name of an environment variable holding it, or leave it out and let libpq read ~/.pgpass`,
  );
}
