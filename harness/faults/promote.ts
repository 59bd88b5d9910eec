import { join } from "node:path";
import type { StartedMember } from "../backend/backend.ts";
import { pollUntil } from "../common/clock.ts";
import type { Fault } from "./fault.ts";

const PROMOTE_TIMEOUT_MS = 60_000;

/** Timeline history files in the member's pg_wal: a promotion always writes a new one. */
async function historyFiles(member: StartedMember, dataDir: string): Promise<string[]> {
  const listed = await member.exec(["ls", join(dataDir, "pg_wal")]);
  return listed.stdout.split("\n").filter((name) => name.endsWith(".history"));
}

/**
 * `pg_ctl promote` on a replica behind the HA manager's back (DSM's "Promote Replica" done
 * wrong): the negative control for split-brain, which the checkers must see.
 */
export const promote: Fault = {
  name: "promote",
  stamp: "end",
  needs: [],
  async inject(members, { backend, topology }) {
    for (const member of members) {
      const dataDir = topology.dataDir(member);
      const host = backend.member(member);
      const before = new Set(await historyFiles(host, dataDir));
      // No -w: an HA manager may demote the rogue primary again before pg_ctl looks (Patroni does,
      // within ~100 ms), and pg_ctl would then wait in vain. The new timeline's history file is the proof.
      const result = await host.exec(
        [`${backend.stack.postgresBin}/pg_ctl`, "promote", "-W", "-D", dataDir],
        {
          user: "postgres",
        },
      );
      if (result.code !== 0)
        throw new Error(`promote ${member}: ${result.stderr.trim() || result.stdout.trim()}`);
      const promoted = await pollUntil(
        async () => ((await historyFiles(host, dataDir)).some((f) => !before.has(f)) ? true : undefined),
        PROMOTE_TIMEOUT_MS,
        50,
      );
      if (!promoted)
        throw new Error(`promote ${member}: no new timeline within ${PROMOTE_TIMEOUT_MS / 1000}s`);
    }
    return {
      fault: "promote",
      members,
      // The repair is the HA manager's (demote and rewind the rogue primary), and that is under test.
      async heal() {},
    };
  },
};
