import type { Fault } from "./fault.ts";

/** SIGSTOP of everything on the member (a stalled VM): sockets stay open, nothing answers. */
export const freeze: Fault = {
  name: "freeze",
  stamp: "end",
  needs: ["signals"],
  async inject(members, { backend }) {
    for (const member of members) {
      const pids = await backend.member(member).signalAll("SIGSTOP");
      if (pids.length === 0) throw new Error(`freeze: no process running on ${member}`);
    }
    return {
      fault: "freeze",
      members,
      async heal() {
        for (const member of members) await backend.member(member).signalAll("SIGCONT");
      },
    };
  },
};
