import { z } from "zod";
import { withConnection } from "../topology/sql.ts";
import { defineFault } from "./fault.ts";

/**
 * SIGKILL of one client backend: the postmaster, seeing a child die uncleanly, ends every other
 * connection and reinitialises shared memory — a short outage on that node with no failover.
 */
export const crashBackend = defineFault({
  name: "crash-backend",
  summary: "crash-backend: SIGKILL of one PostgreSQL client backend (the postmaster resets every connection)",
  stamp: "end",
  needs: ["signals"],
  // The postmaster recovers by itself; there is nothing to undo.
  heals: false,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, { backend, topology }) {
    const detail: string[] = [];
    for (const member of members) {
      // A writer's backend if there is one (the crash is then in the history); pg_stat_activity's
      // PIDs are the member's own numbering, as signal() wants them.
      const victim = await withConnection(topology.endpoint(member), async (client) => {
        const result = await client.query<{ pid: number; application_name: string }>(
          `select pid, application_name from pg_stat_activity
            where backend_type = 'client backend' and pid <> pg_backend_pid()
            order by (application_name = 'pgchaos-writer') desc, backend_start limit 1`,
        );
        return result.rows[0] ?? null;
      });
      if (victim === null) throw new Error(`crash-backend: no client backend on ${member}`);
      await backend.member(member).signal(victim.pid, "SIGKILL");
      detail.push(
        `${member}: SIGKILL to backend ${victim.pid} (${victim.application_name || "no application name"})`,
      );
    }
    return { members, detail: detail.join("; ") };
  },
});
