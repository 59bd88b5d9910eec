import { randomBytes } from "node:crypto";
import type { StartedMember } from "../backend/backend.ts";
import { StartedSshBackend } from "../backend/ssh-backend.ts";
import { sessionOptions } from "../backend/ssh-backend.ts";
import { type SshMember, SshSession } from "../backend/ssh.ts";
import { postgresEndpoint } from "../topology/members.ts";
import { withConnection } from "../topology/sql.ts";
import { attacherFor } from "./attachers.ts";
import { attachedLogin } from "./attachment.ts";
import { type ClusterFile, type ClusterMember, type Component, databasePassword } from "./cluster-file.ts";

/** One line of `pgchaos doctor`: what was checked, and when it failed, the fix. */
export interface Check {
  what: string;
  ok: boolean;
  fix: string;
}

/**
 * `pgchaos doctor --cluster`: everything an attached run needs, checked read-only and in the
 * order a run needs it — the password, SSH to each host, root there (or sudo -n), nft, the
 * service commands, the HA manager's own view of the cluster, and the role's privileges.
 * Later checks that depend on a failed one are skipped, not reported as failing too.
 */
export async function checkCluster(cluster: ClusterFile): Promise<Check[]> {
  const checks: Check[] = [];
  let password: string | null = null;
  try {
    password = databasePassword(cluster);
    checks.push({ what: `password for role ${cluster.database.role}`, ok: true, fix: "" });
  } catch (error) {
    checks.push({
      what: `password for role ${cluster.database.role}: ${(error as Error).message}`,
      ok: false,
      fix: "set database.password_env's variable, or add a ~/.pgpass line",
    });
  }
  const session = new SshSession(sessionOptions(cluster, `doc${randomBytes(3).toString("hex")}`));
  const hosts = new Map<string, SshMember>();
  // The hosts that answer, as the backend an attach deployment expects (read-only use here).
  const backend = new StartedSshBackend(cluster, hosts, session);
  try {
    for (const member of cluster.members) {
      const host = await reach(session, member, checks);
      if (!host) continue;
      hosts.set(member.name, host);
      await checkHost(member, host, checks);
    }
    if (password !== null && hosts.size === cluster.members.length)
      await checkHaManager(cluster, password, backend, checks);
  } finally {
    // Only pgchaos's own directory, which connecting created (rmdir: only when empty).
    await backend.destroy();
  }
  return checks;
}

async function reach(session: SshSession, member: ClusterMember, checks: Check[]): Promise<SshMember | null> {
  const login = `${member.ssh.ssh.user ?? "root"}@${member.host}${member.ssh.jump ? ` via ${member.ssh.jump.host}` : ""}`;
  try {
    const host = await session.member(member.ssh);
    const root = member.ssh.ssh.user === "root" || !member.ssh.ssh.user ? "root login" : "sudo -n";
    checks.push({ what: `${member.name}: ssh ${login}, commands as root (${root})`, ok: true, fix: "" });
    return host;
  } catch (error) {
    const message = (error as Error).message;
    const sudo = /commands as root fail/.test(message);
    checks.push({
      what: `${member.name}: ${sudo ? "" : `ssh ${login}: `}${message}`,
      ok: false,
      fix: sudo
        ? `let ${member.ssh.ssh.user} run sudo without a password (NOPASSWD), or log in as root`
        : `check host, port, user and key for ${member.name} in the cluster file; \`ssh ${login}\` must log in without a prompt`,
    });
    return null;
  }
}

