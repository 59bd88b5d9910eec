import { join } from "node:path";
import type { Fault } from "./fault.ts";

/**
 * SIGKILL of the postmaster only; the HA agent stays and its own recovery is what is measured
 * (Patroni and pg_autoctl restart PostgreSQL; repmgrd does not, so repmgr fails over).
 */
export const crashPostgres: Fault = {
  name: "crash-postgres",
  stamp: "end",
  async inject(members, { backend, topology }) {
    for (const member of members) {
      const pidFile = join(topology.dataDir(member), "postmaster.pid");
      const result = await backend.exec(member, ["head", "-n", "1", pidFile]);
      const pid = Number(result.stdout.trim());
      if (result.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
        throw new Error(`crash-postgres: no postmaster running on ${member}`);
      }
      await backend.signalProcess(member, pid, "SIGKILL");
    }
    return {
      fault: "crash-postgres",
      members,
      // Nothing to undo: restarting PostgreSQL is the HA agent's job, and that is under test.
      async heal() {},
    };
  },
};
