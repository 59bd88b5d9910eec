import type { Fault } from "./fault.ts";

/**
 * `pg_ctl promote` on a replica behind the HA manager's back (DSM's "Promote Replica" done
 * wrong): the negative control for split-brain, which the checkers must see.
 */
export const promote: Fault = {
  name: "promote",
  stamp: "end",
  async inject(members, { backend, topology }) {
    for (const member of members) {
      const result = await backend.exec(
        member,
        ["/usr/lib/postgresql/15/bin/pg_ctl", "promote", "-w", "-D", topology.dataDir(member)],
        { user: "postgres" },
      );
      if (result.code !== 0)
        throw new Error(`promote ${member}: ${result.stderr.trim() || result.stdout.trim()}`);
    }
    return {
      fault: "promote",
      members,
      // The repair is the HA manager's (demote and rewind the rogue primary), and that is under test.
      async heal() {},
    };
  },
};
