import { z } from "zod";
import { defineFault } from "./fault.ts";

/** A clean stop of the HA agent and PostgreSQL (the seed's "scale the StatefulSet to 0"). */
export const stop = defineFault({
  name: "stop",
  summary: "stop: clean stop of both",
  // Writes keep working while the agent shuts PostgreSQL down: the outage starts when it is down.
  stamp: "start",
  needs: ["signals"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, { topology }) {
    const problems: string[] = [];
    for (const member of members) {
      // A stop that had to be finished with SIGKILL is still a stop to heal, and a finding to report.
      await topology.stopMember(member).catch((error: Error) => problems.push(error.message));
    }
    return {
      members,
      ...(problems.length > 0 ? { problem: problems.join("; ") } : {}),
      async heal(mode) {
        for (const member of members) await topology.startMember(member, mode);
      },
    };
  },
});
