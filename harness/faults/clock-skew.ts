import { clockOffsetFile, faketimeOffset } from "../topology/clock.ts";
import type { Fault, FaultContext } from "./fault.ts";

async function setOffset(members: string[], { backend }: FaultContext, offsetMs: number): Promise<void> {
  for (const member of members) {
    const host = backend.member(member);
    await host.writeFile(clockOffsetFile(host), `${faketimeOffset(offsetMs)}\n`, { mode: 0o644 });
  }
}

/** The member's agent processes that run under libfaketime, by the preload in their environment. */
async function skewedAgents(member: string, { backend, topology }: FaultContext): Promise<number[]> {
  const host = backend.member(member);
  const agents = (await host.processes()).filter((p) => topology.agentCommand.test(p.command));
  const skewed: number[] = [];
  for (const { pid } of agents) {
    const environ = await host.exec(["cat", `/proc/${pid}/environ`]);
    if (environ.stdout.split("\0").some((entry) => entry.startsWith("FAKETIME_TIMESTAMP_FILE=")))
      skewed.push(pid);
  }
  return skewed;
}

/**
 * The HA agent's wall clock moved by the step's offset, as an NTP step would move a host's: the
 * agents of a scenario with clock-skew run under libfaketime, which rereads the offset each second.
 */
export const clockSkew: Fault = {
  name: "clock-skew",
  stamp: "end",
  needs: ["faketime"],
  async inject(members, context, { offsetMs }) {
    if (offsetMs === null) throw new Error("clock-skew needs an offset");
    const detail: string[] = [];
    for (const member of members) {
      const agents = await skewedAgents(member, context);
      if (agents.length === 0) throw new Error(`clock-skew: no HA agent on ${member} runs under libfaketime`);
      detail.push(`${member}: agent ${agents.join(", ")} moved ${faketimeOffset(offsetMs)} s`);
    }
    await setOffset(members, context, offsetMs);
    return {
      fault: "clock-skew",
      members,
      detail: detail.join("; "),
      heal: () => setOffset(members, context, 0),
    };
  },
};
