import { join } from "node:path";
import type { Fault, FaultContext } from "./fault.ts";

/** PID of the member's running postmaster, from postmaster.pid; null when none runs. */
async function postmasterPid(member: string, { backend, topology }: FaultContext): Promise<number | null> {
  const host = backend.member(member);
  const result = await host.exec(["head", "-n", "1", join(topology.dataDir(member), "postmaster.pid")]);
  const pid = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isInteger(pid) || pid <= 0) return null;
  // A SIGKILLed postmaster leaves its pid file behind: only a live process of this member counts.
  // Both PIDs are the member's own numbering (postmaster.pid is written inside the member).
  return (await host.processes()).some((process) => process.pid === pid) ? pid : null;
}

/**
 * SIGKILL of the postmaster only; the HA agent stays and its own recovery is what is measured
 * (Patroni and pg_autoctl restart PostgreSQL; repmgrd does not, so repmgr fails over).
 */
export const crashPostgres: Fault = {
  name: "crash-postgres",
  stamp: "end",
  needs: ["signals"],
  async inject(members, context) {
    for (const member of members) {
      const pid = await postmasterPid(member, context);
      if (pid === null) throw new Error(`crash-postgres: no postmaster running on ${member}`);
      await context.backend.member(member).signal(pid, "SIGKILL");
    }
    return {
      fault: "crash-postgres",
      members,
      // The agent had its chance until now. What it did not bring back, an operator restarts:
      // agent and PostgreSQL together, so the agent starts from a known state (repmgr: node rejoin).
      async heal(mode) {
        for (const member of members) {
          if ((await postmasterPid(member, context)) !== null) continue;
          await context.topology.stopMember(member);
          await context.topology.startMember(member, mode);
        }
      },
    };
  },
};
