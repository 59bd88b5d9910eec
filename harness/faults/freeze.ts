import { z } from "zod";
import { defineFault } from "./fault.ts";

/** SIGSTOP of everything on the member (a stalled VM): sockets stay open, nothing answers. */
export const freeze = defineFault({
  name: "freeze",
  summary: "freeze: SIGSTOP (heal: SIGCONT)",
  stamp: "end",
  needs: ["signals"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, { backend }) {
    for (const member of members) {
      const pids = await backend.member(member).signalAll("SIGSTOP");
      if (pids.length === 0) throw new Error(`freeze: no process running on ${member}`);
    }
    return {
      members,
      async heal() {
        for (const member of members) await backend.member(member).signalAll("SIGCONT");
      },
    };
  },
});
