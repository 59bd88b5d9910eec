import { join } from "node:path";
import { z } from "zod";
import type { StartedMember } from "../backend/backend.ts";
import { sleep } from "../common/clock.ts";
import type { PostgresEndpoint } from "../model/cluster.ts";
import { type Sample, sampleNode } from "../observe/roles.ts";
import { withConnection } from "../topology/sql.ts";
import { type Injected, defineFault } from "./fault.ts";

const PROMOTE_TIMEOUT_MS = 60_000;
/** How often the member is asked whether it is writable yet: well inside an HA manager's reaction. */
const PROBE_EVERY_MS = 10;

/** Timeline history files in the member's pg_wal: a promotion always writes a new one. */
async function historyFiles(member: StartedMember, dataDir: string): Promise<string[]> {
  const listed = await member.exec(["ls", join(dataDir, "pg_wal")]);
  return listed.stdout.split("\n").filter((name) => name.endsWith(".history"));
}

/** One reading of the member's role, from outside, as the role sampler takes it; null when it does not answer. */
async function probe(endpoint: PostgresEndpoint): Promise<Sample | null> {
  try {
    return await withConnection(endpoint, (client) => sampleNode(client, 500), 500);
  } catch {
    return null;
  }
}

/**
 * `pg_ctl promote` on a replica behind the HA manager's back (DSM's "Promote Replica" done
 * wrong): the negative control for split-brain, which the checkers must see. An HA manager may
 * demote the rogue primary within milliseconds (Patroni does), less than one sampling period, so
 * the fault itself asks the member whether it became writable, and hands that reading to the sampler.
 */
export const promote = defineFault({
  name: "promote",
  summary: "promote: pg_ctl promote on a replica behind the HA manager's back",
  stamp: "end",
  needs: [],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: null,
  async inject(members, { backend, topology }) {
    const observed: NonNullable<Injected["observed"]> = [];
    for (const member of members) {
      const dataDir = topology.dataDir(member);
      const host = backend.member(member);
      const before = new Set(await historyFiles(host, dataDir));
      // No -w: pg_ctl would wait in vain for a primary the HA manager has already demoted.
      const result = await host.exec(
        [`${backend.stack.postgresBin}/pg_ctl`, "promote", "-W", "-D", dataDir],
        {
          user: "postgres",
        },
      );
      if (result.code !== 0)
        throw new Error(`promote ${member}: ${result.stderr.trim() || result.stdout.trim()}`);
      const deadline = Date.now() + PROMOTE_TIMEOUT_MS;
      let promoted = false;
      for (let round = 0; Date.now() < deadline; round++) {
        const sample = await probe(topology.endpoint(member));
        if (sample?.role === "primary") {
          observed.push({ member, sample, atMono: process.hrtime.bigint() });
          break;
        }
        // The new timeline's history file proves the promotion even if the member was demoted unseen.
        if (round % 10 === 9 && (await historyFiles(host, dataDir)).some((f) => !before.has(f))) {
          promoted = true;
          if (sample !== null) break;
        }
        await sleep(PROBE_EVERY_MS);
      }
      if (!promoted && !observed.some((o) => o.member === member)) {
        throw new Error(`promote ${member}: no new timeline within ${PROMOTE_TIMEOUT_MS / 1000}s`);
      }
    }
    return {
      members,
      observed,
      // The repair is the HA manager's (demote and rewind the rogue primary), and that is under test.
      async heal() {},
    };
  },
});
