import type { StartedBackend, StartedMember } from "../harness/backend/backend.ts";
import { pollUntil } from "../harness/common/clock.ts";
import type { Member } from "../harness/model/record.ts";
import { POSTGRES_PORT, dataDirOf } from "../harness/topology/members.ts";
import { MONITOR, autoctlEnv } from "../harness/topology/pg-auto-failover/pg-auto-failover.ts";
import { withConnection } from "../harness/topology/sql.ts";
import { installService, restartService } from "./attach-fixture.ts";

/** `pg_autoctl run`, the supervisor, as the provisioned deployment starts it (not its workers). */
const SUPERVISOR = /^pg_autoctl run /;

/**
 * Each node's and the monitor's `pg_autoctl run` as a service, started exactly as
 * harness/topology/pg-auto-failover/pg-auto-failover.ts starts it (as postgres, its environment, argv and log); its
 * stop is SIGTERM, on which pg_autoctl stops PostgreSQL (`pg_ctl stop --mode fast`) and exits.
 */
export async function pgAutoFailoverServices(
  member: StartedMember,
  kind: Member["kind"],
  backend: StartedBackend,
) {
  if (kind !== "postgres" && kind !== "monitor") return undefined;
  const service = await installService(member, backend, {
    name: "pg_autoctl",
    argv: ["pg_autoctl", "run", "--pgdata", dataDirOf(member)],
    running: SUPERVISOR,
    env: autoctlEnv(member),
  });
  // A clean stop and start, not a kill and a takeover: pg_autoctl 2.0 taking over a PostgreSQL it did
  // not start answers its next SIGHUP with kill(-1, SIGHUP), every process of the user. A restarted
  // primary may be failed over (seen: promoted again, on a new timeline, as the attached run began):
  // each restart waits for calm.
  await restartService(member, service);
  await settled(backend);
  return kind === "monitor" ? { dcs: service } : { ha_agent: service, postgres: service };
}

/** Every node the monitor knows healthy and at its goal (primary or secondary) for 5 s on end. */
async function settled(backend: StartedBackend): Promise<void> {
  const monitor = {
    ...backend.member(MONITOR).endpoint(POSTGRES_PORT),
    user: "postgres",
    password: "",
    database: "pg_auto_failover",
  };
  let since: number | null = null;
  const calm = await pollUntil(
    async () => {
      const unsettled = await withConnection(monitor, async (client) => {
        const rows = await client.query<{ n: number }>(
          `select count(*)::int as n from pgautofailover.node
            where reportedstate <> goalstate or health <> 1 or reportedstate::text not in ('primary', 'secondary')`,
        );
        return rows.rows[0]?.n ?? 1;
      }).catch(() => 1);
      if (unsettled > 0) since = null;
      else since ??= Date.now();
      return since !== null && Date.now() - since >= 5000 ? true : undefined;
    },
    180_000,
    500,
  );
  if (!calm) throw new Error("the pg_auto_failover formation did not settle within 180 s");
}

/**
 * SIGKILL of a member's pg_autoctl and its workers, PostgreSQL left running: what the kill-agent
 * fault does, and what a run killed during it leaves. Returns the PIDs killed.
 */
export async function killAutoctl(member: StartedMember): Promise<number[]> {
  const all = await member.processes();
  const supervisor = all.find((p) => SUPERVISOR.test(p.command));
  if (!supervisor) throw new Error(`${member.name}: no pg_autoctl run`);
  const workers = all.filter((p) => p.ppid === supervisor.pid && p.command.startsWith("pg_autoctl:"));
  const pids = [supervisor.pid, ...workers.map((p) => p.pid)];
  for (const pid of pids) await member.signal(pid, "SIGKILL");
  return pids;
}
