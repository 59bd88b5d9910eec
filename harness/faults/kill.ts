import { z } from "zod";
import { defineFault } from "./fault.ts";

/** SIGKILL of everything on the member's host: PostgreSQL and its HA agent die together, like a lost VM. */
export const kill = defineFault({
  name: "kill",
  summary: "kill: SIGKILL of postgres and its HA agent",
  stamp: "end",
  needs: ["signals"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, { backend, topology }) {
    for (const member of members) {
      const pids = await backend.member(member).signalAll("SIGKILL");
      if (pids.length === 0) throw new Error(`kill: no process running on ${member}`);
    }
    return {
      members,
      async heal(mode) {
        for (const member of members) await topology.startMember(member, mode);
      },
    };
  },
});
