import { randomBytes } from "node:crypto";
import type { StartedMember } from "../backend/backend.ts";
import { nftTable } from "../backend/nft.ts";
import { SshBackend, removeNftTables } from "../backend/ssh-backend.ts";
import { pollUntil } from "../common/clock.ts";
import { UsageError } from "../common/errors.ts";
import { withConnection } from "../topology/sql.ts";
import { attacherFor } from "./attachers.ts";
import { runService } from "./attachment.ts";
import { type ClusterFile, databasePassword } from "./cluster-file.ts";

/**
 * `pgchaos heal --cluster`: undoes whatever a crashed or killed attached run left on the user's
 * cluster, whichever run it was — pgchaos's nft tables, processes it froze, components it stopped or
 * killed (started again with the file's own commands), and the workload's schemas. Idempotent: a
 * second heal finds nothing and says so. In that order: a frozen agent must move before a component
 * is judged down, and the primary must be reachable again before its schemas can be dropped.
 */
export async function healCluster(cluster: ClusterFile, say: (line: string) => void): Promise<number> {
  const attach = attacherFor(cluster.ha);
  if (!attach) throw new UsageError(`healing a ${cluster.ha} cluster is not supported yet`);
  const password = databasePassword(cluster);
  const builder = new SshBackend(cluster, `heal${randomBytes(3).toString("hex")}`);
  let actions = 0;
  const did = (line: string) => {
    actions++;
    say(line);
  };
  try {
    const backend = await builder.start();
    const context = { backend, cluster, password, schema: "public" };
    const topology = await attach(context);
    const hosts = cluster.members.map((m) => ({ member: m, host: backend.member(m.name) }));
    for (const { member, host } of hosts) {
      for (const pid of await stoppedProcesses(host)) {
        await host.signal(pid, "SIGCONT");
        did(`${member.name}: SIGCONT to ${pid} (it was stopped)`);
      }
      for (const table of await removeNftTables(host, nftTable("")))
        did(`${member.name}: removed nft table ${table}`);
    }
    for (const { member, host } of hosts) {
      const running = await host.processes();
      const { postgresCommand } = topology;
      if (postgresCommand && !running.some((p) => postgresCommand.test(p.command))) {
        // Starting repmgrd would not start PostgreSQL; a former primary must rejoin, not come back as one.
        await topology.startMember(member.name, "repair");
        did(
          `${member.name}: PostgreSQL was not running — started it as the HA manager repairs a member, agent included`,
        );
        continue;
      }
      const component = member.roles.includes("postgres") ? "ha_agent" : "dcs";
      const process = component === "ha_agent" ? topology.agentCommand : topology.coordinatorCommand;
      if (running.some((p) => process.test(p.command))) continue;
      await runService(context, member.name, component, "start");
      did(`${member.name}: ${component} was not running — started (${member.services[component].start})`);
    }
    const primary = await pollUntil(
      async () => (await topology.status()).primary ?? undefined,
      120_000,
      1000,
    );
    if (!primary) throw new Error("no primary within 120 s: the workload's schemas are left in place");
    const schemas = await withConnection(
      topology.endpoint(primary),
      async (client) => {
        const found = await client.query<{ nspname: string }>(
          "select nspname from pg_namespace where nspname like 'pgchaos\\_%' order by 1",
        );
        for (const { nspname } of found.rows) await client.query(`drop schema "${nspname}" cascade`);
        return found.rows.map((row) => row.nspname);
      },
      5000,
    );
    for (const schema of schemas) did(`${primary}: dropped schema ${schema}`);
    // What heal cannot undo must not read "nothing to heal": above all two writable nodes (repmgr
    // does not fence an isolated primary), where only the operator can say whose writes to discard.
    const healthy = await pollUntil(
      async () => ((await topology.status()).healthy ? true : undefined),
      120_000,
      1000,
    );
    if (!healthy)
      throw new Error(
        `${cluster.name} is still not healthy 120 s after the heal (${(await topology.status()).detail}): pgchaos leaves that to you`,
      );
  } finally {
    await builder.destroy();
  }
  if (actions === 0) say(`${cluster.name}: nothing to heal`);
  return actions;
}

/** The system under test's processes in state T (a freeze that was never thawed). */
async function stoppedProcesses(host: StartedMember): Promise<number[]> {
  const pids = (await host.processes()).map((p) => String(p.pid));
  if (pids.length === 0) return [];
  const script =
    'for p in "$@"; do s=$(cut -d" " -f3 "/proc/$p/stat" 2>/dev/null); [ "$s" = T ] && echo "$p"; done; exit 0';
  const listed = await host.exec(["sh", "-c", script, "sh", ...pids]);
  return listed.stdout.split("\n").filter(Boolean).map(Number);
}
