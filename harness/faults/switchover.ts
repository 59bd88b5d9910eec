import type { Fault } from "./fault.ts";

/** The HA manager's own planned switchover (patroni REST /switchover, pg_autoctl perform switchover). */
export const switchover: Fault = {
  name: "switchover",
  stamp: "start",
  needs: [],
  async inject(members, { topology }, { to }) {
    await topology.switchover(to);
    return {
      fault: "switchover",
      members,
      // A completed switchover leaves nothing to undo.
      async heal() {},
    };
  },
};
