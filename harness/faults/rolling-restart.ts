import { pollUntil } from "../common/clock.ts";
import type { Topology } from "../topology/topology.ts";
import type { Fault } from "./fault.ts";

const STREAMING_TIMEOUT_MS = 120_000;

async function untilHealthy(topology: Topology, after: string): Promise<void> {
  const healthy = await pollUntil(
    async () => ((await topology.status()).healthy ? true : undefined),
    STREAMING_TIMEOUT_MS,
  );
  if (!healthy) throw new Error(`rolling-restart: not streaming again within 120s after ${after}`);
}

/**
 * Crunchy PGO's rolling update: each replica restarted in turn (clean stop, start, wait until it
 * streams again), then a switchover to a replica, then the old primary restarted as a replica.
 * It is a maintenance procedure, not a fault to undo: it is complete when inject returns.
 */
export const rollingRestart: Fault = {
  name: "rolling-restart",
  stamp: "start",
  async inject(_members, { topology }) {
    const start = await topology.status();
    const oldPrimary = start.primary;
    if (!oldPrimary) throw new Error("rolling-restart: no primary to start from");
    for (const replica of [...start.replicas].sort()) {
      await topology.stopMember(replica);
      await topology.startMember(replica, "repair");
      await untilHealthy(topology, `restarting ${replica}`);
    }
    await topology.switchover(null);
    await untilHealthy(topology, "the switchover");
    await topology.stopMember(oldPrimary);
    await topology.startMember(oldPrimary, "repair");
    await untilHealthy(topology, `restarting the old primary ${oldPrimary}`);
    return { fault: "rolling-restart", members: [...start.replicas, oldPrimary], async heal() {} };
  },
};