async function checkHost(member: ClusterMember, host: StartedMember, checks: Check[]): Promise<void> {
  const nft = await host.exec(["nft", "list", "tables"]);
  checks.push({
    what: `${member.name}: nftables${nft.code === 0 ? "" : `: ${(nft.stderr.trim() || `exit ${nft.code}`).split("\n")[0]}`}`,
    ok: nft.code === 0,
    fix: "install nftables (apt-get install nftables, or dnf install nftables): partitions load their rules with nft",
  });
  const components: Component[] = member.roles.includes("postgres") ? ["ha_agent", "postgres"] : ["dcs"];
  for (const component of components) {
    for (const verb of ["stop", "start"] as const) {
      const command = member.services[component][verb];
      const program = command.trim().split(/\s+/)[0] ?? "";
      const found = await host.exec(["sh", "-c", 'command -v "$1"', "sh", program]);
      const unit = /^systemctl\s+\S+\s+(\S+)/.exec(command.trim())?.[1];
      const known = unit ? (await host.exec(["systemctl", "cat", "--", unit])).code === 0 : found.code === 0;
      checks.push({
        what: `${member.name}: ${component} ${verb}: ${command}${found.code !== 0 ? ` (no ${program})` : unit && !known ? ` (no unit ${unit})` : ""}`,
        ok: found.code === 0 && known,
        fix: `set services.${component}.${verb} for ${member.name} in the cluster file to the command that ${verb}s it there`,
      });
    }
  }
}

/** The HA manager answers for the cluster, and the role may do what a run does on its primary. */
async function checkHaManager(
  cluster: ClusterFile,
  password: string,
  backend: StartedSshBackend,
  checks: Check[],
): Promise<void> {
  const attach = attacherFor(cluster.ha);
  if (!attach) {
    checks.push({
      what: `attaching to ${cluster.ha}`,
      ok: false,
      fix: "not supported yet by this version of pgchaos",
    });
    return;
  }
  const context = { backend, cluster, password, schema: "public" };
  let primary: string | null = null;
  try {
    const topology = await attach(context);
    const status = await topology.status();
    primary = status.primary;
    checks.push({
      what: `${cluster.ha} reports: ${status.detail}`,
      ok: status.reachable && status.primary !== null,
      fix: HA_FIX[cluster.ha],
    });
  } catch (error) {
    checks.push({ what: `${cluster.ha}: ${(error as Error).message}`, ok: false, fix: HA_FIX[cluster.ha] });
  }
  if (!primary) return;
  const { role, name: database } = cluster.database;
  const rights = await withConnection(
    postgresEndpoint(backend.member(primary), attachedLogin(context)),
    async (client) =>
      (
        await client.query<{ create: boolean; settings: boolean }>(
          `select has_database_privilege(current_database(), 'CREATE') as create,
                  pg_has_role('pg_read_all_settings', 'member') as settings`,
        )
      ).rows[0],
  ).catch((error: Error) => error);
  if (rights instanceof Error || !rights) {
    checks.push({
      what: `role ${role} on ${primary}: ${rights instanceof Error ? rights.message : "no answer"}`,
      ok: false,
      fix: `let ${role} log in to ${database} from this host (pg_hba.conf)`,
    });
    return;
  }
  checks.push({
    what: `role ${role} may create the run's own schema in ${database}`,
    ok: rights.create,
    fix: `GRANT CREATE ON DATABASE ${database} TO ${role}`,
  });
  // repmgr's data directories come from each member's repmgr.conf, the others' from PostgreSQL.
  const needsDataDir =
    cluster.ha !== "repmgr" && cluster.members.some((m) => m.roles.includes("postgres") && m.pgdata === null);
  if (needsDataDir)
    checks.push({
      what: `role ${role} may read data_directory (faults that need the data directory)`,
      ok: rights.settings,
      fix: `GRANT pg_read_all_settings TO ${role}, or set pgdata: for each member in the cluster file`,
    });
}

const HA_FIX: Record<ClusterFile["ha"], string> = {
  patroni: "Patroni's REST API (port 8008) must answer GET /cluster from this host",
  pg_auto_failover:
    "the monitor's PostgreSQL must accept the file's role on database pg_auto_failover from this host",
  repmgr: "every node's PostgreSQL must accept the file's role from this host",
};

/** One line per check; a problem carries its fix on the same line. */
export function formatChecks(checks: Check[]): string[] {
  return checks.map((check) =>
    check.ok ? `ok      ${check.what}` : `MISSING ${check.what} — fix: ${check.fix}`,
  );
}
