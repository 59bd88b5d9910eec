import type { Fault } from "./fault.ts";

/** A clean stop of the HA agent and PostgreSQL (the seed's "scale the StatefulSet to 0"). */
export const stop: Fault = {
  name: "stop",
  // Writes keep working while the agent shuts PostgreSQL down: the outage starts when it is down.
  stamp: "start",
  async inject(members, { topology }) {
    for (const member of members) await topology.stopMember(member);
    return {
      fault: "stop",
      members,
      async heal(mode) {
        for (const member of members) await topology.startMember(member, mode);
      },
    };
  },
};
